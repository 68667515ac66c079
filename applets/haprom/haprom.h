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

/* main.c: set up and tear down; HA_EXIT_* on failure. */
int haprom_init(struct hp *h, const struct ha_args *a, void *opts);
void haprom_fini(struct hp *h);
/* Take the lock of commands that change things; HA_EXIT_OK or FAIL. */
int haprom_lock(struct hp *h);

/* ctl.c: the server, its files and the tools. */
enum hp_server { HP_STOPPED, HP_RUNNING };
enum hp_server haprom_server(const struct hp *h, long *pid);
int haprom_check_datadir(const struct hp *h);
struct ha_pg *haprom_connect(const struct hp *h, int64_t timeout_ms,
    char *err, size_t n);
int haprom_tool(const struct hp *h, const char *tool, char *const args[],
    int64_t timeout_ms, struct ha_run_result *r);
int haprom_have_tool(const struct hp *h, const char *tool);
int haprom_stop(const struct hp *h);
int haprom_start(const struct hp *h);
int haprom_controldata(const struct hp *h, struct ha_pgwal_control *c);
int haprom_recover(const struct hp *h, const char *state);
int haprom_write_file(const struct hp *h, const char *path, const void *data,
    size_t len);
int haprom_rmtree(const char *path);

/* ctl.c: the mark in <state_dir>/haprom.state. */
int haprom_mark_load(struct hp *h);
int haprom_mark_set(struct hp *h, const char *mark, const char *reason);
int haprom_mark_refuses(const struct hp *h, const char *what);

/* standby.c: following a primary. */
int haprom_peer_parse(const struct hp *h, const char *spec,
    struct hp_peer *p);
void haprom_peer_conninfo(const struct hp *h, const struct hp_peer *p,
    int database, struct ha_buf *out);
struct ha_pg *haprom_peer_connect(const struct hp *h,
    const struct hp_peer *p, char *err, size_t n);
int haprom_standby_setup(const struct hp *h, const char *data_dir,
    const struct hp_peer *p);
int haprom_wait_streaming(const struct hp *h, const struct hp_peer *p,
    int64_t wait_ms, uint32_t *tli);
int haprom_is_streaming_from(const struct ha_pg_node *n,
    const struct hp_peer *p);

/* The commands. */
int haprom_status(const struct ha_args *a, void *opts);
int haprom_check(const struct ha_args *a, void *opts);
int haprom_promote(const struct ha_args *a, void *opts);
int haprom_fence(const struct ha_args *a, void *opts);
int haprom_demote(const struct ha_args *a, void *opts);
int haprom_rebuild(const struct ha_args *a, void *opts);

/*
 * ctl.c: -1 (logged) when the server runs as a primary or runs without
 * answering, so `what` would throw away a live primary's data.
 */
int haprom_refuse_primary(const struct hp *h, const char *what);

/* standby.c: IDENTIFY_SYSTEM and the history of a new primary. */
struct hp_target {
	struct hp_peer p;
	uint64_t sysid;
	uint32_t tli;
	uint64_t pos;
	struct ha_pgwal_history hist;
};
int haprom_ask_primary(const struct hp *h, const char *spec,
    struct hp_target *t);

#endif
