/*
 * Unit tests for core/state: round trips, corruption and truncation
 * refused, a crash at every stage of a write leaves the old or the new
 * file (never a mix), temp files of dead writers are cleaned up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/state.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/habox-state.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/state", dir);
}

static void
teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static int
count_temps(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".tmp.") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void
write_raw(const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
}

static struct ha_state *
saved_with(const char *term)
{
	struct ha_state *st = ha_state_new();

	ha_state_set(st, "term", term);
	ha_state_set(st, "voted_for", "node2");
	return st;
}

TEST(round_trip)
{
	struct ha_state *st = ha_state_new(), *back;
	uint64_t v;

	setup();
	CHECK(ha_state_load(path, &back) == 0 && back != NULL &&
	    ha_state_count(back) == 0);
	ha_state_free(back);
	CHECK(ha_state_set(st, "term", "42") == 0);
	CHECK(ha_state_set_u64(st, "gen.ca", 18446744073709551615ULL) == 0);
	CHECK(ha_state_set(st, "odd", "line1\nline2\\back\x01\ttab =x") == 0);
	CHECK(ha_state_set(st, "empty", "") == 0);
	CHECK(ha_state_set(st, "bad key", "x") == -1);
	CHECK(ha_state_set(st, "bad=key", "x") == -1);
	CHECK(ha_state_set(st, "", "x") == -1);
	CHECK(ha_state_set(st, "term", "43") == 0);
	ha_state_unset(st, "empty");
	CHECK(ha_state_save(st, path) == 0);
	CHECK(ha_state_load(path, &back) == 1);
	if (back) {
		CHECK(ha_state_count(back) == 3);
		CHECK(strcmp(ha_state_get(back, "term"), "43") == 0);
		CHECK(ha_state_get_u64(back, "gen.ca", &v) == 0 &&
		    v == 18446744073709551615ULL);
		CHECK(strcmp(ha_state_get(back, "odd"),
		    "line1\nline2\\back\x01\ttab =x") == 0);
		CHECK(ha_state_get(back, "empty") == NULL);
		CHECK(ha_state_get_u64(back, "odd", &v) == -1);
		CHECK(strcmp(ha_state_key_at(back, 0), "gen.ca") == 0);
	}
	ha_state_free(back);
	ha_state_free(st);
	/* An empty state saves and loads too. */
	st = ha_state_new();
	CHECK(ha_state_save(st, path) == 0);
	CHECK(ha_state_load(path, &back) == 1 && ha_state_count(back) == 0);
	ha_state_free(back);
	ha_state_free(st);
	{
		struct stat sb;

		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	}
	CHECK(count_temps() == 0);
	teardown();
}

TEST(corruption_refused)
{
	struct ha_state *st = saved_with("7"), *back = (void *)1;
	char buf[512];
	ssize_t n;
	int fd, i;

	setup();
	CHECK(ha_state_save(st, path) == 0);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	CHECK(n > 20);
	/* Every single flipped byte is detected. */
	for (i = 0; i < n; i++) {
		char c = buf[i];

		buf[i] ^= 0x20;
		write_raw(buf, (size_t)n);
		buf[i] = c;
		t_clear_log();
		CHECK(ha_state_load(path, &back) == -1 && back == NULL);
		CHECK(logged("is corrupt"));
	}
	/* Every truncation is detected. */
	for (i = 0; i < n; i++) {
		write_raw(buf, (size_t)i);
		CHECK(ha_state_load(path, &back) == -1 && back == NULL);
	}
	/* A valid checksum over a repeated key is still refused. */
	write_raw("garbage\n", 8);
	CHECK(ha_state_load(path, &back) == -1);
	CHECK(logged("no habox-state header"));
	write_raw(buf, (size_t)n);
	CHECK(ha_state_load(path, &back) == 1);
	ha_state_free(back);
	ha_state_free(st);
	teardown();
}

static void
crash_at_renamed(const char *stage)
{
	if (strcmp(stage, getenv("T_CRASH_STAGE")) == 0)
		_exit(99);
}

/* Save in a child that dies at the given stage; return the term loaded. */
static int
crash_save(const char *stage, const char *term)
{
	struct ha_state *back;
	int status, r;
	pid_t pid;

	setenv("T_CRASH_STAGE", stage, 1);
	pid = fork();
	if (pid == 0) {
		struct ha_state *st = saved_with(term);

		ha_state_test_hook = crash_at_renamed;
		ha_state_save(st, path);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 99)
		return -2;
	if (ha_state_load(path, &back) != 1)
		return -1;
	r = atoi(ha_state_get(back, "term"));
	ha_state_free(back);
	return r;
}

TEST(crash_between_write_and_rename)
{
	struct ha_state *st = saved_with("1");

	setup();
	CHECK(ha_state_save(st, path) == 0);
	/* Died after writing or after fsync, before rename: the old value. */
	CHECK(crash_save("written", "2") == 1);
	CHECK(crash_save("synced", "3") == 1);
	CHECK(count_temps() == 2);
	/* Died after rename: the new value, complete. */
	CHECK(crash_save("renamed", "4") == 4);
	/* The next successful save removes the dead writers' temp files. */
	CHECK(ha_state_save(st, path) == 0);
	CHECK(count_temps() == 0);
	ha_state_free(st);
	teardown();
}

TEST(killed_at_random_points)
{
	struct ha_state *back;
	int round, bad = 0, loaded = 0;

	setup();
	srand((unsigned)time(NULL));
	for (round = 0; round < 40; round++) {
		pid_t pid = fork();
		struct timespec ts = { 0, (rand() % 20000) * 1000L };

		if (pid == 0) {
			unsigned long i;

			for (i = 0;; i++) {
				struct ha_state *st = ha_state_new();
				char v[32];

				snprintf(v, sizeof(v), "%lu", i);
				ha_state_set(st, "term", v);
				ha_state_set(st, "check", v);
				ha_state_save(st, path);
				ha_state_free(st);
			}
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (ha_state_load(path, &back) == -1) {
			bad++;
			continue;
		}
		/* Missing only if killed before the first rename. */
		if (ha_state_get(back, "term") == NULL) {
			ha_state_free(back);
			continue;
		}
		loaded++;
		if (strcmp(ha_state_get(back, "term"),
		    ha_state_get(back, "check")) != 0)
			bad++;
		ha_state_free(back);
	}
	CHECK(bad == 0);
	CHECK(loaded > 20);
	teardown();
}

TEST(write_failure_keeps_old)
{
	struct ha_state *st = saved_with("5"), *back;
	char missing[192];

	setup();
	CHECK(ha_state_save(st, path) == 0);
	snprintf(missing, sizeof(missing), "%s/nodir/state", dir);
	CHECK(ha_state_save(st, missing) == -1);
	CHECK(logged("create ") && logged("No such file or directory"));
	/* Refuse to write through a symlink planted at the temp name. */
	{
		char tmp[192], target[192];
		struct stat sb;

		snprintf(tmp, sizeof(tmp), "%s/.state.tmp.%ld", dir,
		    (long)getpid());
		snprintf(target, sizeof(target), "%s/elsewhere", dir);
		CHECK(symlink(target, tmp) == 0);
		CHECK(ha_state_save(st, path) == -1);
		CHECK(stat(target, &sb) == -1 && errno == ENOENT);
		unlink(tmp);
	}
	CHECK(ha_state_load(path, &back) == 1);
	CHECK(strcmp(ha_state_get(back, "term"), "5") == 0);
	ha_state_free(back);
	ha_state_free(st);
	teardown();
}

int
main(void)
{
	t_suite = "state";
	RUN(round_trip);
	RUN(corruption_refused);
	RUN(crash_between_write_and_rename);
	RUN(killed_at_random_points);
	RUN(write_failure_keeps_old);
	return t_done();
}
