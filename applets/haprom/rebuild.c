/*
 * haprom rebuild --primary HOST[:PORT]: a fresh copy of the primary with
 * pg_basebackup into <data_dir>.haprom-new while the old data directory
 * stays in place; then stop, move the old one aside
 * (<data_dir>.haprom-old-TIME), move the copy in, start it as a standby
 * and wait until it streams; only then is the old one removed (kept with
 * --keep-old). The node stays marked needs-rebuild until the copy
 * streams. Also makes a new node's first copy (no data_dir yet).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/util.h"

/* fsync the directory that holds path, so renames in it are durable. */
static void
sync_parent(const char *path)
{
	char *copy = ha_xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

/* pg_basebackup into dir; 0 or -1 (logged, dir removed). */
static int
basebackup(const struct hp *h, const struct hp_peer *p, const char *dir)
{
	struct ha_run_result r;
	struct ha_buf ci;
	char d[64];
	char *args[] = { "-D", (char *)dir, "-d", NULL, "-X", "stream",
	    "-c", "fast", "-w", NULL };
	int rc;

	haprom_peer_conninfo(h, p, 0, &ci);
	args[3] = ci.s;
	ha_log(HA_INFO, "copying %s into %s (pg_basebackup)", p->label, dir);
	rc = haprom_tool(h, "pg_basebackup", args, 0, &r);
	ha_buf_free(&ci);
	if (rc == -1)
		return -1;
	if (!ha_run_ok(&r)) {
		ha_run_describe(&r, d, sizeof(d));
		ha_run_log_output(&r, HA_FAILURE, "pg_basebackup");
		ha_log(HA_FAILURE, "pg_basebackup from %s: %s; the data "
		    "directory was not changed", p->label, d);
		haprom_rmtree(dir);
		rc = -1;
	} else {
		ha_log(HA_SUCCESS, "copied %s in %lldms", p->label,
		    (long long)r.elapsed_ms);
	}
	ha_run_result_free(&r);
	return rc;
}

/* Move the old data directory aside and the copy in; 0 or -1 (logged). */
static int
swap(const struct hp *h, const char *fresh, char **old)
{
	const char *dd = h->pg->data_dir;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;

	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
	*old = NULL;
	if (lstat(dd, &st) == 0) {
		*old = ha_xasprintf("%s.haprom-old-%s", dd, stamp);
		if (rename(dd, *old) == -1) {
			ha_log_errno(HA_FAILURE, "move %s aside to %s (is it "
			    "a mount point?); the copy stays in %s", dd, *old,
			    fresh);
			free(*old);
			*old = NULL;
			return -1;
		}
	}
	if (rename(fresh, dd) == -1) {
		ha_log_errno(HA_FAILURE, "move %s to %s", fresh, dd);
		if (*old && rename(*old, dd) == -1)
			ha_log_errno(HA_FAILURE, "move %s back to %s: do it "
			    "by hand", *old, dd);
		free(*old);
		*old = NULL;
		return -1;
	}
	sync_parent(dd);
	return 0;
}

static int
rebuild(struct hp *h)
{
	struct hp_target t;
	char *fresh = ha_xasprintf("%s.haprom-new", h->pg->data_dir);
	char *old = NULL, why[400], prev[24], prev_why[512];
	int64_t t0 = ha_now_ms();
	uint32_t tli = 0;
	int rc = HA_EXIT_FAIL, r;

	memset(&t, 0, sizeof(t));
	if (haprom_refuse_primary(h, "rebuild") == -1)
		goto out;
	if ((r = haprom_ask_primary(h, h->o->primary, &t)) != 0) {
		rc = r == -2 ? HA_EXIT_TEMP : HA_EXIT_FAIL;
		goto out;
	}
	if (access(fresh, F_OK) == 0) {
		ha_log(HA_WARNING, "removing %s, an incomplete copy left by an "
		    "earlier rebuild", fresh);
		if (haprom_rmtree(fresh) == -1)
			goto out;
	}
	snprintf(why, sizeof(why), "a rebuild from %s started and did not "
	    "finish", t.p.label);
	ha_strlcpy(prev, h->mark, sizeof(prev));
	ha_strlcpy(prev_why, h->mark_reason, sizeof(prev_why));
	if (haprom_mark_set(h, HAPROM_NEEDS_REBUILD, why) == -1)
		goto out;
	if (basebackup(h, &t.p, fresh) == -1 ||
	    haprom_standby_setup(h, fresh, &t.p) == -1 ||
	    haprom_refuse_primary(h, "rebuild") == -1 || haprom_stop(h) == -1) {
		/* The old data directory is still in place, as it was. */
		haprom_rmtree(fresh);
		haprom_mark_set(h, prev[0] ? prev : NULL, prev_why);
		goto out;
	}
	if (swap(h, fresh, &old) == -1)
		goto out;
	if (haprom_start(h) == -1 || haprom_wait_streaming(h, &t.p,
	    h->o->wait_ms > 0 ? h->o->wait_ms : 60000, &tli) == -1) {
		ha_log(HA_FAILURE, "the new copy in %s does not stream from "
		    "%s; %s%s%s", h->pg->data_dir, t.p.label,
		    old ? "the previous data directory is kept at " : "",
		    old ? old : "",
		    old ? " (to go back: stop the server, move it back)" : "");
		goto out;
	}
	if (haprom_mark_set(h, NULL, NULL) == -1)
		goto out;
	if (old && h->o->keep_old)
		ha_log(HA_INFO, "kept the previous data directory at %s", old);
	else if (old && haprom_rmtree(old) == 0)
		ha_log(HA_INFO, "removed the previous data directory");
	else if (old)
		ha_log(HA_WARNING, "could not remove all of %s: remove it by "
		    "hand", old);
	ha_log(HA_SUCCESS, "rebuilt from %s: streaming on timeline %u (took "
	    "%lldms)", t.p.label, (unsigned)tli, (long long)(ha_now_ms() - t0));
	rc = HA_EXIT_OK;
out:
	ha_pgwal_history_free(&t.hist);
	free(fresh);
	free(old);
	return rc;
}

int
haprom_rebuild(const struct ha_args *a, void *opts)
{
	const struct haprom_opts *o = opts;

	if (o->primary == NULL)
		return ha_cli_usage_error(a, "--primary HOST[:PORT] is "
		    "required");
	return haprom_run_locked(a, opts, rebuild);
}
