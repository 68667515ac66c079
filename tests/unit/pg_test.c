/*
 * Unit tests for core/pg without a PostgreSQL server: bad connection
 * strings, no server, a socket that never answers (connect timeout), and
 * a fake server in a child process that completes the startup and then
 * never replies to a query (statement timeout, cancel request sent, peer
 * credentials as the configured user).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/pg.h"

static char dir[64];

static int
listen_at(const char *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/.s.PGSQL.5432", d);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    chmod(a.sun_path, 0777) == -1 || listen(fd, 8) == -1)
		return -1;
	return fd;
}

static int
read_n(int fd, void *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One message of the startup phase: length-prefixed, no type byte. */
static uint32_t
startup(int fd, uid_t *peer)
{
	unsigned char len[4], body[1024];
	uint32_t n, code;
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
		*peer = cr.uid;
	if (read_n(fd, len, 4) == -1)
		return 0;
	n = (uint32_t)len[0] << 24 | len[1] << 16 | len[2] << 8 | len[3];
	if (n < 8 || n - 4 > sizeof(body) || read_n(fd, body, n - 4) == -1)
		return 0;
	code = (uint32_t)body[0] << 24 | body[1] << 16 | body[2] << 8 | body[3];
	return code;
}

/*
 * The fake server: the first connection is authenticated at once and its
 * query ignored; a cancel request on a second connection is reported
 * through the exit status (bit 0), and the peer uid of the first
 * connection was `want` (bit 1).
 */
static void
fake_server(int lfd, uid_t want)
{
	static const unsigned char ok[] = {
		'R', 0, 0, 0, 8, 0, 0, 0, 0,	/* AuthenticationOk */
		'Z', 0, 0, 0, 5, 'I',		/* ReadyForQuery */
	};
	uid_t peer = (uid_t)-1, p2;
	int c1, c2, status = 0;
	char junk[256];

	alarm(10);
	if ((c1 = accept(lfd, NULL, NULL)) == -1 || startup(c1, &peer) !=
	    196608 || write(c1, ok, sizeof(ok)) != (ssize_t)sizeof(ok))
		_exit(100);
	if (peer == want)
		status |= 2;
	/* Read the query, answer nothing; wait for the cancel request. */
	(void)!read(c1, junk, sizeof(junk));
	if ((c2 = accept(lfd, NULL, NULL)) != -1 &&
	    startup(c2, &p2) == 80877102)
		status |= 1;
	_exit(status);
}

TEST(bad_conninfo)
{
	char err[256];
	struct ha_pg_opts o = { .conninfo = "host=/x nosuchoption=1",
	    .timeout_ms = 1000 };

	CHECK(ha_pg_connect(&o, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "invalid connection option \"nosuchoption\"") !=
	    NULL);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(ha_pg_conninfo_check("host='unterminated", err,
	    sizeof(err)) == -1);
	CHECK(err[0] != '\0');
	CHECK(ha_pg_conninfo_check("host=/x port=5433", err, sizeof(err)) == 0);
	CHECK(ha_pg_conninfo_get("host=/x port=5433", "port", err,
	    sizeof(err)) == 1 && strcmp(err, "5433") == 0);
	CHECK(ha_pg_conninfo_get("host=/x", "port", err, sizeof(err)) == 0);
}

TEST(no_server)
{
	char err[512], ci[128];
	struct ha_pg_opts o = { .conninfo = ci, .timeout_ms = 1000 };

	snprintf(ci, sizeof(ci), "host=%s/none dbname=postgres", dir);
	CHECK(ha_pg_connect(&o, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file or directory") != NULL);
	CHECK(strstr(err, "Is the server running") != NULL);
	CHECK(strchr(err, '\n') == NULL && strchr(err, '\t') == NULL);
}

TEST(connect_timeout)
{
	char err[512], ci[128], sub[96];
	struct ha_pg_opts o = { .conninfo = ci, .timeout_ms = 300 };
	int64_t t0;
	int lfd;

	snprintf(sub, sizeof(sub), "%s/silent", dir);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK((lfd = listen_at(sub)) != -1);
	snprintf(ci, sizeof(ci), "host=%s dbname=postgres user=u", sub);
	t0 = ha_now_ms();
	CHECK(ha_pg_connect(&o, err, sizeof(err)) == NULL);
	CHECK(ha_now_ms() - t0 >= 300 && ha_now_ms() - t0 < 1500);
	CHECK(strstr(err, "no answer from the server at socket") != NULL);
	CHECK(strstr(err, "within 300ms") != NULL);
	close(lfd);
}

TEST(statement_timeout_cancels)
{
	char err[512], ci[128], sub[96];
	struct ha_pg_opts o = { .conninfo = ci, .timeout_ms = 2000,
	    .appname = "node1" };
	struct ha_pg *pg;
	struct ha_pg_res r;
	int64_t t0;
	int lfd, st = 0;
	pid_t pid;

	snprintf(sub, sizeof(sub), "%s/mute", dir);
	CHECK(mkdir(sub, 0755) == 0);
	CHECK((lfd = listen_at(sub)) != -1);
	/* As root, connect as another user: the server sees that uid. */
	if (geteuid() == 0) {
		o.as_uid = 1;
		o.uid = 65534;
		chmod(dir, 0755);
	}
	if ((pid = fork()) == 0)
		fake_server(lfd, o.as_uid ? 65534 : geteuid());
	close(lfd);
	snprintf(ci, sizeof(ci), "host=%s dbname=postgres user=u", sub);
	pg = ha_pg_connect(&o, err, sizeof(err));
	CHECK(pg != NULL);
	if (pg == NULL)
		printf("  %s\n", err);
	CHECK(geteuid() == (o.as_uid ? 0 : geteuid()));
	if (pg) {
		t0 = ha_now_ms();
		CHECK(ha_pg_exec(pg, "SELECT 1", 300, &r) == -1);
		CHECK(ha_now_ms() - t0 >= 300 && ha_now_ms() - t0 < 2000);
		CHECK(strstr(ha_pg_error(pg), "no reply within 300ms "
		    "(statement cancelled") != NULL);
		CHECK(r.rows == 0 && r.cell == NULL);
		/* Unusable after: the reply to the next one would be wrong. */
		CHECK(ha_pg_run(pg, "SELECT 2", 300) == -1);
		CHECK(strstr(ha_pg_error(pg), "unusable") != NULL);
		ha_pg_close(pg);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	/* The cancel request arrived, from the user we connected as. */
	CHECK((WEXITSTATUS(st) & 1) && (WEXITSTATUS(st) & 2));
	CHECK(WEXITSTATUS(st) < 100);
}

int
main(void)
{
	t_suite = "pg";
	snprintf(dir, sizeof(dir), "/tmp/habox-pg.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("FAIL pg: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	RUN(bad_conninfo);
	RUN(no_server);
	RUN(connect_timeout);
	RUN(statement_timeout_cancels);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
	return t_done();
}
