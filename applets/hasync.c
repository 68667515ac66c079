/*
 * hasync: authenticated delta sync of file trees between nodes over
 * mutual TLS (port + 1), zlib-compressed; push, pull, serve, watch.
 */
#include <stddef.h>

#include "applets/applets.h"
#include "core/util.h"

struct hasync_opts {
	int dry_run;
	int foreground;
	int json;
	long term;
};

#define O(f) offsetof(struct hasync_opts, f)

static const struct ha_opt push_opts[] = {
	{ 'n', "dry-run", NULL, "say what would change, write nothing",
	  HA_OPT_FLAG, O(dry_run), 0, 0 },
	{ 0, "term", "N", "the leader's term, checked by the receivers",
	  HA_OPT_INT, O(term), 0, 0x7fffffff },
	{ 0 },
};

static const struct ha_opt pull_opts[] = {
	{ 'n', "dry-run", NULL, "say what would change, write nothing",
	  HA_OPT_FLAG, O(dry_run), 0, 0 },
	{ 0 },
};

static const struct ha_opt daemon_opts[] = {
	{ 'f', "foreground", NULL, "stay in the foreground, log to stderr too",
	  HA_OPT_FLAG, O(foreground), 0, 0 },
	{ 0 },
};

static const struct ha_opt status_opts[] = {
	{ 0, "json", NULL, "print JSON for machines", HA_OPT_FLAG, O(json),
	  0, 0 },
	{ 0 },
};

static const struct ha_cmd cmds[] = {
	{ "pull", "NAME PEER", "Fetch the tree of [sync NAME] from PEER.",
	  pull_opts, 2, 2, HA_CMD_CONFIG, ha_not_implemented },
	{ "push", "[NAME...] | PATH PEER:DEST", "Send the trees of the named "
	  "[sync] sections (default: all) to every follower, or PATH to one "
	  "peer.", push_opts, 0, -1, HA_CMD_CONFIG, ha_not_implemented },
	{ "serve", "", "Receive pushes from the cluster's leader (daemon).",
	  daemon_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "status", "", "Show each sync set: generation, backlog, last push.",
	  status_opts, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "watch", "NAME...", "Push changes of the named trees as they "
	  "happen (daemon, inotify).", daemon_opts, 1, -1, HA_CMD_CONFIG,
	  ha_not_implemented },
};

static const struct ha_applet app = {
	"hasync", "Sync file trees between nodes", cmds, HA_ARRAY_LEN(cmds),
};

int
hasync_main(int argc, char **argv)
{
	struct hasync_opts o = { 0 };

	return ha_cli_main(&app, argc, argv, &o);
}
