/*
 * Child processes with a timeout: each child gets its own process group,
 * stdin from /dev/null, stdout and stderr captured (bounded) for the log.
 * On timeout the whole group gets SIGTERM, then SIGKILL after a grace
 * period, and the result says so. A child may run in another directory
 * and, when we are root, as another user (PostgreSQL's tools refuse to run
 * as root). Synchronous (ha_run) or driven from a poll loop (ha_proc_*).
 */
#ifndef HA_RUN_H
#define HA_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/log.h"

struct ha_run_opts {
	int64_t timeout_ms;	/* 0: no timeout */
	int64_t grace_ms;	/* SIGTERM to SIGKILL (0: 2000) */
	size_t max_output;	/* bytes kept (0: 64 KiB) */
	char *const *env_add;	/* extra "NAME=value", NULL-terminated */
	const char *cwd;	/* NULL: the caller's directory */
	int set_ids;		/* 1: run as uid/gid, with gid as only group */
	int die_with_parent;	/* 1: SIGTERM when the caller dies */
	uid_t uid;
	gid_t gid;
};

struct ha_run_result {
	int exited;		/* 1: exited; 0: killed by signo */
	int code;
	int signo;
	int timed_out;
	int64_t elapsed_ms;
	char *output;		/* stdout+stderr, NUL-terminated; caller frees */
	size_t output_len;
	size_t output_total;	/* bytes the child wrote, kept or not */
};

/*
 * Run argv (PATH searched) and wait. Returns 0 when the child ran, whatever
 * its status, or -1 (logged) when it could not be started. The caller
 * frees with ha_run_result_free().
 */
int ha_run(char *const argv[], const struct ha_run_opts *o,
    struct ha_run_result *r);

/* The same for a configured command, through /bin/sh -c. */
int ha_run_shell(const char *cmd, const struct ha_run_opts *o,
    struct ha_run_result *r);

/* 1 when the child exited with status 0 in time. */
int ha_run_ok(const struct ha_run_result *r);

/* "exit 0", "exit 3", "killed by signal 9", "timed out after 2s, killed". */
void ha_run_describe(const struct ha_run_result *r, char *buf, size_t n);

/* Log each line of the captured output as "label: line". */
void ha_run_log_output(const struct ha_run_result *r, enum ha_level level,
    const char *label);

void ha_run_result_free(struct ha_run_result *r);

/* Asynchronous use from a poll loop. */
struct ha_proc;

/* Start argv; NULL (logged) when it cannot be started. */
struct ha_proc *ha_proc_start(char *const argv[], const struct ha_run_opts *o);
/* Descriptors to poll for input (POLLIN); returns how many (1 or 2). */
int ha_proc_fds(const struct ha_proc *p, int fds[2]);
/* When ha_proc_step must run again at the latest (ms, ha_now_ms clock). */
int64_t ha_proc_next(const struct ha_proc *p);
/* Read output, reap, enforce the timeout. Returns 1 when finished. */
int ha_proc_step(struct ha_proc *p, int64_t now);
/* The child's process id. */
int ha_proc_pid(const struct ha_proc *p);
/* After ha_proc_step returned 1: the result; frees p. */
void ha_proc_finish(struct ha_proc *p, struct ha_run_result *r);
/* Kill the group at once (SIGKILL), reap, free. */
void ha_proc_abort(struct ha_proc *p);

#endif
