/*
 * An insertion-ordered set of path strings, each with a 64-bit value:
 * hashing for lookups, an array for the order. inotree coalesces a burst
 * of events in one; the journal keeps its pending paths in one.
 */
#ifndef HA_PATHSET_H
#define HA_PATHSET_H

#include <stddef.h>
#include <stdint.h>

struct ha_pathset_ent {
	char *path;		/* NULL: a removed slot (skip it) */
	uint64_t val;
};

struct ha_pathset {
	struct ha_pathset_ent *ents;	/* in insertion order, with holes */
	size_t n_ents;			/* slots used, holes included */
	size_t cap_ents;
	size_t count;			/* live entries */
	uint32_t *index;		/* slot -> ents index + 1; 0: empty */
	size_t n_index;			/* a power of two */
};

void ha_pathset_init(struct ha_pathset *s);
void ha_pathset_fini(struct ha_pathset *s);
/* Remove every entry. */
void ha_pathset_clear(struct ha_pathset *s);

/*
 * The entry of path, added at the end (val 0) when absent; *added (if not
 * NULL) says which. The pointer is valid until the next put or del.
 */
struct ha_pathset_ent *ha_pathset_put(struct ha_pathset *s,
    const char *path, int *added);
/* The entry of path, or NULL. */
struct ha_pathset_ent *ha_pathset_get(const struct ha_pathset *s,
    const char *path);
/* Remove path; 1 when it was there. */
int ha_pathset_del(struct ha_pathset *s, const char *path);

/* Iterate: for (i = 0; i < s->n_ents; i++) if (s->ents[i].path) ... */

#endif
