/*
 * hasync: the sending side of a push (hasync.h has the phases): scan the
 * tree, send the file list in large frames, read the receiver's wants
 * with the signatures of its copies, then stream every wanted file's
 * delta through one zio stream, and wait for the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "core/delta.h"
#include "core/log.h"
#include "core/wire.h"
#include "core/zio.h"

struct snd {
	struct hs_conn *c;
	const struct ha_cfg_sync *set;
	struct ha_flist fl;
	int rootfd;
	int dry;
	struct ha_buf *sigs;	/* per entry: the receiver's signature */
	uint8_t *wanted;	/* per entry: 1 wanted, 2 signature complete */
	uint32_t *order;	/* wanted entries, in the order asked */
	size_t n_order;
	struct ha_zio *z;
	int codec;		/* HA_ZIO_ZSTD if the receiver has it */
	struct ha_buf plain, packed;
	int plain_random;	/* plain holds data that looks random */
	struct hs_push_stats *st;
	char *err;
	size_t errlen;
};

static int
fail(struct snd *s, const char *fmt, ...) HA_PRINTF(2, 3);

static int
fail(struct snd *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Add each parent directory of path (a partial push creates them). */
static void
add_parents(struct snd *s, const char *path)
{
	char *p = ha_xstrdup(path), *slash = p;

	while ((slash = strchr(slash, '/')) != NULL) {
		*slash = '\0';
		if (ha_flist_find(&s->fl, p) == NULL)
			(void)hs_scan_parent(s->rootfd, p, &s->fl);
		*slash++ = '/';
	}
	free(p);
}

/* The file list: the whole tree, or the given paths and their parents. */
static int
build_list(struct snd *s, const char *const *paths, size_t npaths,
    struct ha_buf *scopes)
{
	const struct ha_cfg_sync *set = s->set;
	const char *why;
	size_t i, j;

	if (npaths == 0) {
		if (hs_scan(s->rootfd, NULL, &set->exclude, set->checksum, 0,
		    &s->fl) == -1)
			return fail(s, "cannot read %s", set->path);
		/* The receiver wants parents first and bisects. */
		ha_flist_sort(&s->fl);
		return 0;
	}
	for (i = 0; i < npaths; i++) {
		uint8_t l[2];

		if (ha_flist_path_check(paths[i], strlen(paths[i]), &why) ==
		    -1)
			return fail(s, "%s: %s", paths[i], why);
		if (hs_scan(s->rootfd, paths[i], &set->exclude, set->checksum,
		    0, &s->fl) == -1)
			return fail(s, "cannot read %s in %s", paths[i],
			    set->path);
		ha_put_be16(l, (uint16_t)strlen(paths[i]));
		ha_buf_add(scopes, l, 2);
		ha_buf_puts(scopes, paths[i]);
	}
	ha_flist_sort(&s->fl);
	for (i = 0; i < npaths; i++)
		add_parents(s, paths[i]);
	ha_flist_sort(&s->fl);
	/* Overlapping paths gave some entries twice. */
	for (i = j = 0; i < s->fl.n; i++) {
		if (j > 0 && strcmp(s->fl.v[j - 1].path, s->fl.v[i].path) == 0)
			ha_flist_ent_fini(&s->fl.v[i]);
		else
			s->fl.v[j++] = s->fl.v[i];
	}
	s->fl.n = j;
	return 0;
}

static int
begin(struct snd *s, long term, unsigned flags, const struct ha_buf *scopes)
{
	struct ha_buf b = { 0 };
	struct { uint64_t gen; uint32_t codecs; } ok = { 0, 0 };
	static const struct ha_tlv_spec spec[] = {
		{ 1, HA_TLV_U64, 1, 0, 0 },
		{ 2, HA_TLV_U32, 0, 8, 0 },
		{ 0 },
	};
	const char *why;
	uint8_t type;

	ha_tlv_str(&b, 1 | HA_TLV_CRIT, s->set->name);
	if (term >= 0)
		ha_tlv_u64(&b, 2 | HA_TLV_CRIT, (uint64_t)term);
	ha_tlv_u32(&b, 3 | HA_TLV_CRIT, flags);
	if (flags & HS_F_PARTIAL)
		ha_tlv_bytes(&b, 4 | HA_TLV_CRIT, scopes->s, scopes->len);
	ha_tlv_u32(&b, 5, (uint32_t)s->fl.n);
	hs_queue(s->c, HS_BEGIN, b.s, b.len);
	ha_buf_free(&b);
	if (hs_recv(s->c, &type) != 1)
		return fail(s, "%s refused the push of %s (see the log)",
		    s->c->name, s->set->name);
	if (type != HS_BEGIN_OK || ha_tlv_decode((uint8_t *)s->c->in.s,
	    s->c->in.len, spec, &ok, NULL, &why) == -1)
		return fail(s, "%s: a bad answer to BEGIN", s->c->name);
	/* A receiver older than zstd in hasync lists no codecs: zlib. */
	s->codec = ok.codecs & HS_CODEC_ZSTD ? HA_ZIO_ZSTD : HA_ZIO_ZLIB;
	ha_log(HA_DEBUG, "%s: compressing with %s", s->set->name,
	    s->codec == HA_ZIO_ZSTD ? "zstd" : "zlib");
	return 0;
}

/*
 * The file list in zio chunks of whole entries. Paths and metadata
 * compress well and cost little to compress, so the list is compressed
 * (at level 1 at least) even with compress = 0, which is about the files'
 * data: otherwise the list alone made an incremental push with
 * compress = 0 send 23% more bytes than rsync -a (bench/sync).
 */
static int
send_list(struct snd *s)
{
	struct ha_buf b = { 0 }, z = { 0 };
	struct ha_zio *zl = ha_zio_packer(s->codec, s->set->compress > 0 ?
	    (int)s->set->compress : 1);
	const char *why;
	size_t i;
	int rc = 0;

	if (zl == NULL)
		return fail(s, "cannot start compression (out of memory?)");
	for (i = 0; rc == 0 && i <= s->fl.n; i++) {
		if (i < s->fl.n)
			ha_flist_encode(&s->fl.v[i], &b);
		if (b.len == 0 || (i < s->fl.n && b.len < HA_ZIO_CHUNK -
		    2 * HA_FLIST_PATH_MAX - 200))
			continue;
		z.len = 0;
		if (ha_zio_pack(zl, b.s, b.len, &z, &why) == -1)
			rc = fail(s, "compress: %s", why);
		else
			hs_queue(s->c, HS_FLIST, z.s, z.len);
		b.len = 0;
	}
	b.len = 0;
	ha_tlv_u32(&b, 1, (uint32_t)s->fl.n);
	hs_queue(s->c, HS_FLIST_END, b.s, b.len);
	ha_buf_free(&b);
	ha_buf_free(&z);
	ha_zio_free(zl);
	return rc;
}

/* One WANT frame: wanted files with signature pieces, and changes. */
static int
on_want(struct snd *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (p[0] == HS_R_WANT && n >= 10) {
			uint32_t idx = ha_get_be32(p + 1), len;
			int last = p[5];

			len = ha_get_be32(p + 6);
			if (idx >= s->fl.n || s->fl.v[idx].type != HA_FLIST_REG
			    || len > n - 10 || s->wanted[idx] == 2)
				return fail(s, "%s: a bad WANT", s->c->name);
			if (s->wanted[idx] == 0)
				s->order[s->n_order++] = idx;
			s->wanted[idx] = last ? 2 : 1;
			ha_buf_add(&s->sigs[idx], p + 10, len);
			p += 10 + len, n -= 10 + len;
		} else if (p[0] == HS_R_CHANGE && n >= 4) {
			size_t len = ha_get_be16(p + 2);
			const char *what = p[1] == 'd' ? "delete" : p[1] == 'm' ?
			    "mkdir" : p[1] == 'l' ? "symlink" : "update";

			if (len > n - 4)
				return fail(s, "%s: a bad WANT", s->c->name);
			if (s->dry && !s->c->print)
				printf("%s %s %.*s\n", s->set->name, what,
				    (int)len, (const char *)p + 4);
			if (p[1] == 'd')
				s->st->deleted++;
			s->st->changes++;
			p += 4 + len, n -= 4 + len;
		} else
			return fail(s, "%s: a bad WANT", s->c->name);
	}
	return 0;
}

static int
read_wants(struct snd *s)
{
	uint8_t type;
	size_t i;

	for (;;) {
		if (hs_recv(s->c, &type) != 1)
			return fail(s, "%s failed during the push of %s (see "
			    "the log)", s->c->name, s->set->name);
		if (type == HS_WANT_END)
			break;
		if (type != HS_WANT)
			return fail(s, "%s: unexpected message %u", s->c->name,
			    type);
		if (on_want(s, (uint8_t *)s->c->in.s, s->c->in.len) == -1)
			return -1;
	}
	for (i = 0; i < s->n_order; i++)
		if (s->wanted[s->order[i]] != 2)
			return fail(s, "%s: an incomplete signature",
			    s->c->name);
	if (s->dry)
		for (i = 0; i < s->n_order; i++)
			printf("%s send %s\n", s->set->name,
			    s->fl.v[s->order[i]].path);
	return 0;
}

/* Pack what the plain buffer holds into one DATA frame. */
static int
pack(struct snd *s)
{
	const char *why;

	if (s->plain.len == 0)
		return 0;
	s->packed.len = 0;
	if (ha_zio_pack(s->z, s->plain.s, s->plain.len, &s->packed, &why) ==
	    -1)
		return fail(s, "compress: %s", why);
	hs_queue(s->c, HS_DATA, s->packed.s, s->packed.len);
	s->plain.len = 0;
	return s->c->peer ? 0 : fail(s, "lost %s (see the log)", s->c->name);
}

/*
 * Append one record to the stream. Data that looks random (compressed
 * or encrypted files) and the rest go into separate chunks, so that
 * zio stores the former at the cost of a copy instead of deflating a
 * mixed chunk for nothing: a chunk holding both would look not random.
 */
static int
record(struct snd *s, uint8_t kind, uint32_t idx, const void *p, size_t n)
{
	uint8_t h[9];

	if (kind == HS_R_DATA && s->set->compress > 0 &&
	    n >= HA_ZIO_SAMPLE_MIN) {
		int rnd = ha_zio_looks_random(p, n);

		if (rnd != s->plain_random && pack(s) == -1)
			return -1;
		s->plain_random = rnd;
	}
	if (s->plain.len + n + sizeof(h) > HA_ZIO_CHUNK && pack(s) == -1)
		return -1;
	h[0] = kind;
	ha_put_be32(h + 1, idx);
	ha_put_be32(h + 5, (uint32_t)n);
	ha_buf_add(&s->plain, h, sizeof(h));
	ha_buf_add(&s->plain, p, n);
	return 0;
}

struct out_arg {
	struct snd *s;
	uint32_t idx;
};

static int
out_cb(void *arg, const void *p, size_t n)
{
	struct out_arg *a = arg;

	return record(a->s, HS_R_DATA, a->idx, p, n);
}

static int
send_file(struct snd *s, uint32_t idx)
{
	struct ha_flist_ent *e = &s->fl.v[idx];
	struct ha_delta_sig *sig = NULL;
	struct ha_delta_stats dst = { 0, 0 };
	struct out_arg oa = { s, idx };
	uint8_t sha[HA_DELTA_SHA_LEN], h[16];
	const char *why = NULL;
	struct stat st;
	int fd, r;

	fd = openat(s->rootfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		why = "it is gone or no longer a file";
	else if (s->sigs[idx].len > 0)
		sig = ha_delta_sig_load((uint8_t *)s->sigs[idx].s,
		    s->sigs[idx].len, &why);
	if (why) {
		ha_log(HA_WARNING, "not sending %s: %s", e->path, why);
		if (fd != -1)
			close(fd);
		return record(s, HS_R_ABORT, idx, why, strlen(why));
	}
	ha_put_be64(h, (uint64_t)st.st_size);
	ha_put_be64(h + 8, (uint64_t)st.st_mtim.tv_sec * 1000000000 +
	    (uint64_t)st.st_mtim.tv_nsec);
	r = record(s, HS_R_START, idx, h, sizeof(h));
	if (r == 0 && ha_delta_make(fd, (uint64_t)st.st_size, sig, out_cb, &oa,
	    sha, &dst, &why) == -1) {
		if (s->c->peer == NULL)
			r = -1;
		else {
			ha_log(HA_WARNING, "not sending %s: %s", e->path, why);
			r = record(s, HS_R_ABORT, idx, why, strlen(why));
		}
	} else if (r == 0) {
		s->st->files++;
		s->st->bytes_file += (uint64_t)st.st_size;
		s->st->literal += dst.literal;
	}
	ha_delta_sig_free(sig);
	close(fd);
	ha_buf_free(&s->sigs[idx]);
	return r;
}

static int
send_data(struct snd *s)
{
	struct ha_buf b = { 0 };
	size_t i;

	s->z = ha_zio_packer(s->codec, (int)s->set->compress);
	if (s->z == NULL)
		return fail(s, "cannot start compression (out of memory?)");
	for (i = 0; i < s->n_order; i++)
		if (send_file(s, s->order[i]) == -1)
			return s->err[0] ? -1 : fail(s, "lost %s during the "
			    "push of %s", s->c->name, s->set->name);
	if (pack(s) == -1)
		return -1;
	ha_tlv_u32(&b, 1, (uint32_t)s->n_order);
	hs_queue(s->c, HS_DATA_END, b.s, b.len);
	ha_buf_free(&b);
	return 0;
}

static int
read_commit(struct snd *s)
{
	struct {
		uint64_t gen;
		uint32_t files, deleted, errors, conflicts;
	} cm;
	static const struct ha_tlv_spec spec[] = {
		{ 1, HA_TLV_U64, 1, 0, 0 },
		{ 2, HA_TLV_U32, 1, 8, 0 },
		{ 3, HA_TLV_U32, 1, 12, 0 },
		{ 4, HA_TLV_U32, 1, 16, 0 },
		{ 5, HA_TLV_U32, 0, 20, 0 },
		{ 0 },
	};
	const char *why;
	uint8_t type;

	memset(&cm, 0, sizeof(cm));
	if (hs_recv(s->c, &type) != 1)
		return fail(s, "%s did not commit %s (see the log)",
		    s->c->name, s->set->name);
	if (type != HS_COMMIT || ha_tlv_decode((uint8_t *)s->c->in.s,
	    s->c->in.len, spec, &cm, NULL, &why) == -1)
		return fail(s, "%s: a bad COMMIT", s->c->name);
	s->st->generation = cm.gen;
	s->st->conflicts = cm.conflicts;
	if (!s->dry)
		s->st->deleted = cm.deleted;
	if (cm.errors)
		return fail(s, "%s could not write %u file(s) of %s (see its "
		    "log)", s->c->name, cm.errors, s->set->name);
	return 0;
}

int
hs_push_set(struct hs_conn *c, const struct ha_cfg *cfg,
    const struct ha_cfg_sync *set, const char *const *paths, size_t npaths,
    long term, int dry_run, struct hs_push_stats *st, char *err,
    size_t errlen)
{
	return hs_push_flags(c, cfg, set, paths, npaths, term,
	    dry_run ? HS_F_DRY : 0, st, err, errlen);
}

int
hs_push_flags(struct hs_conn *c, const struct ha_cfg *cfg,
    const struct ha_cfg_sync *set, const char *const *paths, size_t npaths,
    long term, unsigned fl, struct hs_push_stats *st, char *err,
    size_t errlen)
{
	struct snd s;
	struct ha_buf scopes = { 0 };
	int dry_run = (fl & HS_F_DRY) != 0;
	unsigned flags = (dry_run ? HS_F_DRY : 0) |
	    (npaths ? HS_F_PARTIAL : 0) | (set->delete ? HS_F_DELETE : 0) |
	    (set->checksum ? HS_F_CHECKSUM : 0);
	int64_t t0 = ha_now_ms();
	uint64_t sent0 = c->sent;
	int rc = -1;
	size_t i;

	(void)cfg;
	memset(&s, 0, sizeof(s));
	memset(st, 0, sizeof(*st));
	s.c = c, s.set = set, s.st = st, s.err = err, s.errlen = errlen;
	s.dry = dry_run;
	err[0] = '\0';
	c->timeout_ms = set->timeout_ms;
	if (c->peer == NULL) {
		snprintf(err, errlen, "the connection to %s is gone", c->name);
		return -1;
	}
	s.rootfd = open(set->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.rootfd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", set->path,
		    strerror(errno));
		return -1;
	}
	if (build_list(&s, paths, npaths, &scopes) == -1 ||
	    begin(&s, term, flags, &scopes) == -1)
		goto out;
	st->entries = s.fl.n;
	ha_log(HA_DEBUG, "%s: BEGIN_OK after %lld ms", set->name,
	    (long long)(ha_now_ms() - t0));
	s.sigs = ha_xcalloc(s.fl.n + 1, sizeof(*s.sigs));
	s.wanted = ha_xcalloc(s.fl.n + 1, 1);
	s.order = ha_xcalloc(s.fl.n + 1, sizeof(*s.order));
	if (send_list(&s) == -1 || read_wants(&s) == -1)
		goto out;
	ha_log(HA_DEBUG, "%s: %zu wanted after %lld ms", set->name, s.n_order,
	    (long long)(ha_now_ms() - t0));
	if (dry_run)
		s.n_order = 0;
	if (send_data(&s) == -1 || read_commit(&s) == -1)
		goto out;
	rc = 0;
out:
	st->bytes_sent = c->sent - sent0;
	st->ms = ha_now_ms() - t0;
	for (i = 0; s.sigs && i < s.fl.n; i++)
		ha_buf_free(&s.sigs[i]);
	free(s.sigs);
	free(s.wanted);
	free(s.order);
	ha_zio_free(s.z);
	ha_buf_free(&s.plain);
	ha_buf_free(&s.packed);
	ha_buf_free(&scopes);
	ha_flist_free(&s.fl);
	close(s.rootfd);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "the push of %s to %s failed", set->name,
		    c->name);
	return rc;
}
