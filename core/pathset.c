/*
 * Ordered path set (see pathset.h): entries in an array in insertion
 * order, found through an open-addressing index (linear probing). A
 * removal leaves a hole; when holes outnumber live entries the array is
 * compacted and the index rebuilt, so a long-running daemon that adds
 * and removes forever stays bounded by what is live.
 */
#include "core/pathset.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void
ha_pathset_init(struct ha_pathset *s)
{
	memset(s, 0, sizeof(*s));
}

void
ha_pathset_clear(struct ha_pathset *s)
{
	size_t i;

	for (i = 0; i < s->n_ents; i++)
		free(s->ents[i].path);
	free(s->ents);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

void
ha_pathset_fini(struct ha_pathset *s)
{
	ha_pathset_clear(s);
}

/* FNV-1a. */
static uint32_t
hash(const char *p)
{
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* The index slot holding path, or the empty slot where it would go. */
static size_t
slot(const struct ha_pathset *s, const char *path)
{
	size_t m = s->n_index - 1, i = hash(path) & m;

	while (s->index[i] != 0 &&
	    strcmp(s->ents[s->index[i] - 1].path, path) != 0)
		i = (i + 1) & m;
	return i;
}

/* Compact the array (drop holes) and rebuild an index of n slots. */
static void
rebuild(struct ha_pathset *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < s->n_ents; i++)
		if (s->ents[i].path)
			s->ents[j++] = s->ents[i];
	s->n_ents = j;
	free(s->index);
	s->n_index = n;
	s->index = ha_xcalloc(n, sizeof(*s->index));
	for (i = 0; i < s->n_ents; i++)
		s->index[slot(s, s->ents[i].path)] = (uint32_t)(i + 1);
}

struct ha_pathset_ent *
ha_pathset_get(const struct ha_pathset *s, const char *path)
{
	size_t i;

	if (s->n_index == 0)
		return NULL;
	i = slot(s, path);
	return s->index[i] ? &s->ents[s->index[i] - 1] : NULL;
}

struct ha_pathset_ent *
ha_pathset_put(struct ha_pathset *s, const char *path, int *added)
{
	struct ha_pathset_ent *e = ha_pathset_get(s, path);
	size_t n;

	if (added)
		*added = e == NULL;
	if (e)
		return e;
	/* Keep the index at most half full, and holes at most half. */
	if ((s->n_ents + 1) * 2 > s->n_index ||
	    (s->n_ents > 64 && s->count * 2 < s->n_ents)) {
		for (n = 16; n < (s->count + 1) * 4; n *= 2)
			;
		rebuild(s, n);
	}
	if (s->n_ents == s->cap_ents) {
		s->cap_ents = s->cap_ents ? s->cap_ents * 2 : 16;
		s->ents = ha_xreallocarray(s->ents, s->cap_ents,
		    sizeof(*s->ents));
	}
	e = &s->ents[s->n_ents++];
	e->path = ha_xstrdup(path);
	e->val = 0;
	s->index[slot(s, path)] = (uint32_t)s->n_ents;
	s->count++;
	return e;
}

int
ha_pathset_del(struct ha_pathset *s, const char *path)
{
	size_t m, i, j, k;
	uint32_t ix;

	if (s->n_index == 0)
		return 0;
	m = s->n_index - 1;
	i = slot(s, path);
	if (s->index[i] == 0)
		return 0;
	ix = s->index[i];
	free(s->ents[ix - 1].path);
	s->ents[ix - 1].path = NULL;
	s->count--;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	s->index[i] = 0;
	for (j = (i + 1) & m; s->index[j] != 0; j = (j + 1) & m) {
		k = hash(s->ents[s->index[j] - 1].path) & m;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			s->index[i] = s->index[j];
			s->index[j] = 0;
			i = j;
		}
	}
	if (s->count == 0) {
		s->n_ents = 0;
	}
	return 1;
}
