/*
 * Child processes with timeouts and process-group kills (see run.h).
 * The parent learns of the child's exit through a pidfd (Linux 5.3+) in
 * its poll set, falling back to polling waitpid every 20 ms on older
 * kernels. A close-on-exec pipe reports exec failures as errors instead of
 * exit codes.
 */
#include "core/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "core/value.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* What the child failed at, reported on the exec-error pipe. */
enum { FAIL_EXEC, FAIL_CWD, FAIL_IDS };

struct ha_proc {
	pid_t pid;
	int pidfd;		/* -1: fall back to waitpid polling */
	int out;		/* read end of the output pipe, -1 when closed */
	int64_t start, deadline, kill_at;
	int64_t grace;
	int status;
	int reaped;
	int timed_out;
	size_t max;
	struct ha_buf buf;
	size_t total;
	char *name;
};

static void __attribute__((noreturn))
child_fail(int err_fd, int stage)
{
	int e[2] = { stage, errno };

	(void)!write(err_fd, e, sizeof(e));
	_exit(127);
}

static void
child(char *const argv[], const struct ha_run_opts *o, int out, int err_fd,
    pid_t parent)
{
	sigset_t all;
	int fd, s;
	size_t i;

	setpgid(0, 0);
	/* A supervised daemon must not outlive its supervisor. */
	if (o && o->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != parent))
		_exit(127);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	} else if (fd == -1) {
		close(0);
	}
	dup2(out, 1);
	dup2(out, 2);
	if (out > 2)
		close(out);
	/* Keep only 0-2 and the exec-error pipe (close-on-exec). */
	for (fd = 3; fd < 1024; fd++)
		if (fd != err_fd)
			close(fd);
	if (syscall(SYS_close_range, 1024, ~0U, 0) == -1) {
		long max = sysconf(_SC_OPEN_MAX);

		for (fd = 1024; fd < max && fd < 65536; fd++)
			close(fd);
	}
	for (i = 0; o && o->env_add && o->env_add[i]; i++)
		putenv(o->env_add[i]);
	/* Groups first: after setuid we could no longer change them. */
	if (o && o->set_ids && (setgroups(1, &o->gid) == -1 ||
	    setgid(o->gid) == -1 || setuid(o->uid) == -1))
		child_fail(err_fd, FAIL_IDS);
	/* As the new user, so its own rights decide. */
	if (o && o->cwd && chdir(o->cwd) == -1)
		child_fail(err_fd, FAIL_CWD);
	execvp(argv[0], argv);
	child_fail(err_fd, FAIL_EXEC);
}

struct ha_proc *
ha_proc_start(char *const argv[], const struct ha_run_opts *o)
{
	struct ha_proc *p;
	int pipefd[2], errp[2], e[2] = { 0, 0 };
	ssize_t n;
	pid_t parent;

	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		ha_log_errno(HA_FAILURE, "run %s: pipe", argv[0]);
		return NULL;
	}
	if (pipe2(errp, O_CLOEXEC) == -1) {
		ha_log_errno(HA_FAILURE, "run %s: pipe", argv[0]);
		close(pipefd[0]);
		close(pipefd[1]);
		return NULL;
	}
	p = ha_xcalloc(1, sizeof(*p));
	p->name = ha_xstrdup(argv[0]);
	p->start = ha_now_ms();
	p->deadline = o && o->timeout_ms > 0 ? p->start + o->timeout_ms : 0;
	p->grace = o && o->grace_ms > 0 ? o->grace_ms : 2000;
	p->max = o && o->max_output ? o->max_output : 64 * 1024;
	parent = getpid();
	p->pid = fork();
	if (p->pid == -1) {
		ha_log_errno(HA_FAILURE, "run %s: fork", argv[0]);
		goto fail;
	}
	if (p->pid == 0)
		child(argv, o, pipefd[1], errp[1], parent);
	/* Also here, so a kill right after fork hits the group. */
	setpgid(p->pid, p->pid);
	close(pipefd[1]);
	close(errp[1]);
	pipefd[1] = errp[1] = -1;
	do
		n = read(errp[0], e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof(e)) {
		errno = e[1];
		if (e[0] == FAIL_CWD)
			ha_log_errno(HA_FAILURE, "cannot run %s in %s", argv[0],
			    o->cwd);
		else if (e[0] == FAIL_IDS)
			ha_log_errno(HA_FAILURE, "cannot run %s as uid %ld gid "
			    "%ld", argv[0], (long)o->uid, (long)o->gid);
		else
			ha_log_errno(HA_FAILURE, "cannot run %s", argv[0]);
		while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
			;
		close(pipefd[0]);
		free(p->name);
		free(p);
		return NULL;
	}
	p->out = pipefd[0];
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd != -1)
		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	return p;
fail:
	close(pipefd[0]);
	close(pipefd[1]);
	close(errp[0]);
	close(errp[1]);
	free(p->name);
	free(p);
	return NULL;
}

int
ha_proc_fds(const struct ha_proc *p, int fds[2])
{
	int n = 0;

	if (p->out != -1)
		fds[n++] = p->out;
	if (p->pidfd != -1 && !p->reaped)
		fds[n++] = p->pidfd;
	return n;
}

int64_t
ha_proc_next(const struct ha_proc *p)
{
	int64_t next = INT64_MAX;

	if (p->pidfd == -1 && !p->reaped)
		next = ha_now_ms() + 20;
	if (p->deadline && !p->timed_out && p->deadline < next)
		next = p->deadline;
	if (p->kill_at && p->kill_at < next)
		next = p->kill_at;
	return next;
}

int
ha_proc_pid(const struct ha_proc *p)
{
	return p->pid;
}

static void
drain(struct ha_proc *p)
{
	char chunk[4096];
	ssize_t n;

	while (p->out != -1) {
		n = read(p->out, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(p->out);
			p->out = -1;
			return;
		}
		p->total += (size_t)n;
		if (p->buf.len < p->max)
			ha_buf_add(&p->buf, chunk, (size_t)n < p->max - p->buf.len ?
			    (size_t)n : p->max - p->buf.len);
	}
}

int
ha_proc_step(struct ha_proc *p, int64_t now)
{
	pid_t w;

	drain(p);
	if (!p->reaped) {
		do
			w = waitpid(p->pid, &p->status, WNOHANG);
		while (w == -1 && errno == EINTR);
		if (w == p->pid)
			p->reaped = 1;
	}
	if (!p->reaped && p->deadline && now >= p->deadline && !p->timed_out) {
		p->timed_out = 1;
		kill(-p->pid, SIGTERM);
		p->kill_at = now + p->grace;
	}
	if (!p->reaped && p->kill_at && now >= p->kill_at) {
		kill(-p->pid, SIGKILL);
		p->kill_at = 0;
	}
	if (!p->reaped)
		return 0;
	/*
	 * Whatever the group left running after a timeout goes too; output
	 * still buffered in the pipe is read, but no one waits for daemons
	 * that keep the pipe open.
	 */
	if (p->timed_out)
		kill(-p->pid, SIGKILL);
	drain(p);
	if (p->out != -1) {
		close(p->out);
		p->out = -1;
	}
	return 1;
}

void
ha_proc_finish(struct ha_proc *p, struct ha_run_result *r)
{
	memset(r, 0, sizeof(*r));
	r->exited = WIFEXITED(p->status);
	r->code = r->exited ? WEXITSTATUS(p->status) : -1;
	r->signo = WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
	r->timed_out = p->timed_out;
	r->elapsed_ms = ha_now_ms() - p->start;
	ha_buf_add(&p->buf, "", 0);
	r->output = p->buf.s;
	r->output_len = p->buf.len;
	r->output_total = p->total;
	if (p->pidfd != -1)
		close(p->pidfd);
	if (p->out != -1)
		close(p->out);
	free(p->name);
	free(p);
}

void
ha_proc_abort(struct ha_proc *p)
{
	struct ha_run_result r;

	kill(-p->pid, SIGKILL);
	while (!p->reaped && waitpid(p->pid, &p->status, 0) == -1 &&
	    errno == EINTR)
		;
	p->reaped = 1;
	ha_proc_finish(p, &r);
	ha_run_result_free(&r);
}

int
ha_run(char *const argv[], const struct ha_run_opts *o,
    struct ha_run_result *r)
{
	struct ha_proc *p;
	struct pollfd pfd[2];
	int fds[2], n, i;
	int64_t now, next;

	memset(r, 0, sizeof(*r));
	if ((p = ha_proc_start(argv, o)) == NULL)
		return -1;
	for (now = ha_now_ms(); !ha_proc_step(p, now); now = ha_now_ms()) {
		n = ha_proc_fds(p, fds);
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		next = ha_proc_next(p);
		if (poll(pfd, (nfds_t)n, next == INT64_MAX ? -1 :
		    next > now ? (int)(next - now) : 0) == -1 && errno != EINTR) {
			ha_log_errno(HA_FAILURE, "run %s: poll", argv[0]);
			ha_proc_abort(p);
			return -1;
		}
	}
	ha_proc_finish(p, r);
	return 0;
}

int
ha_run_shell(const char *cmd, const struct ha_run_opts *o,
    struct ha_run_result *r)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	return ha_run(argv, o, r);
}

int
ha_run_ok(const struct ha_run_result *r)
{
	return r->exited && r->code == 0 && !r->timed_out;
}

void
ha_run_describe(const struct ha_run_result *r, char *buf, size_t n)
{
	char t[32];

	if (r->timed_out) {
		ha_fmt_duration(r->elapsed_ms, t, sizeof(t));
		snprintf(buf, n, "timed out after %s, killed", t);
	} else if (r->exited) {
		snprintf(buf, n, "exit %d", r->code);
	} else {
		snprintf(buf, n, "killed by signal %d (%s)", r->signo,
		    strsignal(r->signo));
	}
}

void
ha_run_log_output(const struct ha_run_result *r, enum ha_level level,
    const char *label)
{
	const char *s = r->output, *nl;

	while (s && *s) {
		nl = strchr(s, '\n');
		ha_log(level, "%s: %.*s", label, nl ? (int)(nl - s) : (int)strlen(s),
		    s);
		s = nl ? nl + 1 : s + strlen(s);
	}
	if (r->output_total > r->output_len)
		ha_log(level, "%s: (%zu more bytes of output not kept)", label,
		    r->output_total - r->output_len);
}

void
ha_run_result_free(struct ha_run_result *r)
{
	free(r->output);
	r->output = NULL;
}
