/*
 * haprom: PostgreSQL role control through libpq: status, promote, demote
 * (with pg_rewind), rebuild (pg_basebackup), fence, check. This file has
 * the command table and what every command starts with: the
 * configuration, the OS user for PostgreSQL's tools, the lock and the
 * node's mark. Manual: doc/haprom.8.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/util.h"

#define O(f) offsetof(struct haprom_opts, f)

static const struct ha_opt status_opts[] = {
	{ 0, "json", NULL, "print JSON for machines", HA_OPT_FLAG, O(json),
	  0, 0 },
	{ 0 },
};

static const struct ha_opt promote_opts[] = {
	{ 0, "wait", "T", "how long to wait for the first write "
	  "(default: [postgres] promote_timeout)", HA_OPT_DURATION, O(wait_ms),
	  0, 0 },
	{ 0 },
};

static const struct ha_opt demote_opts[] = {
	{ 0, "primary", "HOST[:PORT]", "the new primary to follow (port "
	  "default: that of [postgres] conninfo, else 5432)", HA_OPT_STR,
	  O(primary), 0, 0 },
	{ 0, "wait", "T", "how long to wait until it streams (default 60s)",
	  HA_OPT_DURATION, O(wait_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt rebuild_opts[] = {
	{ 0, "keep-old", NULL, "keep the old data directory aside",
	  HA_OPT_FLAG, O(keep_old), 0, 0 },
	{ 0, "primary", "HOST[:PORT]", "the primary to copy from", HA_OPT_STR,
	  O(primary), 0, 0 },
	{ 0, "wait", "T", "how long to wait until the copy streams (default "
	  "60s)", HA_OPT_DURATION, O(wait_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt check_opts[] = {
	{ 0, "timeout", "T", "give up after T (default: [postgres] timeout)",
	  HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt handover_opts[] = {
	{ 0, "timeout", "T", "give up after T (default: [postgres] "
	  "stop_timeout)", HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static const struct ha_cmd cmds[] = {
	{ "check", "", "Health probe: connect and query within the timeout; "
	  "exit 0 primary, 3 standby, 1 down.", check_opts, 0, 0,
	  HA_CMD_CONFIG, haprom_check },
	{ "demote", "", "Turn this node into a streaming standby of the new "
	  "primary, rewinding when the timelines diverged.", demote_opts, 0, 0,
	  HA_CMD_CONFIG, haprom_demote },
	{ "fence", "", "Stop writes now (read-only or fast stop, per "
	  "[postgres] fence).", NULL, 0, 0, HA_CMD_CONFIG, haprom_fence },
	{ "handover", "NODE", "On the fenced primary: wait until standby NODE "
	  "has flushed all its WAL, so promoting it loses nothing.",
	  handover_opts, 1, 1, HA_CMD_CONFIG, haprom_handover },
	{ "promote", "", "Promote this standby and wait until it accepts a "
	  "write.", promote_opts, 0, 0, HA_CMD_CONFIG, haprom_promote },
	{ "rebuild", "", "Copy the primary with pg_basebackup into a new data "
	  "directory.", rebuild_opts, 0, 0, HA_CMD_CONFIG, haprom_rebuild },
	{ "status", "", "Role, timeline, LSNs and lag of the local server; "
	  "exit 0 primary, 3 standby, 1 down.", status_opts, 0, 0,
	  HA_CMD_CONFIG, haprom_status },
};

static const struct ha_applet app = {
	"haprom", "PostgreSQL promote, demote, rewind, rebuild and fence",
	cmds, HA_ARRAY_LEN(cmds),
};

/* As root the tools run as [postgres] user; otherwise as we are. */
static int
find_user(struct hp *h)
{
	struct passwd *pw;
	const char *home;

	if (geteuid() != 0) {
		home = getenv("HOME");
		ha_strlcpy(h->home, home ? home : "/", sizeof(h->home));
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(h->pg->user)) == NULL) {
		ha_log(HA_FAILURE, "[postgres] user '%s' does not exist on "
		    "this system: set it to the owner of %s", h->pg->user,
		    h->pg->data_dir);
		return -1;
	}
	if (pw->pw_uid == 0) {
		ha_log(HA_FAILURE, "[postgres] user '%s' is root: PostgreSQL's "
		    "tools refuse to run as root", h->pg->user);
		return -1;
	}
	h->as_user = 1;
	h->uid = pw->pw_uid;
	h->gid = pw->pw_gid;
	ha_strlcpy(h->home, pw->pw_dir, sizeof(h->home));
	return 0;
}

int
haprom_init(struct hp *h, const struct ha_args *a, void *opts)
{
	char err[512];

	memset(h, 0, sizeof(*h));
	h->lock_fd = -1;
	h->o = opts;
	h->cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides);
	if (h->cfg == NULL)
		return HA_EXIT_USAGE;
	if ((h->pg = h->cfg->postgres) == NULL) {
		ha_log(HA_FAILURE, "%s has no [postgres] section: nothing for "
		    "haprom to manage", a->conf);
		return HA_EXIT_USAGE;
	}
	h->node = h->cfg->cluster->node;
	if (ha_pg_conninfo_check(h->pg->conninfo, err, sizeof(err)) == -1) {
		ha_log(HA_FAILURE, "[postgres] conninfo is not a valid libpq "
		    "connection string: %s", err);
		return HA_EXIT_USAGE;
	}
	if (find_user(h) == -1)
		return HA_EXIT_USAGE;
	h->state_path = ha_xasprintf("%s/haprom.state",
	    h->cfg->cluster->state_dir);
	h->log_file = h->pg->log_file ? ha_xstrdup(h->pg->log_file) :
	    ha_xasprintf("%s/log/server.log", h->pg->data_dir);
	if (haprom_mark_load(h) == -1)
		return HA_EXIT_FAIL;
	return HA_EXIT_OK;
}

void
haprom_fini(struct hp *h)
{
	if (h->lock_fd != -1)
		close(h->lock_fd);
	free(h->state_path);
	free(h->log_file);
	ha_cfg_free(h->cfg);
}

int
haprom_lock(struct hp *h)
{
	const char *dir = h->cfg->cluster->state_dir;
	char *path;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		ha_log_errno(HA_FAILURE, "create the state directory %s", dir);
		return HA_EXIT_FAIL;
	}
	path = ha_xasprintf("%s/haprom.lock", dir);
	h->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (h->lock_fd == -1) {
		ha_log_errno(HA_FAILURE, "open %s", path);
		free(path);
		return HA_EXIT_FAIL;
	}
	if (flock(h->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		ha_log(HA_FAILURE, "another haprom command is changing this "
		    "node (it holds %s): try again when it is done", path);
		free(path);
		return HA_EXIT_FAIL;
	}
	free(path);
	return HA_EXIT_OK;
}

int
haprom_run_locked(const struct ha_args *a, void *opts, int (*fn)(struct hp *))
{
	struct hp h;
	int rc = haprom_init(&h, a, opts);

	if (rc == HA_EXIT_OK && (rc = haprom_lock(&h)) == HA_EXIT_OK)
		rc = fn(&h);
	haprom_fini(&h);
	return rc;
}

int
haprom_main(int argc, char **argv)
{
	struct haprom_opts o = { 0 };

	return ha_cli_main(&app, argc, argv, &o);
}
