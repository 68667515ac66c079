/*
 * hactl: the operator's command. Talks to the local hawatch over its
 * control socket; also enrolment (bootstrap, join) and check-config.
 */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/hactl/hactl.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#define O(f) offsetof(struct hactl_opts, f)

static const struct ha_opt status_opts[] = {
	{ 0, "json", NULL, "print JSON for machines (schema: doc/hactl.8)",
	  HA_OPT_FLAG, O(json), 0, 0 },
	{ 'w', "watch", NULL, "refresh every second", HA_OPT_FLAG, O(watch),
	  0, 0 },
	{ 0 },
};

static const struct ha_opt switchover_opts[] = {
	{ 0, "to", "NODE", "the member to hand over to (default: the best)",
	  HA_OPT_STR, O(to), 0, 0 },
	{ 0 },
};

static const struct ha_opt force_opts[] = {
	{ 'y', "yes", NULL, "do not ask for confirmation", HA_OPT_FLAG, O(yes),
	  0, 0 },
	{ 0 },
};

static const struct ha_opt failover_opts[] = {
	{ 0, "node", "NODE", "only this node (default: the whole cluster)",
	  HA_OPT_STR, O(node), 0, 0 },
	{ 0 },
};

static const struct ha_opt events_opts[] = {
	{ 'f', "follow", NULL, "keep printing new events", HA_OPT_FLAG,
	  O(follow), 0, 0 },
	{ 0 },
};

static const struct ha_opt bootstrap_opts[] = {
	{ 'd', "dir", "DIR", "where to write the CA, key and certificate "
	  "(default: the directories of [cluster] ca, cert and key)",
	  HA_OPT_STR, O(dir), 0, 0 },
	{ 0, "force", NULL, "replace existing files (every node must then "
	  "join again)", HA_OPT_FLAG, O(force), 0, 0 },
	{ 0, "ttl", "T", "how long the join token is valid (default 1h)",
	  HA_OPT_DURATION, O(ttl_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt token_opts[] = {
	{ 0, "ttl", "T", "how long the join token is valid (default 1h)",
	  HA_OPT_DURATION, O(ttl_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt serve_opts[] = {
	{ 0, "count", "N", "exit after N enrolments, 0 for never (default 1)",
	  HA_OPT_INT, O(count), 0, 1000000 },
	{ 0, "listen", "ADDR:PORT", "where to listen (default: this node's "
	  "address and port)", HA_OPT_STR, O(listen), 0, 0 },
	{ 0, "timeout", "T", "give up after T (default: never)",
	  HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt renew_opts[] = {
	{ 0, "from", "NODE", "the node that holds the CA key (default: try "
	  "the members in turn)", HA_OPT_STR, O(from), 0, 0 },
	{ 0 },
};

static const struct ha_opt join_opts[] = {
	{ 'd', "dir", "DIR", "where to write the key and certificates "
	  "(default: the paths of [cluster] ca, cert and key)", HA_OPT_STR,
	  O(dir), 0, 0 },
	{ 0, "force", NULL, "replace existing files", HA_OPT_FLAG, O(force),
	  0, 0 },
	{ 0, "token", "T", "the join token ('-': read it from stdin)",
	  HA_OPT_STR, O(token), 0, 0 },
	{ 0, "token-file", "FILE", "read the join token from FILE",
	  HA_OPT_STR, O(token_file), 0, 0 },
	{ 0 },
};

static const struct ha_opt ping_opts[] = {
	{ 0, "count", "N", "round trips to time (default 1)", HA_OPT_INT,
	  O(count), 1, 100000 },
	{ 0, "timeout", "T", "give up after T (default: handshake_timeout)",
	  HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static int check_config(const struct ha_args *a, void *opts);

static const struct ha_cmd cmds[] = {
	{ "add-node", "NODE", "Take a removed node back into the cluster (on "
	  "the leader, with its hawatch running).", NULL, 1, 1, HA_CMD_CONFIG,
	  hactl_add_node },
	{ "bootstrap", "", "Make the cluster CA and this node's key and "
	  "certificate (or, with psk_file, the pre-shared key); print a join "
	  "token.", bootstrap_opts, 0, 0, HA_CMD_CONFIG, hactl_bootstrap },
	{ "cert-info", "", "Subject, issuer and expiry of this node's "
	  "certificate and of the CA; exit 1 when expired.", NULL, 0, 0,
	  HA_CMD_CONFIG, hactl_cert_info },
	{ "check-config", "", "Check the configuration; print the effective "
	  "configuration, or every error.", NULL, 0, 0, HA_CMD_CONFIG,
	  check_config },
	{ "demote", "", "Hand leadership away from this node (switchover).",
	  NULL, 0, 0, HA_CMD_CONFIG, hactl_demote },
	{ "enroll-serve", "", "Serve join and renew requests and pings on "
	  "this node's port (until hawatch serves them).", serve_opts, 0, 0,
	  HA_CMD_CONFIG, hactl_enroll_serve },
	{ "events", "", "Recent state changes with times and reasons.",
	  events_opts, 0, 0, HA_CMD_CONFIG, hactl_events },
	{ "failover", "on|off", "Allow or stop automatic failover (cluster or "
	  "one node).", failover_opts, 1, 1, HA_CMD_CONFIG,
	  hactl_failover },
	{ "force-leader", "", "Make this node leader without a majority "
	  "(dangerous; see hactl(8)).", force_opts, 0, 0, HA_CMD_CONFIG,
	  hactl_force_leader },
	{ "join", "ADDR[:PORT]", "Enrol this node with the cluster at ADDR "
	  "using a join token.", join_opts, 1, 1, HA_CMD_CONFIG, hactl_join },
	{ "metrics", "", "Metrics in the Prometheus text format.", NULL, 0, 0,
	  HA_CMD_CONFIG, hactl_metrics },
	{ "ping", "NODE", "Handshake and HELLO with a peer; print the "
	  "round-trip time.", ping_opts, 1, 1, HA_CMD_CONFIG, hactl_ping },
	{ "promote", "", "Make this node the leader (switchover to it).", NULL,
	  0, 0, HA_CMD_CONFIG, hactl_promote },
	{ "remove-node", "NODE", "Take a node that is down for good out of the "
	  "cluster (on the leader): it no longer votes or counts.", NULL, 1, 1,
	  HA_CMD_CONFIG, hactl_remove_node },
	{ "renew", "", "Re-issue this node's certificate through the CA "
	  "holder.", renew_opts, 0, 0, HA_CMD_CONFIG, hactl_renew },
	{ "status", "", "The state of every node and resource; exit 0 "
	  "healthy, 1 degraded, 2 no daemon.", status_opts, 0, 0,
	  HA_CMD_CONFIG, hactl_status },
	{ "switchover", "", "Hand leadership to another member gracefully.",
	  switchover_opts, 0, 0, HA_CMD_CONFIG, hactl_switchover },
	{ "token", "", "A new one-time join token (on the node that holds the "
	  "CA key).", token_opts, 0, 0, HA_CMD_CONFIG, hactl_token },
};

static const struct ha_applet app = {
	"hactl", "The operator's command", cmds, HA_ARRAY_LEN(cmds),
};

static int
check_config(const struct ha_args *a, void *opts)
{
	struct ha_cfg *cfg;
	struct ha_buf out = { 0 };

	(void)opts;
	if ((cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides)) == NULL)
		return HA_EXIT_USAGE;
	ha_cfg_format(cfg, &out);
	if (ha_write_all(STDOUT_FILENO, out.s, out.len) == -1) {
		ha_log_errno(HA_FAILURE, "write");
		ha_buf_free(&out);
		ha_cfg_free(cfg);
		return HA_EXIT_FAIL;
	}
	ha_log(HA_SUCCESS, "%s: configuration is valid", a->conf);
	ha_buf_free(&out);
	ha_cfg_free(cfg);
	return HA_EXIT_OK;
}

int
hactl_main(int argc, char **argv)
{
	struct hactl_opts o = { .ttl_ms = 3600000, .count = 1 };

	/* --token's value is a secret: do not leave it for ps to show. */

	return ha_cli_main(&app, argc, argv, &o);
}
