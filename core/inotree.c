/*
 * Recursive inotify watch (see inotree.h; inotify(7)).
 *
 * Watch descriptors are mapped to the relative path of their directory.
 * The kernel may hand out a descriptor number again once its watch is
 * gone, while events of the old watch are still queued: every watch we
 * remove (a directory deleted or moved away) or lose ends with exactly one
 * IN_IGNORED in the queue, so each map entry counts the IN_IGNORED still
 * owed by older watches of its number ("stale"), and events that arrive
 * while some are owed belong to a dead watch and are dropped. What they
 * described is covered: the directory's own path was reported when it
 * went, and a directory that arrives is scanned whole.
 */
#include "core/inotree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pathset.h"
#include "core/util.h"

#define DIR_MASK (IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | \
	IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct watch {
	int wd;			/* 0: empty slot, -1: tombstone */
	char *path;		/* NULL: the live watch is gone */
	unsigned stale;		/* IN_IGNORED owed by older watches */
	int seen;		/* marked during a full walk */
};

struct ha_inotree {
	int fd;
	char *root;
	char **exclude;
	size_t n_exclude;
	struct watch *w;	/* open addressing on wd, power of two */
	size_t n_w, used_w, live;
	struct ha_pathset pending;
	int rescan;
	int warned_limit;
	int incomplete;		/* a directory could not be watched */
};

int ha_inotree_test_watch_limit = -1;

/* inotify_add_watch, with the test seam that makes it run out. */
static int
add_watch(int fd, const char *path, uint32_t mask)
{
	if (ha_inotree_test_watch_limit == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (ha_inotree_test_watch_limit > 0)
		ha_inotree_test_watch_limit--;
	return inotify_add_watch(fd, path, mask);
}

/* --- the wd map ----------------------------------------------------------- */

static struct watch *
wfind(const struct ha_inotree *t, int wd)
{
	size_t m, i;

	if (t->n_w == 0)
		return NULL;
	m = t->n_w - 1;
	for (i = (size_t)wd & m; t->w[i].wd != 0; i = (i + 1) & m)
		if (t->w[i].wd == wd)
			return &t->w[i];
	return NULL;
}

static void
wgrow(struct ha_inotree *t)
{
	struct watch *old = t->w;
	size_t i, j, n = t->n_w, nn = 64, m;

	while (nn < (t->live + 1) * 4)
		nn *= 2;
	t->w = ha_xcalloc(nn, sizeof(*t->w));
	t->n_w = nn;
	t->used_w = 0;
	m = nn - 1;
	for (i = 0; i < n; i++) {
		if (old[i].wd <= 0)
			continue;
		j = (size_t)old[i].wd & m;
		while (t->w[j].wd != 0)
			j = (j + 1) & m;
		t->w[j] = old[i];
		t->used_w++;
	}
	free(old);
}

/* The entry of wd, made when absent. */
static struct watch *
wget(struct ha_inotree *t, int wd)
{
	struct watch *w = wfind(t, wd);
	size_t m, i;

	if (w)
		return w;
	if ((t->used_w + 1) * 2 > t->n_w)
		wgrow(t);
	m = t->n_w - 1;
	for (i = (size_t)wd & m; t->w[i].wd > 0; i = (i + 1) & m)
		;
	if (t->w[i].wd == 0)
		t->used_w++;
	t->w[i] = (struct watch){ .wd = wd };
	t->live++;
	return &t->w[i];
}

static void
wdel(struct ha_inotree *t, struct watch *w)
{
	free(w->path);
	*w = (struct watch){ .wd = -1 };
	t->live--;
}

/* --- helpers -------------------------------------------------------------- */

int
ha_inotree_excluded(const char *const *exclude, size_t n, const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t i;

	base = base ? base + 1 : rel;
	for (i = 0; i < n; i++)
		if (fnmatch(exclude[i], base, 0) == 0 ||
		    fnmatch(exclude[i], rel, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static int
excluded(const struct ha_inotree *t, const char *rel)
{
	return ha_inotree_excluded((const char *const *)t->exclude,
	    t->n_exclude, rel);
}

static char *
join(const char *dir, const char *name)
{
	return *dir ? ha_xasprintf("%s/%s", dir, name) : ha_xstrdup(name);
}

static void
note(struct ha_inotree *t, const char *rel)
{
	if (*rel)
		ha_pathset_put(&t->pending, rel, NULL);
}

/* --- watching directories ------------------------------------------------- */

static void scan(struct ha_inotree *t, const char *rel, int report);

/*
 * Watch directory rel and everything below it; with report, note every
 * path found (a directory that just appeared: its content is new too).
 * 0, or -1 when rel is not a directory (any more).
 */
static int
add_dir(struct ha_inotree *t, const char *rel, int report)
{
	char *abs = join(t->root, rel);
	struct watch *w;
	int wd;

	wd = add_watch(t->fd, *rel ? abs : t->root, DIR_MASK);
	free(abs);
	if (wd == -1) {
		/* Unwatched: only whole comparisons see what changes there. */
		if (errno == ENOSPC) {
			t->incomplete = 1;
			t->rescan = 1;
		}
		if (errno == ENOSPC && !t->warned_limit) {
			t->warned_limit = 1;
			ha_log(HA_FAILURE, "inotify watch on %s/%s: the limit "
			    "of watches is reached (fs.inotify."
			    "max_user_watches): the tree is compared whole "
			    "until every directory is watched", t->root, rel);
		} else if (errno != ENOENT && errno != ENOTDIR &&
		    errno != ENOSPC) {
			ha_log_errno(HA_WARNING, "inotify watch on %s/%s",
			    t->root, rel);
		}
		return -1;
	}
	/* Either a new watch, or the one this directory already has. */
	w = wget(t, wd);
	if (w->path == NULL || strcmp(w->path, rel) != 0) {
		free(w->path);
		w->path = ha_xstrdup(rel);
	}
	w->seen = 1;
	scan(t, rel, report);
	return 0;
}

static void
scan(struct ha_inotree *t, const char *rel, int report)
{
	char *abs = join(t->root, rel);
	struct dirent *de;
	DIR *d;
	int fd;

	fd = open(*rel ? abs : t->root,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(abs);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *sub;
		int isdir;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = join(rel, de->d_name);
		if (excluded(t, sub)) {
			free(sub);
			continue;
		}
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			isdir = fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		}
		if (report)
			note(t, sub);
		if (isdir)
			add_dir(t, sub, report);
		free(sub);
	}
	closedir(d);
}

/* Stop watching rel and every directory below it. */
static void
drop_dir(struct ha_inotree *t, const char *rel)
{
	size_t i, len = strlen(rel);

	for (i = 0; i < t->n_w; i++) {
		struct watch *w = &t->w[i];

		if (w->wd <= 0 || w->path == NULL)
			continue;
		if (strncmp(w->path, rel, len) != 0 ||
		    (w->path[len] != '\0' && w->path[len] != '/'))
			continue;
		/* Succeeds, or EINVAL: its IN_IGNORED is queued already. */
		(void)inotify_rm_watch(t->fd, w->wd);
		free(w->path);
		w->path = NULL;
		w->stale++;
	}
}

/*
 * Walk the whole tree again after lost events: watch what is new, fix
 * the paths of directories that moved, drop watches of directories no
 * longer in the tree.
 */
static void
rewalk(struct ha_inotree *t)
{
	size_t i;

	t->incomplete = 0;
	for (i = 0; i < t->n_w; i++)
		t->w[i].seen = 0;
	add_dir(t, "", 0);
	for (i = 0; i < t->n_w; i++) {
		struct watch *w = &t->w[i];

		if (w->wd > 0 && w->path && !w->seen) {
			(void)inotify_rm_watch(t->fd, w->wd);
			free(w->path);
			w->path = NULL;
			w->stale++;
		}
	}
	t->rescan = 1;
}

/* --- events --------------------------------------------------------------- */

static void
event(struct ha_inotree *t, const struct inotify_event *ev)
{
	struct watch *w;
	char *rel;

	if (ev->mask & IN_Q_OVERFLOW) {
		ha_log(HA_WARNING, "inotify queue overflow on %s: "
		    "comparing the whole tree", t->root);
		rewalk(t);
		return;
	}
	if ((w = wfind(t, ev->wd)) == NULL)
		return;
	if (ev->mask & IN_IGNORED) {
		if (w->stale > 0)
			w->stale--;
		else
			free(w->path), w->path = NULL;
		if (w->stale == 0 && w->path == NULL)
			wdel(t, w);
		return;
	}
	if (w->stale > 0 || w->path == NULL)
		return;
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (*w->path == '\0') {
			ha_log(HA_WARNING, "%s was removed or moved: "
			    "comparing the whole tree", t->root);
			t->rescan = 1;
		}
		return;
	}
	if (ev->len == 0 || ev->name[0] == '\0')
		return;
	rel = join(w->path, ev->name);
	if (excluded(t, rel)) {
		free(rel);
		return;
	}
	note(t, rel);
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & (IN_MOVED_FROM | IN_DELETE))
			drop_dir(t, rel);
		else if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			add_dir(t, rel, 1);
	}
	free(rel);
}

int
ha_inotree_read(struct ha_inotree *t)
{
	char buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	char *p;

	for (;;) {
		n = read(t->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			ha_log_errno(HA_FAILURE, "read inotify events of %s",
			    t->root);
			return -1;
		}
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			event(t, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* --- the rest ------------------------------------------------------------- */

struct ha_inotree *
ha_inotree_open(const char *root, const char *const *exclude, size_t n)
{
	struct ha_inotree *t = ha_xcalloc(1, sizeof(*t));
	struct stat st;
	size_t i;

	ha_pathset_init(&t->pending);
	t->root = ha_xstrdup(root);
	t->exclude = ha_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		t->exclude[i] = ha_xstrdup(exclude[i]);
	t->n_exclude = n;
	t->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->fd == -1) {
		ha_log_errno(HA_FAILURE, "inotify_init1 (for %s)", root);
		goto fail;
	}
	if (lstat(root, &st) == -1 || !S_ISDIR(st.st_mode)) {
		if (errno == 0 || S_ISLNK(st.st_mode))
			errno = ENOTDIR;
		ha_log_errno(HA_FAILURE, "watch %s", root);
		goto fail;
	}
	if (add_dir(t, "", 0) == -1) {
		ha_log_errno(HA_FAILURE, "watch %s", root);
		goto fail;
	}
	return t;
fail:
	ha_inotree_close(t);
	return NULL;
}

void
ha_inotree_close(struct ha_inotree *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->fd != -1)
		close(t->fd);
	for (i = 0; i < t->n_w; i++)
		if (t->w[i].wd > 0)
			free(t->w[i].path);
	free(t->w);
	for (i = 0; i < t->n_exclude; i++)
		free(t->exclude[i]);
	free(t->exclude);
	ha_pathset_fini(&t->pending);
	free(t->root);
	free(t);
}

int
ha_inotree_complete(const struct ha_inotree *t)
{
	return !t->incomplete;
}

void
ha_inotree_rewalk(struct ha_inotree *t)
{
	rewalk(t);
	if (!t->incomplete && t->warned_limit) {
		t->warned_limit = 0;
		ha_log(HA_INFO, "every directory of %s is watched again",
		    t->root);
	}
}

int
ha_inotree_fd(const struct ha_inotree *t)
{
	return t->fd;
}

size_t
ha_inotree_pending(const struct ha_inotree *t)
{
	return t->pending.count + (size_t)t->rescan;
}

size_t
ha_inotree_watches(const struct ha_inotree *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_w; i++)
		if (t->w[i].wd > 0 && t->w[i].path)
			n++;
	return n;
}

char **
ha_inotree_take(struct ha_inotree *t, size_t *n, int *rescan)
{
	char **v = ha_xcalloc(t->pending.count + 1, sizeof(char *));
	size_t i, k = 0;

	for (i = 0; i < t->pending.n_ents; i++) {
		if (t->pending.ents[i].path) {
			v[k++] = t->pending.ents[i].path;
			t->pending.ents[i].path = NULL;
		}
	}
	ha_pathset_clear(&t->pending);
	*n = k;
	if (rescan)
		*rescan = t->rescan;
	t->rescan = 0;
	return v;
}

void
ha_inotree_free_paths(char **paths)
{
	char **p;

	if (paths == NULL)
		return;
	for (p = paths; *p; p++)
		free(*p);
	free(paths);
}
