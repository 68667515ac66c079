/*
 * hasync: authenticated delta sync of file trees between nodes over
 * mutual TLS (cluster port + 1), zstd-compressed (zlib with an older
 * peer); push, pull, serve, status (watch comes on top of the push API
 * in hasync.h).
 * Manual: doc/hasync.8.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "applets/applets.h"
#include "applets/hasync/hasync.h"
#include "applets/hasync/watch.h"
#include "core/journal.h"
#include "core/config.h"
#include "core/daemon.h"
#include "core/json.h"
#include "core/log.h"
#include "core/members.h"
#include "core/state.h"
#include "core/util.h"
#include "core/wire.h"

struct hasync_opts {
	int dry_run;
	int foreground;
	int json;
	long term;
	const char *paths_from;
};

int hs_serve(struct ha_cfg *cfg, const struct ha_args *a, int foreground);

#define O(f) offsetof(struct hasync_opts, f)

static const struct ha_opt push_opts[] = {
	{ 'n', "dry-run", NULL, "say what would change, write nothing",
	  HA_OPT_FLAG, O(dry_run), 0, 0 },
	{ 0, "paths-from", "FILE", "push only these paths of the set, one "
	  "relative path a line (- for stdin); a path gone here is deleted "
	  "there when the set has delete = yes", HA_OPT_STR, O(paths_from),
	  0, 0 },
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

static const struct ha_opt watch_opts[] = {
	{ 'f', "foreground", NULL, "stay in the foreground, log to stderr too",
	  HA_OPT_FLAG, O(foreground), 0, 0 },
	{ 0, "term", "N", "the leader's term, checked by the receivers "
	  "(default: none)", HA_OPT_INT, O(term), 0, 0x7fffffff },
	{ 0 },
};

static const struct ha_opt status_opts[] = {
	{ 0, "json", NULL, "print JSON for machines", HA_OPT_FLAG, O(json),
	  0, 0 },
	{ 0 },
};

static struct ha_cfg *
load(const struct ha_args *a)
{
	return ha_cfg_load(a->conf, a->overrides, a->n_overrides);
}

static void
report(const struct ha_cfg_sync *set, const char *peer, int dry,
    const struct hs_push_stats *st)
{
	if (dry) {
		printf("%s -> %s: dry run: %llu file(s) to send, %llu "
		    "change(s)\n", set->name, peer,
		    (unsigned long long)st->files,
		    (unsigned long long)st->changes);
		return;
	}
	printf("%s -> %s: %llu entries, %llu file(s) sent (%llu bytes), "
	    "%llu deleted, %llu bytes sent, generation %llu, %lld ms\n",
	    set->name, peer, (unsigned long long)st->entries,
	    (unsigned long long)st->files, (unsigned long long)st->bytes_file,
	    (unsigned long long)st->deleted,
	    (unsigned long long)st->bytes_sent,
	    (unsigned long long)st->generation, (long long)st->ms);
}

void
hs_remember_push(const struct ha_cfg *cfg, const struct ha_cfg_sync *set,
    const char *peer, const char *result, uint64_t gen)
{
	char k[4][128], v[4][128];
	const char *kv[8];
	int i;

	snprintf(k[0], sizeof(k[0]), "time.%s", set->name);
	snprintf(v[0], sizeof(v[0]), "%lld", (long long)time(NULL));
	snprintf(k[1], sizeof(k[1]), "result.%s", set->name);
	snprintf(v[1], sizeof(v[1]), "%s", result);
	snprintf(k[2], sizeof(k[2]), "peer.%s", set->name);
	snprintf(v[2], sizeof(v[2]), "%s", peer);
	snprintf(k[3], sizeof(k[3]), "gen.%s", set->name);
	snprintf(v[3], sizeof(v[3]), "%llu", (unsigned long long)gen);
	for (i = 0; i < 4; i++)
		kv[2 * i] = k[i], kv[2 * i + 1] = v[i];
	(void)hs_state_set(cfg, "push.state", kv, gen ? 4 : 3);
}

/* --paths-from: one path a line; NULL (logged) when unreadable. */
static char **
read_paths(const char *file, size_t *n)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;

	*n = 0;
	if (f == NULL) {
		ha_log_errno(HA_FAILURE, "cannot read %s", file);
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		v = ha_xreallocarray(v, *n + 2, sizeof(*v));
		v[(*n)++] = ha_xstrdup(line);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (v == NULL)
		v = ha_xcalloc(1, sizeof(*v));
	return v;
}

/* One set to every peer (connections kept in conns across sets). */
static int
push_one(struct ha_cfg *cfg, const struct ha_cfg_sync *set,
    const char *const *peers, size_t npeers, struct hs_conn **conns,
    const struct hasync_opts *o)
{
	struct hs_push_stats st;
	char err[600], **paths = NULL;
	size_t i, np = 0;
	int rc = 0;

	if (o->paths_from && (paths = read_paths(o->paths_from, &np)) == NULL)
		return -1;
	if (o->paths_from && np == 0) {
		ha_log(HA_INFO, "%s: no paths to push", set->name);
		free(paths);
		return 0;
	}

	if (set->pre_command && !o->dry_run && hs_run_cmd("pre_command",
	    set->pre_command, set->name, set->timeout_ms, err,
	    sizeof(err)) == -1) {
		ha_log(HA_FAILURE, "%s: not pushed", err);
		hs_remember_push(cfg, set, "-", err, 0);
		return -1;
	}
	for (i = 0; i < npeers; i++) {
		if (conns[i] == NULL && (conns[i] = hs_connect(cfg, peers[i],
		    err, sizeof(err))) == NULL) {
			ha_log(HA_FAILURE, "push of %s to %s: %s", set->name,
			    peers[i], err);
			hs_remember_push(cfg, set, peers[i], err, 0);
			rc = -1;
			continue;
		}
		if (hs_push_set(conns[i], cfg, set, (const char *const *)paths,
		    np, o->term, o->dry_run, &st, err, sizeof(err)) == -1) {
			ha_log(HA_FAILURE, "push of %s to %s: %s", set->name,
			    peers[i], err);
			if (!o->dry_run)
				hs_remember_push(cfg, set, peers[i], err, 0);
			rc = -1;
			continue;
		}
		report(set, peers[i], o->dry_run, &st);
		if (!o->dry_run) {
			ha_log(HA_SUCCESS, "pushed %s to %s: %llu file(s), "
			    "%llu bytes sent, generation %llu", set->name,
			    peers[i], (unsigned long long)st.files,
			    (unsigned long long)st.bytes_sent,
			    (unsigned long long)st.generation);
			hs_remember_push(cfg, set, peers[i], "ok", st.generation);
		}
	}
	for (i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

/* push PATH PEER:DEST: an ad hoc set; DEST names a [sync] set there. */
static int
push_adhoc(struct ha_cfg *cfg, const struct ha_args *a,
    const struct hasync_opts *o)
{
	struct ha_cfg_sync set;
	struct hs_conn *conn = NULL;
	char *peer = ha_xstrdup(a->argv[1]), *dest = strchr(peer, ':');
	const char *peers[1];
	int rc;

	*dest++ = '\0';
	memset(&set, 0, sizeof(set));
	set.name = dest;
	set.path = a->argv[0];
	set.compress = 1;
	set.timeout_ms = 30000;
	peers[0] = peer;
	rc = push_one(cfg, &set, peers, 1, &conn, o);
	hs_close(conn);
	free(peer);
	return rc;
}

static int
cmd_push(const struct ha_args *a, void *op)
{
	const struct hasync_opts *o = op;
	struct ha_cfg *cfg = load(a);
	const char **peers = NULL;
	struct hs_conn **conns = NULL;
	size_t i, np = 0;
	uint32_t out;
	int rc = HA_EXIT_OK, j;

	if (cfg == NULL)
		return HA_EXIT_USAGE;
	if (a->argc == 2 && strchr(a->argv[1], ':') && !ha_cfg_sync(cfg,
	    a->argv[0])) {
		rc = push_adhoc(cfg, a, o) == -1 ? HA_EXIT_FAIL : HA_EXIT_OK;
		goto out;
	}
	for (j = 0; j < a->argc; j++)
		if (ha_cfg_sync(cfg, a->argv[j]) == NULL) {
			rc = ha_cli_usage_error(a, "no [sync %s] in %s",
			    a->argv[j], cfg->path);
			goto out;
		}
	/* Every other member, but those removed from the cluster. */
	out = ha_members_removed(cfg);
	peers = ha_xcalloc(cfg->n_nodes + 1, sizeof(*peers));
	for (i = 0; i < cfg->n_nodes; i++)
		if (cfg->nodes[i].role == HA_ROLE_MEMBER && !(out & (1u << i)) &&
		    strcmp(cfg->nodes[i].name, cfg->cluster->node) != 0)
			peers[np++] = cfg->nodes[i].name;
	conns = ha_xcalloc(np + 1, sizeof(*conns));
	for (i = 0; i < cfg->n_syncs; i++) {
		const struct ha_cfg_sync *set = &cfg->syncs[i];
		int want = a->argc == 0;

		for (j = 0; j < a->argc; j++)
			want |= strcmp(a->argv[j], set->name) == 0;
		if (want && push_one(cfg, set, peers, np, conns, o) == -1)
			rc = HA_EXIT_FAIL;
	}
	for (i = 0; i < np; i++)
		hs_close(conns[i]);
out:
	free(conns);
	free(peers);
	ha_cfg_free(cfg);
	return rc;
}

static int
cmd_pull(const struct ha_args *a, void *op)
{
	const struct hasync_opts *o = op;
	struct ha_cfg *cfg = load(a);
	const struct ha_cfg_sync *set;
	struct hs_conn *c = NULL;
	struct ha_buf b = { 0 };
	char err[400];
	uint8_t type;
	int rc = HA_EXIT_FAIL;

	if (cfg == NULL)
		return HA_EXIT_USAGE;
	if ((set = ha_cfg_sync(cfg, a->argv[0])) == NULL) {
		rc = ha_cli_usage_error(a, "no [sync %s] in %s", a->argv[0],
		    cfg->path);
		goto out;
	}
	if ((c = hs_connect(cfg, a->argv[1], err, sizeof(err))) == NULL) {
		ha_log(HA_FAILURE, "pull of %s from %s: %s", set->name,
		    a->argv[1], err);
		goto out;
	}
	c->print = 1;
	ha_tlv_str(&b, 1 | HA_TLV_CRIT, set->name);
	ha_tlv_u32(&b, 2, o->dry_run ? HS_F_DRY : 0);
	hs_queue(c, HS_PULL, b.s, b.len);
	c->timeout_ms = set->timeout_ms;
	if (hs_recv(c, &type) != 1 || type != HS_BEGIN) {
		ha_log(HA_FAILURE, "pull of %s from %s failed", set->name,
		    a->argv[1]);
		goto out;
	}
	if (hs_receive(c, cfg) == 0) {
		if (!o->dry_run)
			ha_log(HA_SUCCESS, "pulled %s from %s", set->name,
			    a->argv[1]);
		rc = HA_EXIT_OK;
	}
out:
	ha_buf_free(&b);
	hs_close(c);
	ha_cfg_free(cfg);
	return rc;
}

static int
cmd_serve(const struct ha_args *a, void *op)
{
	const struct hasync_opts *o = op;
	struct ha_cfg *cfg;

	/* hawatch may SIGHUP a serve it has just started. */
	ha_daemon_hold_signals();
	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	return hs_serve(cfg, a, o->foreground);	/* frees cfg */
}

static int
cmd_watch(const struct ha_args *a, void *op)
{
	const struct hasync_opts *o = op;
	struct ha_cfg *cfg;
	int rc, j;

	/* hawatch may SIGHUP a watch it has just started. */
	ha_daemon_hold_signals();
	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	for (j = 0; j < a->argc; j++)
		if (ha_cfg_sync(cfg, a->argv[j]) == NULL) {
			rc = ha_cli_usage_error(a, "no [sync %s] in %s",
			    a->argv[j], cfg->path);
			goto out;
		}
	return hs_watch(cfg, a, o->foreground, o->term);	/* frees cfg */
out:
	ha_cfg_free(cfg);
	return rc;
}

/*
 * The watch backlog of set: paths in the journals of every follower
 * (total into *text, per follower into json when not NULL); -1 when no
 * follower has a journal (the set was never watched).
 */
static long
backlog(const struct ha_cfg *cfg, const char *set, char *text, size_t n,
    struct ha_buf *json)
{
	long total = -1;
	int rescan_any = 0, first = 1;
	uint32_t out = ha_members_removed(cfg);
	size_t i;

	if (json)
		ha_buf_puts(json, "{");
	for (i = 0; i < cfg->n_nodes; i++) {
		const struct ha_cfg_node *nd = &cfg->nodes[i];
		char *path;
		size_t cnt;
		int rescan;
		struct stat st;

		if (nd->role != HA_ROLE_MEMBER || (out & (1u << i)) ||
		    strcmp(nd->name, cfg->cluster->node) == 0)
			continue;
		path = hs_journal_path(cfg, set, nd->name);
		if (stat(path, &st) == -1 ||
		    ha_journal_peek(path, &cnt, &rescan) == -1) {
			free(path);
			continue;
		}
		free(path);
		total = (total < 0 ? 0 : total) + (long)cnt;
		rescan_any |= rescan;
		if (json) {
			ha_buf_printf(json, "%s", first ? "" : ",");
			ha_json_str(json, nd->name);
			ha_buf_printf(json, ":{\"paths\":%zu,\"rescan\":%s}",
			    cnt, rescan ? "true" : "false");
			first = 0;
		}
	}
	if (json)
		ha_buf_puts(json, "}");
	if (total < 0)
		snprintf(text, n, "-");
	else
		snprintf(text, n, "%ld%s", total, rescan_any ? "+all" : "");
	return total;
}

static struct ha_state *
state_of(const struct ha_cfg *cfg, const char *file)
{
	char *path = ha_xasprintf("%s/hasync/%s", cfg->cluster->state_dir,
	    file);
	struct ha_state *st = NULL;

	if (ha_state_load(path, &st) == -1)
		st = ha_state_new();
	free(path);
	return st;
}

static const char *
get(const struct ha_state *st, const char *what, const char *set)
{
	char key[160];

	snprintf(key, sizeof(key), "%s.%s", what, set);
	return ha_state_get(st, key);
}

static void
fmt_time(const char *secs, char *buf, size_t n)
{
	time_t t = secs ? (time_t)atoll(secs) : 0;

	if (t == 0)
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* A set's generation: the newer of the last push made and received. */
static unsigned long long
generation(const struct ha_state *rs, const struct ha_state *ps,
    const char *set)
{
	const char *rg = get(rs, "gen", set), *pg = get(ps, "gen", set);
	unsigned long long g1 = rg ? strtoull(rg, NULL, 10) : 0;
	unsigned long long g2 = pg ? strtoull(pg, NULL, 10) : 0;

	return g1 > g2 ? g1 : g2;
}

/*
 * Each sync set as `hasync status` and `hactl status` show it: a table
 * row per set into text, a JSON array into json (either may be NULL).
 */
void
hs_status_report(const struct ha_cfg *cfg, struct ha_buf *text,
    struct ha_buf *json)
{
	struct ha_state *rs = state_of(cfg, "recv.state");
	struct ha_state *ps = state_of(cfg, "push.state");
	time_t now = time(NULL);
	size_t i;

	if (json)
		ha_buf_puts(json, "[");
	if (text)
		ha_buf_printf(text, "%-16s %-10s %-20s %-20s %-8s %s\n", "SET",
		    "GENERATION", "LAST PUSH", "LAST RECEIVED", "BACKLOG",
		    "RESULT");
	for (i = 0; i < cfg->n_syncs; i++) {
		const char *n = cfg->syncs[i].name;
		const char *res = get(ps, "result", n), *bl, *ptime;
		char bltext[32];
		long bln;
		struct ha_buf blj = { 0 };
		unsigned long long g = generation(rs, ps, n);
		char pt[32], rt[32];

		bln = backlog(cfg, n, bltext, sizeof(bltext),
		    json ? &blj : NULL);
		bl = bln < 0 ? NULL : bltext;
		ptime = get(ps, "time", n);
		fmt_time(ptime, pt, sizeof(pt));
		fmt_time(get(rs, "time", n), rt, sizeof(rt));
		if (text)
			ha_buf_printf(text, "%-16s %-10llu %-20s %-20s %-8s %s\n",
			    n, g, pt, rt, bl ? bl : "-", res ? res : "-");
		if (!json) {
			ha_buf_free(&blj);
			continue;
		}
		ha_buf_printf(json, "%s{\"name\":", i ? "," : "");
		ha_json_str(json, n);
		ha_buf_puts(json, ",\"path\":");
		ha_json_str(json, cfg->syncs[i].path);
		ha_buf_printf(json, ",\"generation\":%llu,\"last_push\":"
		    "{\"time\":", g);
		ha_json_str(json, strcmp(pt, "-") ? pt : NULL);
		if (ptime && atoll(ptime) > 0)
			ha_buf_printf(json, ",\"age_s\":%lld",
			    (long long)(now - (time_t)atoll(ptime)));
		else
			ha_buf_puts(json, ",\"age_s\":null");
		ha_buf_puts(json, ",\"peer\":");
		ha_json_str(json, get(ps, "peer", n));
		ha_buf_puts(json, ",\"result\":");
		ha_json_str(json, res);
		ha_buf_puts(json, "},\"last_received\":{\"time\":");
		ha_json_str(json, strcmp(rt, "-") ? rt : NULL);
		ha_buf_puts(json, ",\"from\":");
		ha_json_str(json, get(rs, "from", n));
		if (bl)
			ha_buf_printf(json, "},\"backlog\":%ld", bln);
		else
			ha_buf_puts(json, "},\"backlog\":null");
		ha_buf_printf(json, ",\"backlog_by_peer\":%s}",
		    bl ? blj.s : "null");
		ha_buf_free(&blj);
	}
	if (json)
		ha_buf_puts(json, "]");
	ha_state_free(rs);
	ha_state_free(ps);
}

/* A set's generation and watch backlog (-1: never watched), for metrics. */
void
hs_set_figures(const struct ha_cfg *cfg, const char *set, long *backlog_paths,
    unsigned long long *gen)
{
	struct ha_state *rs = state_of(cfg, "recv.state");
	struct ha_state *ps = state_of(cfg, "push.state");
	char text[32];

	*gen = generation(rs, ps, set);
	*backlog_paths = backlog(cfg, set, text, sizeof(text), NULL);
	ha_state_free(rs);
	ha_state_free(ps);
}

static int
cmd_status(const struct ha_args *a, void *op)
{
	const struct hasync_opts *o = op;
	struct ha_cfg *cfg = load(a);
	struct ha_buf b = { 0 };

	if (cfg == NULL)
		return HA_EXIT_USAGE;
	if (o->json) {
		ha_buf_puts(&b, "{\"sets\":");
		hs_status_report(cfg, NULL, &b);
		ha_buf_puts(&b, "}\n");
	} else {
		hs_status_report(cfg, &b, NULL);
	}
	fputs(b.s ? b.s : "", stdout);
	ha_buf_free(&b);
	ha_cfg_free(cfg);
	return HA_EXIT_OK;
}

static const struct ha_cmd cmds[] = {
	{ "pull", "NAME PEER", "Fetch the tree of [sync NAME] from PEER.",
	  pull_opts, 2, 2, HA_CMD_CONFIG, cmd_pull },
	{ "push", "[NAME...] | PATH PEER:DEST", "Send the trees of the named "
	  "[sync] sections (default: all) to every other member, or PATH to "
	  "[sync DEST] on one peer.", push_opts, 0, -1, HA_CMD_CONFIG,
	  cmd_push },
	{ "serve", "", "Receive pushes from the cluster's leader (daemon).",
	  daemon_opts, 0, 0, HA_CMD_CONFIG, cmd_serve },
	{ "status", "", "Show each sync set: generation, backlog, last push.",
	  status_opts, 0, 0, HA_CMD_CONFIG, cmd_status },
	{ "watch", "NAME...", "Push changes of the named trees as they "
	  "happen (daemon, inotify).", watch_opts, 1, -1, HA_CMD_CONFIG,
	  cmd_watch },
};

static const struct ha_applet app = {
	"hasync", "Sync file trees between nodes", cmds, HA_ARRAY_LEN(cmds),
};

int
hasync_main(int argc, char **argv)
{
	struct hasync_opts o = { .term = -1 };

	return ha_cli_main(&app, argc, argv, &o);
}
