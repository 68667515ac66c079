/*
 * hasync: one push as the receiver sees it (hasync.h has the phases):
 * check the term and take the set's lock, read the file list, make the
 * directories and symlinks, answer with the wanted files and their
 * signatures, apply the data stream into temporary files, then rename,
 * delete, set directory times, sync, run post_command, save the manifest
 * and the generation, and acknowledge.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "applets/hasync/recv.h"
#include "core/delta.h"
#include "core/log.h"
#include "core/state.h"
#include "core/wire.h"
#include "core/zio.h"

#define MAX_ENTRIES 10000000

struct begin_wire {
	struct ha_tlv_slice set;
	uint64_t term;
	uint32_t flags;
	struct ha_tlv_slice scopes;
	uint32_t count;
};

#define BW(f) offsetof(struct begin_wire, f)
static const struct ha_tlv_spec begin_spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_STR, 1, BW(set), 64 },
	{ 2 | HA_TLV_CRIT, HA_TLV_U64, 0, BW(term), 0 },
	{ 3 | HA_TLV_CRIT, HA_TLV_U32, 1, BW(flags), 0 },
	{ 4 | HA_TLV_CRIT, HA_TLV_BYTES, 0, BW(scopes), 0 },
	{ 5, HA_TLV_U32, 0, BW(count), 0 },
	{ 0 },
};

/*
 * The term hawatch has persisted on this node (0: none): a receiver knows
 * a new leader's term from its own election state the moment it voted,
 * before that leader pushed anything, so a stale leader's push is refused
 * even if it is the first to arrive.
 */
static uint64_t
election_term(const struct rcv *r)
{
	char *path = ha_xasprintf("%s/hawatch.state",
	    r->cfg->cluster->state_dir);
	struct ha_state *st = NULL;
	uint64_t t = 0;

	if (ha_state_load(path, &st) == 1)
		(void)ha_state_get_u64(st, "term", &t);
	ha_state_free(st);
	free(path);
	return t;
}

/* The term check: refuse an older term, remember a newer one. */
static int
check_term(struct rcv *r, uint64_t term)
{
	char *path = ha_xasprintf("%s/recv.state", r->sdir);
	char *lock = ha_xasprintf("%s/recv.state.lock", r->sdir);
	struct ha_state *st = NULL;
	uint64_t seen = 0, elected;
	int lfd, rc = -1;

	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd == -1 || flock(lfd, LOCK_EX) == -1 ||
	    ha_state_load(path, &st) == -1) {
		hs_refuse(r->c, "cannot read this node's sync state");
		goto out;
	}
	(void)ha_state_get_u64(st, "term", &seen);
	if ((elected = election_term(r)) > seen)
		seen = elected;
	if (term < seen) {
		hs_refuse(r->c, "term %llu is older than term %llu that %s has "
		    "seen: a stale leader may not push (set %s)",
		    (unsigned long long)term, (unsigned long long)seen,
		    r->cfg->cluster->node, r->set->name);
		goto out;
	}
	rc = 0;
	if (term > seen && (ha_state_set_u64(st, "term", term) == -1 ||
	    ha_state_save(st, path) == -1)) {
		hs_refuse(r->c, "cannot save the term");
		rc = -1;
	}
out:
	ha_state_free(st);
	if (lfd != -1)
		close(lfd);
	free(path);
	free(lock);
	return rc;
}

static uint64_t
state_u64(struct rcv *r, const char *key)
{
	char *path = ha_xasprintf("%s/recv.state", r->sdir);
	struct ha_state *st = NULL;
	uint64_t v = 0;

	if (ha_state_load(path, &st) == 1)
		(void)ha_state_get_u64(st, key, &v);
	ha_state_free(st);
	free(path);
	return v;
}

/* One push of a set at a time; wait for another one to finish. */
static int
lock_set(struct rcv *r)
{
	char *path = ha_xasprintf("%s/%s.lock", r->sdir, r->set->name);
	int64_t until = ha_now_ms() + r->set->timeout_ms;

	r->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (r->lockfd == -1)
		return -1;
	while (flock(r->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK || ha_now_ms() > until)
			return -1;
		usleep(10000);
	}
	return 0;
}

static int
open_root(struct rcv *r)
{
	const char *p = r->set->path;

	if (mkdir(p, 0755) == 0)
		ha_log(HA_INFO, "set %s: made %s", r->set->name, p);
	r->rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r->rootfd == -1 ? -1 : 0;
}

static int
parse_scopes(struct rcv *r, const struct ha_tlv_slice *s)
{
	const uint8_t *p = s->p;
	size_t n = s->n;
	const char *why;

	while (n > 0) {
		size_t len;

		if (n < 2 || (len = ha_get_be16(p)) > n - 2 ||
		    ha_flist_path_check((const char *)p + 2, len, &why) == -1)
			return -1;
		r->scopes = ha_xreallocarray(r->scopes, r->n_scopes + 1,
		    sizeof(*r->scopes));
		r->scopes[r->n_scopes++] = ha_xstrndup((const char *)p + 2,
		    len);
		p += 2 + len, n -= 2 + len;
	}
	return 0;
}

/* BEGIN: which set, which term; lock it, answer with our generation. */
static int
begin(struct rcv *r)
{
	struct begin_wire bw;
	struct ha_buf b = { 0 };
	uint32_t seen = 0;
	const char *why;
	char *name;
	char key[128];

	memset(&bw, 0, sizeof(bw));
	if (ha_tlv_decode((uint8_t *)r->c->in.s, r->c->in.len, begin_spec, &bw,
	    &seen, &why) == -1) {
		hs_refuse(r->c, "a bad BEGIN: %s", why);
		return -1;
	}
	name = ha_tlv_strdup(&bw.set);
	r->set = ha_cfg_sync(r->cfg, name);
	if (r->set == NULL) {
		hs_refuse(r->c, "no [sync %s] on %s", name,
		    r->cfg->cluster->node);
		free(name);
		return -1;
	}
	free(name);
	r->flags = bw.flags;
	if (r->flags & ~(unsigned)(HS_F_DRY | HS_F_PARTIAL | HS_F_DELETE |
	    HS_F_CHECKSUM) || parse_scopes(r, &bw.scopes) == -1 ||
	    ((r->flags & HS_F_PARTIAL) && r->n_scopes == 0)) {
		hs_refuse(r->c, "a bad BEGIN: flags or paths");
		return -1;
	}
	if ((seen & 2) && check_term(r, bw.term) == -1)
		return -1;
	if (lock_set(r) == -1) {
		hs_refuse(r->c, "set %s is busy with another push", r->set->name);
		return -1;
	}
	if (open_root(r) == -1) {
		hs_refuse(r->c, "cannot open %s on %s: %s", r->set->path,
		    r->cfg->cluster->node, strerror(errno));
		return -1;
	}
	snprintf(key, sizeof(key), "gen.%s", r->set->name);
	ha_tlv_u64(&b, 1, state_u64(r, key));
	ha_tlv_u32(&b, 2, HS_CODEC_ZLIB | HS_CODEC_ZSTD);
	hs_queue(r->c, HS_BEGIN_OK, b.s, b.len);
	ha_buf_free(&b);
	return hs_flush(r->c);
}

/* The file list: entries in strictly increasing order (parents first). */
static int
read_list(struct rcv *r)
{
	struct ha_zio *z = ha_zio_unpacker();
	struct ha_buf b = { 0 };
	const char *why = NULL;
	uint8_t type;
	size_t from = 0, i;
	int rc = -1;

	for (;;) {
		if (hs_recv(r->c, &type) != 1)
			goto out;
		if (type == HS_FLIST_END)
			break;
		b.len = 0;
		if (type != HS_FLIST)
			why = "unexpected message";
		else if (ha_zio_unpack(z, (uint8_t *)r->c->in.s, r->c->in.len,
		    &b, &why) == 0)
			(void)ha_flist_decode_all((uint8_t *)b.s, b.len, &r->fl,
			    &why);
		if (why) {
			hs_refuse(r->c, "a bad file list: %s", why);
			goto out;
		}
		for (i = from ? from : 1; i < r->fl.n; i++)
			if (strcmp(r->fl.v[i - 1].path, r->fl.v[i].path) >= 0) {
				hs_refuse(r->c, "a bad file list: not in order "
				    "or a path twice (%s)", r->fl.v[i].path);
				goto out;
			}
		from = r->fl.n;
		if (r->fl.n > MAX_ENTRIES) {
			hs_refuse(r->c, "a file list of more than %d entries",
			    MAX_ENTRIES);
			goto out;
		}
	}
	r->fs = ha_xcalloc(r->fl.n + 1, sizeof(*r->fs));
	rc = 0;
out:
	ha_zio_free(z);
	ha_buf_free(&b);
	return rc;
}

static void
change(struct rcv *r, struct ha_buf *w, char what, const char *path)
{
	uint8_t h[4];

	if (!(r->flags & HS_F_DRY) && what != 'd')
		return;
	if ((r->flags & HS_F_DRY) && r->c->print) {
		printf("%s %s %s\n", r->set->name, what == 'd' ? "delete" :
		    what == 'm' ? "mkdir" : "symlink", path);
		return;
	}
	h[0] = HS_R_CHANGE;
	h[1] = (uint8_t)what;
	ha_put_be16(h + 2, (uint16_t)strlen(path));
	ha_buf_add(w, h, 4);
	ha_buf_puts(w, path);
}

static void
want(struct rcv *r, struct ha_buf *w, uint32_t idx, const struct ha_buf *sig)
{
	size_t off = 0;
	uint8_t h[10];

	do {
		size_t n = sig->len - off > 256 * 1024 ? 256 * 1024 :
		    sig->len - off;

		h[0] = HS_R_WANT;
		ha_put_be32(h + 1, idx);
		h[5] = off + n == sig->len;
		ha_put_be32(h + 6, (uint32_t)n);
		ha_buf_add(w, h, sizeof(h));
		ha_buf_add(w, sig->s ? sig->s + off : "", n);
		off += n;
		if (w->len >= HS_FRAME_FILL - 300 * 1024) {
			hs_queue(r->c, HS_WANT, w->s, w->len);
			w->len = 0;
		}
	} while (off < sig->len);
	r->fs[idx].want = 1;
	r->n_want++;
	if ((r->flags & HS_F_DRY) && r->c->print)
		printf("%s send %s\n", r->set->name, r->fl.v[idx].path);
}

static void
set_times(struct timespec ts[2], int64_t ns)
{
	ts[0].tv_sec = ts[1].tv_sec = ns / 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = ns % 1000000000;
	if (ts[0].tv_nsec < 0) {
		ts[0].tv_sec--, ts[1].tv_sec--;
		ts[0].tv_nsec = ts[1].tv_nsec += 1000000000;
	}
}

static void
tmp_name(struct rcv *r, char *buf, size_t n)
{
	snprintf(buf, n, HS_TMP_PREFIX "%ld.%u", r->pid, r->tmp_seq++);
}

static void
fail_entry(struct rcv *r, const char *path, const char *what)
{
	ha_log(HA_FAILURE, "set %s: %s: %s: %s", r->set->name, path, what,
	    errno == ELOOP || errno == ENOTDIR ? "a symlink or a file in the "
	    "way (not followed)" :
	    strerror(errno));
	r->errors++;
}

static void
plan_link(struct rcv *r, struct ha_buf *w, const struct ha_flist_ent *e,
    int dfd, const char *base, const struct stat *st, int exists)
{
	char cur[HA_FLIST_PATH_MAX + 1], tmp[48];
	struct timespec ts[2];
	ssize_t n;

	if (exists && S_ISLNK(st->st_mode) && (n = readlinkat(dfd, base, cur,
	    sizeof(cur) - 1)) > 0 && (cur[n] = '\0', strcmp(cur, e->link) ==
	    0))
		return;
	change(r, w, 'l', e->path);
	if (r->flags & HS_F_DRY)
		return;
	if (exists && S_ISDIR(st->st_mode) && rcv_remove(r, dfd, base,
	    e->path) == -1)
		return fail_entry(r, e->path, "cannot remove the directory");
	if ((dfd = rcv_parent(r, e->path, &base)) == -1)
		return fail_entry(r, e->path, "cannot open its directory");
	if (exists && rcv_changed_here(r, e->path, st) &&
	    rcv_keep(r, dfd, base, e->path) == -1)
		return (void)r->errors++;
	tmp_name(r, tmp, sizeof(tmp));
	set_times(ts, e->mtime_ns);
	if (symlinkat(e->link, dfd, tmp) == -1)
		return fail_entry(r, e->path, "symlink");
	if (r->is_root)
		(void)fchownat(dfd, tmp, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
	(void)utimensat(dfd, tmp, ts, AT_SYMLINK_NOFOLLOW);
	if (renameat(dfd, tmp, dfd, base) == -1) {
		fail_entry(r, e->path, "rename");
		(void)unlinkat(dfd, tmp, 0);
	}
}

static void
plan_dir(struct rcv *r, struct ha_buf *w, const struct ha_flist_ent *e,
    int dfd, const char *base, const struct stat *st, int exists)
{
	if (exists && S_ISDIR(st->st_mode))
		return;
	change(r, w, 'm', e->path);
	if (r->flags & HS_F_DRY)
		return;
	if (exists && rcv_remove(r, dfd, base, e->path) == -1)
		return fail_entry(r, e->path, "cannot remove what is in the way");
	if ((dfd = rcv_parent(r, e->path, &base)) == -1)
		return fail_entry(r, e->path, "cannot open its directory");
	if (mkdirat(dfd, base, 0700) == -1)
		fail_entry(r, e->path, "mkdir");
	else
		r->dirs_made++;
}

static void
fix_meta(struct rcv *r, const struct ha_flist_ent *e, int dfd,
    const char *base, const struct stat *st)
{
	if (r->flags & HS_F_DRY)
		return;
	if (r->is_root && (st->st_uid != e->uid || st->st_gid != e->gid))
		(void)fchownat(dfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW);
	if ((st->st_mode & 07777) != e->mode)
		(void)fchmodat(dfd, base, e->mode, 0);
}

static void
plan_file(struct rcv *r, struct ha_buf *w, uint32_t idx, int dfd,
    const char *base, const struct stat *st, int exists)
{
	const struct ha_flist_ent *e = &r->fl.v[idx];
	struct ha_buf sig = { 0 };
	const char *why;
	int fd;

	if (exists && S_ISREG(st->st_mode) && (uint64_t)st->st_size == e->size) {
		uint8_t sha[HA_DELTA_SHA_LEN];
		int same = 0;

		if ((r->flags & HS_F_CHECKSUM) && (e->flags & HA_FLIST_HAS_SHA)) {
			fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
			same = fd != -1 && ha_delta_file_sha(fd, e->size, sha,
			    &why) == 0 && memcmp(sha, e->sha, sizeof(sha)) == 0;
			if (fd != -1)
				close(fd);
		} else
			same = (int64_t)st->st_mtim.tv_sec * 1000000000 +
			    st->st_mtim.tv_nsec == e->mtime_ns;
		if (same) {
			fix_meta(r, e, dfd, base, st);
			return;
		}
	}
	if (exists && S_ISDIR(st->st_mode) && !(r->flags & HS_F_DRY) &&
	    rcv_remove(r, dfd, base, e->path) == -1)
		return fail_entry(r, e->path, "cannot remove the directory");
	if (exists && S_ISREG(st->st_mode)) {
		r->fs[idx].keep = (uint8_t)rcv_changed_here(r, e->path, st);
		if (!(r->flags & HS_F_DRY)) {
			fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (fd != -1 && ha_delta_sig_make(fd,
			    (uint64_t)st->st_size, &sig, &why) == 0) {
				r->fs[idx].has_basis = 1;
				r->fs[idx].basis_size = (uint64_t)st->st_size;
			} else
				sig.len = 0;
			if (fd != -1)
				close(fd);
		}
	}
	want(r, w, idx, &sig);
	ha_buf_free(&sig);
}

/* Directories and symlinks now; files compared and asked for. */
static int
plan(struct rcv *r)
{
	struct ha_buf w = { 0 }, b = { 0 };
	size_t i;

	for (i = 0; i < r->fl.n; i++) {
		const struct ha_flist_ent *e = &r->fl.v[i];
		const char *base;
		struct stat st;
		int dfd = rcv_parent(r, e->path, &base), exists;

		if (dfd == -1) {
			if (errno == ENOENT && (r->flags & HS_F_DRY))
				exists = 0;
			else {
				fail_entry(r, e->path, "cannot open its "
				    "directory");
				continue;
			}
		} else
			exists = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)
			    == 0;
		if (e->type == HA_FLIST_DIR && dfd != -1)
			plan_dir(r, &w, e, dfd, base, &st, exists);
		else if (e->type == HA_FLIST_LINK && dfd != -1)
			plan_link(r, &w, e, dfd, base, &st, exists);
		else if (e->type == HA_FLIST_REG)
			plan_file(r, &w, (uint32_t)i, dfd, base, &st, exists);
		else
			change(r, &w, e->type == HA_FLIST_DIR ? 'm' : 'l',
			    e->path);
	}
	/* Extraneous files: listed (deleted once the data is in). */
	for (i = 0; (r->flags & HS_F_DELETE) && i < r->local.n; i++)
		if (rcv_in_scope(r, r->local.v[i].path) &&
		    ha_flist_find(&r->fl, r->local.v[i].path) == NULL)
			change(r, &w, 'd', r->local.v[i].path);
	if (w.len)
		hs_queue(r->c, HS_WANT, w.s, w.len);
	ha_tlv_u32(&b, 1, r->n_want);
	hs_queue(r->c, HS_WANT_END, b.s, b.len);
	ha_buf_free(&w);
	ha_buf_free(&b);
	r->fsync_each = r->n_want < 16;
	return hs_flush(r->c);
}

/* What this node has in the set's scope now (for deletions). */
static int
scan_local(struct rcv *r)
{
	size_t i;

	/* A whole-tree push also removes leftovers of a cut transfer. */
	if (!(r->flags & HS_F_PARTIAL)) {
		if (hs_scan(r->rootfd, NULL, &r->set->exclude, 0,
		    !(r->flags & HS_F_DRY), &r->local) == -1)
			return -1;
		ha_flist_sort(&r->local);
		return 0;
	}
	if (!(r->flags & HS_F_DELETE))
		return 0;
	for (i = 0; i < r->n_scopes; i++) {
		const char *base;

		/* Only through real directories of the tree. */
		if (rcv_parent(r, r->scopes[i], &base) != -1 &&
		    hs_scan(r->rootfd, r->scopes[i], &r->set->exclude, 0, 0,
		    &r->local) == -1)
			return -1;
	}
	ha_flist_sort(&r->local);
	return 0;
}

int rcv_data(struct rcv *r);
int rcv_finish(struct rcv *r);
void rcv_abort(struct rcv *r);

static void
rcv_free(struct rcv *r)
{
	size_t i;

	for (i = 0; i < r->nd; i++) {
		free(r->dc[i].path);
		close(r->dc[i].fd);
	}
	for (i = 0; i < r->n_scopes; i++)
		free(r->scopes[i]);
	free(r->scopes);
	ha_flist_free(&r->fl);
	ha_flist_free(&r->local);
	ha_flist_free(&r->manifest);
	free(r->fs);
	free(r->pend);
	free(r->sdir);
	free(r->conflict_dir);
	ha_zio_free(r->z);
	ha_delta_apply_free(r->apply);
	ha_buf_free(&r->plain);
	if (r->cur_tfd != -1)
		close(r->cur_tfd);
	if (r->cur_bfd != -1)
		close(r->cur_bfd);
	if (r->rootfd != -1)
		close(r->rootfd);
	if (r->lockfd != -1)
		close(r->lockfd);
}

int
hs_receive(struct hs_conn *c, const struct ha_cfg *cfg)
{
	struct rcv r;
	char stamp[32];
	time_t now = time(NULL);
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.c = c, r.cfg = cfg;
	r.rootfd = r.lockfd = r.cur_tfd = r.cur_bfd = -1;
	r.cur = -1;
	r.is_root = geteuid() == 0;
	r.pid = (long)getpid();
	r.sdir = hs_state_dir(cfg);
	r.t0 = ha_now_ms();
	if (begin(&r) == -1)
		goto out;
	c->timeout_ms = r.set->timeout_ms;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	r.conflict_dir = ha_xasprintf("%s/conflicts/%s/%s",
	    cfg->cluster->state_dir, stamp, r.set->name);
	if (read_list(&r) == -1 || rcv_manifest_load(&r) == -1)
		goto out;
	if (scan_local(&r) == -1) {
		hs_refuse(c, "cannot read %s", r.set->path);
		goto out;
	}
	ha_log(HA_DEBUG, "set %s: list of %zu entries read in %lld ms",
	    r.set->name, r.fl.n, (long long)(ha_now_ms() - r.t0));
	if (plan(&r) == -1)
		goto out;
	ha_log(HA_DEBUG, "set %s: %u file(s) asked for at %lld ms",
	    r.set->name, r.n_want, (long long)(ha_now_ms() - r.t0));
	if (rcv_data(&r) == -1)
		goto out;
	ha_log(HA_DEBUG, "set %s: data in at %lld ms", r.set->name,
	    (long long)(ha_now_ms() - r.t0));
	rc = rcv_finish(&r);
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		ha_log(HA_DEBUG, "set %s: done at %lld ms (cpu: user %ld ms, "
		    "sys %ld ms)", r.set->name,
		    (long long)(ha_now_ms() - r.t0),
		    ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000,
		    ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000);
	}
out:
	if (rc == -1)
		rcv_abort(&r);
	rcv_free(&r);
	return rc;
}
