/*
 * flist: hasync's file list. Each entry is one path of a tree (relative,
 * checked: no "..", ".", empty or absolute components, no NUL) with its
 * type, mode, owner, group, mtime in ns, size, a symlink's target and
 * optionally the file's SHA-256. Entries are packed back to back in a
 * compact binary form (doc/hasync.8, PROTOCOL); the decoder is fed from
 * the network and checks every length and value (fuzz/flist_fuzz.c).
 */
#ifndef HA_FLIST_H
#define HA_FLIST_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define HA_FLIST_PATH_MAX 4095	/* bytes of a relative path */
#define HA_FLIST_NAME_MAX 255	/* bytes of one component */
#define HA_FLIST_SHA_LEN 32

enum ha_flist_type {
	HA_FLIST_REG = 1,
	HA_FLIST_DIR = 2,
	HA_FLIST_LINK = 3,
};

enum {
	HA_FLIST_HAS_SHA = 1,	/* sha is set */
};

struct ha_flist_ent {
	char *path;		/* relative, checked, NUL-terminated */
	char *link;		/* symlink target (NULL otherwise) */
	uint8_t type;		/* enum ha_flist_type */
	uint8_t flags;
	uint32_t mode;		/* permission bits (07777) */
	uint32_t uid, gid;
	int64_t mtime_ns;
	uint64_t size;		/* regular files; 0 otherwise */
	uint8_t sha[HA_FLIST_SHA_LEN];
};

/* A growing array of entries (owns the strings). */
struct ha_flist {
	struct ha_flist_ent *v;
	size_t n, cap;
};

/*
 * Is p[0..n) an acceptable relative path? 0, or -1 with *why (no NUL,
 * not empty, not absolute, no empty, "." or ".." component, no trailing
 * slash, within the length limits).
 */
int ha_flist_path_check(const char *p, size_t n, const char **why);

/* Append the encoding of e to out. */
void ha_flist_encode(const struct ha_flist_ent *e, struct ha_buf *out);

/*
 * Decode one entry from p[0..n) into *e (strings allocated: free with
 * ha_flist_ent_fini). Returns the bytes used (> 0), or -1 with *why on
 * truncated or invalid input (e is then empty).
 */
long ha_flist_decode(const uint8_t *p, size_t n, struct ha_flist_ent *e,
    const char **why);

/* Decode all of p[0..n) appended to fl. 0, or -1 with *why. */
int ha_flist_decode_all(const uint8_t *p, size_t n, struct ha_flist *fl,
    const char **why);

void ha_flist_ent_fini(struct ha_flist_ent *e);

/* Append a copy of e (strings duplicated) and return the new entry. */
struct ha_flist_ent *ha_flist_add(struct ha_flist *fl,
    const struct ha_flist_ent *e);
/* Sort by path (byte order) so lookups can bisect. */
void ha_flist_sort(struct ha_flist *fl);
/* The entry for path in a sorted list, or NULL. */
struct ha_flist_ent *ha_flist_find(const struct ha_flist *fl,
    const char *path);
void ha_flist_free(struct ha_flist *fl);	/* entries; fl itself stays */

#endif
