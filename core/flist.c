/*
 * flist: hasync's file list entries and their encoding (see flist.h).
 *
 *   u8 type | u8 flags | u16 path length | path | u32 mode | u32 uid |
 *   u32 gid | u64 mtime (ns, signed) | u64 size |
 *   [symlink: u16 target length | target] | [HAS_SHA: 32 bytes]
 *
 * All big-endian. Unknown types or flags are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "core/flist.h"
#include "core/wire.h"

#define FIXED (1 + 1 + 2)
#define META (4 + 4 + 4 + 8 + 8)

int
ha_flist_path_check(const char *p, size_t n, const char **why)
{
	size_t i, start = 0;

	if (n == 0)
		return *why = "an empty path", -1;
	if (n > HA_FLIST_PATH_MAX)
		return *why = "a path longer than 4095 bytes", -1;
	if (memchr(p, '\0', n) != NULL)
		return *why = "a NUL byte in a path", -1;
	if (p[0] == '/')
		return *why = "an absolute path", -1;
	for (i = 0; i <= n; i++) {
		size_t len;

		if (i < n && p[i] != '/')
			continue;
		len = i - start;
		if (len == 0)
			return *why = "an empty path component", -1;
		if (len > HA_FLIST_NAME_MAX)
			return *why = "a name longer than 255 bytes", -1;
		if (p[start] == '.' && (len == 1 ||
		    (len == 2 && p[start + 1] == '.')))
			return *why = "a '.' or '..' component", -1;
		start = i + 1;
	}
	return 0;
}

void
ha_flist_encode(const struct ha_flist_ent *e, struct ha_buf *out)
{
	uint8_t h[FIXED + META];
	size_t pl = strlen(e->path);

	h[0] = e->type;
	h[1] = e->flags;
	ha_put_be16(h + 2, (uint16_t)pl);
	ha_buf_add(out, h, FIXED);
	ha_buf_add(out, e->path, pl);
	ha_put_be32(h, e->mode);
	ha_put_be32(h + 4, e->uid);
	ha_put_be32(h + 8, e->gid);
	ha_put_be64(h + 12, (uint64_t)e->mtime_ns);
	ha_put_be64(h + 20, e->size);
	ha_buf_add(out, h, META);
	if (e->type == HA_FLIST_LINK) {
		size_t ll = e->link ? strlen(e->link) : 0;

		ha_put_be16(h, (uint16_t)ll);
		ha_buf_add(out, h, 2);
		ha_buf_add(out, e->link ? e->link : "", ll);
	}
	if (e->flags & HA_FLIST_HAS_SHA)
		ha_buf_add(out, e->sha, HA_FLIST_SHA_LEN);
}

long
ha_flist_decode(const uint8_t *p, size_t n, struct ha_flist_ent *e,
    const char **why)
{
	size_t off, pl, ll;

	memset(e, 0, sizeof(*e));
	if (n < FIXED)
		return *why = "a truncated file list entry", -1;
	e->type = p[0];
	e->flags = p[1];
	if (e->type < HA_FLIST_REG || e->type > HA_FLIST_LINK)
		return *why = "an unknown file type in the file list", -1;
	if (e->flags & ~HA_FLIST_HAS_SHA)
		return *why = "unknown flags in the file list", -1;
	pl = ha_get_be16(p + 2);
	off = FIXED;
	if (n - off < pl + META)
		return *why = "a truncated file list entry", -1;
	if (ha_flist_path_check((const char *)p + off, pl, why) == -1)
		return -1;
	e->path = ha_xstrndup((const char *)p + off, pl);
	off += pl;
	e->mode = ha_get_be32(p + off);
	e->uid = ha_get_be32(p + off + 4);
	e->gid = ha_get_be32(p + off + 8);
	e->mtime_ns = (int64_t)ha_get_be64(p + off + 12);
	e->size = ha_get_be64(p + off + 20);
	off += META;
	if (e->mode & ~07777u) {
		*why = "a mode with bits other than 07777";
		goto bad;
	}
	if (e->type != HA_FLIST_REG && e->size != 0) {
		*why = "a size on something that is not a file";
		goto bad;
	}
	if (e->type == HA_FLIST_LINK) {
		if (n - off < 2) {
			*why = "a truncated symlink target";
			goto bad;
		}
		ll = ha_get_be16(p + off);
		off += 2;
		if (ll == 0 || ll > HA_FLIST_PATH_MAX || n - off < ll ||
		    memchr(p + off, '\0', ll) != NULL) {
			*why = "a bad symlink target";
			goto bad;
		}
		e->link = ha_xstrndup((const char *)p + off, ll);
		off += ll;
	}
	if (e->flags & HA_FLIST_HAS_SHA) {
		if (e->type != HA_FLIST_REG || n - off < HA_FLIST_SHA_LEN) {
			*why = "a bad file hash in the file list";
			goto bad;
		}
		memcpy(e->sha, p + off, HA_FLIST_SHA_LEN);
		off += HA_FLIST_SHA_LEN;
	}
	return (long)off;
bad:
	ha_flist_ent_fini(e);
	return -1;
}

int
ha_flist_decode_all(const uint8_t *p, size_t n, struct ha_flist *fl,
    const char **why)
{
	while (n > 0) {
		struct ha_flist_ent e;
		long used = ha_flist_decode(p, n, &e, why);

		if (used < 0)
			return -1;
		if (fl->n == fl->cap) {
			fl->cap = fl->cap ? fl->cap * 2 : 256;
			fl->v = ha_xreallocarray(fl->v, fl->cap, sizeof(*fl->v));
		}
		fl->v[fl->n++] = e;
		p += used;
		n -= (size_t)used;
	}
	return 0;
}

void
ha_flist_ent_fini(struct ha_flist_ent *e)
{
	free(e->path);
	free(e->link);
	e->path = e->link = NULL;
}

struct ha_flist_ent *
ha_flist_add(struct ha_flist *fl, const struct ha_flist_ent *e)
{
	struct ha_flist_ent *d;

	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 256;
		fl->v = ha_xreallocarray(fl->v, fl->cap, sizeof(*fl->v));
	}
	d = &fl->v[fl->n++];
	*d = *e;
	d->path = ha_xstrdup(e->path);
	d->link = e->link ? ha_xstrdup(e->link) : NULL;
	return d;
}

static int
cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct ha_flist_ent *)a)->path,
	    ((const struct ha_flist_ent *)b)->path);
}

void
ha_flist_sort(struct ha_flist *fl)
{
	if (fl->n > 1)
		qsort(fl->v, fl->n, sizeof(*fl->v), cmp_ent);
}

struct ha_flist_ent *
ha_flist_find(const struct ha_flist *fl, const char *path)
{
	size_t lo = 0, hi = fl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, fl->v[mid].path);

		if (c == 0)
			return &fl->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
ha_flist_free(struct ha_flist *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		ha_flist_ent_fini(&fl->v[i]);
	free(fl->v);
	fl->v = NULL;
	fl->n = fl->cap = 0;
}
