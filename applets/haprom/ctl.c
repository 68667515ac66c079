/*
 * haprom and the local server's files: is a postmaster running
 * (postmaster.pid), PostgreSQL's tools run as the [postgres] user with
 * C-locale output (pg_ctl, pg_controldata), files written into the data
 * directory as that user, and the node's mark (needs-rewind /
 * needs-rebuild) kept in <state_dir>/haprom.state through core/state.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"
#include "core/value.h"

/* 1 when pid exists and is not a zombie (dead, not yet reaped). */
static int
alive(long pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* "pid (name) S ...": the state follows the last parenthesis. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 1;
	return p[2] != 'Z' && p[2] != 'X';
}

enum hp_server
haprom_server(const struct hp *h, long *pid)
{
	char *path = ha_xasprintf("%s/postmaster.pid", h->pg->data_dir);
	char buf[32];
	ssize_t n;
	long p = 0;
	int fd;

	*pid = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return HP_STOPPED;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* The first line is the postmaster's pid. */
	if (sscanf(buf, "%ld", &p) != 1 || p <= 0 || p > 0x3fffffff)
		return HP_STOPPED;
	if (!alive(p))
		return HP_STOPPED;
	*pid = p;
	return HP_RUNNING;
}

int
haprom_check_datadir(const struct hp *h)
{
	char *v = ha_xasprintf("%s/PG_VERSION", h->pg->data_dir);
	struct stat st;
	int rc = 0;

	if (stat(h->pg->data_dir, &st) == -1) {
		ha_log_errno(HA_FAILURE, "[postgres] data_dir %s",
		    h->pg->data_dir);
		rc = -1;
	} else if (stat(v, &st) == -1) {
		ha_log(HA_FAILURE, "[postgres] data_dir %s is not a PostgreSQL "
		    "data directory (no PG_VERSION): check the configuration",
		    h->pg->data_dir);
		rc = -1;
	}
	free(v);
	return rc;
}

struct ha_pg *
haprom_connect(const struct hp *h, int64_t timeout_ms, char *err, size_t n)
{
	struct ha_pg_opts o = {
		.conninfo = h->pg->conninfo, .appname = h->node,
		.timeout_ms = timeout_ms, .as_uid = h->as_user, .uid = h->uid,
	};

	return ha_pg_connect(&o, err, n);
}

int
haprom_have_tool(const struct hp *h, const char *tool)
{
	char *path = ha_xasprintf("%s/%s", h->pg->bin_dir, tool);
	int ok = access(path, X_OK) == 0;

	free(path);
	return ok;
}

int
haprom_tool(const struct hp *h, const char *tool, char *const args[],
    int64_t timeout_ms, struct ha_run_result *r)
{
	char *argv[24], *home = ha_xasprintf("HOME=%s", h->home);
	char *env[] = { "LC_ALL=C", "LANG=C", home, NULL };
	struct ha_run_opts o = {
		.timeout_ms = timeout_ms, .env_add = env, .cwd = "/",
		.set_ids = h->as_user, .uid = h->uid, .gid = h->gid,
		.max_output = 256 * 1024,
	};
	struct ha_buf line = { 0 };
	size_t i;
	int rc;

	argv[0] = ha_xasprintf("%s/%s", h->pg->bin_dir, tool);
	for (i = 0; args[i] && i < HA_ARRAY_LEN(argv) - 2; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	for (i = 0; argv[i]; i++)
		ha_buf_printf(&line, "%s%s", i ? " " : "", argv[i]);
	ha_log(HA_DEBUG, "running %s", line.s);
	ha_buf_free(&line);
	rc = ha_run(argv, &o, r);
	free(argv[0]);
	free(home);
	return rc;
}

/* pg_ctl stop in one mode; 0 when it stopped in time. */
static int
stop_mode(const struct hp *h, const char *mode, int64_t ms)
{
	char secs[24];
	char *args[] = { "stop", "-D", h->pg->data_dir, "-m", (char *)mode,
	    "-w", "-t", secs, NULL };
	struct ha_run_result r;
	char d[64];
	int ok;

	snprintf(secs, sizeof(secs), "%lld", (long long)(ms + 999) / 1000);
	if (haprom_tool(h, "pg_ctl", args, ms + 5000, &r) == -1)
		return -1;
	if (!(ok = ha_run_ok(&r))) {
		ha_run_describe(&r, d, sizeof(d));
		ha_log(HA_WARNING, "pg_ctl stop -m %s: %s", mode, d);
		ha_run_log_output(&r, HA_WARNING, "pg_ctl");
	}
	ha_run_result_free(&r);
	return ok ? 0 : -1;
}

int
haprom_stop(const struct hp *h)
{
	char t[32];
	long pid;

	if (haprom_server(h, &pid) == HP_STOPPED)
		return 0;
	ha_log(HA_INFO, "stopping the server (pid %ld, fast mode)", pid);
	if (stop_mode(h, "fast", h->pg->stop_timeout_ms) == 0 &&
	    haprom_server(h, &pid) == HP_STOPPED) {
		ha_log(HA_SUCCESS, "server stopped cleanly");
		return 0;
	}
	ha_fmt_duration(h->pg->stop_timeout_ms, t, sizeof(t));
	ha_log(HA_WARNING, "a fast stop did not finish within %s: stopping "
	    "immediately (the server will need crash recovery at its next "
	    "start)", t);
	if (stop_mode(h, "immediate", 10000) == 0 &&
	    haprom_server(h, &pid) == HP_STOPPED) {
		ha_log(HA_SUCCESS, "server stopped (immediate mode)");
		return 0;
	}
	ha_log(HA_FAILURE, "could not stop the server (postmaster pid %ld): "
	    "it still runs; if it hangs, kill it (kill -9 %ld) and run this "
	    "command again", pid, pid);
	return -1;
}

/* Log the last lines of the server log after a failed start. */
static void
log_tail(const char *path)
{
	char buf[2048], *p, *nl;
	ssize_t n;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) +
	    1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = size > (off_t)sizeof(buf) - 1 && strchr(buf, '\n') ?
	    strchr(buf, '\n') + 1 : buf;
	for (; *p; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		ha_log(HA_WARNING, "server log: %.*s", (int)(nl - p), p);
	}
}

/* The default log directory (in the data directory) made as the user. */
static void
make_log_dir(const struct hp *h)
{
	char *dir = ha_xasprintf("%s/log", h->pg->data_dir);

	if (h->pg->log_file == NULL && mkdir(dir, 0700) == 0 && h->as_user &&
	    chown(dir, h->uid, h->gid) == -1)
		ha_log_errno(HA_WARNING, "chown %s", dir);
	free(dir);
}

int
haprom_start(const struct hp *h)
{
	char secs[24], d[64];
	const char *dir = h->pg->config_dir ? h->pg->config_dir :
	    h->pg->data_dir;
	char *args[] = { "start", "-D", (char *)dir, "-w", "-t", secs, "-l",
	    h->log_file, NULL };
	struct ha_run_result r;
	int ok;

	make_log_dir(h);
	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(h->pg->start_timeout_ms + 999) / 1000);
	ha_log(HA_INFO, "starting the server (log: %s)", h->log_file);
	if (haprom_tool(h, "pg_ctl", args, h->pg->start_timeout_ms + 5000,
	    &r) == -1)
		return -1;
	if (!(ok = ha_run_ok(&r))) {
		ha_run_describe(&r, d, sizeof(d));
		ha_log(HA_FAILURE, "pg_ctl start: %s", d);
		ha_run_log_output(&r, HA_WARNING, "pg_ctl");
		log_tail(h->log_file);
	}
	ha_run_result_free(&r);
	return ok ? 0 : -1;
}

int
haprom_controldata(const struct hp *h, struct ha_pgwal_control *c)
{
	char *args[] = { "-D", h->pg->data_dir, NULL };
	struct ha_run_result r;
	const char *why;
	char d[64];
	int rc = -1;

	if (haprom_tool(h, "pg_controldata", args, 30000, &r) == -1)
		return -1;
	if (!ha_run_ok(&r)) {
		ha_run_describe(&r, d, sizeof(d));
		ha_log(HA_FAILURE, "pg_controldata -D %s: %s", h->pg->data_dir,
		    d);
		ha_run_log_output(&r, HA_FAILURE, "pg_controldata");
	} else if (ha_pgwal_control_parse(r.output, r.output_len, c,
	    &why) == -1) {
		ha_log(HA_FAILURE, "pg_controldata -D %s: cannot read its "
		    "output: %s", h->pg->data_dir, why);
	} else {
		rc = 0;
	}
	ha_run_result_free(&r);
	return rc;
}

/*
 * Finish crash recovery of a stopped server in single-user mode (no
 * connections, so nothing but recovery writes), as pg_rewind would, so
 * that demote knows where its WAL ends. A standby's signal file goes
 * first (single-user mode refuses standby mode); demote writes it again.
 */
int
haprom_recover(const struct hp *h, const char *state)
{
	const char *dir = h->pg->config_dir ? h->pg->config_dir :
	    h->pg->data_dir;
	char *args[] = { "--single", "-D", (char *)dir, "template1", NULL };
	char *sig[2], d[64];
	struct ha_run_result r;
	size_t i;
	int ok;

	ha_log(HA_WARNING, "the server was not shut down cleanly (%s): "
	    "finishing its crash recovery in single-user mode", state);
	sig[0] = ha_xasprintf("%s/standby.signal", h->pg->data_dir);
	sig[1] = ha_xasprintf("%s/recovery.signal", h->pg->data_dir);
	for (i = 0; i < 2; i++) {
		if (unlink(sig[i]) == 0)
			ha_log(HA_INFO, "removed %s", sig[i]);
		free(sig[i]);
	}
	if (haprom_tool(h, "postgres", args, h->pg->start_timeout_ms, &r) == -1)
		return -1;
	if (!(ok = ha_run_ok(&r))) {
		ha_run_describe(&r, d, sizeof(d));
		ha_run_log_output(&r, HA_FAILURE, "postgres --single");
		ha_log(HA_FAILURE, "crash recovery in single-user mode: %s; "
		    "the server is stopped: look at the output above", d);
	} else {
		ha_log(HA_SUCCESS, "crash recovery finished (%lldms)",
		    (long long)r.elapsed_ms);
	}
	ha_run_result_free(&r);
	return ok ? 0 : -1;
}

int
haprom_write_file(const struct hp *h, const char *path, const void *data,
    size_t len)
{
	gid_t egid = getegid();
	int rc;

	/* Created as the user, so the server can read its own files. */
	if (h->as_user && (setegid(h->gid) == -1 || seteuid(h->uid) == -1)) {
		ha_log_errno(HA_FAILURE, "write %s as uid %ld", path,
		    (long)h->uid);
		if (setegid(egid) == -1)
			abort();
		return -1;
	}
	rc = ha_file_write_atomic(path, data, len, 0600);
	if (h->as_user && (seteuid(0) == -1 || setegid(egid) == -1))
		abort();
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) == -1) {
		ha_log_errno(HA_FAILURE, "remove %s", path);
		return 1;
	}
	return 0;
}

int
haprom_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	/* Depth first, never following a symlink or leaving the file system. */
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 ?
	    0 : -1;
}

int
haprom_refuse_primary(const struct hp *h, const char *what)
{
	struct ha_pg_node n;
	struct ha_pg *pg;
	char err[512];
	long pid;
	int rc = 0;

	if (haprom_server(h, &pid) == HP_STOPPED)
		return 0;
	if ((pg = haprom_connect(h, h->pg->timeout_ms, err, sizeof(err))) ==
	    NULL || ha_pg_node(pg, h->pg->timeout_ms, &n) == -1) {
		ha_log(HA_FAILURE, "cannot %s: the server runs (pid %ld) but "
		    "does not answer (%s); stop it first (pg_ctl stop), then "
		    "run this command again", what, pid,
		    pg ? ha_pg_error(pg) : err);
		rc = -1;
	} else if (!n.in_recovery) {
		ha_log(HA_FAILURE, "cannot %s: this node is a running "
		    "primary (timeline %u) and would lose its data; fence or "
		    "demote it first (haprom fence, haprom demote)", what,
		    (unsigned)n.tli);
		rc = -1;
	}
	ha_pg_close(pg);
	return rc;
}

int
haprom_mark_load(struct hp *h)
{
	struct ha_state *st;
	const char *m, *why;
	uint64_t since = 0;
	int r;

	h->mark[0] = h->mark_reason[0] = '\0';
	h->mark_since = 0;
	if ((r = ha_state_load(h->state_path, &st)) == -1)
		return -1;
	if (r == 1 && (m = ha_state_get(st, "mark")) != NULL) {
		if (strcmp(m, HAPROM_NEEDS_REWIND) != 0 &&
		    strcmp(m, HAPROM_NEEDS_REBUILD) != 0) {
			ha_log(HA_FAILURE, "%s: unknown mark '%s'",
			    h->state_path, m);
			ha_state_free(st);
			return -1;
		}
		ha_strlcpy(h->mark, m, sizeof(h->mark));
		why = ha_state_get(st, "mark_reason");
		ha_strlcpy(h->mark_reason, why ? why : "",
		    sizeof(h->mark_reason));
		(void)ha_state_get_u64(st, "mark_since", &since);
		h->mark_since = (long long)since;
	}
	ha_state_free(st);
	return 0;
}

int
haprom_mark_set(struct hp *h, const char *mark, const char *reason)
{
	struct ha_state *st;
	int r;

	/* A missing file loads as an empty state. */
	if (ha_state_load(h->state_path, &st) == -1)
		return -1;
	if (mark) {
		ha_state_set(st, "mark", mark);
		ha_state_set(st, "mark_reason", reason);
		ha_state_set_u64(st, "mark_since", (uint64_t)time(NULL));
	} else {
		ha_state_unset(st, "mark");
		ha_state_unset(st, "mark_reason");
		ha_state_unset(st, "mark_since");
	}
	if (mkdir(h->cfg->cluster->state_dir, 0700) == -1 && errno != EEXIST)
		ha_log_errno(HA_WARNING, "create %s",
		    h->cfg->cluster->state_dir);
	r = ha_state_save(st, h->state_path);
	ha_state_free(st);
	if (r == -1)
		return -1;
	if (mark)
		ha_log(HA_WARNING, "marked this node %s: %s", mark, reason);
	else if (h->mark[0])
		ha_log(HA_INFO, "cleared the mark %s", h->mark);
	return haprom_mark_load(h);
}

int
haprom_mark_refuses(const struct hp *h, const char *what)
{
	char when[64];
	time_t t = (time_t)h->mark_since;
	struct tm tm;

	if (h->mark[0] == '\0')
		return 0;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
	    localtime_r(&t, &tm));
	if (strcmp(h->mark, HAPROM_NEEDS_REWIND) == 0)
		ha_log(HA_FAILURE, "refusing to %s: this node is marked "
		    "needs-rewind since %s (%s); its WAL diverged from the "
		    "current primary's: run 'haprom demote --primary HOST' to "
		    "rewind it and make it a standby", what, when,
		    h->mark_reason);
	else
		ha_log(HA_FAILURE, "refusing to %s: this node is marked "
		    "needs-rebuild since %s (%s): run 'haprom rebuild "
		    "--primary HOST' to copy the primary afresh", what, when,
		    h->mark_reason);
	return 1;
}
