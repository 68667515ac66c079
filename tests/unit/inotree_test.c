/*
 * Unit tests for core/inotree on a real temporary directory: files and
 * directories made, written, renamed and removed, a directory filled
 * before its watch could exist, renamed and moved-away directories,
 * exclusions, symlinks, odd names, bursts, and a real queue overflow.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/inotree.h"
#include "core/pathset.h"

static char root[256];

static void
mk(const char *rel, const char *content)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if ((f = fopen(p, "w")) != NULL) {
		fputs(content, f);
		fclose(f);
	}
}

static void
md(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void
mv(const char *a, const char *b)
{
	char p[1024], q[1024];

	snprintf(p, sizeof(p), "%s/%s", root, a);
	snprintf(q, sizeof(q), "%s/%s", root, b);
	rename(p, q);
}

static void
rmf(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (unlink(p) == -1)
		rmdir(p);
}

static void
newroot(void)
{
	char cmd[600];

	if (*root) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			return;
	}
	snprintf(root, sizeof(root), "/tmp/inotree_test.XXXXXX");
	if (mkdtemp(root) == NULL)
		*root = '\0';
}

/*
 * Read events for up to ms (stopping early after 30 ms of quiet), then
 * take the paths into set.
 */
static int
collect(struct ha_inotree *t, struct ha_pathset *set, int ms)
{
	struct pollfd p = { .fd = ha_inotree_fd(t), .events = POLLIN };
	char **v;
	size_t n, i;
	int rescan = 0, waited = 0;

	while (waited < ms) {
		int r = poll(&p, 1, 30);

		if (r == 0 && set->count + ha_inotree_pending(t) > 0)
			break;
		waited += 30;
		if (r > 0)
			ha_inotree_read(t);
	}
	v = ha_inotree_take(t, &n, &rescan);
	for (i = 0; i < n; i++)
		ha_pathset_put(set, v[i], NULL);
	ha_inotree_free_paths(v);
	return rescan;
}

static int
has(const struct ha_pathset *s, const char *p)
{
	return ha_pathset_get(s, p) != NULL;
}

TEST(create_write_delete)
{
	struct ha_pathset s;
	struct ha_inotree *t;

	newroot();
	ha_pathset_init(&s);
	t = ha_inotree_open(root, NULL, 0);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	mk("a", "1");
	collect(t, &s, 1000);
	CHECK(has(&s, "a"));
	CHECK(s.count == 1);
	ha_pathset_clear(&s);
	rmf("a");
	collect(t, &s, 1000);
	CHECK(has(&s, "a"));
	ha_pathset_clear(&s);
	mk("b", "x");
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/b", root);
		chmod(p, 0600);
	}
	collect(t, &s, 1000);
	CHECK(has(&s, "b") && s.count == 1);
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(burst_is_coalesced)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	int i;

	newroot();
	ha_pathset_init(&s);
	t = ha_inotree_open(root, NULL, 0);
	for (i = 0; i < 100; i++)
		mk(i % 2 ? "x" : "y", "burst");
	CHECK(collect(t, &s, 1000) == 0);
	CHECK(s.count == 2 && has(&s, "x") && has(&s, "y"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(new_directory_filled_at_once)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	char cmd[1024];

	newroot();
	ha_pathset_init(&s);
	t = ha_inotree_open(root, NULL, 0);
	/* All made before the watcher reads a single event. */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/d/e/f && echo 1 >%s/d/e/f/g "
	    "&& echo 2 >%s/d/h", root, root, root);
	CHECK(system(cmd) == 0);
	collect(t, &s, 1000);
	CHECK(has(&s, "d"));
	CHECK(has(&s, "d/e"));
	CHECK(has(&s, "d/e/f"));
	CHECK(has(&s, "d/e/f/g"));
	CHECK(has(&s, "d/h"));
	CHECK(ha_inotree_watches(t) == 4);
	ha_pathset_clear(&s);
	/* And the new directories are watched. */
	mk("d/e/f/new", "n");
	collect(t, &s, 1000);
	CHECK(has(&s, "d/e/f/new") && s.count == 1);
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(rename_is_delete_and_create)
{
	struct ha_pathset s;
	struct ha_inotree *t;

	newroot();
	ha_pathset_init(&s);
	mk("old", "o");
	md("dir");
	mk("dir/in", "i");
	t = ha_inotree_open(root, NULL, 0);
	mv("old", "new");
	collect(t, &s, 1000);
	CHECK(has(&s, "old") && has(&s, "new") && s.count == 2);
	ha_pathset_clear(&s);
	/* A renamed directory: later events carry its new name. */
	mv("dir", "dir2");
	collect(t, &s, 1000);
	CHECK(has(&s, "dir") && has(&s, "dir2") && has(&s, "dir2/in"));
	ha_pathset_clear(&s);
	mk("dir2/more", "m");
	collect(t, &s, 1000);
	CHECK(has(&s, "dir2/more") && s.count == 1);
	CHECK(!has(&s, "dir/more"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(directory_moved_out_and_removed)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	char out[512], p[600];
	size_t w0;

	newroot();
	ha_pathset_init(&s);
	md("gone");
	md("gone/sub");
	md("del");
	t = ha_inotree_open(root, NULL, 0);
	w0 = ha_inotree_watches(t);
	CHECK(w0 == 4);
	snprintf(out, sizeof(out), "%s.out", root);
	snprintf(p, sizeof(p), "%s/gone", root);
	CHECK(rename(p, out) == 0);
	rmf("del");
	collect(t, &s, 1000);
	CHECK(has(&s, "gone") && has(&s, "del"));
	CHECK(ha_inotree_watches(t) == 1);
	ha_pathset_clear(&s);
	/* Outside the tree now: not ours. */
	snprintf(p, sizeof(p), "%s/sub/x", out);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	mk("here", "h");
	collect(t, &s, 1000);
	CHECK(s.count == 1 && has(&s, "here"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", out);
	rmdir(p);
	rmdir(out);
	/* Many directories made and removed: descriptors come and go. */
	{
		int i;

		for (i = 0; i < 50; i++) {
			md("churn");
			rmf("churn");
		}
	}
	ha_pathset_clear(&s);
	collect(t, &s, 1000);
	md("last");
	mk("last/f", "f");
	ha_pathset_clear(&s);
	collect(t, &s, 1000);
	CHECK(has(&s, "last/f"));
	CHECK(ha_inotree_watches(t) == 2);
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(excluded_names)
{
	const char *ex[] = { "*.tmp", "cache", "keep/skip*" };
	struct ha_pathset s;
	struct ha_inotree *t;

	newroot();
	ha_pathset_init(&s);
	md("cache");
	t = ha_inotree_open(root, ex, 3);
	CHECK(ha_inotree_watches(t) == 1);
	mk("a.tmp", "t");
	mk("cache/x", "x");
	md("keep");
	mk("keep/skipme", "s");
	mk("keep/file", "f");
	mk("b", "b");
	collect(t, &s, 1000);
	CHECK(!has(&s, "a.tmp") && !has(&s, "cache/x") &&
	    !has(&s, "keep/skipme"));
	CHECK(has(&s, "b") && has(&s, "keep") && has(&s, "keep/file"));
	CHECK(ha_inotree_excluded(ex, 3, "x/y.tmp"));
	CHECK(!ha_inotree_excluded(ex, 3, "x/keep/skipme"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(symlinks_not_followed)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	char target[300], p[600];

	newroot();
	ha_pathset_init(&s);
	snprintf(target, sizeof(target), "%s.target", root);
	mkdir(target, 0755);
	t = ha_inotree_open(root, NULL, 0);
	snprintf(p, sizeof(p), "%s/link", root);
	CHECK(symlink(target, p) == 0);
	collect(t, &s, 1000);
	CHECK(has(&s, "link") && s.count == 1);
	CHECK(ha_inotree_watches(t) == 1);
	ha_pathset_clear(&s);
	snprintf(p, sizeof(p), "%s/outside", target);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	mk("in", "i");
	collect(t, &s, 1000);
	CHECK(s.count == 1 && has(&s, "in"));
	unlink(p);
	rmdir(target);
	/* The root as a symlink is refused. */
	snprintf(p, sizeof(p), "%s/link", root);
	CHECK(ha_inotree_open(p, NULL, 0) == NULL);
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(odd_names)
{
	struct ha_pathset s;
	struct ha_inotree *t;

	newroot();
	ha_pathset_init(&s);
	t = ha_inotree_open(root, NULL, 0);
	md("a dir");
	mk("a dir/new\nline", "n");
	mk("caf\xc3\xa9 \xe2\x82\xac", "u");
	collect(t, &s, 1000);
	CHECK(has(&s, "a dir") && has(&s, "a dir/new\nline"));
	CHECK(has(&s, "caf\xc3\xa9 \xe2\x82\xac"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

/* More events than the kernel queues (16384 by default) before a read. */
TEST(overflow_asks_for_a_rescan)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	long max = 16384;
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	long i;
	char name[32];

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 16384;
		fclose(f);
	}
	newroot();
	ha_pathset_init(&s);
	t = ha_inotree_open(root, NULL, 0);
	if (max > 200000) {
		printf("SKIP unit: overflow: max_queued_events is %ld\n", max);
		ha_inotree_close(t);
		return;
	}
	md("sub");
	collect(t, &s, 1000);
	ha_pathset_clear(&s);
	for (i = 0; i < max / 2 + 100; i++) {
		snprintf(name, sizeof(name), "sub/f%ld", i);
		mk(name, "");
		if (i == max / 2)
			md("sub/late");
	}
	CHECK(collect(t, &s, 3000) == 1);
	CHECK(logged("inotify queue overflow"));
	/* A directory made after the queue was full is watched after it. */
	CHECK(ha_inotree_watches(t) == 3);
	ha_pathset_clear(&s);
	mk("sub/late/after", "a");
	collect(t, &s, 1000);
	CHECK(has(&s, "sub/late/after"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

/* The kernel's limit of watches, reached (through the test seam). */
TEST(out_of_watches)
{
	struct ha_pathset s;
	struct ha_inotree *t;
	int rescan;

	newroot();
	ha_pathset_init(&s);
	md("a");
	md("b");
	md("c");
	ha_inotree_test_watch_limit = 2;
	t = ha_inotree_open(root, NULL, 0);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	CHECK(!ha_inotree_complete(t) && ha_inotree_watches(t) == 2);
	CHECK(logged("[FAILURE]") && logged("max_user_watches"));
	rescan = collect(t, &s, 100);
	CHECK(rescan == 1);
	/* Still short: a new directory makes another whole comparison. */
	md("d");
	ha_pathset_clear(&s);
	CHECK(collect(t, &s, 1000) == 1 && has(&s, "d"));
	ha_inotree_test_watch_limit = -1;
	ha_inotree_rewalk(t);
	CHECK(ha_inotree_complete(t) && ha_inotree_watches(t) == 5);
	CHECK(logged("every directory of"));
	ha_pathset_clear(&s);
	CHECK(collect(t, &s, 100) == 1);
	mk("c/x", "x");
	ha_pathset_clear(&s);
	CHECK(collect(t, &s, 1000) == 0 && has(&s, "c/x"));
	ha_pathset_fini(&s);
	ha_inotree_close(t);
}

TEST(pathset)
{
	struct ha_pathset s;
	char k[32];
	int i, added, ok = 1;

	ha_pathset_init(&s);
	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "p%d", i);
		ha_pathset_put(&s, k, &added)->val = (uint64_t)i;
		ok &= added;
	}
	CHECK(ok && s.count == 5000);
	for (i = 0; i < 5000; i += 2) {
		snprintf(k, sizeof(k), "p%d", i);
		ok &= ha_pathset_del(&s, k);
	}
	CHECK(ok && s.count == 2500);
	for (i = 0; i < 5000; i++) {
		struct ha_pathset_ent *e;

		snprintf(k, sizeof(k), "p%d", i);
		e = ha_pathset_get(&s, k);
		ok &= i % 2 ? e != NULL && e->val == (uint64_t)i : e == NULL;
	}
	CHECK(ok);
	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "q%d", i % 7);
		ha_pathset_put(&s, k, NULL);
		ha_pathset_del(&s, k);
	}
	CHECK(s.count == 2500 && s.n_ents < 6000);
	ha_pathset_fini(&s);
}

int
main(void)
{
	t_suite = "inotree";
	RUN(create_write_delete);
	RUN(burst_is_coalesced);
	RUN(new_directory_filled_at_once);
	RUN(rename_is_delete_and_create);
	RUN(directory_moved_out_and_removed);
	RUN(excluded_names);
	RUN(symlinks_not_followed);
	RUN(odd_names);
	RUN(overflow_asks_for_a_rescan);
	RUN(out_of_watches);
	RUN(pathset);
	newroot();
	rmdir(root);
	return t_done();
}
