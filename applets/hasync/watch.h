/*
 * hasync watch: push the changes of sync sets as they happen (inotify),
 * through a persistent journal per set and follower (core/journal), over
 * a kept-open connection per follower (the push API in hasync.h).
 */
#ifndef HA_HASYNC_WATCH_H
#define HA_HASYNC_WATCH_H

#include <stddef.h>

#include "core/config.h"

/*
 * The daemon for the n sets named in names (checked by the caller).
 * term -1: none. Returns an exit code.
 */
int hs_watch(struct ha_cfg *cfg, char *const *names, size_t n,
    int foreground, long term);

/* The journal of set for follower node; caller frees. */
char *hs_journal_path(const struct ha_cfg *cfg, const char *set,
    const char *node);

#endif
