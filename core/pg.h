/*
 * libpq for habox: connect to a PostgreSQL server (the local one over its
 * unix socket, or a new primary for replication commands) and run
 * statements, everything within a deadline: a hung server makes a call
 * fail in time, never block. A statement that times out is cancelled
 * (non-blocking cancel request) and the connection is unusable after.
 * Errors are one line of clear text. Built only with CONFIG_HAPROM.
 * Reference: PostgreSQL 17 libpq documentation ("Connecting",
 * "Asynchronous Command Processing", "Canceling Queries in Progress").
 */
#ifndef HA_PG_H
#define HA_PG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/pgreply.h"

struct ha_pg_opts {
	const char *conninfo;	/* libpq connection string */
	const char *appname;	/* application_name unless conninfo has one */
	const char *passfile;	/* NULL: libpq's default */
	int replication;	/* 1: physical replication connection */
	int64_t timeout_ms;	/* for connecting (> 0) */
	/*
	 * 1: connect with effective uid `uid` (we must be root): the
	 * server's peer authentication then sees that user, and libpq takes
	 * it as the default user name.
	 */
	int as_uid;
	uid_t uid;
};

struct ha_pg;

/*
 * Connect. sslmode=disable unless conninfo sets it (no TLS in this
 * libpq). NULL on failure, with the reason in err (n bytes).
 * Caller closes with ha_pg_close().
 */
struct ha_pg *ha_pg_connect(const struct ha_pg_opts *o, char *err,
    size_t n);
void ha_pg_close(struct ha_pg *pg);

/*
 * Run sql (simple query protocol) and keep the last result table in *r
 * (caller frees with ha_pg_res_free). Gives up after timeout_ms: sends a
 * cancel request, waits at most one more second for it, and fails. 0, or
 * -1 with ha_pg_error() set.
 */
int ha_pg_exec(struct ha_pg *pg, const char *sql, int64_t timeout_ms,
    struct ha_pg_res *r);

/* As ha_pg_exec, for a statement whose result does not matter. */
int ha_pg_run(struct ha_pg *pg, const char *sql, int64_t timeout_ms);

/* The last error, one line (borrowed). */
const char *ha_pg_error(const struct ha_pg *pg);

/* SQLSTATE of the last error ("" when none or not from the server). */
const char *ha_pg_sqlstate(const struct ha_pg *pg);

/* The server's version number (150010) and text ("15.10 (Debian ...)"). */
int ha_pg_version(const struct ha_pg *pg);
const char *ha_pg_version_str(const struct ha_pg *pg);

/*
 * Is the server in recovery (a standby)? From the in_hot_standby status
 * it reports at connection time, on replication connections too: 1 yes,
 * 0 no, -1 not reported (a server before PostgreSQL 14).
 */
int ha_pg_in_recovery(const struct ha_pg *pg);

/* Typed questions (see core/pgreply); 0, or -1 with ha_pg_error(). */
int ha_pg_node(struct ha_pg *pg, int64_t timeout_ms, struct ha_pg_node *n);
int ha_pg_standbys(struct ha_pg *pg, int64_t timeout_ms,
    struct ha_pg_standby **v, size_t *n);
/* On a replication connection: IDENTIFY_SYSTEM. */
int ha_pg_identify(struct ha_pg *pg, int64_t timeout_ms, uint64_t *sysid,
    uint32_t *tli, uint64_t *pos);
/*
 * On a replication connection: the history file of timeline tli (> 1),
 * in *buf (caller frees), *len bytes.
 */
int ha_pg_history(struct ha_pg *pg, uint32_t tli, int64_t timeout_ms,
    char **buf, size_t *len);

/*
 * Check a connection string without connecting: 0, or -1 with libpq's
 * reason in err.
 */
int ha_pg_conninfo_check(const char *conninfo, char *err, size_t n);

/*
 * The value conninfo gives to keyword (e.g. "port"), in buf; 1 when set,
 * 0 when not (or conninfo is bad).
 */
int ha_pg_conninfo_get(const char *conninfo, const char *keyword, char *buf,
    size_t n);

#endif
