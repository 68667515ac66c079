/*
 * PostgreSQL's write-ahead-log positions and timelines as they appear in
 * text: LSNs ("16/B374D848"), timeline history files (00000002.history),
 * WAL segment file names, the output of pg_controldata, and the point
 * where two servers' histories part. Pure decoding, no I/O and no libpq:
 * every input is untrusted and comes with its length. Formats: the
 * PostgreSQL 15 documentation (chapter 30, "Reliability and the
 * Write-Ahead Log"; pg_controldata(1); the TIMELINE_HISTORY command of the
 * streaming replication protocol).
 */
#ifndef HA_PGWAL_H
#define HA_PGWAL_H

#include <stddef.h>
#include <stdint.h>

/* "FFFFFFFF/FFFFFFFF" and its NUL. */
#define HA_PGWAL_LSN_STRLEN 18
/* A WAL segment file name and its NUL. */
#define HA_PGWAL_SEGNAME_LEN 25
/* The end of the timeline a server is on: it has no end yet. */
#define HA_PGWAL_NO_END UINT64_MAX

/*
 * Parse exactly len bytes "X/Y" (each 1-8 hex digits, nothing else) into
 * *lsn. 0, or -1 when it is anything else.
 */
int ha_pgwal_lsn_parse(const char *s, size_t len, uint64_t *lsn);

/* Format as the server does: "%X/%X", upper case. */
void ha_pgwal_lsn_fmt(uint64_t lsn, char *buf, size_t n);

/* One timeline of a history: WAL in [begin, end) was written on it. */
struct ha_pgwal_tl {
	uint32_t tli;
	uint64_t begin;
	uint64_t end;		/* HA_PGWAL_NO_END: the current timeline */
};

/* The timelines a server went through, oldest first, its own last. */
struct ha_pgwal_history {
	struct ha_pgwal_tl *v;
	size_t n;
};

/*
 * Decode the history file of timeline tli (its len bytes; len 0 for
 * timeline 1, which has none) into *h: every ancestor from the file, then
 * tli itself with no end. Strict: parent timelines increasing and below
 * tli, switch points not decreasing, no NUL byte, at most 1 MiB. Returns
 * 0, or -1 with *why (static text) and *h empty. Caller frees with
 * ha_pgwal_history_free().
 */
int ha_pgwal_history_parse(const char *buf, size_t len, uint32_t tli,
    struct ha_pgwal_history *h, const char **why);
void ha_pgwal_history_free(struct ha_pgwal_history *h);

/*
 * Where two histories part: *tli gets the last timeline both share (same
 * number, same start) and *point the smaller of the two ends of it, that
 * is the first LSN whose WAL may differ (HA_PGWAL_NO_END when both are
 * still on that timeline). Returns 0, or -1 when they share nothing.
 */
int ha_pgwal_fork(const struct ha_pgwal_history *a,
    const struct ha_pgwal_history *b, uint32_t *tli, uint64_t *point);

/* 1 when segsz is a valid WAL segment size (a power of 2, 1 MiB-1 GiB). */
int ha_pgwal_segsz_ok(uint64_t segsz);

/*
 * The file name of segment segno on timeline tli ("00000001" "00000000"
 * "00000003"); segsz must be valid.
 */
void ha_pgwal_segname(uint32_t tli, uint64_t segno, uint64_t segsz,
    char buf[HA_PGWAL_SEGNAME_LEN]);

/*
 * Decode the first 24 bytes of name (len bytes, at least 24; anything
 * after them, like ".partial", is the caller's business) as a segment
 * name. 0, or -1 when it is not one for this segment size.
 */
int ha_pgwal_segname_parse(const char *name, size_t len, uint64_t segsz,
    uint32_t *tli, uint64_t *segno);

/* What habox needs from pg_controldata (run with LC_ALL=C). */
struct ha_pgwal_control {
	uint64_t sysid;		/* Database system identifier */
	char state[40];		/* "shut down", "in production", ... */
	uint64_t checkpoint;	/* Latest checkpoint location */
	uint64_t redo;		/* Latest checkpoint's REDO location */
	uint32_t tli;		/* Latest checkpoint's TimeLineID */
	uint64_t min_recovery;	/* Minimum recovery ending location */
	uint32_t min_recovery_tli;
	uint64_t segsz;		/* Bytes per WAL segment */
	int wal_log_hints;	/* wal_log_hints setting: on */
	int checksums;		/* a data page checksum version other than 0 */
};

/*
 * Decode pg_controldata's output (len bytes). The system identifier,
 * state, checkpoint, its timeline and the segment size are required.
 * 0, or -1 with *why.
 */
int ha_pgwal_control_parse(const char *text, size_t len,
    struct ha_pgwal_control *c, const char **why);

/* 1 when the state is a clean shutdown ("shut down", "... in recovery"). */
int ha_pgwal_control_clean(const struct ha_pgwal_control *c);

#endif
