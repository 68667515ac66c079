/*
 * haprom status and check: what the local server is (primary, standby,
 * stopped, unreachable), where its WAL is, how far behind it or its
 * standbys are, and the node's mark; as a table or as JSON (schema in
 * doc/haprom.8). check is the quick probe hawatch runs: connect and query
 * within the timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/haprom/haprom.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"

struct view {
	const char *role;	/* primary, standby, stopped, unreachable */
	char error[512];
	struct ha_pg_node n;
	int version;
	char version_str[64];
	struct ha_pg_standby *sb;
	size_t n_sb;
	uint64_t position;	/* primary: current; standby: received */
	uint64_t lag;		/* standby: replay behind the primary */
};

static void
gather(const struct hp *h, struct view *v)
{
	struct ha_pg *pg;
	long pid;
	uint64_t ref;

	memset(v, 0, sizeof(*v));
	pg = haprom_connect(h, h->pg->timeout_ms, v->error, sizeof(v->error));
	if (pg == NULL) {
		v->role = haprom_server(h, &pid) == HP_RUNNING ? "unreachable" :
		    "stopped";
		return;
	}
	v->version = ha_pg_version(pg);
	ha_strlcpy(v->version_str, ha_pg_version_str(pg),
	    sizeof(v->version_str));
	if (ha_pg_node(pg, h->pg->timeout_ms, &v->n) == -1) {
		v->role = "unreachable";
		ha_strlcpy(v->error, ha_pg_error(pg), sizeof(v->error));
		ha_pg_close(pg);
		return;
	}
	if (!v->n.in_recovery) {
		v->role = "primary";
		v->position = v->n.current;
		if (ha_pg_standbys(pg, h->pg->timeout_ms, &v->sb,
		    &v->n_sb) == -1)
			ha_strlcpy(v->error, ha_pg_error(pg),
			    sizeof(v->error));
	} else {
		v->role = "standby";
		v->position = v->n.receive > v->n.replay ? v->n.receive :
		    v->n.replay;
		ref = v->n.latest_end > v->n.receive ? v->n.latest_end :
		    v->n.receive;
		v->lag = ref > v->n.replay ? ref - v->n.replay : 0;
	}
	ha_pg_close(pg);
}

static void
lsn(struct ha_buf *b, const char *key, uint64_t v, int json)
{
	char s[HA_PGWAL_LSN_STRLEN];

	ha_pgwal_lsn_fmt(v, s, sizeof(s));
	if (!json)
		ha_buf_printf(b, "%-12s %s\n", key, v ? s : "-");
	else if (v)
		ha_buf_printf(b, ", \"%s\": \"%s\"", key, s);
	else
		ha_buf_printf(b, ", \"%s\": null", key);
}

static void
text(const struct hp *h, const struct view *v, struct ha_buf *b)
{
	size_t i;
	char s[HA_PGWAL_LSN_STRLEN];

	ha_buf_printf(b, "%-12s %s\n%-12s %s\n", "node:", h->node, "role:",
	    v->role);
	ha_buf_printf(b, "%-12s %s%s%s\n", "mark:", h->mark[0] ? h->mark :
	    "none", h->mark[0] ? " - " : "", h->mark_reason);
	if (strcmp(v->role, "primary") && strcmp(v->role, "standby")) {
		ha_buf_printf(b, "%-12s %s\n", "error:", v->error);
		return;
	}
	ha_buf_printf(b, "%-12s %s\n%-12s %u\n", "version:", v->version_str,
	    "timeline:", (unsigned)v->n.tli);
	if (v->n.in_recovery) {
		lsn(b, "receive:", v->n.receive, 0);
		lsn(b, "replay:", v->n.replay, 0);
		ha_buf_printf(b, "%-12s %llu bytes\n", "lag:",
		    (unsigned long long)v->lag);
		if (v->n.receiver)
			ha_buf_printf(b, "%-12s %s from %s:%ld\n",
			    "replication:", v->n.recv_status,
			    v->n.sender_host, v->n.sender_port);
		else
			ha_buf_printf(b, "%-12s no WAL receiver\n",
			    "replication:");
		return;
	}
	lsn(b, "lsn:", v->n.current, 0);
	ha_buf_printf(b, "%-12s %s\n%-12s %zu\n", "read-only:", v->n.read_only ?
	    "yes (fenced)" : "no", "standbys:", v->n_sb);
	for (i = 0; i < v->n_sb; i++) {
		const struct ha_pg_standby *sb = &v->sb[i];

		ha_pgwal_lsn_fmt(sb->replay, s, sizeof(s));
		ha_buf_printf(b, "  %-12s %-15s %-10s %-6s replay %s lag %llu "
		    "bytes\n", sb->name[0] ? sb->name : "-", sb->addr,
		    sb->state, sb->sync_state, sb->replay ? s : "-",
		    (unsigned long long)(sb->replay && sb->replay <
		    v->n.current ? v->n.current - sb->replay : 0));
	}
	if (v->error[0])
		ha_buf_printf(b, "%-12s %s\n", "error:", v->error);
}

static void
json_standbys(const struct view *v, struct ha_buf *b)
{
	size_t i;

	ha_buf_puts(b, ", \"standbys\": [");
	for (i = 0; i < v->n_sb; i++) {
		const struct ha_pg_standby *sb = &v->sb[i];

		ha_buf_printf(b, "%s{\"name\": ", i ? ", " : "");
		ha_json_str(b, sb->name);
		ha_buf_puts(b, ", \"address\": ");
		ha_json_str(b, sb->addr);
		ha_buf_puts(b, ", \"state\": ");
		ha_json_str(b, sb->state);
		ha_buf_puts(b, ", \"sync_state\": ");
		ha_json_str(b, sb->sync_state);
		lsn(b, "sent_lsn", sb->sent, 1);
		lsn(b, "flush_lsn", sb->flush, 1);
		lsn(b, "replay_lsn", sb->replay, 1);
		ha_buf_printf(b, ", \"lag_bytes\": %llu}",
		    (unsigned long long)(sb->replay && sb->replay <
		    v->n.current ? v->n.current - sb->replay : 0));
	}
	ha_buf_puts(b, "]");
}

static void
json(const struct hp *h, const struct view *v, struct ha_buf *b)
{
	int up = !strcmp(v->role, "primary") || !strcmp(v->role, "standby");

	ha_buf_puts(b, "{\"node\": ");
	ha_json_str(b, h->node);
	ha_buf_printf(b, ", \"role\": \"%s\", \"mark\": ", v->role);
	ha_json_str(b, h->mark[0] ? h->mark : NULL);
	ha_buf_puts(b, ", \"mark_reason\": ");
	ha_json_str(b, h->mark[0] ? h->mark_reason : NULL);
	ha_buf_puts(b, ", \"error\": ");
	ha_json_str(b, v->error[0] ? v->error : NULL);
	if (up) {
		ha_buf_puts(b, ", \"version\": ");
		ha_json_str(b, v->version_str);
		ha_buf_printf(b, ", \"version_num\": %d, \"timeline\": %u, "
		    "\"position\": %llu", v->version, (unsigned)v->n.tli,
		    (unsigned long long)v->position);
		lsn(b, "lsn", v->position, 1);
		ha_buf_printf(b, ", \"read_only\": %s",
		    v->n.read_only ? "true" : "false");
	}
	if (up && v->n.in_recovery) {
		lsn(b, "receive_lsn", v->n.receive, 1);
		lsn(b, "replay_lsn", v->n.replay, 1);
		ha_buf_printf(b, ", \"lag_bytes\": %llu, \"replication\": ",
		    (unsigned long long)v->lag);
		if (v->n.receiver) {
			ha_buf_puts(b, "{\"status\": ");
			ha_json_str(b, v->n.recv_status);
			ha_buf_puts(b, ", \"sender_host\": ");
			ha_json_str(b, v->n.sender_host);
			ha_buf_printf(b, ", \"sender_port\": %ld}",
			    v->n.sender_port);
		} else {
			ha_buf_puts(b, "null");
		}
	} else if (up) {
		json_standbys(v, b);
	}
	ha_buf_puts(b, "}\n");
}

int
haprom_status(const struct ha_args *a, void *opts)
{
	struct hp h;
	struct view v;
	struct ha_buf out = { 0 };
	int rc;

	if ((rc = haprom_init(&h, a, opts)) != HA_EXIT_OK) {
		haprom_fini(&h);
		return rc;
	}
	gather(&h, &v);
	if (h.o->json)
		json(&h, &v, &out);
	else
		text(&h, &v, &out);
	if (ha_write_all(STDOUT_FILENO, out.s, out.len) == -1)
		ha_log_errno(HA_FAILURE, "write");
	rc = !strcmp(v.role, "primary") ? HA_EXIT_OK :
	    !strcmp(v.role, "standby") ? HA_EXIT_DOWN : HA_EXIT_FAIL;
	ha_buf_free(&out);
	free(v.sb);
	haprom_fini(&h);
	return rc;
}

int
haprom_check(const struct ha_args *a, void *opts)
{
	struct hp h;
	struct ha_pg *pg;
	struct ha_pg_res r;
	int64_t t, t0 = ha_now_ms(), left;
	char err[512];
	const char *v;
	int rc;

	if ((rc = haprom_init(&h, a, opts)) != HA_EXIT_OK) {
		haprom_fini(&h);
		return rc;
	}
	t = h.o->timeout_ms > 0 ? h.o->timeout_ms : h.pg->timeout_ms;
	rc = HA_EXIT_FAIL;
	if ((pg = haprom_connect(&h, t, err, sizeof(err))) == NULL) {
		ha_log(HA_FAILURE, "check: %s", err);
		goto out;
	}
	left = t - (ha_now_ms() - t0);
	if (ha_pg_exec(pg, "SELECT pg_is_in_recovery()", left > 0 ? left : 1,
	    &r) == -1) {
		ha_log(HA_FAILURE, "check: %s", ha_pg_error(pg));
	} else if (r.rows != 1 || r.cols != 1 || (v = ha_pg_res_get(&r, 0, 0,
	    NULL)) == NULL || (strcmp(v, "t") && strcmp(v, "f"))) {
		ha_log(HA_FAILURE, "check: unexpected reply");
	} else {
		rc = *v == 't' ? HA_EXIT_DOWN : HA_EXIT_OK;
		ha_log(HA_INFO, "%s: answered in %lldms",
		    *v == 't' ? "standby" : "primary",
		    (long long)(ha_now_ms() - t0));
	}
	ha_pg_res_free(&r);
	ha_pg_close(pg);
out:
	haprom_fini(&h);
	return rc;
}
