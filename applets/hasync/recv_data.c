/*
 * hasync receiver: the data stream (records START, DATA, ABORT in zio
 * chunks) applied into temporary files, the batched commit (files synced
 * before any rename: fsync each when there are few, one syncfs for many),
 * then deletions, directory metadata, post_command, manifest, generation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int rcv_data(struct rcv *r);
int rcv_finish(struct rcv *r);
void rcv_abort(struct rcv *r);

static void
times_of(struct timespec ts[2], int64_t ns)
{
	ts[0].tv_sec = ts[1].tv_sec = ns / 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = ns % 1000000000;
	if (ts[0].tv_nsec < 0) {
		ts[0].tv_sec--, ts[1].tv_sec--;
		ts[0].tv_nsec = ts[1].tv_nsec += 1000000000;
	}
}

/* Drop the file being received (a failure, an abort). */
static void
drop_cur(struct rcv *r, int done)
{
	const char *base;
	int dfd;

	if (r->cur < 0)
		return;
	ha_delta_apply_free(r->apply);
	r->apply = NULL;
	if (r->cur_tfd != -1)
		close(r->cur_tfd);
	if (r->cur_bfd != -1)
		close(r->cur_bfd);
	r->cur_tfd = r->cur_bfd = -1;
	dfd = rcv_parent(r, r->fl.v[r->cur].path, &base);
	if (dfd != -1 && r->cur_tmp[0])
		(void)unlinkat(dfd, r->cur_tmp, 0);
	r->fs[r->cur].done = (uint8_t)done;
	if (done == RCV_DONE_FAIL)
		r->errors++;
	else
		r->skipped++;
	r->cur = -1;
}

static int
commit_pending(struct rcv *r)
{
	int synced[32];
	size_t i, nsync = 0;

	/* Data first on disk, then the names: old or new, never partial. */
	int64_t t = ha_now_ms();

	if (!r->fsync_each && r->n_pend && syncfs(r->rootfd) == -1)
		ha_log_errno(HA_WARNING, "syncfs %s", r->set->path);
	r->sync_ms += ha_now_ms() - t;
	for (i = 0; i < r->n_pend; i++) {
		struct rcv_pending *p = &r->pend[i];
		const struct ha_flist_ent *e = &r->fl.v[p->idx];
		const char *base;
		struct stat st;
		int dfd = rcv_parent(r, e->path, &base);

		if (dfd == -1) {
			r->fs[p->idx].done = RCV_DONE_FAIL;
			r->errors++;
			continue;
		}
		if (r->fs[p->idx].keep && fstatat(dfd, base, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && rcv_changed_here(r, e->path,
		    &st) && rcv_keep(r, dfd, base, e->path) == -1) {
			(void)unlinkat(dfd, p->tmp, 0);
			r->fs[p->idx].done = RCV_DONE_FAIL;
			r->errors++;
			continue;
		}
		if (renameat(dfd, p->tmp, dfd, base) == -1) {
			ha_log_errno(HA_FAILURE, "set %s: rename %s", r->set->name,
			    e->path);
			(void)unlinkat(dfd, p->tmp, 0);
			r->fs[p->idx].done = RCV_DONE_FAIL;
			r->errors++;
			continue;
		}
		if (r->fsync_each && (nsync == 0 || synced[nsync - 1] != dfd) &&
		    nsync < HA_ARRAY_LEN(synced))
			synced[nsync++] = dfd;
		r->fs[p->idx].done = RCV_DONE_OK;
		r->files++;
	}
	/* The renames durable: each directory once (few files here). */
	for (i = 0; i < nsync; i++) {
		size_t j;

		for (j = 0; j < i && synced[j] != synced[i]; j++)
			;
		if (j == i)
			(void)fsync(synced[i]);
	}
	r->n_pend = 0;
	r->pend_bytes = 0;
	return 0;
}

/* The whole file arrived and matched the sender's SHA-256. */
static int
finish_cur(struct rcv *r)
{
	const struct ha_flist_ent *e = &r->fl.v[r->cur];
	struct rcv_file *f = &r->fs[r->cur];
	struct timespec ts[2];
	struct rcv_pending *p;

	if (r->is_root && fchown(r->cur_tfd, e->uid, e->gid) == -1)
		ha_log_errno(HA_WARNING, "chown %s", e->path);
	times_of(ts, f->mtime);
	if (fchmod(r->cur_tfd, e->mode) == -1 || futimens(r->cur_tfd, ts) == -1
	    || (r->fsync_each && fsync(r->cur_tfd) == -1)) {
		ha_log_errno(HA_FAILURE, "set %s: %s", r->set->name, e->path);
		drop_cur(r, RCV_DONE_FAIL);
		return 0;
	}
	ha_delta_apply_free(r->apply);
	r->apply = NULL;
	close(r->cur_tfd);
	if (r->cur_bfd != -1)
		close(r->cur_bfd);
	r->cur_tfd = r->cur_bfd = -1;
	if (r->n_pend == r->cap_pend) {
		r->cap_pend = r->cap_pend ? r->cap_pend * 2 : 256;
		r->pend = ha_xreallocarray(r->pend, r->cap_pend,
		    sizeof(*r->pend));
	}
	p = &r->pend[r->n_pend++];
	p->idx = (uint32_t)r->cur;
	memcpy(p->tmp, r->cur_tmp, sizeof(p->tmp));
	r->pend_bytes += f->size;
	f->done = RCV_DONE_OK;
	r->cur = -1;
	if (r->n_pend >= PEND_FILES_MAX || r->pend_bytes >= PEND_BYTES_MAX)
		return commit_pending(r);
	return 0;
}

static int
start(struct rcv *r, uint32_t idx, const uint8_t *p, size_t n)
{
	const struct ha_flist_ent *e;
	const char *base;
	struct stat st;
	int dfd;

	if (idx >= r->fl.n || !r->fs[idx].want || r->fs[idx].done ||
	    r->cur == (long)idx || n != 16) {
		hs_refuse(r->c, "a bad data stream: START of a file not asked "
		    "for");
		return -1;
	}
	e = &r->fl.v[idx];
	r->cur = (long)idx;
	r->cur_tmp[0] = '\0';
	r->fs[idx].size = ha_get_be64(p);
	r->fs[idx].mtime = (int64_t)ha_get_be64(p + 8);
	if ((dfd = rcv_parent(r, e->path, &base)) == -1) {
		ha_log_errno(HA_FAILURE, "set %s: %s", r->set->name, e->path);
		drop_cur(r, RCV_DONE_FAIL);
		return 0;
	}
	if (r->fs[idx].has_basis) {
		r->cur_bfd = openat(dfd, base, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (r->cur_bfd == -1 || fstat(r->cur_bfd, &st) == -1 ||
		    !S_ISREG(st.st_mode) || (uint64_t)st.st_size !=
		    r->fs[idx].basis_size) {
			ha_log(HA_FAILURE, "set %s: %s changed here during the "
			    "push", r->set->name, e->path);
			drop_cur(r, RCV_DONE_FAIL);
			return 0;
		}
	}
	snprintf(r->cur_tmp, sizeof(r->cur_tmp), HS_TMP_PREFIX "%ld.%u",
	    r->pid, r->tmp_seq++);
	r->cur_tfd = openat(dfd, r->cur_tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->cur_tfd == -1) {
		ha_log_errno(HA_FAILURE, "set %s: create %s/%s", r->set->name,
		    e->path, r->cur_tmp);
		r->cur_tmp[0] = '\0';
		drop_cur(r, RCV_DONE_FAIL);
		return 0;
	}
	r->apply = ha_delta_apply_new(r->fs[idx].has_basis ? r->cur_bfd : -1,
	    r->fs[idx].basis_size, r->cur_tfd);
	return 0;
}

/* One record of the data stream. */
static int
rec(struct rcv *r, uint8_t kind, uint32_t idx, const uint8_t *p, size_t n)
{
	const char *why;
	int a;

	switch (kind) {
	case HS_R_START:
		if (r->cur >= 0) {
			ha_log(HA_FAILURE, "set %s: %s: its data ended early",
			    r->set->name, r->fl.v[r->cur].path);
			drop_cur(r, RCV_DONE_FAIL);
		}
		return start(r, idx, p, n);
	case HS_R_DATA:
		if (r->cur != (long)idx) {
			if (idx < r->fl.n && r->fs[idx].done == RCV_DONE_FAIL)
				return 0;	/* the rest of a failed file */
			break;
		}
		a = ha_delta_apply_feed(r->apply, p, n, &why);
		if (a == 1)
			return finish_cur(r);
		if (a == -1) {
			ha_log(HA_FAILURE, "set %s: %s: %s", r->set->name,
			    r->fl.v[idx].path, why);
			drop_cur(r, RCV_DONE_FAIL);
		}
		return 0;
	case HS_R_ABORT:
		if (idx >= r->fl.n || !r->fs[idx].want || (r->fs[idx].done &&
		    r->fs[idx].done != RCV_DONE_FAIL))
			break;
		ha_log(HA_WARNING, "set %s: %s was not sent: %.*s",
		    r->set->name, r->fl.v[idx].path, (int)(n > 200 ? 200 : n),
		    (const char *)p);
		if (r->cur == (long)idx)
			drop_cur(r, RCV_DONE_SKIP);
		else if (!r->fs[idx].done) {
			r->fs[idx].done = RCV_DONE_SKIP;
			r->skipped++;
		}
		return 0;
	}
	hs_refuse(r->c, "a bad data stream (record %u for entry %u)", kind, idx);
	return -1;
}

/* Parse the whole records in the plain buffer. */
static int
records(struct rcv *r)
{
	for (;;) {
		const uint8_t *p = (uint8_t *)r->plain.s + r->plain_off;
		size_t have = r->plain.len - r->plain_off, len;

		if (have < 9)
			break;
		len = ha_get_be32(p + 5);
		if (len > HA_ZIO_CHUNK) {
			hs_refuse(r->c, "a bad data stream: a record of %zu "
			    "bytes", len);
			return -1;
		}
		if (have < 9 + len)
			break;
		r->plain_off += 9 + len;
		if (rec(r, p[0], ha_get_be32(p + 1), p + 9, len) == -1)
			return -1;
	}
	memmove(r->plain.s, r->plain.s + r->plain_off, r->plain.len -
	    r->plain_off);
	r->plain.len -= r->plain_off;
	r->plain_off = 0;
	return 0;
}

int
rcv_data(struct rcv *r)
{
	const char *why;
	uint8_t type;

	r->z = ha_zio_unpacker();
	for (;;) {
		if (hs_recv(r->c, &type) != 1)
			return -1;
		if (type == HS_DATA_END)
			break;
		if (type != HS_DATA) {
			hs_refuse(r->c, "unexpected message %u in the data", type);
			return -1;
		}
		if (ha_zio_unpack(r->z, (uint8_t *)r->c->in.s, r->c->in.len,
		    &r->plain, &why) == -1) {
			hs_refuse(r->c, "a bad data stream: %s", why);
			return -1;
		}
		if (records(r) == -1)
			return -1;
	}
	if (r->plain.len != 0) {
		hs_refuse(r->c, "a bad data stream: it ends inside a record");
		return -1;
	}
	if (r->cur >= 0) {
		ha_log(HA_FAILURE, "set %s: %s: its data ended early",
		    r->set->name, r->fl.v[r->cur].path);
		drop_cur(r, RCV_DONE_FAIL);
	}
	return 0;
}

/* Extraneous paths, children before their directories. */
static void
delete_extra(struct rcv *r)
{
	size_t i;

	for (i = r->local.n; i-- > 0;) {
		const char *path = r->local.v[i].path, *base;
		int dfd;

		if (!rcv_in_scope(r, path) || ha_flist_find(&r->fl, path))
			continue;
		if ((dfd = rcv_parent(r, path, &base)) == -1) {
			if (errno != ENOENT) {
				ha_log_errno(HA_FAILURE, "set %s: delete %s",
				    r->set->name, path);
				r->errors++;
			}
			continue;
		}
		if (rcv_remove(r, dfd, base, path) == 0)
			r->deleted++;
		else if (errno == ENOTEMPTY)	/* excluded files inside */
			ha_log(HA_INFO, "set %s: kept %s: excluded files in "
			    "it", r->set->name, path);
		else if (errno != ENOENT) {
			ha_log_errno(HA_FAILURE, "set %s: delete %s",
			    r->set->name, path);
			r->errors++;
		}
	}
}

/* Directory owners, modes and times, deepest first (after their files). */
static void
dir_meta(struct rcv *r)
{
	size_t i;

	for (i = r->fl.n; i-- > 0;) {
		const struct ha_flist_ent *e = &r->fl.v[i];
		struct timespec ts[2];
		struct stat st;
		int fd;

		if (e->type != HA_FLIST_DIR)
			continue;
		if ((fd = rcv_dir(r, e->path)) == -1 || fstat(fd, &st) == -1)
			continue;
		if (r->is_root && (st.st_uid != e->uid || st.st_gid != e->gid))
			(void)fchown(fd, e->uid, e->gid);
		if ((st.st_mode & 07777) != e->mode)
			(void)fchmod(fd, e->mode);
		times_of(ts, e->mtime_ns);
		if (st.st_mtim.tv_sec != ts[1].tv_sec ||
		    st.st_mtim.tv_nsec != ts[1].tv_nsec)
			(void)futimens(fd, ts);
	}
}

static void
commit_reply(struct rcv *r, uint64_t gen)
{
	struct ha_buf b = { 0 };

	ha_tlv_u64(&b, 1, gen);
	ha_tlv_u32(&b, 2, r->files);
	ha_tlv_u32(&b, 3, r->deleted);
	ha_tlv_u32(&b, 4, r->errors);
	ha_tlv_u32(&b, 5, r->conflicts);
	hs_queue(r->c, HS_COMMIT, b.s, b.len);
	ha_buf_free(&b);
	(void)hs_flush(r->c);
}

static uint64_t
bump_generation(struct rcv *r)
{
	char *path = ha_xasprintf("%s/recv.state", r->sdir);
	struct ha_state *st = NULL;
	char key[3][128], val[3][64];
	const char *kv[6];
	uint64_t gen = 0;

	snprintf(key[0], sizeof(key[0]), "gen.%s", r->set->name);
	if (ha_state_load(path, &st) == 1)
		(void)ha_state_get_u64(st, key[0], &gen);
	ha_state_free(st);
	free(path);
	gen++;
	snprintf(val[0], sizeof(val[0]), "%llu", (unsigned long long)gen);
	snprintf(key[1], sizeof(key[1]), "time.%s", r->set->name);
	snprintf(val[1], sizeof(val[1]), "%lld", (long long)time(NULL));
	snprintf(key[2], sizeof(key[2]), "from.%s", r->set->name);
	snprintf(val[2], sizeof(val[2]), "%s", r->c->name);
	kv[0] = key[0], kv[1] = val[0], kv[2] = key[1], kv[3] = val[1];
	kv[4] = key[2], kv[5] = val[2];
	if (hs_state_set(r->cfg, "recv.state", kv, 3) == -1)
		return 0;
	return gen;
}

int
rcv_finish(struct rcv *r)
{
	char err[300];
	uint64_t gen = 0;
	size_t i;

	commit_pending(r);
	for (i = 0; i < r->fl.n; i++)
		if (r->fs[i].want && r->fs[i].done == RCV_DONE_NO &&
		    !(r->flags & HS_F_DRY)) {
			ha_log(HA_FAILURE, "set %s: %s was asked for but not "
			    "sent", r->set->name, r->fl.v[i].path);
			r->errors++;
		}
	if (r->flags & HS_F_DRY) {
		commit_reply(r, 0);
		return 0;
	}
	ha_log(HA_DEBUG, "set %s: renamed at %lld ms", r->set->name,
	    (long long)(ha_now_ms() - r->t0));
	if (r->flags & HS_F_DELETE)
		delete_extra(r);
	dir_meta(r);
	ha_log(HA_DEBUG, "set %s: deleted, directories set at %lld ms",
	    r->set->name, (long long)(ha_now_ms() - r->t0));
	/* Few files: their directories were synced with the renames. */
	if (r->fsync_each) {
		if (r->deleted || r->dirs_made)
			(void)fsync(r->rootfd);
	} else if (syncfs(r->rootfd) == -1)
		ha_log_errno(HA_WARNING, "syncfs %s", r->set->path);
	if (r->errors) {
		ha_log(HA_FAILURE, "set %s from %s: %u file(s) failed, %u "
		    "written, %u deleted", r->set->name, r->c->name, r->errors,
		    r->files, r->deleted);
		commit_reply(r, 0);
		return 1;	/* answered: the connection goes on */
	}
	ha_log(HA_DEBUG, "set %s: synced at %lld ms", r->set->name,
	    (long long)(ha_now_ms() - r->t0));
	(void)rcv_manifest_save(r);
	ha_log(HA_DEBUG, "set %s: manifest saved at %lld ms", r->set->name,
	    (long long)(ha_now_ms() - r->t0));
	if (r->set->post_command && hs_run_cmd("post_command",
	    r->set->post_command, r->set->name, r->set->timeout_ms, err,
	    sizeof(err)) == -1) {
		hs_refuse(r->c, "%s (on %s)", err, r->cfg->cluster->node);
		return -1;
	}
	gen = bump_generation(r);
	ha_log(HA_DEBUG, "set %s: %lld ms in syncfs", r->set->name,
	    (long long)r->sync_ms);
	ha_log(HA_SUCCESS, "set %s from %s: %u written, %u deleted, %u kept "
	    "as conflicts, %u skipped, generation %llu", r->set->name,
	    r->c->name, r->files, r->deleted, r->conflicts, r->skipped,
	    (unsigned long long)gen);
	commit_reply(r, gen);
	return 0;
}

/*
 * A push cut short: the files already received whole and verified are
 * committed (each is complete, so every file stays old or new, and a
 * flaky link still makes progress); the one in flight is dropped. The
 * manifest learns the committed files so they are not taken for local
 * changes next time.
 */
void
rcv_abort(struct rcv *r)
{
	struct ha_flist m = { 0 };
	struct ha_buf b = { 0 };
	char *path;
	size_t i;

	if (r->fs == NULL || (r->flags & HS_F_DRY))
		return;
	if (r->cur >= 0)
		drop_cur(r, RCV_DONE_FAIL);
	if (r->n_pend == 0)
		return;
	commit_pending(r);
	if (r->fsync_each)
		(void)fsync(r->rootfd);
	else
		(void)syncfs(r->rootfd);
	for (i = 0; i < r->manifest.n; i++) {
		const struct ha_flist_ent *e = &r->manifest.v[i];
		const struct ha_flist_ent *s = ha_flist_find(&r->fl, e->path);

		if (s == NULL || r->fs[s - r->fl.v].done != RCV_DONE_OK ||
		    !r->fs[s - r->fl.v].want)
			ha_flist_add(&m, e);
	}
	for (i = 0; i < r->fl.n; i++)
		if (r->fs[i].want && r->fs[i].done == RCV_DONE_OK) {
			struct ha_flist_ent *e = ha_flist_add(&m, &r->fl.v[i]);

			e->size = r->fs[i].size;
			e->mtime_ns = r->fs[i].mtime;
			e->flags = 0;
		}
	ha_flist_sort(&m);
	for (i = 0; i < m.n; i++)
		ha_flist_encode(&m.v[i], &b);
	path = ha_xasprintf("%s/%s.manifest", r->sdir, r->set->name);
	(void)ha_file_write_atomic(path, b.s ? b.s : "", b.len, 0600);
	ha_log(HA_WARNING, "set %s from %s: cut short; %u file(s) complete "
	    "were kept", r->set->name, r->c->name, r->files);
	free(path);
	ha_buf_free(&b);
	ha_flist_free(&m);
}
