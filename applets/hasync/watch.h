/*
 * hasync watch: push the changes of sync sets as they happen (inotify),
 * through a persistent journal per set and follower (core/journal), over
 * a kept-open connection per follower (the push API in hasync.h).
 */
#ifndef HA_HASYNC_WATCH_H
#define HA_HASYNC_WATCH_H

#include <stddef.h>

#include "core/config.h"

struct ha_args;

/*
 * The daemon for the sets named in a's arguments (checked by the caller),
 * with cfg, loaded from a's -c and -o (again on SIGHUP); frees cfg.
 * term -1: none. Returns an exit code.
 */
int hs_watch(struct ha_cfg *cfg, const struct ha_args *a, int foreground,
    long term);

/* The journal of set for follower node; caller frees. */
char *hs_journal_path(const struct ha_cfg *cfg, const char *set,
    const char *node);

#endif
