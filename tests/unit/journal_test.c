/*
 * Unit tests for core/journal: recording, batches and acknowledgements
 * (an entry recorded again while in flight stays), restarts, every torn
 * tail of a real file, corruption in the middle, crashes at each step of
 * an append and of a compaction (in a child process), and a long run
 * that must not grow the file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/journal.h"
#include "core/state.h"

static char dir[64];
static char path[128];

static void
fresh(void)
{
	char cmd[200];

	if (*dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return;
	}
	snprintf(dir, sizeof(dir), "%s/journal_test.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		*dir = '\0';
	snprintf(path, sizeof(path), "%s/set@node2.journal", dir);
}

static size_t
fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

static int
batch_has(const struct ha_journal_batch *b, const char *p)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->paths[i], p) == 0)
			return 1;
	return 0;
}

static void
add1(struct ha_journal *j, const char *p)
{
	CHECK(ha_journal_add(j, &p, 1) == 0);
}

TEST(record_take_ack)
{
	const char *p[] = { "a", "b/c", "a", "d e\nf" };
	struct ha_journal_batch b;
	struct ha_journal *j;

	fresh();
	j = ha_journal_open(path);
	CHECK(j != NULL);
	CHECK(ha_journal_add(j, p, 4) == 0);
	CHECK(ha_journal_count(j) == 3);
	ha_journal_take(j, 2, &b);
	CHECK(b.n == 2 && !b.rescan);
	CHECK(strcmp(b.paths[0], "a") == 0 && strcmp(b.paths[1], "b/c") == 0);
	/* Not acknowledged: still there, offered again. */
	ha_journal_batch_free(&b);
	ha_journal_take(j, 0, &b);
	CHECK(b.n == 3);
	CHECK(ha_journal_ack(j, &b) == 0);
	CHECK(ha_journal_count(j) == 0);
	ha_journal_batch_free(&b);
	ha_journal_close(j);
	/* Empty after a restart too. */
	j = ha_journal_open(path);
	CHECK(j && ha_journal_count(j) == 0 && !ha_journal_rescan_pending(j));
	ha_journal_close(j);
}

TEST(recorded_again_while_in_flight_stays)
{
	struct ha_journal_batch b;
	struct ha_journal *j;

	fresh();
	j = ha_journal_open(path);
	add1(j, "x");
	add1(j, "y");
	ha_journal_take(j, 0, &b);
	add1(j, "x");		/* changed again during the transfer */
	add1(j, "z");
	CHECK(ha_journal_ack(j, &b) == 0);
	ha_journal_batch_free(&b);
	CHECK(ha_journal_count(j) == 2);
	ha_journal_take(j, 0, &b);
	CHECK(batch_has(&b, "x") && batch_has(&b, "z") && !batch_has(&b, "y"));
	ha_journal_batch_free(&b);
	ha_journal_close(j);
	/* And so after a restart. */
	j = ha_journal_open(path);
	CHECK(ha_journal_count(j) == 2);
	ha_journal_take(j, 0, &b);
	CHECK(batch_has(&b, "x") && batch_has(&b, "z"));
	ha_journal_batch_free(&b);
	ha_journal_close(j);
}

TEST(rescan_marker)
{
	struct ha_journal_batch b;
	struct ha_journal *j;

	fresh();
	j = ha_journal_open(path);
	add1(j, "p");
	CHECK(ha_journal_add_rescan(j) == 0);
	ha_journal_close(j);
	j = ha_journal_open(path);
	CHECK(ha_journal_rescan_pending(j));
	ha_journal_take(j, 1, &b);
	CHECK(b.rescan && b.n == 1);
	CHECK(ha_journal_add_rescan(j) == 0);	/* again, in flight */
	CHECK(ha_journal_ack(j, &b) == 0);
	ha_journal_batch_free(&b);
	CHECK(ha_journal_rescan_pending(j) && ha_journal_count(j) == 0);
	ha_journal_take(j, 0, &b);
	CHECK(ha_journal_ack(j, &b) == 0);
	ha_journal_batch_free(&b);
	CHECK(!ha_journal_rescan_pending(j));
	ha_journal_close(j);
	j = ha_journal_open(path);
	CHECK(!ha_journal_rescan_pending(j));
	ha_journal_close(j);
}

/* Cut a real file at every length: never fatal, never a lost record. */
TEST(every_torn_tail)
{
	const char *p[] = { "one", "two/2", "three 3" };
	struct ha_buf full = { 0 };
	struct ha_journal *j;
	size_t len, cut, ends[4], k;
	int ok = 1, fd;
	char chunk[4096];
	ssize_t n;

	fresh();
	j = ha_journal_open(path);
	ends[0] = fsize(path);
	for (k = 0; k < 3; k++) {
		add1(j, p[k]);
		ends[k + 1] = fsize(path);
	}
	ha_journal_close(j);
	fd = open(path, O_RDONLY);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ha_buf_add(&full, chunk, (size_t)n);
	close(fd);
	len = full.len;
	for (cut = 0; cut <= len; cut++) {
		size_t want = 0;

		for (k = 1; k <= 3; k++)
			if (cut >= ends[k])
				want = k;
		ha_file_write_atomic(path, full.s, cut, 0600);
		t_clear_log();
		j = ha_journal_open(path);
		if (j == NULL || ha_journal_count(j) != want ||
		    ha_journal_rescan_pending(j) || logged("[FAILURE]")) {
			ok = 0;
			printf("  cut at %zu: %zu paths\n", cut,
			    j ? ha_journal_count(j) : 0);
		}
		/* A torn tail is warned about, then writing goes on. */
		if (j && cut != ends[want] && cut != 0 &&
		    !logged("incomplete")) {
			ok = 0;
			printf("  cut at %zu: no warning\n", cut);
		}
		if (j)
			add1(j, "after");
		ha_journal_close(j);
		j = ha_journal_open(path);
		if (j == NULL || ha_journal_count(j) != want + 1 ||
		    logged_count("[WARNING]") > 1) {
			ok = 0;
			printf("  cut at %zu, reopened: %zu paths\n", cut,
			    j ? ha_journal_count(j) : 0);
		}
		ha_journal_close(j);
	}
	CHECK(ok);
	ha_buf_free(&full);
}

TEST(corruption_in_the_middle)
{
	struct ha_journal *j;
	char bad[200];
	int fd;
	unsigned char c;

	fresh();
	j = ha_journal_open(path);
	add1(j, "first");
	add1(j, "second");
	add1(j, "third");
	ha_journal_close(j);
	/* A byte of "second" flipped. */
	fd = open(path, O_RDWR);
	CHECK(pread(fd, &c, 1, 8 + 9 + 5 + 9 + 1) == 1);
	c ^= 0x40;
	CHECK(pwrite(fd, &c, 1, 8 + 9 + 5 + 9 + 1) == 1);
	close(fd);
	j = ha_journal_open(path);
	CHECK(j != NULL);
	CHECK(logged("[FAILURE]") && logged("is corrupt after byte 22"));
	CHECK(ha_journal_rescan_pending(j));
	CHECK(ha_journal_count(j) == 1);
	snprintf(bad, sizeof(bad), "%s.corrupt", path);
	CHECK(access(bad, F_OK) == 0);
	ha_journal_close(j);
	/* The replacement is sound and still asks for the rescan. */
	t_clear_log();
	j = ha_journal_open(path);
	CHECK(j && ha_journal_rescan_pending(j) && !logged("[FAILURE]"));
	ha_journal_close(j);
	/* Not a journal at all. */
	ha_file_write_atomic(path, "hello world, not a journal", 26, 0600);
	j = ha_journal_open(path);
	CHECK(j && ha_journal_rescan_pending(j) && ha_journal_count(j) == 0);
	ha_journal_close(j);
}

/* Blocks of zeros after the last record (unwritten at a crash). */
TEST(zero_tail_is_torn)
{
	static const char zeros[10000];
	struct ha_journal *j;
	int fd;

	fresh();
	j = ha_journal_open(path);
	add1(j, "kept");
	ha_journal_close(j);
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(write(fd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros));
	close(fd);
	j = ha_journal_open(path);
	CHECK(j && ha_journal_count(j) == 1 && !ha_journal_rescan_pending(j));
	CHECK(logged("incomplete") && !logged("[FAILURE]"));
	ha_journal_close(j);
}

static const char *crash_at;
static void
crash_hook(const char *stage)
{
	if (strcmp(stage, crash_at) == 0)
		_exit(0);
}

/* In a child: add "new" (and compact with ack), crashing at stage. */
static void
crash_child(int compact, const char *stage)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct ha_journal *j = ha_journal_open(path);
		struct ha_journal_batch b;
		int i;

		crash_at = stage;
		if (compact) {
			/* Enough dead records that this ack compacts. */
			for (i = 0; i < 300; i++) {
				char p[16];
				const char *pp = p;

				snprintf(p, sizeof(p), "tmp%d", i);
				ha_journal_test_hook = NULL;
				ha_journal_add(j, &pp, 1);
			}
			ha_journal_take(j, 0, &b);
			ha_state_test_hook = crash_hook;
			ha_journal_ack(j, &b);
		} else {
			ha_journal_test_hook = crash_hook;
			add1(j, "new");
		}
		_exit(1);
	}
	waitpid(pid, NULL, 0);
}

TEST(crash_while_appending_or_compacting)
{
	const char *stages[] = { "written", "synced" };
	const char *cstages[] = { "written", "synced", "renamed" };
	struct ha_journal *j;
	size_t i;
	int ok = 1;

	for (i = 0; i < 2; i++) {
		fresh();
		j = ha_journal_open(path);
		add1(j, "old");
		ha_journal_close(j);
		crash_child(0, stages[i]);
		j = ha_journal_open(path);
		/* Written: in the file (the page cache survives us). */
		ok &= j && ha_journal_count(j) == 2;
		if (!j || ha_journal_count(j) != 2)
			printf("  append crash at %s: %zu\n", stages[i],
			    j ? ha_journal_count(j) : 0);
		ha_journal_close(j);
	}
	for (i = 0; i < 3; i++) {
		fresh();
		j = ha_journal_open(path);
		add1(j, "old");
		ha_journal_close(j);
		crash_child(1, cstages[i]);
		t_clear_log();
		j = ha_journal_open(path);
		/* Before the rename the old file, after it the new one. */
		ok &= j != NULL && !logged("[FAILURE]");
		ok &= j && ha_journal_count(j) == (i < 2 ? 301u : 0u);
		if (!j || ha_journal_count(j) != (i < 2 ? 301u : 0u))
			printf("  compaction crash at %s: %zu\n", cstages[i],
			    j ? ha_journal_count(j) : 0);
		ha_journal_close(j);
	}
	CHECK(ok);
}

TEST(stays_small)
{
	struct ha_journal_batch b;
	struct ha_journal *j;
	char p[32];
	int i;

	fresh();
	j = ha_journal_open(path);
	for (i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "path/number/%d", i);
		add1(j, p);
		if (i % 10 == 9) {
			ha_journal_take(j, 0, &b);
			ha_journal_ack(j, &b);
			ha_journal_batch_free(&b);
		}
	}
	CHECK(ha_journal_count(j) == 0);
	CHECK(fsize(path) < 20000);
	ha_journal_close(j);
}

TEST(peek)
{
	struct ha_journal *j;
	size_t n;
	int rescan;
	const char *p[] = { "a", "b", "c" };

	fresh();
	CHECK(ha_journal_peek(path, &n, &rescan) == 0 && n == 0);
	j = ha_journal_open(path);
	ha_journal_add(j, p, 3);
	CHECK(ha_journal_peek(path, &n, &rescan) == 0 && n == 3 && !rescan);
	ha_journal_close(j);
}

TEST(one_writer)
{
	struct ha_journal *j, *k;

	fresh();
	j = ha_journal_open(path);
	CHECK(j != NULL);
	k = ha_journal_open(path);
	CHECK(k == NULL && logged("is in use by another process"));
	ha_journal_close(j);
	k = ha_journal_open(path);
	CHECK(k != NULL);
	ha_journal_close(k);
}

int
main(void)
{
	t_suite = "journal";
	RUN(record_take_ack);
	RUN(recorded_again_while_in_flight_stays);
	RUN(rescan_marker);
	RUN(every_torn_tail);
	RUN(corruption_in_the_middle);
	RUN(zero_tail_is_torn);
	RUN(crash_while_appending_or_compacting);
	RUN(stays_small);
	RUN(peek);
	RUN(one_writer);
	fresh();
	rmdir(dir);
	return t_done();
}
