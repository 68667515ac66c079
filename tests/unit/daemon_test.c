/*
 * Unit tests for core/daemon's pidfile check: a live process is running,
 * a dead one is not, and neither is a zombie (killed, not yet reaped by
 * whoever adopted it: what `kill -9` of a daemon leaves until init reaps
 * it, and what once made a restart refuse with "already running").
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/daemon.h"

static char dir[64], pf[128];

static void
write_pid(long pid)
{
	FILE *f = fopen(pf, "w");

	if (f == NULL)
		abort();
	fprintf(f, "%ld\n", pid);
	fclose(f);
}

TEST(pidfile_check)
{
	pid_t child;
	int st;

	snprintf(dir, sizeof(dir), "/tmp/habox-daemon.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(pf, sizeof(pf), "%s/x.pid", dir);
	CHECK(ha_daemon_running(pf) == 0);		/* no file */
	write_pid((long)getpid());
	CHECK(ha_daemon_running(pf) == (int)getpid());
	if ((child = fork()) == 0)
		_exit(0);
	CHECK(child > 0);
	write_pid((long)child);
	/* Exited, not reaped: a zombie until the waitpid below. */
	usleep(100 * 1000);
	CHECK(ha_daemon_running(pf) == 0);
	CHECK(waitpid(child, &st, 0) == child);
	CHECK(ha_daemon_running(pf) == 0);		/* gone */
	write_pid(0);
	CHECK(ha_daemon_running(pf) == 0);
	unlink(pf);
	rmdir(dir);
}

int
main(void)
{
	t_suite = "daemon";
	RUN(pidfile_check);
	return t_done();
}
