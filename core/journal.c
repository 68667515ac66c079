/*
 * Journal of changed paths (see journal.h). File format:
 *
 *   "HBXJ" u32 version (1)                      header, 8 bytes
 *   u32 len | u32 crc | u8 type | payload       records, big-endian
 *
 * len counts type and payload (1 .. 1 + HA_JOURNAL_PATH_MAX); crc is the
 * CRC-32 of the four length bytes, the type and the payload. Types: ADD
 * and DEL (payload: a path), RESCAN and RESCAN_DONE (no payload).
 * Replaying the records in order gives the pending set.
 *
 * Damage is told apart from a torn append (see damage()).
 */
#include "core/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "core/state.h"
#include "core/util.h"

#define MAGIC "HBXJ"
#define VERSION 1
#define HDR 8
#define REC_HDR 8
#define REC_MAX (1 + HA_JOURNAL_PATH_MAX)

enum { ADD = 1, DEL = 2, RESCAN = 3, RESCAN_DONE = 4 };

void (*ha_journal_test_hook)(const char *stage);

struct ha_journal {
	char *path;
	int fd;			/* O_APPEND, -1 until opened */
	int lock;		/* path.lock, flock()ed: one writer */
	struct ha_pathset set;	/* val: seq of the last add */
	uint64_t seq;
	uint64_t rescan_seq;	/* 0: no rescan pending */
	size_t records;		/* in the file */
	int dirty;		/* memory holds what the file may not */
};

static void
hook(const char *stage)
{
	if (ha_journal_test_hook)
		ha_journal_test_hook(stage);
}

/* --- encoding ------------------------------------------------------------- */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
rec(struct ha_buf *b, int type, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	unsigned char h[REC_HDR + 1];
	uLong crc;

	put32(h, (uint32_t)(n + 1));
	h[REC_HDR] = (unsigned char)type;
	crc = crc32(0L, h, 4);
	crc = crc32(crc, h + REC_HDR, 1);
	/* Not with n == 0: crc32(crc, NULL, 0) is 0, not crc. */
	if (n)
		crc = crc32(crc, (const Bytef *)path, (uInt)n);
	put32(h + 4, (uint32_t)crc);
	ha_buf_add(b, h, sizeof(h));
	if (n)
		ha_buf_add(b, path, n);
}

static void
header(struct ha_buf *b)
{
	unsigned char h[HDR] = { 'H', 'B', 'X', 'J' };

	put32(h + 4, VERSION);
	ha_buf_add(b, h, sizeof(h));
}

/* --- decoding ------------------------------------------------------------- */

/* The length of a valid record at p (n bytes there), or 0. */
static size_t
valid_at(const unsigned char *p, size_t n)
{
	uint32_t len;
	uLong crc;

	if (n < REC_HDR + 1)
		return 0;
	len = get32(p);
	if (len < 1 || len > REC_MAX || len > n - REC_HDR)
		return 0;
	/* The cheap checks first: damage makes us try every offset. */
	if (p[REC_HDR] < ADD || p[REC_HDR] > RESCAN_DONE)
		return 0;
	if ((p[REC_HDR] == RESCAN || p[REC_HDR] == RESCAN_DONE) && len != 1)
		return 0;
	if ((p[REC_HDR] == ADD || p[REC_HDR] == DEL) &&
	    (len < 2 || memchr(p + REC_HDR + 1, '\0', len - 1)))
		return 0;
	crc = crc32(0L, p, 4);
	crc = crc32(crc, p + REC_HDR, len);
	if ((uint32_t)crc != get32(p + 4))
		return 0;
	return REC_HDR + len;
}

/*
 * The n bytes at p start with an invalid record. One append is one
 * write of whole records, so a crash leaves valid records and then one
 * record cut short or garbled, or blocks of zeros: torn. More than one
 * record's worth of bytes that are not all zero, or a valid record after
 * the bad one, is damage: corrupt.
 */
static enum ha_journal_status
damage(const unsigned char *p, size_t n)
{
	size_t k;

	for (k = 0; k < n && p[k] == 0; k++)
		;
	if (k == n)
		return HA_JOURNAL_TORN;
	if (n > REC_HDR + REC_MAX)
		return HA_JOURNAL_CORRUPT;
	for (k = 1; k < n; k++)
		if (valid_at(p + k, n - k))
			return HA_JOURNAL_CORRUPT;
	return HA_JOURNAL_TORN;
}

enum ha_journal_status
ha_journal_decode(const void *buf, size_t len, struct ha_pathset *set,
    int *rescan, size_t *good, size_t *records)
{
	const unsigned char *p = buf;
	size_t off = HDR, n, k;
	char path[HA_JOURNAL_PATH_MAX + 1];

	*rescan = 0;
	*good = 0;
	*records = 0;
	if (len < HDR) {
		/* Empty, or a header cut short by a crash at creation. */
		return len == 0 || memcmp(p, MAGIC, len < 4 ? len : 4) == 0 ?
		    (len ? HA_JOURNAL_TORN : HA_JOURNAL_OK) :
		    HA_JOURNAL_CORRUPT;
	}
	if (memcmp(p, MAGIC, 4) != 0 || get32(p + 4) != VERSION)
		return HA_JOURNAL_CORRUPT;
	*good = HDR;
	while (off < len) {
		if ((n = valid_at(p + off, len - off)) == 0)
			return damage(p + off, len - off);
		k = n - REC_HDR - 1;
		memcpy(path, p + off + REC_HDR + 1, k);
		path[k] = '\0';
		switch (p[off + REC_HDR]) {
		case ADD: ha_pathset_put(set, path, NULL); break;
		case DEL: ha_pathset_del(set, path); break;
		case RESCAN: *rescan = 1; break;
		case RESCAN_DONE: *rescan = 0; break;
		}
		off += n;
		*good = off;
		(*records)++;
	}
	return HA_JOURNAL_OK;
}

/* --- the file ------------------------------------------------------------- */

/*
 * Rewrite the file atomically with exactly what is pending, then append
 * to the new file. 0, or -1 (logged; the old file stays, dirty is kept).
 */
static int
compact(struct ha_journal *j)
{
	struct ha_buf b = { 0 };
	size_t i, n = 0;
	int fd;

	header(&b);
	for (i = 0; i < j->set.n_ents; i++)
		if (j->set.ents[i].path)
			rec(&b, ADD, j->set.ents[i].path), n++;
	if (j->rescan_seq)
		rec(&b, RESCAN, NULL), n++;
	if (ha_file_write_atomic(j->path, b.s, b.len, 0600) == -1) {
		ha_buf_free(&b);
		j->dirty = 1;
		return -1;
	}
	ha_buf_free(&b);
	fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd == -1) {
		ha_log_errno(HA_FAILURE, "open %s", j->path);
		j->dirty = 1;
		return -1;
	}
	if (j->fd != -1)
		close(j->fd);
	j->fd = fd;
	j->records = n;
	j->dirty = 0;
	return 0;
}

/* Append b; with sync, fsync too. 0, or -1 (logged, dirty set). */
static int
append(struct ha_journal *j, const struct ha_buf *b, size_t nrec, int sync)
{
	off_t end;

	if (j->dirty && compact(j) == -1)
		return -1;
	if (b->len == 0)
		return 0;
	end = lseek(j->fd, 0, SEEK_END);
	if (ha_write_all(j->fd, b->s, b->len) == -1) {
		ha_log_errno(HA_FAILURE, "append to %s", j->path);
		/* A partial record would be taken for damage later. */
		if (end != -1 && ftruncate(j->fd, end) == -1)
			ha_log_errno(HA_WARNING, "truncate %s", j->path);
		j->dirty = 1;
		return -1;
	}
	hook("written");
	if (sync && fdatasync(j->fd) == -1) {
		ha_log_errno(HA_FAILURE, "fsync %s", j->path);
		j->dirty = 1;
		return -1;
	}
	hook("synced");
	j->records += nrec;
	return 0;
}

/* Keep a damaged file for inspection; the caller rewrites path. */
static void
set_aside(const char *path)
{
	char *to = ha_xasprintf("%s.corrupt", path);

	if (rename(path, to) == -1)
		ha_log_errno(HA_WARNING, "rename %s -> %s", path, to);
	free(to);
}

static int
load(struct ha_journal *j, const char *buf, size_t len)
{
	size_t good, nrec, i;
	int rescan;

	switch (ha_journal_decode(buf, len, &j->set, &rescan, &good, &nrec)) {
	case HA_JOURNAL_OK:
		j->records = nrec;
		/* Empty (no header yet): write one before appending. */
		j->dirty = len < HDR;
		break;
	case HA_JOURNAL_TORN:
		ha_log(HA_WARNING, "%s: an incomplete last record (a crash "
		    "while writing it) is ignored", j->path);
		j->dirty = 1;
		break;
	case HA_JOURNAL_CORRUPT:
		ha_log(HA_FAILURE, "%s is corrupt after byte %zu: %zu paths "
		    "read from it, the whole tree will be compared; the file "
		    "is kept as %s.corrupt", j->path, good, j->set.count,
		    j->path);
		set_aside(j->path);
		rescan = 1;
		j->dirty = 1;
		break;
	}
	for (i = 0; i < j->set.n_ents; i++)
		if (j->set.ents[i].path)
			j->set.ents[i].val = ++j->seq;
	if (rescan)
		j->rescan_seq = ++j->seq;
	return 0;
}

static int
read_file(const char *path, struct ha_buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return -1;
		}
		ha_buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	return 1;
}

/* One process at a time writes a journal (the file itself is replaced). */
static int
take_lock(struct ha_journal *j)
{
	char *lp = ha_xasprintf("%s.lock", j->path);

	j->lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock == -1) {
		ha_log_errno(HA_FAILURE, "open %s", lp);
	} else if (flock(j->lock, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			ha_log(HA_FAILURE, "%s is in use by another process",
			    j->path);
		else
			ha_log_errno(HA_FAILURE, "lock %s", lp);
		close(j->lock);
		j->lock = -1;
	}
	free(lp);
	return j->lock == -1 ? -1 : 0;
}

struct ha_journal *
ha_journal_open(const char *path)
{
	struct ha_journal *j = ha_xcalloc(1, sizeof(*j));
	struct ha_buf b = { 0 };
	int r;

	j->path = ha_xstrdup(path);
	j->fd = -1;
	ha_pathset_init(&j->set);
	if (take_lock(j) == -1)
		goto fail;
	if ((r = read_file(path, &b)) == -1) {
		ha_log_errno(HA_FAILURE, "read %s", path);
		goto fail;
	}
	load(j, b.s ? b.s : "", b.len);
	ha_buf_free(&b);
	if (r == 0 || j->dirty) {
		if (compact(j) == -1)
			goto fail;
	} else if ((j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) ==
	    -1) {
		ha_log_errno(HA_FAILURE, "open %s", path);
		goto fail;
	}
	return j;
fail:
	ha_buf_free(&b);
	ha_journal_close(j);
	return NULL;
}

void
ha_journal_close(struct ha_journal *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);
	if (j->lock > 0)
		close(j->lock);
	ha_pathset_fini(&j->set);
	free(j->path);
	free(j);
}

/* --- operations ----------------------------------------------------------- */

int
ha_journal_add(struct ha_journal *j, const char *const *paths, size_t n)
{
	struct ha_buf b = { 0 };
	size_t i, nrec = 0;
	int added, rc;

	for (i = 0; i < n; i++) {
		size_t len = strlen(paths[i]);
		struct ha_pathset_ent *e;

		if (len == 0 || len > HA_JOURNAL_PATH_MAX) {
			ha_log(HA_FAILURE, "%s: not recording a path of %zu "
			    "bytes: the whole tree will be compared", j->path,
			    len);
			if (!j->rescan_seq)
				rec(&b, RESCAN, NULL), nrec++;
			j->rescan_seq = ++j->seq;
			continue;
		}
		e = ha_pathset_put(&j->set, paths[i], &added);
		e->val = ++j->seq;
		if (added)
			rec(&b, ADD, paths[i]), nrec++;
	}
	rc = append(j, &b, nrec, 1);
	ha_buf_free(&b);
	return rc;
}

int
ha_journal_add_rescan(struct ha_journal *j)
{
	struct ha_buf b = { 0 };
	size_t nrec = 0;
	int rc;

	if (!j->rescan_seq)
		rec(&b, RESCAN, NULL), nrec++;
	j->rescan_seq = ++j->seq;
	rc = append(j, &b, nrec, 1);
	ha_buf_free(&b);
	return rc;
}

int
ha_journal_flush(struct ha_journal *j)
{
	return j->dirty ? compact(j) : 0;
}

size_t
ha_journal_count(const struct ha_journal *j)
{
	return j->set.count;
}

int
ha_journal_rescan_pending(const struct ha_journal *j)
{
	return j->rescan_seq != 0;
}

void
ha_journal_take(struct ha_journal *j, size_t max, struct ha_journal_batch *b)
{
	size_t i, k = 0, cap;

	memset(b, 0, sizeof(*b));
	b->rescan = j->rescan_seq != 0;
	b->rescan_seq = j->rescan_seq;
	if (max == 0 || b->rescan || max > j->set.count)
		max = j->set.count;
	cap = max;
	b->paths = ha_xcalloc(cap + 1, sizeof(char *));
	b->seq = ha_xcalloc(cap + 1, sizeof(uint64_t));
	for (i = 0; i < j->set.n_ents && k < cap; i++) {
		if (j->set.ents[i].path == NULL)
			continue;
		b->paths[k] = ha_xstrdup(j->set.ents[i].path);
		b->seq[k++] = j->set.ents[i].val;
	}
	b->n = k;
}

int
ha_journal_ack(struct ha_journal *j, const struct ha_journal_batch *b)
{
	struct ha_buf out = { 0 };
	size_t i, nrec = 0, live;
	int rc;

	for (i = 0; i < b->n; i++) {
		struct ha_pathset_ent *e = ha_pathset_get(&j->set, b->paths[i]);

		if (e == NULL || e->val != b->seq[i])
			continue;
		ha_pathset_del(&j->set, b->paths[i]);
		rec(&out, DEL, b->paths[i]);
		nrec++;
	}
	if (b->rescan && j->rescan_seq == b->rescan_seq) {
		j->rescan_seq = 0;
		rec(&out, RESCAN_DONE, NULL);
		nrec++;
	}
	/* Dropping needs no fsync: a lost drop only sends a path again. */
	live = j->set.count + (j->rescan_seq != 0);
	if (j->records + nrec > 2 * live + 256)
		rc = compact(j);
	else
		rc = append(j, &out, nrec, 0);
	ha_buf_free(&out);
	return rc;
}

void
ha_journal_batch_free(struct ha_journal_batch *b)
{
	size_t i;

	if (b->paths)
		for (i = 0; i < b->n; i++)
			free(b->paths[i]);
	free(b->paths);
	free(b->seq);
	memset(b, 0, sizeof(*b));
}

int
ha_journal_peek(const char *path, size_t *n, int *rescan)
{
	struct ha_pathset set;
	struct ha_buf b = { 0 };
	size_t good, nrec;
	int r;

	*n = 0;
	*rescan = 0;
	if ((r = read_file(path, &b)) == -1) {
		ha_log_errno(HA_FAILURE, "read %s", path);
		return -1;
	}
	if (r == 0)
		return 0;
	ha_pathset_init(&set);
	if (ha_journal_decode(b.s, b.len, &set, rescan, &good, &nrec) ==
	    HA_JOURNAL_CORRUPT)
		*rescan = 1;
	*n = set.count;
	ha_pathset_fini(&set);
	ha_buf_free(&b);
	return 0;
}
