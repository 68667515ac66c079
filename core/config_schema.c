/*
 * What habox.conf may contain: every section, key, type and default, and
 * the checks across them (this node exists, a majority is possible, ...).
 * The engine in core/config.c reads, types and prints from these tables;
 * doc/habox.conf.5 documents them.
 */
#include <net/if.h>
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"
#include "ha_kconfig.h"

#define CL(f) offsetof(struct ha_cfg_cluster, f)
#define ND(f) offsetof(struct ha_cfg_node, f)
#define VP(f) offsetof(struct ha_cfg_vip, f)
#define PG(f) offsetof(struct ha_cfg_postgres, f)
#define SY(f) offsetof(struct ha_cfg_sync, f)
#define CK(f) offsetof(struct ha_cfg_check, f)
#define SV(f) offsetof(struct ha_cfg_service, f)

static const char *const roles[] = { "member", "witness", NULL };
static const char *const check_types[] = {
	"tcp", "http", "command", "postgres", NULL
};
static const char *const fences[] = { "read-only", "stop", NULL };

static const struct ha_key cluster_keys[] = {
	{ "name", T_NAME, CL(name), NULL, K_REQ, 0, 0, NULL },
	{ "node", T_NAME, CL(node), NULL, K_REQ, 0, 0, NULL },
	{ "port", T_INT, CL(port), "7405", 0, 1, 65534, NULL },
	{ "heartbeat", T_DUR, CL(heartbeat_ms), "100ms", 0, 5, 0, NULL },
	{ "lease", T_DUR, CL(lease_ms), "1s", 0, 20, 0, NULL },
	{ "failover", T_BOOL, CL(failover), "on", 0, 0, 0, NULL },
	{ "two_node", T_BOOL, CL(two_node), "no", 0, 0, 0, NULL },
	{ "tiebreaker", T_ADDR, CL(tiebreaker), NULL, 0, 0, 0, NULL },
	{ "garp_refresh", T_DUR, CL(garp_refresh_ms), "10s", 0, 0, 0, NULL },
	{ "step_timeout", T_DUR, CL(step_timeout_ms), "60s", 0, 100, 0, NULL },
	{ "handshake_timeout", T_DUR, CL(handshake_timeout_ms), "3s", 0, 10,
	  0, NULL },
	{ "clock_drift", T_PPM, CL(clock_drift_ppm), "1%", 0, 0, 200000, NULL },
	{ "ca", T_PATH, CL(ca), "/etc/habox/ca.crt", 0, 0, 0, NULL },
	{ "cert", T_PATH, CL(cert), "/etc/habox/node.crt", 0, 0, 0, NULL },
	{ "key", T_PATH, CL(key), "/etc/habox/node.key", 0, 0, 0, NULL },
	{ "psk_file", T_PATH, CL(psk_file), NULL, 0, 0, 0, NULL },
	{ "state_dir", T_PATH, CL(state_dir), "/var/lib/habox", 0, 0, 0, NULL },
	{ "run_dir", T_PATH, CL(run_dir), "/run/habox", 0, 0, 0, NULL },
	{ "watchdog", T_PATH, CL(watchdog), NULL, 0, 0, 0, NULL },
	{ "notify", T_CMD, CL(notify), NULL, 0, 0, 0, NULL },
	{ 0 },
};

static const struct ha_key node_keys[] = {
	{ "address", T_ADDR, ND(address), NULL, K_REQ, 0, 0, NULL },
	{ "port", T_INT, ND(port), NULL, 0, 1, 65534, NULL },
	{ "priority", T_INT, ND(priority), "100", 0, 0, 1000, NULL },
	{ "role", T_ENUM, ND(role), "member", 0, 0, 0, roles },
	{ "failover", T_BOOL, ND(failover), "on", 0, 0, 0, NULL },
	{ 0 },
};

static const struct ha_key vip_keys[] = {
	{ "address", T_CIDR, VP(address), NULL, K_REQ, 0, 0, NULL },
	{ "interface", T_IFNAME, VP(interface), NULL, K_REQ, 0, 0, NULL },
	{ "label", T_IFNAME, VP(label), NULL, 0, 0, 0, NULL },
	{ "count", T_INT, VP(count), "5", 0, 0, 100, NULL },
	{ "interval", T_DUR, VP(interval_ms), "200ms", 0, 0, 0, NULL },
	{ 0 },
};

static const struct ha_key postgres_keys[] = {
	{ "conninfo", T_CONNINFO, PG(conninfo),
	  "host=/run/postgresql dbname=postgres", 0, 0, 0, NULL },
	{ "data_dir", T_PATH, PG(data_dir), NULL, K_REQ, 0, 0, NULL },
	{ "config_dir", T_PATH, PG(config_dir), NULL, 0, 0, 0, NULL },
	{ "log_file", T_PATH, PG(log_file), NULL, 0, 0, 0, NULL },
	{ "bin_dir", T_PATH, PG(bin_dir), "/usr/lib/postgresql/15/bin", 0, 0,
	  0, NULL },
	{ "user", T_NAME, PG(user), "postgres", 0, 0, 0, NULL },
	{ "replication_user", T_NAME, PG(replication_user), "replicator", 0,
	  0, 0, NULL },
	{ "passfile", T_PATH, PG(passfile), NULL, 0, 0, 0, NULL },
	{ "max_lag_on_failover", T_SIZE, PG(max_lag_on_failover), "1MB", 0, 0,
	  0, NULL },
	{ "fence", T_ENUM, PG(fence), "read-only", 0, 0, 0, fences },
	{ "timeout", T_DUR, PG(timeout_ms), "5s", 0, 10, 0, NULL },
	{ "start_timeout", T_DUR, PG(start_timeout_ms), "60s", 0, 100, 0,
	  NULL },
	{ "stop_timeout", T_DUR, PG(stop_timeout_ms), "60s", 0, 100, 0, NULL },
	{ "promote_timeout", T_DUR, PG(promote_timeout_ms), "60s", 0, 100, 0,
	  NULL },
	{ 0 },
};

static const struct ha_key sync_keys[] = {
	{ "path", T_PATH, SY(path), NULL, K_REQ, 0, 0, NULL },
	{ "watch", T_BOOL, SY(watch), "no", 0, 0, 0, NULL },
	{ "delete", T_BOOL, SY(delete), "no", 0, 0, 0, NULL },
	{ "checksum", T_BOOL, SY(checksum), "no", 0, 0, 0, NULL },
	{ "exclude", T_LIST, SY(exclude), NULL, 0, 0, 0, NULL },
	{ "interval", T_DUR, SY(interval_ms), "0", 0, 0, 0, NULL },
	{ "pre_command", T_CMD, SY(pre_command), NULL, 0, 0, 0, NULL },
	{ "post_command", T_CMD, SY(post_command), NULL, 0, 0, 0, NULL },
	{ "compress", T_INT, SY(compress), "1", 0, 0, 9, NULL },
	{ "timeout", T_DUR, SY(timeout_ms), "30s", 0, 100, 0, NULL },
	{ 0 },
};

static const struct ha_key check_keys[] = {
	{ "type", T_ENUM, CK(type), NULL, K_REQ, 0, 0, check_types },
	{ "target", T_STR, CK(target), NULL, 0, 0, 0, NULL },
	{ "command", T_CMD, CK(command), NULL, 0, 0, 0, NULL },
	{ "interval", T_DUR, CK(interval_ms), "1s", 0, 10, 0, NULL },
	{ "timeout", T_DUR, CK(timeout_ms), "1s", 0, 10, 0, NULL },
	{ "fall", T_INT, CK(fall), "3", 0, 1, 100, NULL },
	{ "rise", T_INT, CK(rise), "2", 0, 1, 100, NULL },
	{ 0 },
};

static const struct ha_key service_keys[] = {
	{ "start", T_CMD, SV(start), NULL, K_REQ, 0, 0, NULL },
	{ "stop", T_CMD, SV(stop), NULL, K_REQ, 0, 0, NULL },
	{ "status", T_CMD, SV(status), NULL, 0, 0, 0, NULL },
	{ "timeout", T_DUR, SV(timeout_ms), "60s", 0, 100, 0, NULL },
	{ 0 },
};

/* Named kinds are arrays in struct ha_cfg; single ones a pointer. */
#define SEC(kind, keys, type, arr, cnt) \
	{ kind, 1, keys, sizeof(type), offsetof(struct ha_cfg, arr), \
	  offsetof(struct ha_cfg, cnt) }
#define ONE(kind, keys, type, ptr) \
	{ kind, 0, keys, sizeof(type), offsetof(struct ha_cfg, ptr), 0 }

/* Also the order of `hactl check-config` output. */
const struct ha_secdef ha_cfg_secdefs[] = {
	ONE("cluster", cluster_keys, struct ha_cfg_cluster, cluster),
	SEC("node", node_keys, struct ha_cfg_node, nodes, n_nodes),
	SEC("vip", vip_keys, struct ha_cfg_vip, vips, n_vips),
	ONE("postgres", postgres_keys, struct ha_cfg_postgres, postgres),
	SEC("sync", sync_keys, struct ha_cfg_sync, syncs, n_syncs),
	SEC("check", check_keys, struct ha_cfg_check, checks, n_checks),
	SEC("service", service_keys, struct ha_cfg_service, services,
	    n_services),
};
const size_t ha_cfg_n_secdefs = HA_ARRAY_LEN(ha_cfg_secdefs);

const char *
ha_cfg_role_name(int role)
{
	return role == HA_ROLE_WITNESS ? "witness" : "member";
}

const char *
ha_cfg_check_type_name(int type)
{
	if (type < 0 || type > HA_CHECK_POSTGRES)
		return "?";
	return check_types[type];
}

static void
check_nodes(struct ha_cfg *cfg)
{
	const struct ha_cfg_cluster *cl = cfg->cluster;
	size_t i, j, members = ha_cfg_n_members(cfg);

	for (i = 0; i < cfg->n_nodes; i++) {
		struct ha_cfg_node *n = &cfg->nodes[i];

		if (n->port == 0)
			n->port = cl->port;
		for (j = 0; j < i; j++)
			if (ha_addr_equal(&n->address, &cfg->nodes[j].address) &&
			    n->port == cfg->nodes[j].port)
				ha_cfg_report(cfg, 0, n, "address", "same address "
				    "and port as [node %s]", cfg->nodes[j].name);
	}
	if (cl->node && (cfg->self = ha_cfg_node(cfg, cl->node)) == NULL)
		ha_cfg_report(cfg, 0, cl, "node", "this node '%s' has no "
		    "[node %s] section", cl->node, cl->node);
	if (members == 0)
		ha_cfg_report(cfg, 0, NULL, NULL, "no member node: add a "
		    "[node NAME] section (role = member is the default)");
	if (cl->two_node && cl->tiebreaker.family == 0)
		ha_cfg_report(cfg, 0, cl, "two_node", "two_node = yes needs a "
		    "tiebreaker address that the winner must reach");
	if (members == 2 && ha_cfg_n_witnesses(cfg) == 0 && !cl->two_node)
		ha_cfg_report(cfg, 1, NULL, NULL, "two members and no witness: "
		    "no automatic failover is possible (add a [node] with "
		    "role = witness, or set two_node = yes with a tiebreaker)");
	if (members == 1 && cfg->n_nodes == 1)
		ha_cfg_report(cfg, 1, NULL, NULL, "a single node: nothing to "
		    "fail over to");
}

static void
check_timing(struct ha_cfg *cfg)
{
	const struct ha_cfg_cluster *cl = cfg->cluster;

	if (cl->lease_ms < 2 * cl->heartbeat_ms)
		ha_cfg_report(cfg, 0, cl, "lease", "lease (%lldms) must be at "
		    "least twice the heartbeat (%lldms)",
		    (long long)cl->lease_ms, (long long)cl->heartbeat_ms);
	else if (cl->lease_ms < 3 * cl->heartbeat_ms)
		ha_cfg_report(cfg, 1, cl, "lease", "lease is less than three "
		    "heartbeats: one lost heartbeat may end it");
}

static void
check_checks(struct ha_cfg *cfg)
{
	size_t i;
	char host[256];
	const char *why;
	int port;

	for (i = 0; i < cfg->n_checks; i++) {
		const struct ha_cfg_check *c = &cfg->checks[i];

		switch (c->type) {
		case HA_CHECK_TCP:
			if (c->target == NULL)
				ha_cfg_report(cfg, 0, c, "target", "type = tcp "
				    "needs target = HOST:PORT");
			else if (ha_parse_hostport(c->target, host,
			    sizeof(host), &port, &why) == -1)
				ha_cfg_report(cfg, 0, c, "target", "'%s': %s",
				    c->target, why);
			break;
		case HA_CHECK_HTTP:
			if (c->target == NULL || !ha_startswith(c->target,
			    "http://") || c->target[7] == '\0')
				ha_cfg_report(cfg, 0, c, "target", "type = http "
				    "needs target = http://HOST[:PORT]/PATH");
			break;
		case HA_CHECK_COMMAND:
			if (c->command == NULL)
				ha_cfg_report(cfg, 0, c, "command", "type = "
				    "command needs command = ...");
			break;
		case HA_CHECK_POSTGRES:
			if (cfg->postgres == NULL)
				ha_cfg_report(cfg, 0, c, "type", "type = "
				    "postgres needs a [postgres] section");
			break;
		}
		if (c->timeout_ms > c->interval_ms)
			ha_cfg_report(cfg, 0, c, "timeout", "longer than the "
			    "interval");
	}
}

void
ha_cfg_crosscheck(struct ha_cfg *cfg)
{
	const struct ha_cfg_cluster *cl = cfg->cluster;

	check_nodes(cfg);
	check_timing(cfg);
	check_checks(cfg);
	if (cfg->postgres && !CONFIG_HAPROM)
		ha_cfg_report(cfg, 0, cfg->postgres, NULL, "this habox is built "
		    "without haprom (CONFIG_HAPROM=n): PostgreSQL cannot be "
		    "managed");
	if (cl->watchdog && !CONFIG_HA_WATCHDOG)
		ha_cfg_report(cfg, 0, cl, "watchdog", "this habox is built "
		    "without watchdog support (CONFIG_HA_WATCHDOG=n)");
}
