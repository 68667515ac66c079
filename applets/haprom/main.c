/*
 * haprom: PostgreSQL role control through libpq: status, promote, demote
 * (with pg_rewind), rebuild (pg_basebackup), fence, check.
 */
#include <stddef.h>

#include "applets/applets.h"
#include "core/util.h"

struct haprom_opts {
	int json;
	int64_t wait_ms;
	const char *primary;
	int keep_old;
	int64_t timeout_ms;
};

#define O(f) offsetof(struct haprom_opts, f)

static const struct ha_opt status_opts[] = {
	{ 0, "json", NULL, "print JSON for machines", HA_OPT_FLAG, O(json),
	  0, 0 },
	{ 0 },
};

static const struct ha_opt promote_opts[] = {
	{ 0, "wait", "T", "how long to wait for the first write "
	  "(default: promote_timeout)", HA_OPT_DURATION, O(wait_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt demote_opts[] = {
	{ 0, "primary", "HOST[:PORT]", "the new primary to follow",
	  HA_OPT_STR, O(primary), 0, 0 },
	{ 0 },
};

static const struct ha_opt rebuild_opts[] = {
	{ 0, "keep-old", NULL, "keep the old data directory aside",
	  HA_OPT_FLAG, O(keep_old), 0, 0 },
	{ 0, "primary", "HOST[:PORT]", "the primary to copy from", HA_OPT_STR,
	  O(primary), 0, 0 },
	{ 0 },
};

static const struct ha_opt check_opts[] = {
	{ 0, "timeout", "T", "give up after T (default: [postgres] timeout)",
	  HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static const struct ha_cmd cmds[] = {
	{ "check", "", "Health probe: connect and SELECT 1 within the timeout.",
	  check_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "demote", "", "Turn this node into a streaming standby of the new "
	  "primary, rewinding when the timelines diverged.", demote_opts, 0, 0,
	  HA_CMD_CONFIG, ha_not_implemented },
	{ "fence", "", "Stop writes now (read-only or fast stop, per "
	  "[postgres] fence).", NULL, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "promote", "", "Promote this standby and wait until it accepts a "
	  "write.", promote_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "rebuild", "", "Copy the primary with pg_basebackup into a new data "
	  "directory.", rebuild_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "status", "", "Role, timeline, LSNs and lag of the local server.",
	  status_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
};

static const struct ha_applet app = {
	"haprom", "PostgreSQL promote, demote, rewind, rebuild and fence",
	cmds, HA_ARRAY_LEN(cmds),
};

int
haprom_main(int argc, char **argv)
{
	struct haprom_opts o = { 0 };

	return ha_cli_main(&app, argc, argv, &o);
}
