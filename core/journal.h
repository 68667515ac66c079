/*
 * The persistent journal of changed paths that hasync watch keeps per
 * sync set and follower (DESIGN.md, "Data safety"): a path is recorded,
 * and fsynced, before anyone is told it is; it leaves the journal only
 * when the follower acknowledged a batch that held it, and not if it was
 * recorded again meanwhile. On disk an append-only log of checked records
 * (format in journal.c), compacted through core/state's atomic write.
 * A torn last record (a crash while appending) is ignored; a corrupt file
 * is moved aside and replaced by a "rescan everything" marker, so that no
 * change is lost.
 */
#ifndef HA_JOURNAL_H
#define HA_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/pathset.h"

#define HA_JOURNAL_PATH_MAX 4096

struct ha_journal;

/* A batch to send; see ha_journal_take. */
struct ha_journal_batch {
	char **paths;		/* NULL-terminated */
	uint64_t *seq;		/* when each was last recorded */
	size_t n;
	int rescan;		/* the whole tree must be compared */
	uint64_t rescan_seq;
};

/*
 * Open the journal at path, creating it (mode 0600) when absent, and
 * load what it holds; path.lock keeps other processes out. NULL (logged)
 * when it cannot be read, created or locked.
 * A corrupt file is logged as a FAILURE, kept as path.corrupt, and the
 * journal opens with what could be read plus a rescan marker.
 */
struct ha_journal *ha_journal_open(const char *path);
void ha_journal_close(struct ha_journal *j);

/*
 * Record n paths (relative, at most HA_JOURNAL_PATH_MAX bytes, no NUL),
 * and fsync: 0 once they are durable, -1 (logged) if they may not be.
 * Paths already pending are not written again.
 */
int ha_journal_add(struct ha_journal *j, const char *const *paths, size_t n);

/* Record that the whole tree must be compared; 0 or -1 as above. */
int ha_journal_add_rescan(struct ha_journal *j);

/*
 * Make durable what an earlier failed write left in memory only: 0 when
 * the file now holds everything pending, -1 (logged) otherwise.
 */
int ha_journal_flush(struct ha_journal *j);

/* Pending paths, and 1 when a rescan is pending. */
size_t ha_journal_count(const struct ha_journal *j);
int ha_journal_rescan_pending(const struct ha_journal *j);

/*
 * Copy up to max pending paths (0: all) into *b, oldest first; with a
 * rescan pending, the batch has it and every path. The entries stay
 * until acknowledged. Free with ha_journal_batch_free.
 */
void ha_journal_take(struct ha_journal *j, size_t max,
    struct ha_journal_batch *b);

/*
 * The follower has everything in b: drop its entries that were not
 * recorded again after it was taken. 0, or -1 (logged) when the drop
 * could not be written (the entries are dropped in memory; a restart
 * sends them again, which is harmless).
 */
int ha_journal_ack(struct ha_journal *j, const struct ha_journal_batch *b);
void ha_journal_batch_free(struct ha_journal_batch *b);

/* Result of decoding a journal file. */
enum ha_journal_status {
	HA_JOURNAL_OK,
	HA_JOURNAL_TORN,	/* an incomplete last record: ignored */
	HA_JOURNAL_CORRUPT,	/* damage before the end */
};

/*
 * Decode len bytes of a journal file into set (paths pending; val is
 * unused) and *rescan. *good gets the length of the valid prefix,
 * *records the number of records in it. Never trusts a length it did not
 * check; fuzzed (fuzz/journal_fuzz.c).
 */
enum ha_journal_status ha_journal_decode(const void *buf, size_t len,
    struct ha_pathset *set, int *rescan, size_t *good, size_t *records);

/*
 * Read-only look at the journal at path (for status): *n pending paths,
 * *rescan. 0 (an absent file is empty), or -1 (logged) when unreadable;
 * a torn or corrupt file gives what could be read and *rescan = 1 when
 * corrupt.
 */
int ha_journal_peek(const char *path, size_t *n, int *rescan);

/* Test seam: crash points in appends ("written", "synced"). */
extern void (*ha_journal_test_hook)(const char *stage);

#endif
