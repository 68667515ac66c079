/*
 * Unit tests for core/daemon's pidfile check: a live process is running,
 * a dead one is not, and neither is a zombie (killed, not yet reaped by
 * whoever adopted it: what `kill -9` of a daemon leaves until init reaps
 * it, and what once made a restart refuse with "already running");
 * and the signals a starting daemon holds.
 */
#include <signal.h>
#include <time.h>
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

/*
 * A daemon that holds SIGHUP, SIGUSR1 and SIGUSR2 while it starts is not
 * killed by them: they wait, pending, for its loop (hawatch SIGHUPs a
 * hasync watch it has just started; an operator may signal a starting
 * hawatch).
 */
TEST(signals_held_while_starting)
{
	int p[2], st;
	pid_t child;
	char c;

	CHECK(pipe(p) == 0);
	if ((child = fork()) == 0) {
		sigset_t s;
		struct timespec ts = { 0, 50 * 1000000L };

		ha_daemon_hold_signals();
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		/* Until the parent's three signals are here. */
		for (;;) {
			sigpending(&s);
			if (sigismember(&s, SIGHUP) && sigismember(&s,
			    SIGUSR1) && sigismember(&s, SIGUSR2))
				_exit(0);
			nanosleep(&ts, NULL);
		}
	}
	CHECK(child > 0);
	CHECK(read(p[0], &c, 1) == 1);
	CHECK(kill(child, SIGHUP) == 0);
	CHECK(kill(child, SIGUSR1) == 0);
	CHECK(kill(child, SIGUSR2) == 0);
	CHECK(waitpid(child, &st, 0) == child);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	t_suite = "daemon";
	RUN(pidfile_check);
	RUN(signals_held_while_starting);
	return t_done();
}
