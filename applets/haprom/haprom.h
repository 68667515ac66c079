/*
 * haprom's pieces shared by its commands: the context of one run (the
 * [postgres] settings, the OS user for PostgreSQL's tools, the lock and
 * the needs-rewind / needs-rebuild mark), the tools (pg_ctl,
 * pg_controldata, pg_rewind, pg_basebackup), the standby setup, and each
 * command's entry point. Manual: doc/haprom.8.
 */
#ifndef HAPROM_H
#define HAPROM_H

#include <stdint.h>
#include <sys/types.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/pg.h"
#include "core/pgwal.h"
#include "core/run.h"

struct haprom_opts {
	int json;
	int64_t wait_ms;
	const char *primary;
	int keep_old;
	int64_t timeout_ms;
};

/* The marks that keep a node from being promoted (core/state). */
#define HAPROM_NEEDS_REWIND "needs-rewind"
#define HAPROM_NEEDS_REBUILD "needs-rebuild"

struct hp {
	struct ha_cfg *cfg;
	const struct ha_cfg_postgres *pg;
	const char *node;		/* this node's name */
	const struct haprom_opts *o;
	int as_user;			/* root: tools run as uid/gid */
	uid_t uid;
	gid_t gid;
	char home[256];			/* the user's home, for the tools */
	char *state_path;		/* <state_dir>/haprom.state */
	char *log_file;			/* the server's log when we start it */
	int lock_fd;
	char mark[24];			/* "" or a mark */
	char mark_reason[512];
	long long mark_since;		/* unix time */
};

/* A new primary: where, and the strings to reach it. */
struct hp_peer {
	char host[256];
	int port;
	char label[300];		/* "host:port" for messages */
};

/*
 * main.c: load the configuration, find the tools' user, read the mark:
 * HA_EXIT_OK or the exit code to return. haprom_fini() always follows.
 */
int haprom_init(struct hp *h, const struct ha_args *a, void *opts);
/* The commands (one file each). */
int haprom_handover(const struct ha_args *a, void *opts);
void haprom_fini(struct hp *h);
/* The lock of the commands that change the node: HA_EXIT_OK or _FAIL. */
int haprom_lock(struct hp *h);
/* A command that changes the node: init, lock, fn, fini; its exit code. */
int haprom_run_locked(const struct ha_args *a, void *opts,
    int (*fn)(struct hp *));

/* ctl.c: is a postmaster running for data_dir (its pid in *pid). */
enum hp_server { HP_STOPPED, HP_RUNNING };
enum hp_server haprom_server(const struct hp *h, long *pid);
/* 0, or -1 (logged) when data_dir is no PostgreSQL data directory. */
int haprom_check_datadir(const struct hp *h);
/* The local server (see core/pg); NULL with the reason in err. */
struct ha_pg *haprom_connect(const struct hp *h, int64_t timeout_ms,
    char *err, size_t n);
/* Run bin_dir/tool args... as the user, C locale; as ha_run(). */
int haprom_tool(const struct hp *h, const char *tool, char *const args[],
    int64_t timeout_ms, struct ha_run_result *r);
/* 1 when bin_dir/tool is there and executable. */
int haprom_have_tool(const struct hp *h, const char *tool);
/* Stop (fast, then immediate), start (pg_ctl -w): 0 or -1 (logged). */
int haprom_stop(const struct hp *h);
int haprom_start(const struct hp *h);
/* pg_controldata, decoded: 0 or -1 (logged). */
int haprom_controldata(const struct hp *h, struct ha_pgwal_control *c);
/* Crash recovery of a stopped server in single-user mode: 0 or -1. */
int haprom_recover(const struct hp *h, const char *state);
/* Write a file of the data directory atomically, as the user: 0 or -1. */
int haprom_write_file(const struct hp *h, const char *path, const void *data,
    size_t len);
/* rm -rf on one file system, never through a symlink: 0 or -1 (logged). */
int haprom_rmtree(const char *path);
/*
 * -1 (logged) when the server runs as a primary or runs without
 * answering, so `what` would throw away a live primary's data.
 */
int haprom_refuse_primary(const struct hp *h, const char *what);

/*
 * ctl.c: the mark in <state_dir>/haprom.state, loaded into h->mark*.
 * mark_set(h, NULL, NULL) clears it. 0 or -1 (logged).
 */
int haprom_mark_load(struct hp *h);
int haprom_mark_set(struct hp *h, const char *mark, const char *reason);
/* 1 (and a FAILURE saying what to do) when the mark forbids `what`. */
int haprom_mark_refuses(const struct hp *h, const char *what);

/* standby.c: HOST[:PORT] into *p; 0 or -1 (logged). */
int haprom_peer_parse(const struct hp *h, const char *spec,
    struct hp_peer *p);
/*
 * The connection string to p as replication_user, named after this node
 * (with dbname=postgres when database, for pg_rewind). Caller frees *out.
 */
void haprom_peer_conninfo(const struct hp *h, const struct hp_peer *p,
    int database, struct ha_buf *out);
/* A replication connection to p; NULL with the reason in err. */
struct ha_pg *haprom_peer_connect(const struct hp *h,
    const struct hp_peer *p, char *err, size_t n);

/* standby.c: what a new primary says of itself. */
struct hp_target {
	struct hp_peer p;
	uint64_t sysid;
	uint32_t tli;
	uint64_t pos;
	struct ha_pgwal_history hist;	/* caller frees */
};
/*
 * Parse spec, ask it (IDENTIFY_SYSTEM, its history): 0, -1 (logged), or
 * -2 (logged) when it is still in recovery: not a primary yet.
 */
int haprom_ask_primary(const struct hp *h, const char *spec,
    struct hp_target *t);
/* standby.signal and primary_conninfo in data_dir: 0 or -1 (logged). */
int haprom_standby_setup(const struct hp *h, const char *data_dir,
    const struct hp_peer *p);
/* Until the server streams from p, at most wait_ms: 0 or -1 (logged). */
int haprom_wait_streaming(const struct hp *h, const struct hp_peer *p,
    int64_t wait_ms, uint32_t *tli);
/* 1 when n is a standby whose WAL receiver streams from p. */
int haprom_is_streaming_from(const struct ha_pg_node *n,
    const struct hp_peer *p);

/* The commands (the run functions of the command table). */
int haprom_status(const struct ha_args *a, void *opts);
int haprom_check(const struct ha_args *a, void *opts);
int haprom_promote(const struct ha_args *a, void *opts);
int haprom_fence(const struct ha_args *a, void *opts);
int haprom_demote(const struct ha_args *a, void *opts);
int haprom_rebuild(const struct ha_args *a, void *opts);

#endif
