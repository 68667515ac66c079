/*
 * hawatch: the election and failover daemon (DESIGN.md "Election, leases
 * and fencing").
 */
#include <stddef.h>

#include "applets/applets.h"
#include "core/util.h"

struct hawatch_opts {
	int foreground;
};

#define O(f) offsetof(struct hawatch_opts, f)

static const struct ha_opt opts[] = {
	{ 'f', "foreground", NULL, "stay in the foreground, log to stderr too",
	  HA_OPT_FLAG, O(foreground), 0, 0 },
	{ 0 },
};

static const struct ha_cmd cmds[] = {
	{ NULL, "", "Watch the peers, elect a leader and move the resources "
	  "to it.", opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
};

static const struct ha_applet app = {
	"hawatch", "The election and failover daemon", cmds,
	HA_ARRAY_LEN(cmds),
};

int
hawatch_main(int argc, char **argv)
{
	struct hawatch_opts o = { 0 };

	return ha_cli_main(&app, argc, argv, &o);
}
