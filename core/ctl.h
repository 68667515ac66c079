/*
 * The control socket between hactl and the local hawatch
 * (<run_dir>/hawatch.sock, mode 0600, root or the daemon's own user
 * only): one request frame {command, arguments}, one reply {exit code,
 * text for people, JSON for machines}; `events -f` keeps receiving.
 */
#ifndef HA_CTL_H
#define HA_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/util.h"

#define HA_CTL_ARGS 4

struct ha_ctl_request {
	char cmd[32];
	char arg[HA_CTL_ARGS][128];
	int n_args;
};

struct ha_ctl_reply {
	uint32_t code;		/* the exit code hactl should use */
	struct ha_buf text;	/* for people */
	struct ha_buf json;	/* for machines (may be empty) */
};

void ha_ctl_reply_free(struct ha_ctl_reply *r);

/*
 * Ask the daemon listening on sock. 0 with *r filled (caller frees), or -1
 * (logged: no daemon, refused, timed out).
 */
int ha_ctl_call(const char *sock, const char *cmd, const char *const *args,
    int n_args, struct ha_ctl_reply *r, int64_t timeout_ms);

/* Follow streamed replies (events -f): cb gets each text until it returns
 * non-zero or the daemon goes. */
int ha_ctl_follow(const char *sock, const char *cmd, const char *const *args,
    int n_args, int (*cb)(const char *text, void *arg), void *arg);

struct ha_ctl_server;
struct ha_ctl_conn;

/*
 * Answer a request: fill r. Return 0 to send it and close, 1 to keep the
 * connection for ha_ctl_push() (streams).
 */
typedef int ha_ctl_handler(const struct ha_ctl_request *q,
    struct ha_ctl_reply *r, struct ha_ctl_conn *c, void *arg);

/* Listen on path (replacing a stale socket); NULL (logged) on failure. */
struct ha_ctl_server *ha_ctl_server_new(struct ha_loop *l, const char *path,
    ha_ctl_handler *h, void *arg);
/* Send one more text to every kept connection (streams). */
void ha_ctl_push(struct ha_ctl_server *s, const char *text);
void ha_ctl_server_free(struct ha_ctl_server *s);

#endif
