/*
 * A recursive inotify watch of one directory tree (inotify(7)): every
 * directory is watched, new ones at once (and scanned, so files made in
 * them before their watch existed are seen), symlinks never followed,
 * excluded names (fnmatch(3) patterns) neither watched nor reported.
 * Changes come out as relative paths, deduplicated until taken; when the
 * kernel's queue overflowed the tree is walked again and the caller is
 * told to rescan everything. Made for core/loop: poll ha_inotree_fd for
 * POLLIN, call ha_inotree_read, and take the paths when it suits you.
 */
#ifndef HA_INOTREE_H
#define HA_INOTREE_H

#include <stddef.h>

struct ha_inotree;

/*
 * Watch the tree at root, skipping names or relative paths matching one
 * of the n patterns in exclude (borrowed; copied). NULL (logged) when
 * inotify or the root cannot be used. Caller frees with ha_inotree_close.
 */
struct ha_inotree *ha_inotree_open(const char *root,
    const char *const *exclude, size_t n);
void ha_inotree_close(struct ha_inotree *t);

/* The inotify descriptor (non-blocking), to poll for POLLIN. */
int ha_inotree_fd(const struct ha_inotree *t);

/*
 * Read every queued event and note the changed paths: 0, or -1 (logged)
 * when the descriptor failed.
 */
int ha_inotree_read(struct ha_inotree *t);

/* Number of distinct paths noted and not yet taken. */
size_t ha_inotree_pending(const struct ha_inotree *t);

/*
 * Hand over the paths noted since the last take, in the order first
 * seen, as a NULL-terminated array (caller frees with
 * ha_inotree_free_paths), *n their number; *rescan (if not NULL) is set
 * to 1 when events were lost and the whole tree must be compared.
 * A path that is gone was deleted or moved away; a directory's path
 * stands for itself, not its content (its content is reported too).
 */
char **ha_inotree_take(struct ha_inotree *t, size_t *n, int *rescan);
void ha_inotree_free_paths(char **paths);

/*
 * 0 when some directory could not be watched (the kernel's limit of
 * watches): changes there are only found by whole comparisons, and the
 * caller should ask for them now and then with ha_inotree_rewalk.
 */
int ha_inotree_complete(const struct ha_inotree *t);

/*
 * Walk the tree again: watch what is not watched yet, and note a rescan
 * (ha_inotree_take reports it).
 */
void ha_inotree_rewalk(struct ha_inotree *t);

/* Test seam: when >= 0, watches that may still be added (then ENOSPC). */
extern int ha_inotree_test_watch_limit;

/* Number of directories watched. */
size_t ha_inotree_watches(const struct ha_inotree *t);

/* 1 when rel (a path relative to the root) or its last name is excluded. */
int ha_inotree_excluded(const char *const *exclude, size_t n,
    const char *rel);

#endif
