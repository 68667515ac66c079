/*
 * The questions habox asks a PostgreSQL server and the decoding of its
 * answers: the SQL text and, for each, a decoder from a result table
 * (struct ha_pg_res, filled by core/pg from libpq) to typed fields. Pure:
 * no libpq and no I/O, so the decoders are unit-tested and fuzzed. A reply
 * is untrusted input: the shape (rows, columns) and every cell's length
 * are checked before use. Views and functions: PostgreSQL 15
 * documentation, "System Administration Functions", pg_stat_replication,
 * pg_stat_wal_receiver, and the streaming replication protocol.
 */
#ifndef HA_PGREPLY_H
#define HA_PGREPLY_H

#include <stddef.h>
#include <stdint.h>

/* A result table; every cell a NUL-terminated copy (NULL: SQL NULL). */
struct ha_pg_res {
	size_t rows, cols;
	char **cell;		/* rows * cols, row-major */
	size_t *len;		/* byte length of each cell (NUL not counted) */
};

/* Cell (row, col), its length in *len (may be NULL); NULL for SQL NULL. */
const char *ha_pg_res_get(const struct ha_pg_res *r, size_t row, size_t col,
    size_t *len);

/* Add a row of cols cells (NULL entries: SQL NULL). For core/pg, tests. */
void ha_pg_res_add_row(struct ha_pg_res *r, size_t cols,
    const char *const *cells, const size_t *lens);

void ha_pg_res_free(struct ha_pg_res *r);

/* The local server: role, positions, timeline, receiver, settings. */
extern const char ha_pgreply_sql_node[];

struct ha_pg_node {
	int in_recovery;
	uint32_t tli;		/* 0: unknown */
	uint64_t current;	/* primary: insert position (0 on a standby) */
	uint64_t flush;		/* primary: flushed */
	uint64_t receive;	/* standby: received and flushed (0: none) */
	uint64_t replay;	/* standby: replayed */
	int receiver;		/* standby: 1 when a WAL receiver runs */
	char recv_status[24];	/* its status: "streaming", "waiting", ... */
	uint64_t latest_end;	/* the primary's end as last reported */
	char sender_host[256];	/* "" when unknown */
	long sender_port;
	int read_only;		/* default_transaction_read_only is on */
	char data_dir[1024];	/* "" when we may not see it */
};

/* Decode the reply to ha_pgreply_sql_node. 0, or -1 with *why. */
int ha_pgreply_node(const struct ha_pg_res *r, struct ha_pg_node *n,
    const char **why);

/* A primary's standbys (pg_stat_replication, walsenders only). */
extern const char ha_pgreply_sql_standbys[];

struct ha_pg_standby {
	char name[64];		/* application_name */
	char addr[64];		/* client address, "local" for a socket */
	char state[24];		/* "streaming", "catchup", ... */
	char sync_state[16];	/* "async", "sync", ... */
	uint64_t sent, write, flush, replay;	/* 0: not known yet */
};

/*
 * Decode the reply to ha_pgreply_sql_standbys into *v (caller frees), *n
 * entries (at most 1000). 0, or -1 with *why.
 */
int ha_pgreply_standbys(const struct ha_pg_res *r, struct ha_pg_standby **v,
    size_t *n, const char **why);

/* IDENTIFY_SYSTEM (replication connection). */
int ha_pgreply_identify(const struct ha_pg_res *r, uint64_t *sysid,
    uint32_t *tli, uint64_t *pos, const char **why);

/*
 * TIMELINE_HISTORY N: *buf and *len point into r (borrowed) at the
 * content of timeline tli's history file, checked to be that file.
 */
int ha_pgreply_history(const struct ha_pg_res *r, uint32_t tli,
    const char **buf, size_t *len, const char **why);

/* Client backends other than ours and those of replication-only roles,
 * terminated (fencing). */
extern const char ha_pgreply_sql_terminate[];

/* One integer cell (a count): 0, or -1 with *why. */
int ha_pgreply_count(const struct ha_pg_res *r, long *count,
    const char **why);

#endif
