/*
 * libpq with deadlines (see pg.h). Connections are made with
 * PQconnectStartParams and driven by poll(2) until the deadline, because
 * libpq's connect_timeout counts whole seconds and a stopped postmaster
 * still accepts the socket connection; statements are sent in
 * non-blocking mode and their replies read the same way. A timed-out
 * statement gets a cancel request through PQcancelStart (libpq 17), which
 * is itself bounded, unlike PQcancel.
 */
#include "core/pg.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/util.h"
#include "core/value.h"

#define CANCEL_MS 1000

struct ha_pg {
	PGconn *c;
	int broken;		/* 1 after a timeout: the reply is unknown */
	char err[512];
	char sqlstate[6];
};

/* libpq's text as one line: lines joined by "; ", tabs and ends trimmed. */
static void
oneline(const char *msg, char *out, size_t n)
{
	struct ha_buf b = { 0 };
	const char *p = msg ? msg : "unknown error", *nl;
	size_t len;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len) {
			if (b.len)
				ha_buf_puts(&b, "; ");
			ha_buf_add(&b, p, len);
		}
		p += nl ? (size_t)(nl - p) + 1 : strlen(p);
	}
	ha_strlcpy(out, b.len ? b.s : "unknown error", n);
	ha_buf_free(&b);
}

static void
set_err(struct ha_pg *pg, const char *fmt, ...) HA_PRINTF(2, 3);

static void
set_err(struct ha_pg *pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->err, sizeof(pg->err), fmt, ap);
	va_end(ap);
	pg->sqlstate[0] = '\0';
}

/*
 * Wait until fd is ready for events or the deadline passes.
 * 1 ready, 0 timed out, -1 error (errno).
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - ha_now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

static const char *
where(PGconn *c, char *buf, size_t n)
{
	const char *h = PQhost(c), *p = PQport(c);

	if (h && *h == '/')
		snprintf(buf, n, "socket %s/.s.PGSQL.%s", h, p && *p ? p :
		    "5432");
	else
		snprintf(buf, n, "%s port %s", h && *h ? h : "localhost",
		    p && *p ? p : "5432");
	return buf;
}

/* Drive PQconnectPoll to the end or the deadline; 0 or -1 (pg->err). */
static int
connect_poll(struct ha_pg *pg, int64_t timeout_ms)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t deadline = ha_now_ms() + timeout_ms;
	char w[300], t[32];
	int r;

	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED || PQsocket(pg->c) < 0) {
			oneline(PQerrorMessage(pg->c), pg->err,
			    sizeof(pg->err));
			return -1;
		}
		r = wait_fd(PQsocket(pg->c), st == PGRES_POLLING_READING ?
		    POLLIN : POLLOUT, deadline);
		if (r == 0) {
			ha_fmt_duration(timeout_ms, t, sizeof(t));
			set_err(pg, "no answer from the server at %s within %s "
			    "(is it hung or overloaded?)",
			    where(pg->c, w, sizeof(w)), t);
			return -1;
		}
		if (r == -1) {
			set_err(pg, "poll: %s", strerror(errno));
			return -1;
		}
		st = PQconnectPoll(pg->c);
	}
	return 0;
}

struct ha_pg *
ha_pg_connect(const struct ha_pg_opts *o, char *err, size_t n)
{
	const char *kw[8], *val[8];
	struct ha_pg *pg = ha_xcalloc(1, sizeof(*pg));
	uid_t euid = geteuid();
	int k = 0, r = -1;

	/* Before the conninfo, which may override them; replication after. */
	kw[k] = "sslmode", val[k++] = "disable";
	if (o->appname)
		kw[k] = "application_name", val[k++] = o->appname;
	if (o->passfile)
		kw[k] = "passfile", val[k++] = o->passfile;
	kw[k] = "dbname", val[k++] = o->conninfo;
	if (o->replication)
		kw[k] = "replication", val[k++] = "true";
	kw[k] = NULL, val[k] = NULL;
	if (o->as_uid && seteuid(o->uid) == -1) {
		set_err(pg, "cannot connect as uid %ld: %s", (long)o->uid,
		    strerror(errno));
		goto out;
	}
	pg->c = PQconnectStartParams(kw, val, 1);
	if (pg->c == NULL)
		set_err(pg, "out of memory");
	else if (PQstatus(pg->c) == CONNECTION_BAD)
		oneline(PQerrorMessage(pg->c), pg->err, sizeof(pg->err));
	else
		r = connect_poll(pg, o->timeout_ms > 0 ? o->timeout_ms : 5000);
	/* Back to root: the real and saved ids never changed. */
	if (o->as_uid && seteuid(euid) == -1)
		abort();
	if (r == 0 && PQsetnonblocking(pg->c, 1) == -1) {
		oneline(PQerrorMessage(pg->c), pg->err, sizeof(pg->err));
		r = -1;
	}
out:
	if (r == 0)
		return pg;
	ha_strlcpy(err, pg->err, n);
	ha_pg_close(pg);
	return NULL;
}

void
ha_pg_close(struct ha_pg *pg)
{
	if (pg == NULL)
		return;
	if (pg->c)
		PQfinish(pg->c);
	free(pg);
}

const char *
ha_pg_error(const struct ha_pg *pg)
{
	return pg->err;
}

const char *
ha_pg_sqlstate(const struct ha_pg *pg)
{
	return pg->sqlstate;
}

int
ha_pg_version(const struct ha_pg *pg)
{
	return PQserverVersion(pg->c);
}

const char *
ha_pg_version_str(const struct ha_pg *pg)
{
	const char *v = PQparameterStatus(pg->c, "server_version");

	return v ? v : "";
}

int
ha_pg_in_recovery(const struct ha_pg *pg)
{
	const char *v = PQparameterStatus(pg->c, "in_hot_standby");

	return v == NULL ? -1 : strcmp(v, "on") == 0;
}

/* Ask the server to stop the running statement; bounded, best effort. */
static void
cancel(struct ha_pg *pg)
{
#ifdef LIBPQ_HAS_ASYNC_CANCEL
	PGcancelConn *cc = PQcancelCreate(pg->c);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t deadline = ha_now_ms() + CANCEL_MS;

	if (cc == NULL)
		return;
	if (PQcancelStart(cc)) {
		while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED &&
		    PQcancelSocket(cc) >= 0 &&
		    wait_fd(PQcancelSocket(cc), st == PGRES_POLLING_READING ?
		    POLLIN : POLLOUT, deadline) == 1)
			st = PQcancelPoll(cc);
	}
	PQcancelFinish(cc);
#else
	/* An older libpq has only the blocking PQcancel: closing must do. */
	(void)pg;
#endif
}

/* Keep a tuples result as our table (replacing *r). */
static void
keep(PGresult *res, struct ha_pg_res *r)
{
	int rows = PQntuples(res), cols = PQnfields(res), i, j;
	const char **cells = ha_xcalloc((size_t)cols + 1, sizeof(*cells));
	size_t *lens = ha_xcalloc((size_t)cols + 1, sizeof(*lens));

	ha_pg_res_free(r);
	r->cols = (size_t)cols;
	for (i = 0; i < rows; i++) {
		for (j = 0; j < cols; j++) {
			cells[j] = PQgetisnull(res, i, j) ? NULL :
			    PQgetvalue(res, i, j);
			lens[j] = (size_t)PQgetlength(res, i, j);
		}
		ha_pg_res_add_row(r, (size_t)cols, cells, lens);
	}
	free(cells);
	free(lens);
}

static void
server_err(struct ha_pg *pg, PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	char line[512];

	if (m == NULL) {
		oneline(PQresultErrorMessage(res), pg->err, sizeof(pg->err));
	} else {
		snprintf(line, sizeof(line), "%s%s%s%s%s", m, d ? "; " : "",
		    d ? d : "", h ? "; " : "", h ? h : "");
		oneline(line, pg->err, sizeof(pg->err));
	}
	ha_strlcpy(pg->sqlstate, s ? s : "", sizeof(pg->sqlstate));
}

/*
 * Read every result of the statement sent: 0, -1 (pg->err), or 1 when
 * the deadline passed first.
 */
static int
collect(struct ha_pg *pg, int64_t deadline, struct ha_pg_res *r)
{
	PGresult *res;
	int failed = 0, w;

	for (;;) {
		if (!PQconsumeInput(pg->c))
			goto lost;
		if (PQisBusy(pg->c)) {
			w = wait_fd(PQsocket(pg->c), POLLIN, deadline);
			if (w == -1) {
				pg->broken = 1;
				set_err(pg, "poll: %s", strerror(errno));
				return -1;
			}
			if (w == 0)
				return 1;
			continue;
		}
		if ((res = PQgetResult(pg->c)) == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
			keep(res, r);
			break;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			break;
		case PGRES_COPY_IN: case PGRES_COPY_OUT: case PGRES_COPY_BOTH:
			PQclear(res);
			pg->broken = 1;
			set_err(pg, "unexpected COPY from the server");
			return -1;
		default:
			if (!failed)
				server_err(pg, res);
			failed = 1;
		}
		PQclear(res);
	}
	return failed ? -1 : 0;
lost:
	pg->broken = 1;
	oneline(PQerrorMessage(pg->c), pg->err, sizeof(pg->err));
	return -1;
}

int
ha_pg_exec(struct ha_pg *pg, const char *sql, int64_t timeout_ms,
    struct ha_pg_res *r)
{
	int64_t deadline = ha_now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	char t[32];
	int f, rc;

	memset(r, 0, sizeof(*r));
	if (pg->broken) {
		set_err(pg, "connection unusable after an earlier error");
		return -1;
	}
	if (!PQsendQuery(pg->c, sql))
		goto lost;
	while ((f = PQflush(pg->c)) == 1)
		if (wait_fd(PQsocket(pg->c), POLLOUT, deadline) != 1)
			break;
	if (f == -1)
		goto lost;
	if ((rc = f == 1 ? 1 : collect(pg, deadline, r)) == 1) {
		cancel(pg);
		pg->broken = 1;
		ha_fmt_duration(timeout_ms, t, sizeof(t));
		set_err(pg, "no reply within %s (statement cancelled; is the "
		    "server hung or overloaded?)", t);
	}
	if (rc != 0)
		ha_pg_res_free(r);
	return rc == 0 ? 0 : -1;
lost:
	pg->broken = 1;
	oneline(PQerrorMessage(pg->c), pg->err, sizeof(pg->err));
	return -1;
}

int
ha_pg_run(struct ha_pg *pg, const char *sql, int64_t timeout_ms)
{
	struct ha_pg_res r;
	int rc = ha_pg_exec(pg, sql, timeout_ms, &r);

	ha_pg_res_free(&r);
	return rc;
}

int
ha_pg_node(struct ha_pg *pg, int64_t timeout_ms, struct ha_pg_node *n)
{
	struct ha_pg_res r;
	const char *why;
	int rc;

	if (ha_pg_exec(pg, ha_pgreply_sql_node, timeout_ms, &r) == -1)
		return -1;
	if ((rc = ha_pgreply_node(&r, n, &why)) == -1)
		set_err(pg, "%s", why);
	ha_pg_res_free(&r);
	return rc;
}

int
ha_pg_standbys(struct ha_pg *pg, int64_t timeout_ms,
    struct ha_pg_standby **v, size_t *n)
{
	struct ha_pg_res r;
	const char *why;
	int rc;

	*v = NULL;
	*n = 0;
	if (ha_pg_exec(pg, ha_pgreply_sql_standbys, timeout_ms, &r) == -1)
		return -1;
	if ((rc = ha_pgreply_standbys(&r, v, n, &why)) == -1)
		set_err(pg, "%s", why);
	ha_pg_res_free(&r);
	return rc;
}

int
ha_pg_identify(struct ha_pg *pg, int64_t timeout_ms, uint64_t *sysid,
    uint32_t *tli, uint64_t *pos)
{
	struct ha_pg_res r;
	const char *why;
	int rc;

	if (ha_pg_exec(pg, "IDENTIFY_SYSTEM", timeout_ms, &r) == -1)
		return -1;
	if ((rc = ha_pgreply_identify(&r, sysid, tli, pos, &why)) == -1)
		set_err(pg, "%s", why);
	ha_pg_res_free(&r);
	return rc;
}

int
ha_pg_history(struct ha_pg *pg, uint32_t tli, int64_t timeout_ms,
    char **buf, size_t *len)
{
	struct ha_pg_res r;
	const char *why, *content;
	char sql[64];

	*buf = NULL;
	*len = 0;
	snprintf(sql, sizeof(sql), "TIMELINE_HISTORY %u", (unsigned)tli);
	if (ha_pg_exec(pg, sql, timeout_ms, &r) == -1)
		return -1;
	if (ha_pgreply_history(&r, tli, &content, len, &why) == -1) {
		set_err(pg, "%s", why);
		ha_pg_res_free(&r);
		return -1;
	}
	*buf = ha_xmalloc(*len + 1);
	memcpy(*buf, content, *len);
	(*buf)[*len] = '\0';
	ha_pg_res_free(&r);
	return 0;
}

int
ha_pg_conninfo_check(const char *conninfo, char *err, size_t n)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts == NULL) {
		oneline(msg ? msg : "out of memory", err, n);
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

int
ha_pg_conninfo_get(const char *conninfo, const char *keyword, char *buf,
    size_t n)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	int found = 0;

	for (o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val && *o->val) {
			ha_strlcpy(buf, o->val, n);
			found = 1;
		}
	PQconninfoFree(opts);
	return found;
}
