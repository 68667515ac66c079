/*
 * habox.conf: one INI file (read with inih), every key also settable from
 * the environment (HABOX_<SECTION>_<KEY>, for rescue images with a
 * read-only /etc) and from -o section.key=value, in that order of
 * precedence over the file. Unknown sections or keys, bad values and
 * missing required keys are errors naming file, line and key; all errors
 * of one run are reported, and a config with any error is never used.
 * Reference: doc/habox.conf.5 and the examples in config/.
 */
#ifndef HA_CONFIG_H
#define HA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "core/value.h"

enum ha_role { HA_ROLE_MEMBER, HA_ROLE_WITNESS };
enum ha_check_type {
	HA_CHECK_TCP, HA_CHECK_HTTP, HA_CHECK_COMMAND, HA_CHECK_POSTGRES
};
enum ha_fence { HA_FENCE_READ_ONLY, HA_FENCE_STOP };

/* A list of strings (exclude patterns). */
struct ha_strv {
	char **v;
	size_t n;
};

struct ha_cfg_cluster {
	char *name;
	char *node;		/* this node's name */
	long port;		/* control port; sync uses port + 1 */
	int64_t heartbeat_ms;
	int64_t lease_ms;
	int failover;
	int two_node;
	struct ha_addr tiebreaker;	/* family 0: none */
	int64_t garp_refresh_ms;
	int64_t step_timeout_ms;
	int64_t handshake_timeout_ms;
	long clock_drift_ppm;
	char *ca, *cert, *key;
	char *psk_file;		/* NULL: certificates */
	char *state_dir;
	char *run_dir;
	char *watchdog;		/* NULL: none */
	char *notify;		/* NULL: none */
};

struct ha_cfg_node {
	char *name;
	struct ha_addr address;
	long port;		/* the cluster port unless set */
	long priority;
	int role;		/* enum ha_role */
	int failover;
};

struct ha_cfg_vip {
	char *name;
	struct ha_cidr address;
	char *interface;
	char *label;		/* NULL: none */
	long count;		/* announcements */
	int64_t interval_ms;
};

struct ha_cfg_postgres {
	char *conninfo;
	char *data_dir;
	char *config_dir;	/* NULL: data_dir (pg_ctl -D) */
	char *log_file;		/* NULL: <data_dir>/log/server.log */
	char *bin_dir;
	char *user;		/* OS user for PostgreSQL tools when root */
	char *replication_user;
	char *passfile;		/* NULL: none */
	uint64_t max_lag_on_failover;
	int fence;		/* enum ha_fence */
	int64_t timeout_ms;
	int64_t start_timeout_ms;
	int64_t stop_timeout_ms;
	int64_t promote_timeout_ms;
};

struct ha_cfg_sync {
	char *name;
	char *path;
	int watch;
	int delete;
	int checksum;
	struct ha_strv exclude;
	int64_t interval_ms;	/* 0: no schedule */
	char *pre_command;	/* NULL: none */
	char *post_command;
	long compress;		/* zstd (or zlib) level, 0 = off */
	int64_t timeout_ms;
};

struct ha_cfg_check {
	char *name;
	int type;		/* enum ha_check_type */
	char *target;		/* tcp: host:port, http: URL */
	char *command;
	int64_t interval_ms;
	int64_t timeout_ms;
	long fall, rise;
};

struct ha_cfg_service {
	char *name;
	char *start, *stop;
	char *status;		/* NULL: none */
	int64_t timeout_ms;
};

struct ha_cfg_priv;

struct ha_cfg {
	char *path;
	struct ha_cfg_cluster *cluster;		/* always set */
	struct ha_cfg_postgres *postgres;	/* NULL: no [postgres] */
	struct ha_cfg_node *nodes;
	size_t n_nodes;
	struct ha_cfg_vip *vips;
	size_t n_vips;
	struct ha_cfg_sync *syncs;
	size_t n_syncs;
	struct ha_cfg_check *checks;
	size_t n_checks;
	struct ha_cfg_service *services;
	size_t n_services;
	const struct ha_cfg_node *self;		/* this node */
	struct ha_cfg_priv *priv;
};

/*
 * Load FILE, then the environment, then the overrides ("section.key=value",
 * named sections as "node.node1.address=..."). Logs every error and
 * warning; returns NULL when there was any error. Caller frees.
 */
struct ha_cfg *ha_cfg_load(const char *path, const char *const *overrides,
    size_t n_overrides);

/*
 * As ha_cfg_load on a buffer named `name` in messages, with the
 * environment given as envp (NULL: none). For tests and fuzzing.
 * Errors and warnings are logged; *n_errors (if not NULL) gets their count.
 */
struct ha_cfg *ha_cfg_parse(const char *name, const char *buf, size_t len,
    char *const *envp, const char *const *overrides, size_t n_overrides,
    size_t *n_errors);

void ha_cfg_free(struct ha_cfg *cfg);

/*
 * The effective configuration as INI text: every key with its value,
 * defaults included, the origin of values that did not come from the file
 * as a comment, secrets masked.
 */
void ha_cfg_format(const struct ha_cfg *cfg, struct ha_buf *out);

/* Lookups by name; NULL when absent. */
const struct ha_cfg_node *ha_cfg_node(const struct ha_cfg *cfg,
    const char *name);
const struct ha_cfg_vip *ha_cfg_vip(const struct ha_cfg *cfg,
    const char *name);
const struct ha_cfg_sync *ha_cfg_sync(const struct ha_cfg *cfg,
    const char *name);

/* Counts of members and witnesses. */
size_t ha_cfg_n_members(const struct ha_cfg *cfg);
size_t ha_cfg_n_witnesses(const struct ha_cfg *cfg);

/* Names for enum values ("member", "tcp", "read-only"). */
const char *ha_cfg_role_name(int role);
const char *ha_cfg_check_type_name(int type);

#endif
