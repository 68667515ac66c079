/*
 * hactl's parts: the option struct every command shares and the commands
 * implemented outside hactl.c (enrolment and peer tools in enroll.c).
 */
#ifndef HA_HACTL_H
#define HA_HACTL_H

#include <stdint.h>

#include "core/cli.h"

struct hactl_opts {
	int json;
	int watch;
	const char *to;
	const char *node;
	int yes;
	int follow;
	const char *dir;
	int force;
	const char *token;
	const char *token_file;
	int64_t ttl_ms;
	long count;
	int64_t timeout_ms;
	const char *from;
	const char *listen;
};

int hactl_bootstrap(const struct ha_args *a, void *opts);
int hactl_token(const struct ha_args *a, void *opts);
int hactl_join(const struct ha_args *a, void *opts);
int hactl_enroll_serve(const struct ha_args *a, void *opts);
int hactl_renew(const struct ha_args *a, void *opts);
int hactl_cert_info(const struct ha_args *a, void *opts);
int hactl_ping(const struct ha_args *a, void *opts);
int hactl_status(const struct ha_args *a, void *opts);
int hactl_switchover(const struct ha_args *a, void *opts);
int hactl_promote(const struct ha_args *a, void *opts);
int hactl_demote(const struct ha_args *a, void *opts);
int hactl_failover(const struct ha_args *a, void *opts);
int hactl_events(const struct ha_args *a, void *opts);
int hactl_metrics(const struct ha_args *a, void *opts);
int hactl_force_leader(const struct ha_args *a, void *opts);
int hactl_remove_node(const struct ha_args *a, void *opts);
int hactl_add_node(const struct ha_args *a, void *opts);

#endif
