/*
 * Following a primary: where it is (HOST[:PORT]), the connection strings
 * to reach it (replication, pg_rewind, primary_conninfo), the standby
 * setup in a data directory (standby.signal and primary_conninfo in
 * postgresql.auto.conf, both written atomically), and waiting until the
 * server streams from it. PostgreSQL 15 documentation, "Log-Shipping
 * Standby Servers".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/haprom/haprom.h"
#include "core/log.h"
#include "core/pgconf.h"
#include "core/util.h"
#include "core/value.h"

#define MAX_AUTO_CONF (1024 * 1024)

int
haprom_peer_parse(const struct hp *h, const char *spec, struct hp_peer *p)
{
	const char *why;
	char port[16];
	size_t n = strlen(spec);

	memset(p, 0, sizeof(*p));
	if (n == 0) {
		ha_log(HA_FAILURE, "--primary: empty host");
		return -1;
	}
	if (strchr(spec, ':') && !(spec[0] == '[' && spec[n - 1] == ']')) {
		if (ha_parse_hostport(spec, p->host, sizeof(p->host), &p->port,
		    &why) == -1) {
			ha_log(HA_FAILURE, "--primary %s: %s", spec, why);
			return -1;
		}
	} else {
		if (spec[0] == '[')
			spec++, n -= 2;
		if (n == 0 || n >= sizeof(p->host)) {
			ha_log(HA_FAILURE, "--primary '%s': not a host", spec);
			return -1;
		}
		memcpy(p->host, spec, n);
		p->host[n] = '\0';
		p->port = 5432;
		if (ha_pg_conninfo_get(h->pg->conninfo, "port", port,
		    sizeof(port)))
			p->port = atoi(port);
	}
	snprintf(p->label, sizeof(p->label), strchr(p->host, ':') ?
	    "[%s]:%d" : "%s:%d", p->host, p->port);
	return 0;
}

void
haprom_peer_conninfo(const struct hp *h, const struct hp_peer *p,
    int database, struct ha_buf *out)
{
	char port[16];

	memset(out, 0, sizeof(*out));
	snprintf(port, sizeof(port), "%d", p->port);
	ha_pgconf_conninfo_add(out, "host", p->host);
	ha_pgconf_conninfo_add(out, "port", port);
	ha_pgconf_conninfo_add(out, "user", h->pg->replication_user);
	ha_pgconf_conninfo_add(out, "application_name", h->node);
	if (h->pg->passfile)
		ha_pgconf_conninfo_add(out, "passfile", h->pg->passfile);
	if (database)
		ha_pgconf_conninfo_add(out, "dbname", "postgres");
}

struct ha_pg *
haprom_peer_connect(const struct hp *h, const struct hp_peer *p, char *err,
    size_t n)
{
	struct ha_buf ci;
	struct ha_pg *pg;
	struct ha_pg_opts o = {
		.appname = h->node, .passfile = h->pg->passfile,
		.replication = 1, .timeout_ms = h->pg->timeout_ms,
		.as_uid = h->as_user, .uid = h->uid,
	};

	haprom_peer_conninfo(h, p, 0, &ci);
	o.conninfo = ci.s;
	pg = ha_pg_connect(&o, err, n);
	ha_buf_free(&ci);
	return pg;
}

int
haprom_ask_primary(const struct hp *h, const char *spec, struct hp_target *t)
{
	struct ha_pg *pg;
	char err[512], *buf = NULL;
	const char *why;
	size_t len = 0;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (haprom_peer_parse(h, spec, &t->p) == -1)
		return -1;
	if ((pg = haprom_peer_connect(h, &t->p, err, sizeof(err))) == NULL) {
		ha_log(HA_FAILURE, "cannot reach the primary %s (%s); nothing "
		    "was changed: check that it runs and that its pg_hba.conf "
		    "lets %s replicate from this node", t->p.label, err,
		    h->pg->replication_user);
		return -1;
	}
	/*
	 * A standby that is being promoted reports its old timeline: WAL
	 * of ours past its end would look like no divergence, and this node
	 * could not follow once the new timeline starts before it.
	 */
	if (ha_pg_in_recovery(pg) == 1) {
		ha_log(HA_FAILURE, "%s is not a primary (it is in recovery, "
		    "perhaps still being promoted); nothing was changed: run "
		    "this again once it is the primary", t->p.label);
		rc = -2;
	} else if (ha_pg_identify(pg, h->pg->timeout_ms, &t->sysid, &t->tli,
	    &t->pos) == -1 || (t->tli > 1 && ha_pg_history(pg, t->tli,
	    h->pg->timeout_ms, &buf, &len) == -1)) {
		ha_log(HA_FAILURE, "asking the primary %s for its timeline: "
		    "%s; nothing was changed", t->p.label, ha_pg_error(pg));
	} else if (ha_pgwal_history_parse(buf ? buf : "", len, t->tli,
	    &t->hist, &why) == -1) {
		ha_log(HA_FAILURE, "the history of timeline %u from %s: %s; "
		    "nothing was changed", (unsigned)t->tli, t->p.label, why);
	} else {
		rc = 0;
	}
	free(buf);
	ha_pg_close(pg);
	return rc;
}

/* Read path whole (at most 1 MiB) into *out; a missing file is empty. */
static int
slurp(const char *path, struct ha_buf *out)
{
	char chunk[8192];
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		ha_log_errno(HA_FAILURE, "open %s", path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || out->len + (size_t)n > MAX_AUTO_CONF) {
			ha_log(HA_FAILURE, "read %s: %s", path, n == -1 ?
			    strerror(errno) : "longer than 1 MiB");
			close(fd);
			ha_buf_free(out);
			return -1;
		}
		ha_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int
haprom_standby_setup(const struct hp *h, const char *data_dir,
    const struct hp_peer *p)
{
	char *auto_path = ha_xasprintf("%s/postgresql.auto.conf", data_dir);
	char *signal = ha_xasprintf("%s/standby.signal", data_dir);
	/* A fence is for a primary; a standby takes no writes anyway. */
	const char *drop[] = { "default_transaction_read_only", NULL };
	const char *set[] = { "primary_conninfo", NULL, NULL };
	struct ha_buf old, ci, text;
	const char *why;
	int rc = -1;

	haprom_peer_conninfo(h, p, 0, &ci);
	set[1] = ci.s;
	if (slurp(auto_path, &old) == -1)
		goto out;
	if (ha_pgconf_edit(old.s ? old.s : "", old.len, drop, set, &text,
	    &why) == -1) {
		ha_log(HA_FAILURE, "%s: %s: not changed", auto_path, why);
		ha_buf_free(&old);
		goto out;
	}
	ha_buf_free(&old);
	/* primary_conninfo first: a standby.signal alone would not stream. */
	if (haprom_write_file(h, auto_path, text.s, text.len) == 0 &&
	    haprom_write_file(h, signal, "", 0) == 0) {
		ha_log(HA_INFO, "set up as a standby of %s (standby.signal, "
		    "primary_conninfo in %s)", p->label, auto_path);
		rc = 0;
	}
	ha_buf_free(&text);
out:
	ha_buf_free(&ci);
	free(auto_path);
	free(signal);
	return rc;
}

int
haprom_is_streaming_from(const struct ha_pg_node *n, const struct hp_peer *p)
{
	return n->in_recovery && strcmp(n->recv_status, "streaming") == 0 &&
	    strcmp(n->sender_host, p->host) == 0 && n->sender_port == p->port;
}

static void
nap(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

int
haprom_wait_streaming(const struct hp *h, const struct hp_peer *p,
    int64_t wait_ms, uint32_t *tli)
{
	int64_t deadline = ha_now_ms() + wait_ms, left;
	struct ha_pg_node n;
	struct ha_pg *pg = NULL;
	char err[512] = "not connected yet", t[32];

	memset(&n, 0, sizeof(n));
	while ((left = deadline - ha_now_ms()) > 0) {
		if (pg == NULL && (pg = haprom_connect(h, left <
		    h->pg->timeout_ms ? left : h->pg->timeout_ms, err,
		    sizeof(err))) == NULL) {
			nap(100);
			continue;
		}
		if (ha_pg_node(pg, h->pg->timeout_ms, &n) == -1) {
			ha_strlcpy(err, ha_pg_error(pg), sizeof(err));
			ha_pg_close(pg);
			pg = NULL;
		} else if (!n.in_recovery) {
			ha_log(HA_FAILURE, "the server runs as a primary, not "
			    "as a standby of %s", p->label);
			ha_pg_close(pg);
			return -1;
		} else if (haprom_is_streaming_from(&n, p)) {
			*tli = n.tli;
			ha_pg_close(pg);
			return 0;
		} else {
			snprintf(err, sizeof(err), "WAL receiver: %s",
			    n.receiver ? n.recv_status : "not running");
		}
		nap(100);
	}
	ha_pg_close(pg);
	ha_fmt_duration(wait_ms, t, sizeof(t));
	ha_log(HA_FAILURE, "not streaming from %s after %s (%s): check the "
	    "server log (%s) and that %s lets this node replicate "
	    "(pg_hba.conf, replication_user %s)", p->label, t, err,
	    h->log_file, p->label, h->pg->replication_user);
	return -1;
}
