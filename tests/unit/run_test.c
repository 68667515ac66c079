/*
 * Unit tests for core/run: exit codes and signals, output capture and its
 * bound, exec failures, timeouts that kill the whole process group
 * including grandchildren, the asynchronous interface, running in another
 * directory and as another user.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/run.h"

static int
run_sh(const char *cmd, const struct ha_run_opts *o, struct ha_run_result *r)
{
	return ha_run_shell(cmd, o, r);
}

/* 1 when pid is gone or a zombie (dead, waiting for its reaper). */
static int
dead(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 1;
	return p[2] == 'Z' || p[2] == 'X';
}

TEST(exit_codes)
{
	struct ha_run_result r;
	char d[64];
	char *t[] = { "true", NULL };

	CHECK(ha_run(t, NULL, &r) == 0 && ha_run_ok(&r) && r.code == 0);
	ha_run_result_free(&r);
	CHECK(run_sh("exit 3", NULL, &r) == 0 && !ha_run_ok(&r));
	CHECK(r.exited && r.code == 3 && !r.timed_out);
	ha_run_describe(&r, d, sizeof(d));
	CHECK(strcmp(d, "exit 3") == 0);
	ha_run_result_free(&r);
	CHECK(run_sh("kill -9 $$", NULL, &r) == 0 && !r.exited &&
	    r.signo == SIGKILL);
	ha_run_describe(&r, d, sizeof(d));
	CHECK(strncmp(d, "killed by signal 9", 18) == 0);
	ha_run_result_free(&r);
}

TEST(output)
{
	struct ha_run_result r;
	struct ha_run_opts o = { .max_output = 100 };

	CHECK(run_sh("echo out; echo err >&2; printf 'no newline'", NULL,
	    &r) == 0);
	CHECK(strcmp(r.output, "out\nerr\nno newline") == 0);
	ha_run_log_output(&r, HA_INFO, "step");
	CHECK(logged("[INFO] step: out") && logged("[INFO] step: err") &&
	    logged("[INFO] step: no newline"));
	ha_run_result_free(&r);
	CHECK(run_sh("head -c 100000 /dev/zero | tr '\\0' x", &o, &r) == 0);
	CHECK(ha_run_ok(&r) && r.output_len == 100 && r.output_total == 100000);
	ha_run_log_output(&r, HA_INFO, "big");
	CHECK(logged("99900 more bytes of output not kept"));
	ha_run_result_free(&r);
}

TEST(stdin_env_fds)
{
	struct ha_run_result r;
	char *env[] = { "HA_T_ROLE=leader", NULL };
	struct ha_run_opts o = { .env_add = env };

	/* stdin is /dev/null; no inherited descriptors beyond 0-2 */
	CHECK(run_sh("cat; echo \"role=$HA_T_ROLE\"; ls /proc/self/fd | wc -l",
	    &o, &r) == 0);
	CHECK(ha_run_ok(&r));
	/* 0, 1, 2 and ls's own directory descriptor */
	CHECK(strcmp(r.output, "role=leader\n4\n") == 0);
	ha_run_result_free(&r);
}

TEST(exec_failure)
{
	struct ha_run_result r;
	char *argv[] = { "/nonexistent/habox-test-cmd", NULL };
	char *argv2[] = { "habox-no-such-command-anywhere", NULL };

	CHECK(ha_run(argv, NULL, &r) == -1);
	CHECK(logged("cannot run /nonexistent/habox-test-cmd: No such file"));
	CHECK(ha_run(argv2, NULL, &r) == -1);
	CHECK(logged("cannot run habox-no-such-command-anywhere"));
}

TEST(timeout_kills_group)
{
	char dir[] = "/tmp/habox-run.XXXXXX", cmd[512], pidf[128];
	struct ha_run_result r;
	struct ha_run_opts o = { .timeout_ms = 300, .grace_ms = 300 };
	int64_t t0 = ha_now_ms();
	char d[64];
	FILE *f;
	int gpid = 0, ipid = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(pidf, sizeof(pidf), "%s/pids", dir);
	/*
	 * A grandchild in the background, and one that ignores SIGTERM:
	 * both must be gone after the timeout.
	 */
	snprintf(cmd, sizeof(cmd), "sleep 100 & echo $! > %s; "
	    "sh -c 'trap \"\" TERM; echo $$ >> %s; while :; do sleep 1; done' & "
	    "wait", pidf, pidf);
	CHECK(run_sh(cmd, &o, &r) == 0);
	CHECK(r.timed_out && !ha_run_ok(&r));
	CHECK(r.elapsed_ms >= 300 && ha_now_ms() - t0 < 3000);
	ha_run_describe(&r, d, sizeof(d));
	CHECK(strncmp(d, "timed out after", 15) == 0);
	ha_run_result_free(&r);
	f = fopen(pidf, "r");
	CHECK(f && fscanf(f, "%d %d", &gpid, &ipid) == 2);
	if (f)
		fclose(f);
	CHECK(gpid > 0 && ipid > 0);
	/* Reparented grandchildren are reaped by init, give it a moment. */
	usleep(200000);
	CHECK(gpid > 0 && dead(gpid));
	CHECK(ipid > 0 && dead(ipid));
	unlink(pidf);
	rmdir(dir);
}

TEST(exit_without_waiting_for_daemons)
{
	struct ha_run_result r;
	struct ha_run_opts o = { .timeout_ms = 5000 };
	int64_t t0 = ha_now_ms();

	/* A daemon keeps the output pipe open; we return when sh exits. */
	CHECK(run_sh("(sleep 3 >/dev/null 2>&1 &); echo started", &o, &r) == 0);
	CHECK(ha_run_ok(&r) && strcmp(r.output, "started\n") == 0);
	CHECK(ha_now_ms() - t0 < 2000);
	ha_run_result_free(&r);
	CHECK(run_sh("sleep 3 & echo started", &o, &r) == 0);
	CHECK(ha_run_ok(&r) && ha_now_ms() - t0 < 2000);
	ha_run_result_free(&r);
}

TEST(user_and_cwd)
{
	struct ha_run_result r;
	struct ha_run_opts o = { .cwd = "/proc", .set_ids = 1, .uid = 65534,
	    .gid = 65534 };
	struct ha_run_opts bad = { .cwd = "/nonexistent/habox-dir" };

	CHECK(run_sh("pwd", &bad, &r) == -1);
	CHECK(logged("cannot run /bin/sh in /nonexistent/habox-dir: No such "
	    "file"));
	if (geteuid() != 0) {
		/* Only root may change users: a clear error, no child runs. */
		CHECK(run_sh("id -u", &o, &r) == -1);
		CHECK(logged("cannot run /bin/sh as uid 65534 gid 65534: "
		    "Operation not permitted"));
		return;
	}
	CHECK(run_sh("id -u; id -g; id -G; pwd", &o, &r) == 0);
	CHECK(ha_run_ok(&r));
	CHECK(r.output &&
	    strcmp(r.output, "65534\n65534\n65534\n/proc\n") == 0);
	ha_run_result_free(&r);
	/* The parent is unchanged. */
	CHECK(geteuid() == 0 && getegid() == 0);
	/* The directory is entered as that user: a private one fails. */
	{
		char dir[] = "/tmp/habox-run.XXXXXX";

		CHECK(mkdtemp(dir) != NULL);
		o.cwd = dir;
		CHECK(run_sh("pwd", &o, &r) == -1);
		CHECK(logged("Permission denied"));
		rmdir(dir);
	}
}

TEST(async)
{
	char *argv[] = { "/bin/sh", "-c", "echo a; sleep 0.2; echo b", NULL };
	struct ha_proc *p = ha_proc_start(argv, NULL);
	struct ha_run_result r;
	int64_t now;
	int polls = 0;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(ha_proc_pid(p) > 0);
	for (now = ha_now_ms(); !ha_proc_step(p, now); now = ha_now_ms()) {
		struct pollfd pfd[2];
		int fds[2], n = ha_proc_fds(p, fds), i;

		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		poll(pfd, (nfds_t)n, 1000);
		polls++;
	}
	ha_proc_finish(p, &r);
	CHECK(ha_run_ok(&r) && strcmp(r.output, "a\nb\n") == 0);
	/* Woken by events, not by spinning. */
	CHECK(polls < 20);
	ha_run_result_free(&r);
	p = ha_proc_start(argv, NULL);
	CHECK(p != NULL);
	if (p)
		ha_proc_abort(p);
}

int
main(void)
{
	t_suite = "run";
	RUN(exit_codes);
	RUN(output);
	RUN(stdin_env_fds);
	RUN(exec_failure);
	RUN(timeout_kills_group);
	RUN(exit_without_waiting_for_daemons);
	RUN(user_and_cwd);
	RUN(async);
	return t_done();
}
