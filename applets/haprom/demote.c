/*
 * haprom demote --primary HOST[:PORT]: make this node a streaming standby
 * of a new primary. Steps, each logged, each leaving a documented state
 * (doc/haprom.8, DEMOTE):
 *
 *  1. ask the new primary for its system id, timeline and history;
 *  2. stop this server cleanly (fast, then immediate); after a crash,
 *     finish its recovery in single-user mode;
 *  3. compare its timeline history and WAL end with the primary's: the
 *     WAL written after the point where they part was never on the new
 *     primary;
 *  4. if so, copy those WAL files to <state_dir>/conflicts/, mark the
 *     node needs-rewind, and run pg_rewind (when it cannot work, the node
 *     is marked needs-rebuild instead);
 *  5. write primary_conninfo and standby.signal, start, wait until it
 *     streams from the new primary.
 *
 * Run again after any failure: every step is safe to repeat.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* This node before it follows: what its WAL holds. */
struct local {
	uint64_t end;		/* its position before the stop (0: unknown) */
	struct ha_pgwal_control ctl;
	uint32_t tli;
	struct ha_pgwal_history hist;	/* n == 0: unknown */
};

/* Where the two histories part. */
struct fork {
	int diverged;
	uint32_t tli;
	uint64_t point;
};

/* The history of this node's timeline, from its own pg_wal. */
static void
local_history(const struct hp *h, struct local *l)
{
	char *path = ha_xasprintf("%s/pg_wal/%08X.history", h->pg->data_dir,
	    (unsigned)l->tli);
	struct ha_buf b = { 0 };
	char chunk[4096];
	const char *why;
	ssize_t n;
	int fd = -1;

	if (l->tli > 1 && (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ha_log_errno(HA_WARNING, "cannot read %s", path);
		goto out;
	}
	while (fd != -1 && b.len < 1024 * 1024 &&
	    (n = read(fd, chunk, sizeof(chunk))) > 0)
		ha_buf_add(&b, chunk, (size_t)n);
	if (ha_pgwal_history_parse(b.s ? b.s : "", b.len, l->tli, &l->hist,
	    &why) == -1)
		ha_log(HA_WARNING, "%s: %s", path, why);
out:
	if (fd != -1)
		close(fd);
	ha_buf_free(&b);
	free(path);
}

/*
 * Before the stop: 1 when the server already streams from the new
 * primary (nothing to do), else 0 with its WAL position in l->end.
 */
static int
look(const struct hp *h, const struct hp_target *t, struct local *l)
{
	struct ha_pg_node n;
	struct ha_pg *pg;
	char err[512];
	long pid;
	int done = 0;

	if (haprom_server(h, &pid) == HP_STOPPED || (pg = haprom_connect(h,
	    h->pg->timeout_ms, err, sizeof(err))) == NULL)
		return 0;
	if (ha_pg_node(pg, h->pg->timeout_ms, &n) == 0) {
		if (haprom_is_streaming_from(&n, &t->p) && !h->mark[0]) {
			ha_log(HA_INFO, "already a standby streaming from %s "
			    "(timeline %u): nothing to do", t->p.label,
			    (unsigned)n.tli);
			done = 1;
		}
		l->end = n.in_recovery ? (n.receive > n.replay ? n.receive :
		    n.replay) : n.current;
		if (!n.in_recovery)
			ha_log(HA_INFO, "this node is a primary (timeline %u): "
			    "stopping it to follow %s", (unsigned)n.tli,
			    t->p.label);
	}
	ha_pg_close(pg);
	return done;
}

/*
 * Stop the server and read what its WAL holds. 1 when it already streams
 * from the new primary (nothing to do), 0, or -1 (logged).
 */
static int
stop_and_read(struct hp *h, const struct hp_target *t, struct local *l)
{
	char why[512];

	memset(l, 0, sizeof(*l));
	if (look(h, t, l) == 1)
		return 1;
	if (haprom_stop(h) == -1 || haprom_controldata(h, &l->ctl) == -1)
		return -1;
	/* After a crash only recovery knows where its WAL ends. */
	if (!ha_pgwal_control_clean(&l->ctl) && (haprom_recover(h,
	    l->ctl.state) == -1 || haprom_controldata(h, &l->ctl) == -1))
		return -1;
	if (l->ctl.sysid != t->sysid) {
		snprintf(why, sizeof(why), "another database cluster than the "
		    "primary %s (system identifier %llu, the primary's %llu)",
		    t->p.label, (unsigned long long)l->ctl.sysid,
		    (unsigned long long)t->sysid);
		haprom_mark_set(h, HAPROM_NEEDS_REBUILD, why);
		ha_log(HA_FAILURE, "this node's data is %s: it cannot follow "
		    "it; run 'haprom rebuild --primary %s'", why, t->p.label);
		return -1;
	}
	l->tli = l->ctl.tli > l->ctl.min_recovery_tli ? l->ctl.tli :
	    l->ctl.min_recovery_tli;
	local_history(h, l);
	return 0;
}

/*
 * Has this node WAL that the new primary never had? The histories part at
 * f->point on timeline f->tli. A cleanly stopped server's last record is
 * its shutdown checkpoint, so its WAL goes past that point exactly when
 * the checkpoint starts at or after it (or a standby received or must
 * replay beyond it). Unknown histories count as diverged: pg_rewind then
 * decides, and finds nothing to do if so.
 */
static void
find_fork(const struct local *l, const struct hp_target *t, struct fork *f)
{
	memset(f, 0, sizeof(*f));
	if (l->hist.n == 0 || ha_pgwal_fork(&l->hist, &t->hist, &f->tli,
	    &f->point) == -1) {
		f->diverged = 1;
		f->tli = l->tli;
		f->point = l->ctl.redo;
		return;
	}
	if (f->point == HA_PGWAL_NO_END)
		return;
	f->diverged = !ha_pgwal_control_clean(&l->ctl) ||
	    l->ctl.checkpoint >= f->point || l->ctl.min_recovery > f->point ||
	    l->end > f->point;
}

/* Timelines of this node from the fork on: WAL there is ours alone. */
static int
ours(const struct local *l, const struct fork *f, uint32_t tli)
{
	size_t i;

	if (tli == f->tli)
		return 1;
	for (i = 0; i < l->hist.n; i++)
		if (l->hist.v[i].tli == tli && tli > f->tli)
			return 1;
	return l->hist.n == 0 && tli >= f->tli;
}

/* Copy src to dst (temp name, fsync, rename); 0, 1 when already there. */
static int
copy_file(const char *src, const char *dst)
{
	struct stat a, b;
	struct ha_buf data = { 0 };
	char chunk[65536];
	ssize_t n;
	int fd, rc;

	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &a) ==
	    -1) {
		ha_log_errno(HA_FAILURE, "read %s", src);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (stat(dst, &b) == 0 && b.st_size == a.st_size) {
		close(fd);
		return 1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ha_buf_add(&data, chunk, (size_t)n);
	close(fd);
	if (n == -1) {
		ha_log_errno(HA_FAILURE, "read %s", src);
		ha_buf_free(&data);
		return -1;
	}
	rc = ha_file_write_atomic(dst, data.s ? data.s : "", data.len, 0600);
	ha_buf_free(&data);
	return rc;
}

/* Which files of pg_wal hold WAL written after the fork. */
static int
wanted(const struct hp *h, const struct local *l, const struct fork *f,
    const char *name)
{
	size_t len = strlen(name);
	uint64_t segno, segsz = l->ctl.segsz;
	uint32_t tli;

	if (len == 16 && strcmp(name + 8, ".history") == 0 &&
	    sscanf(name, "%8X", &tli) == 1)
		return tli > f->tli && ours(l, f, tli);
	if ((len != 24 && (len != 32 || strcmp(name + 24, ".partial"))) ||
	    ha_pgwal_segname_parse(name, len, segsz, &tli, &segno) == -1)
		return 0;
	(void)h;
	return ours(l, f, tli) && (tli != f->tli || segno >= f->point / segsz);
}

static void
write_about(const char *dir, const struct hp_target *t, const struct fork *f,
    const struct local *l, size_t n)
{
	char *path = ha_xasprintf("%s/ABOUT", dir), at[HA_PGWAL_LSN_STRLEN];
	char *text;

	ha_pgwal_lsn_fmt(f->point, at, sizeof(at));
	text = ha_xasprintf("This node's WAL diverged from the new primary "
	    "%s at %s on timeline %u.\nThe %zu file(s) here hold what it "
	    "wrote after that point, which pg_rewind removes from the data\n"
	    "directory. "
	    "Inspect with:\n  pg_waldump -p %s -t %u -s %s\n(and -t N for "
	    "later timelines of this node). Last timeline of this node: %u.\n",
	    t->p.label, at, (unsigned)f->tli, n, dir, (unsigned)f->tli, at,
	    (unsigned)l->tli);
	(void)ha_file_write_atomic(path, text, strlen(text), 0600);
	free(text);
	free(path);
}

/* Copy the diverged WAL to <state_dir>/conflicts/; 0 or -1 (logged). */
static int
save_wal(const struct hp *h, const struct hp_target *t, const struct local *l,
    const struct fork *f)
{
	const char *sd = h->cfg->cluster->state_dir;
	char *conf = ha_xasprintf("%s/conflicts", sd), *dir, *wal, *src, *dst;
	struct dirent *e;
	size_t n = 0;
	DIR *d;
	int rc = 0, r;

	dir = ha_xasprintf("%s/postgres-tl%u-%X-%X", conf, (unsigned)f->tli,
	    (unsigned)(f->point >> 32), (unsigned)f->point);
	wal = ha_xasprintf("%s/pg_wal", h->pg->data_dir);
	if ((mkdir(sd, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(conf, 0700) == -1 && errno != EEXIST) ||
	    (mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    (d = opendir(wal)) == NULL) {
		ha_log_errno(HA_FAILURE, "saving the diverged WAL in %s", dir);
		rc = -1;
		goto out;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!wanted(h, l, f, e->d_name))
			continue;
		src = ha_xasprintf("%s/%s", wal, e->d_name);
		dst = ha_xasprintf("%s/%s", dir, e->d_name);
		if ((r = copy_file(src, dst)) == -1)
			rc = -1;
		n += r == 0;
		free(src);
		free(dst);
	}
	closedir(d);
	if (rc == 0) {
		write_about(dir, t, f, l, n);
		ha_log(HA_SUCCESS, "saved %zu WAL file%s written after the "
		    "divergence point in %s", n, n == 1 ? "" : "s", dir);
	} else {
		ha_log(HA_FAILURE, "could not save the diverged WAL in %s: "
		    "nothing was rewound; make room and run this command again",
		    dir);
	}
out:
	free(conf);
	free(dir);
	free(wal);
	return rc;
}

/* The last line of pg_rewind's output, for the reason of a mark. */
static void
last_line(const struct ha_run_result *r, char *buf, size_t n)
{
	const char *s = r->output ? r->output : "", *e = s + strlen(s), *b;

	while (e > s && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	for (b = e; b > s && b[-1] != '\n'; b--)
		;
	snprintf(buf, n, "%.*s", (int)(e - b), b);
}

/* pg_rewind; 0 when it succeeded, else -1 with *r kept. */
static int
run_rewind(const struct hp *h, const struct hp_target *t,
    struct ha_run_result *r)
{
	struct ha_buf ci;
	char *target = ha_xasprintf("--target-pgdata=%s", h->pg->data_dir);
	char *source, *args[] = { target, NULL, NULL };
	int rc;

	haprom_peer_conninfo(h, &t->p, 1, &ci);
	source = ha_xasprintf("--source-server=%s", ci.s);
	args[1] = source;
	rc = haprom_tool(h, "pg_rewind", args, 0, r);
	ha_run_log_output(r, rc == 0 && ha_run_ok(r) ? HA_DEBUG : HA_WARNING,
	    "output");
	ha_buf_free(&ci);
	free(source);
	free(target);
	return rc == 0 && ha_run_ok(r) ? 0 : -1;
}

/*
 * What a failed pg_rewind leaves. It changes nothing until it has found
 * the last common checkpoint and said so ("rewinding from last common
 * checkpoint"); before that it only connects, checks (wal_log_hints,
 * system identifier) and reads this node's WAL. So: a source it cannot
 * reach leaves the node needs-rewind, to be tried again; any other early
 * failure means rewinding cannot work (needs-rebuild, data untouched);
 * a later one may have left the data half rewound (needs-rebuild).
 */
static void
rewind_failed(struct hp *h, const struct hp_target *t,
    const struct ha_run_result *r, const char *diverged)
{
	const char *out = r->output ? r->output : "";
	int began = strstr(out, "rewinding from last common checkpoint") != 0;
	char line[256], why[512];

	last_line(r, line, sizeof(line));
	if (!began && (strstr(out, "could not connect") ||
	    strstr(out, "connection to server"))) {
		haprom_mark_set(h, HAPROM_NEEDS_REWIND, diverged);
		ha_log(HA_FAILURE, "pg_rewind cannot reach %s (%s): the server "
		    "is stopped and marked needs-rewind; run this command "
		    "again when it can", t->p.label, line);
		return;
	}
	snprintf(why, sizeof(why), "pg_rewind %s: %s", began ? "failed half "
	    "way, the data directory may be inconsistent" : "cannot rewind it",
	    line);
	haprom_mark_set(h, HAPROM_NEEDS_REBUILD, why);
	ha_log(HA_FAILURE, "%s; run 'haprom rebuild --primary %s' (the server "
	    "is stopped%s)", why, t->p.label, began ? "" : ", its data "
	    "untouched");
}

/* The timeline of the source's last checkpoint (pg_control), or 0. */
static uint32_t
checkpoint_tli(struct ha_pg *pg, int64_t timeout_ms)
{
	struct ha_pg_res r;
	const char *v;
	uint32_t tli = 0;

	memset(&r, 0, sizeof(r));
	if (ha_pg_exec(pg, "SELECT timeline_id FROM pg_control_checkpoint()",
	    timeout_ms, &r) == 0 && (v = ha_pg_res_get(&r, 0, 0, NULL)) != NULL)
		tli = (uint32_t)strtoul(v, NULL, 10);
	ha_pg_res_free(&r);
	return tli;
}

/*
 * pg_rewind reads the source's timeline from its pg_control, which a
 * just-promoted primary updates only at its first checkpoint after the
 * promotion (spread out, so possibly minutes later); before that it sees
 * "the same timeline" and rewinds nothing, and the standby then cannot
 * follow. So: make sure the source has checkpointed on its new timeline,
 * asking it to (CHECKPOINT, which the replication user may do with the
 * pg_checkpoint role) and waiting for it. 0, or -1 (logged).
 */
static int
source_checkpointed(const struct hp *h, const struct hp_target *t)
{
	struct ha_pg_opts o = {
		.appname = h->node, .passfile = h->pg->passfile,
		.timeout_ms = h->pg->timeout_ms,
		.as_uid = h->as_user, .uid = h->uid,
	};
	struct ha_buf ci;
	struct ha_pg *pg;
	char err[512];
	int64_t end = ha_now_ms() + (h->o->wait_ms > 0 ? h->o->wait_ms :
	    120000);
	uint32_t tli;
	int asked = 0;

	haprom_peer_conninfo(h, &t->p, 1, &ci);
	o.conninfo = ci.s;
	pg = ha_pg_connect(&o, err, sizeof(err));
	ha_buf_free(&ci);
	if (pg == NULL) {
		ha_log(HA_FAILURE, "pg_rewind cannot reach %s (it must log in "
		    "to the postgres database: %s)", t->p.label, err);
		return -1;
	}
	while ((tli = checkpoint_tli(pg, h->pg->timeout_ms)) < t->tli) {
		if (!asked) {
			asked = 1;
			ha_log(HA_INFO, "%s has not checkpointed since it became "
			    "timeline %u (its pg_control says %u): asking it to",
			    t->p.label, (unsigned)t->tli, (unsigned)tli);
			if (ha_pg_run(pg, "CHECKPOINT", h->pg->timeout_ms) == -1)
				ha_log(HA_WARNING, "CHECKPOINT on %s: %s: waiting "
				    "for its own (grant pg_checkpoint to %s to "
				    "skip the wait)", t->p.label, ha_pg_error(pg),
				    h->pg->replication_user);
			continue;
		}
		if (ha_now_ms() >= end) {
			ha_log(HA_FAILURE, "%s has still not checkpointed on "
			    "timeline %u: pg_rewind would see the old timeline "
			    "and rewind nothing", t->p.label, (unsigned)t->tli);
			ha_pg_close(pg);
			return -1;
		}
		usleep(200 * 1000);
	}
	ha_pg_close(pg);
	return 0;
}

static int
do_rewind(struct hp *h, const struct hp_target *t, const char *diverged)
{
	struct ha_run_result r;

	if (!haprom_have_tool(h, "pg_rewind")) {
		ha_log(HA_FAILURE, "pg_rewind is not in [postgres] bin_dir "
		    "%s: install it (Debian: postgresql-15) or fix bin_dir, "
		    "then run 'haprom demote --primary %s' again; the server "
		    "is stopped and marked needs-rewind", h->pg->bin_dir,
		    t->p.label);
		return -1;
	}
	if (source_checkpointed(h, t) == -1) {
		ha_log(HA_FAILURE, "the server is stopped and marked "
		    "needs-rewind; run this command again");
		return -1;
	}
	/* If we die while it runs, the data may be half rewound. */
	if (haprom_mark_set(h, HAPROM_NEEDS_REBUILD, "pg_rewind started and "
	    "did not finish: the data directory may be inconsistent") == -1)
		return -1;
	if (run_rewind(h, t, &r) == -1) {
		rewind_failed(h, t, &r, diverged);
		ha_run_result_free(&r);
		return -1;
	}
	ha_log(HA_SUCCESS, "rewound to the history of %s (pg_rewind, %lldms)",
	    t->p.label, (long long)r.elapsed_ms);
	ha_run_result_free(&r);
	return haprom_mark_set(h, NULL, NULL);
}

static int
demote(struct hp *h)
{
	struct hp_target t;
	struct local l;
	struct fork f;
	char at[HA_PGWAL_LSN_STRLEN], why[512];
	int64_t t0 = ha_now_ms();
	uint32_t tli = 0;
	int rc = HA_EXIT_FAIL, r;

	memset(&l, 0, sizeof(l));
	memset(&t, 0, sizeof(t));
	if ((!strcmp(h->mark, HAPROM_NEEDS_REBUILD) &&
	    haprom_mark_refuses(h, "demote")) ||
	    haprom_check_datadir(h) == -1)
		goto out;
	if ((r = haprom_ask_primary(h, h->o->primary, &t)) != 0) {
		rc = r == -2 ? HA_EXIT_TEMP : HA_EXIT_FAIL;
		goto out;
	}
	if ((r = stop_and_read(h, &t, &l)) != 0) {
		rc = r == 1 ? HA_EXIT_OK : HA_EXIT_FAIL;
		goto out;
	}
	find_fork(&l, &t, &f);
	ha_pgwal_lsn_fmt(f.point, at, sizeof(at));
	if (f.diverged) {
		ha_log(HA_WARNING, "this node's WAL diverged from %s's at %s "
		    "on timeline %u: saving it, then rewinding", t.p.label, at,
		    (unsigned)f.tli);
		snprintf(why, sizeof(why), "WAL diverged from %s at %s on "
		    "timeline %u", t.p.label, at, (unsigned)f.tli);
		if (haprom_mark_set(h, HAPROM_NEEDS_REWIND, why) == -1 ||
		    save_wal(h, &t, &l, &f) == -1 ||
		    do_rewind(h, &t, why) == -1)
			goto out;
	} else {
		ha_log(HA_INFO, "no divergence: %s has all of this node's WAL "
		    "(timeline %u)", t.p.label, (unsigned)l.tli);
		if (h->mark[0] && haprom_mark_set(h, NULL, NULL) == -1)
			goto out;
	}
	if (haprom_standby_setup(h, h->pg->data_dir, &t.p) == -1 ||
	    haprom_start(h) == -1 || haprom_wait_streaming(h, &t.p,
	    h->o->wait_ms > 0 ? h->o->wait_ms : 60000, &tli) == -1) {
		ha_log(HA_FAILURE, "demote did not finish: the data directory "
		    "is set up as a standby of %s; fix the cause above and run "
		    "this command again", t.p.label);
		goto out;
	}
	ha_log(HA_SUCCESS, "now a standby streaming from %s (timeline %u, "
	    "took %lldms)", t.p.label, (unsigned)tli,
	    (long long)(ha_now_ms() - t0));
	rc = HA_EXIT_OK;
out:
	ha_pgwal_history_free(&l.hist);
	ha_pgwal_history_free(&t.hist);
	return rc;
}

int
haprom_demote(const struct ha_args *a, void *opts)
{
	const struct haprom_opts *o = opts;

	if (o->primary == NULL)
		return ha_cli_usage_error(a, "--primary HOST[:PORT] is "
		    "required");
	return haprom_run_locked(a, opts, demote);
}
