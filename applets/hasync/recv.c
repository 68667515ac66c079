/*
 * hasync: the receiving side of a push. It trusts nothing the sender
 * says: every path is checked (core/flist), every file operation is
 * relative to a directory descriptor reached from the tree's root one
 * component at a time with O_NOFOLLOW (so nothing is written through a
 * symlink or outside the tree), every file is written to a temporary
 * name, verified against the sender's SHA-256 (delta apply), synced and
 * only then renamed. A local change since the last push received (the
 * manifest) is kept under state_dir/conflicts/ before it is replaced or
 * deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "applets/hasync/recv.h"
#include "core/delta.h"
#include "core/log.h"
#include "core/state.h"
#include "core/wire.h"
#include "core/zio.h"

/* --- directories, reached safely ----------------------------------------- */

/* Forget the cached descriptors of dir and below. */
static void
dcache_drop(struct rcv *r, const char *dir)
{
	size_t i, n = strlen(dir);

	for (i = 0; i < r->nd;) {
		const char *p = r->dc[i].path;

		if (strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
			free(r->dc[i].path);
			close(r->dc[i].fd);
			r->dc[i] = r->dc[--r->nd];
		} else
			i++;
	}
}

/*
 * The directory dir ("" the root) of the tree, each component opened with
 * O_NOFOLLOW below its parent: -1 with errno when a component is missing,
 * a symlink (ELOOP) or not a directory (ENOTDIR). Borrowed fd.
 */
int
rcv_dir(struct rcv *r, const char *dir)
{
	const char *slash;
	char *parent;
	size_t i;
	int pfd, fd;

	if (dir[0] == '\0')
		return r->rootfd;
	for (i = 0; i < r->nd; i++)
		if (strcmp(r->dc[i].path, dir) == 0) {
			r->dc[i].used = ++r->dclock;
			return r->dc[i].fd;
		}
	slash = strrchr(dir, '/');
	parent = slash ? ha_xstrndup(dir, (size_t)(slash - dir)) :
	    ha_xstrdup("");
	pfd = rcv_dir(r, parent);
	free(parent);
	if (pfd == -1)
		return -1;
	fd = openat(pfd, slash ? slash + 1 : dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (r->nd == RCV_DCACHE) {
		/* Evict the least recently used one. */
		size_t old = 0;

		for (i = 1; i < r->nd; i++)
			if (r->dc[i].used < r->dc[old].used)
				old = i;
		free(r->dc[old].path);
		close(r->dc[old].fd);
		r->dc[old] = r->dc[--r->nd];
	}
	r->dc[r->nd].path = ha_xstrdup(dir);
	r->dc[r->nd].used = ++r->dclock;
	r->dc[r->nd++].fd = fd;
	return fd;
}

/* The directory holding path and its last component. */
int
rcv_parent(struct rcv *r, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return r->rootfd;
	dir = ha_xstrndup(path, (size_t)(slash - path));
	fd = rcv_dir(r, dir);
	free(dir);
	return fd;
}

/* --- conflicts ------------------------------------------------------------ */

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Did the file at path change here since the last push we received? */
int
rcv_changed_here(struct rcv *r, const char *path, const struct stat *st)
{
	const struct ha_flist_ent *m = ha_flist_find(&r->manifest, path);

	if (!S_ISREG(st->st_mode))
		return 0;
	return m == NULL || m->type != HA_FLIST_REG ||
	    m->size != (uint64_t)st->st_size || m->mtime_ns != mtime_ns(st);
}

static int
mkdirs(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int
copy_out(int dfd, const char *base, const char *dest)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	if ((in = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out == -1) {
		close(in);
		return -1;
	}
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		rc = ha_write_all(out, buf, (size_t)n);
	if (fsync(out) == -1)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

/*
 * Keep the file base (in dfd, path in the tree) under
 * state_dir/conflicts/<UTC time>/<set>/<path> before it is replaced or
 * deleted: a hard link, or a copy across file systems.
 */
int
rcv_keep(struct rcv *r, int dfd, const char *base, const char *path)
{
	char *dest = ha_xasprintf("%s/%s", r->conflict_dir, path);
	int rc = 0;

	if (mkdirs(dest) == -1 || (linkat(dfd, base, AT_FDCWD, dest, 0) == -1
	    && copy_out(dfd, base, dest) == -1)) {
		ha_log_errno(HA_FAILURE, "set %s: cannot keep the local change "
		    "of %s as %s", r->set->name, path, dest);
		rc = -1;
	} else {
		ha_log(HA_WARNING, "set %s: %s changed here since the last "
		    "push; kept as %s", r->set->name, path, dest);
		r->conflicts++;
	}
	free(dest);
	return rc;
}

/* Remove base (in dfd) whatever it is, keeping local changes. */
int
rcv_remove(struct rcv *r, int dfd, const char *base, const char *path)
{
	struct stat st;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		struct ha_flist sub = { 0 };
		size_t i;
		int fd, rc = 0;

		fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1 || hs_scan(fd, NULL, NULL, 0, 1, &sub) == -1) {
			if (fd != -1)
				close(fd);
			return -1;
		}
		/* Children before their directory. */
		ha_flist_sort(&sub);
		for (i = sub.n; rc == 0 && i-- > 0;) {
			char *p = ha_xasprintf("%s/%s", path, sub.v[i].path);
			const char *b;
			int pfd = rcv_parent(r, p, &b);

			rc = pfd == -1 ? -1 : rcv_remove(r, pfd, b, p);
			free(p);
		}
		close(fd);
		ha_flist_free(&sub);
		dcache_drop(r, path);	/* those directories are gone */
		return rc == 0 ? unlinkat(dfd, base, AT_REMOVEDIR) : -1;
	}
	if (rcv_changed_here(r, path, &st) && rcv_keep(r, dfd, base, path))
		return -1;
	return unlinkat(dfd, base, 0);
}

/* --- manifest and state ----------------------------------------------------- */

int
rcv_manifest_load(struct rcv *r)
{
	char *path = ha_xasprintf("%s/%s.manifest", r->sdir, r->set->name);
	struct ha_buf b = { 0 };
	char chunk[65536];
	const char *why;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(path);
		return errno == ENOENT ? 0 : -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ha_buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0 || ha_flist_decode_all((uint8_t *)b.s, b.len, &r->manifest,
	    &why) == -1) {
		ha_log(HA_WARNING, "set %s: ignoring the corrupt manifest %s",
		    r->set->name, path);
		ha_flist_free(&r->manifest);
		rc = 0;
	}
	ha_flist_sort(&r->manifest);
	ha_buf_free(&b);
	free(path);
	return rc;
}

static int
in_scope(const struct rcv *r, const char *path)
{
	size_t i, n;

	if (!(r->flags & HS_F_PARTIAL))
		return 1;
	for (i = 0; i < r->n_scopes; i++) {
		n = strlen(r->scopes[i]);
		if (strncmp(path, r->scopes[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* What this node now holds: the file list as received and written. */
int
rcv_manifest_save(struct rcv *r)
{
	char *path = ha_xasprintf("%s/%s.manifest", r->sdir, r->set->name);
	struct ha_buf b = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < r->fl.n; i++) {
		struct ha_flist_ent e = r->fl.v[i];

		if (r->fs[i].want && r->fs[i].done == RCV_DONE_OK) {
			e.size = r->fs[i].size;
			e.mtime_ns = r->fs[i].mtime;
		}
		e.flags = 0;
		ha_flist_encode(&e, &b);
	}
	/* A partial push leaves the rest of the old manifest as it was. */
	for (i = 0; (r->flags & HS_F_PARTIAL) && i < r->manifest.n; i++) {
		const struct ha_flist_ent *m = &r->manifest.v[i];

		if (!in_scope(r, m->path) && ha_flist_find(&r->fl, m->path) ==
		    NULL)
			ha_flist_encode(m, &b);
	}
	rc = ha_file_write_atomic(path, b.s ? b.s : "", b.len, 0600);
	ha_buf_free(&b);
	free(path);
	return rc;
}

int
rcv_in_scope(const struct rcv *r, const char *path)
{
	return in_scope(r, path);
}
