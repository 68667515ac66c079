/*
 * Daemonizing with a readiness pipe and an atomic pidfile (see daemon.h).
 * The child starts a new session, moves to /, points stdin/stdout/stderr
 * at /dev/null (when there is one) and logs to syslog only.
 */
#include "core/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/state.h"
#include "core/util.h"

static int ready_fd = -1;

void
ha_daemon_hold_signals(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

int
ha_daemon_start(const char *ident, int foreground)
{
	int p[2], fd;
	pid_t pid;
	char buf[512];
	ssize_t n;

	if (foreground) {
		ha_log_init(ident, HA_LOG_STDERR | HA_LOG_SYSLOG);
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		ha_log_errno(HA_FAILURE, "cannot start in the background");
		return -1;
	}
	if (pid > 0) {
		/* The parent: wait for the child's word. */
		close(p[1]);
		do
			n = read(p[0], buf, sizeof(buf) - 1);
		while (n == -1 && errno == EINTR);
		if (n > 0 && buf[0] == '+')
			_exit(0);
		buf[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "%s: [FAILURE] %s\n", ident, n > 1 ? buf + 1 :
		    "the daemon died before it was ready (see the system log)");
		_exit(1);
	}
	close(p[0]);
	ready_fd = p[1];
	setsid();
	if (chdir("/") == -1)
		(void)0;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	ha_log_init(ident, HA_LOG_SYSLOG);
	return 0;
}

int
ha_daemon_ready(const char *pidfile)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (pidfile && ha_file_write_atomic(pidfile, buf, (size_t)n, 0644) == -1)
		return -1;
	if (ready_fd != -1) {
		(void)!write(ready_fd, "+", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	return 0;
}

void
ha_daemon_failed(const char *why)
{
	char buf[512];
	int n;

	if (ready_fd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "-%s", why);
	(void)!write(ready_fd, buf, (size_t)(n < (int)sizeof(buf) ? n :
	    (int)sizeof(buf) - 1));
	close(ready_fd);
	ready_fd = -1;
}

/* The start of a small file as a string: its length, or -1. */
static ssize_t
read_head(const char *path, char *buf, size_t n)
{
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return r;
}

/*
 * A daemon killed with -9 stays a zombie until its parent (init, or
 * whatever adopted it) reaps it: dead all the same. State is the field
 * after the ")" that ends the command name in /proc/PID/stat.
 */
static int
is_zombie(long pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_head(path, buf, sizeof(buf)) == -1)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

int
ha_daemon_running(const char *pidfile)
{
	char buf[32];
	long pid;

	if (read_head(pidfile, buf, sizeof(buf)) == -1)
		return 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 0 || (kill((pid_t)pid, 0) == -1 && errno == ESRCH) ||
	    is_zombie(pid))
		return 0;
	return (int)pid;
}

void
ha_daemon_stop(const char *pidfile)
{
	if (pidfile && ha_daemon_running(pidfile) == (int)getpid())
		unlink(pidfile);
}
