/*
 * hasync: what sender and receiver share: the connection (buffered frames
 * over core/peer), the tree scan with excludes, the persistent state
 * under state_dir/hasync/ and configured commands.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "core/delta.h"
#include "core/log.h"
#include "core/run.h"
#include "core/state.h"
#include "core/tls.h"
#include "core/wire.h"

/* --- the connection ---------------------------------------------------- */

void
hs_queue(struct hs_conn *c, uint8_t type, const void *p, size_t n)
{
	ha_wire_frame(&c->out, type, p, n);
	if (c->out.len >= 512 * 1024)
		(void)hs_flush(c);
}

int
hs_flush(struct hs_conn *c)
{
	int r;

	if (c->out.len == 0 || c->peer == NULL)
		return c->peer ? 0 : -1;
	r = ha_tls_write_all(ha_peer_tls(c->peer), c->out.s, c->out.len,
	    ha_now_ms() + c->timeout_ms);
	c->sent += c->out.len;
	c->out.len = 0;
	if (r == -1) {
		/* A dead connection: further writes fail at once. */
		ha_peer_free(c->peer);
		c->peer = NULL;
	}
	return r;
}

int
hs_recv(struct hs_conn *c, uint8_t *type)
{
	if (hs_flush(c) == -1)
		return -1;
	return ha_peer_recv(c->peer, type, &c->in, ha_now_ms() +
	    c->timeout_ms);
}

void
hs_refuse(struct hs_conn *c, const char *fmt, ...)
{
	struct ha_buf m = { 0 }, b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	ha_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	ha_log(HA_FAILURE, "refused %s: %s", c->name, m.s);
	ha_error_encode(&b, 1, m.s);
	hs_queue(c, HA_MSG_ERROR, b.s, b.len);
	(void)hs_flush(c);
	ha_buf_free(&m);
	ha_buf_free(&b);
}

int
hs_port(const struct ha_cfg *cfg, const struct ha_cfg_node *n)
{
	(void)cfg;
	return (int)n->port + 1;
}

/* One TLS context per process: loading keys is not free. */
static struct ha_tls_ctx *ctx;

struct ha_tls_ctx *
hs_tls_swap(struct ha_tls_ctx *n)
{
	struct ha_tls_ctx *old = ctx;

	ctx = n;
	return old;
}

struct hs_conn *
hs_connect(const struct ha_cfg *cfg, const char *peer_name, char *err,
    size_t errlen)
{
	const struct ha_cfg_node *n = ha_cfg_node(cfg, peer_name);
	struct ha_hello mine;
	struct hs_conn *c;
	struct ha_peer *p;

	if (n == NULL) {
		snprintf(err, errlen, "no [node %s] in %s", peer_name,
		    cfg->path);
		return NULL;
	}
	if (ctx == NULL && (ctx = ha_tls_ctx_from_cfg(cfg)) == NULL) {
		snprintf(err, errlen, "cannot load the TLS credentials");
		return NULL;
	}
	ha_hello_init(&mine, cfg->cluster->name, cfg->cluster->node, "tool");
	p = ha_peer_connect(ctx, &n->address, hs_port(cfg, n), n->name, &mine,
	    ha_now_ms() + cfg->cluster->handshake_timeout_ms + 5000);
	if (p == NULL) {
		snprintf(err, errlen, "cannot reach %s (see the log)",
		    peer_name);
		return NULL;
	}
	c = ha_xcalloc(1, sizeof(*c));
	c->peer = p;
	c->timeout_ms = 30000;
	c->cfg = cfg;
	ha_strlcpy(c->name, n->name, sizeof(c->name));
	return c;
}

void
hs_close(struct hs_conn *c)
{
	if (c == NULL)
		return;
	(void)hs_flush(c);
	ha_peer_free(c->peer);
	ha_buf_free(&c->out);
	ha_buf_free(&c->in);
	free(c);
}

const char *
hs_conn_peer(const struct hs_conn *c)
{
	return c->name;
}

/* --- scanning a tree ----------------------------------------------------- */

int
hs_excluded(const struct ha_strv *ex, const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t i;

	base = base ? base + 1 : rel;
	for (i = 0; ex && i < ex->n; i++) {
		const char *pat = ex->v[i];

		/* rsync's rule: a pattern with a slash matches the path. */
		if (strchr(pat, '/') ? fnmatch(pat, rel, FNM_PATHNAME) == 0 :
		    fnmatch(pat, base, 0) == 0)
			return 1;
	}
	return 0;
}

static int
ent_from_stat(struct ha_flist_ent *e, const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	if (S_ISREG(st->st_mode))
		e->type = HA_FLIST_REG, e->size = (uint64_t)st->st_size;
	else if (S_ISDIR(st->st_mode))
		e->type = HA_FLIST_DIR;
	else if (S_ISLNK(st->st_mode))
		e->type = HA_FLIST_LINK;
	else
		return -1;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	return 0;
}

struct scan {
	const struct ha_strv *ex;
	int sha, clean;
	struct ha_flist *out;
};

static int scan_dir(struct scan *s, int dfd, const char *rel);

/* One name in directory dfd (rel is its path in the tree). */
static int
scan_one(struct scan *s, int dfd, const char *name, const char *rel)
{
	struct ha_flist_ent e;
	struct stat st;
	char buf[HA_FLIST_PATH_MAX + 1];
	const char *why;
	int rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)	/* gone meanwhile */
			return 0;
		ha_log_errno(HA_FAILURE, "stat %s", rel);
		return -1;
	}
	if (ent_from_stat(&e, &st) == -1)
		return 0;	/* fifos, sockets, devices: not synced */
	e.path = (char *)rel;
	if (e.type == HA_FLIST_LINK) {
		ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);

		if (n <= 0) {
			ha_log_errno(HA_WARNING, "readlink %s", rel);
			return 0;
		}
		buf[n] = '\0';
		e.link = buf;
	}
	if (e.type == HA_FLIST_REG && s->sha) {
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		if (fd == -1 || ha_delta_file_sha(fd, e.size, e.sha, &why)
		    == -1) {
			ha_log(HA_WARNING, "cannot hash %s: %s", rel, fd == -1 ?
			    strerror(errno) : why);
			if (fd != -1)
				close(fd);
			return 0;
		}
		close(fd);
		e.flags |= HA_FLIST_HAS_SHA;
	}
	ha_flist_add(s->out, &e);
	if (e.type == HA_FLIST_DIR) {
		int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);

		if (sub == -1) {
			ha_log_errno(HA_FAILURE, "open %s", rel);
			return -1;
		}
		rc = scan_dir(s, sub, rel);
		close(sub);
	}
	return rc;
}

/* Every name in dfd (owned by the caller), recursively. */
static int
scan_dir(struct scan *s, int dfd, const char *rel)
{
	int fd = dup(dfd), rc = 0;
	struct dirent *d;
	DIR *dir;

	if (fd == -1 || (dir = fdopendir(fd)) == NULL) {
		ha_log_errno(HA_FAILURE, "read directory %s", rel ? rel : ".");
		if (fd != -1)
			close(fd);
		return -1;
	}
	while (rc == 0 && (d = readdir(dir)) != NULL) {
		char *path;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (ha_startswith(d->d_name, HS_TMP_PREFIX)) {
			/* A leftover of a cut transfer: never data. */
			if (s->clean && unlinkat(dfd, d->d_name, 0) == 0)
				ha_log(HA_INFO, "removed the leftover %s%s%s",
				    rel ? rel : "", rel ? "/" : "", d->d_name);
			continue;
		}
		path = rel ? ha_xasprintf("%s/%s", rel, d->d_name) :
		    ha_xstrdup(d->d_name);
		if (strlen(path) <= HA_FLIST_PATH_MAX &&
		    !hs_excluded(s->ex, path))
			rc = scan_one(s, dfd, d->d_name, path);
		free(path);
	}
	closedir(dir);
	return rc;
}

int
hs_scan(int rootfd, const char *sub, const struct ha_strv *ex, int sha,
    int clean, struct ha_flist *out)
{
	struct scan s = { ex, sha, clean, out };
	char *dir, *slash;
	int dfd, rc;

	if (sub == NULL)
		return scan_dir(&s, rootfd, NULL);
	if (hs_excluded(ex, sub))
		return 0;
	dir = ha_xstrdup(sub);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		dfd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else
		dfd = dup(rootfd);
	rc = 0;
	if (dfd != -1) {
		rc = scan_one(&s, dfd, slash ? slash + 1 : dir, sub);
		close(dfd);
	}
	free(dir);
	return rc;
}

int
hs_scan_parent(int rootfd, const char *path, struct ha_flist *out)
{
	struct ha_flist_ent e;
	struct stat st;

	if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode) || ent_from_stat(&e, &st) == -1)
		return -1;
	e.path = (char *)path;
	ha_flist_add(out, &e);
	return 0;
}

/* --- state --------------------------------------------------------------- */

char *
hs_state_dir(const struct ha_cfg *cfg)
{
	char *d = ha_xasprintf("%s/hasync", cfg->cluster->state_dir);

	if (mkdir(cfg->cluster->state_dir, 0700) == -1 && errno != EEXIST)
		ha_log_errno(HA_WARNING, "mkdir %s", cfg->cluster->state_dir);
	if (mkdir(d, 0700) == -1 && errno != EEXIST)
		ha_log_errno(HA_WARNING, "mkdir %s", d);
	return d;
}

int
hs_state_set(const struct ha_cfg *cfg, const char *file,
    const char *const *kv, size_t n)
{
	char *dir = hs_state_dir(cfg);
	char *path = ha_xasprintf("%s/%s", dir, file);
	char *lock = ha_xasprintf("%s/%s.lock", dir, file);
	struct ha_state *st = NULL;
	int lfd, rc = -1;
	size_t i;

	/* Several processes update these files: one at a time. */
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd == -1 || flock(lfd, LOCK_EX) == -1) {
		ha_log_errno(HA_FAILURE, "lock %s", lock);
		goto out;
	}
	if (ha_state_load(path, &st) == -1)
		goto out;
	for (i = 0; i + 1 < n * 2; i += 2)
		ha_state_set(st, kv[i], kv[i + 1]);
	rc = ha_state_save(st, path);
out:
	ha_state_free(st);
	if (lfd != -1)
		close(lfd);
	free(dir);
	free(path);
	free(lock);
	return rc;
}

int
hs_run_cmd(const char *what, const char *cmd, const char *set,
    int64_t timeout_ms, char *err, size_t errlen)
{
	char *env[2] = { ha_xasprintf("HASYNC_SET=%s", set), NULL };
	struct ha_run_opts o = { .timeout_ms = timeout_ms, .env_add = env };
	struct ha_run_result r;
	char label[128], desc[128];
	int rc = -1;

	snprintf(label, sizeof(label), "%s %s", set, what);
	if (ha_run_shell(cmd, &o, &r) == -1) {
		snprintf(err, errlen, "%s of set %s could not start", what,
		    set);
		free(env[0]);
		return -1;
	}
	ha_run_describe(&r, desc, sizeof(desc));
	ha_run_log_output(&r, ha_run_ok(&r) ? HA_INFO : HA_WARNING, label);
	if (ha_run_ok(&r)) {
		ha_log(HA_INFO, "%s of set %s: %s", what, set, desc);
		rc = 0;
	} else
		snprintf(err, errlen, "%s of set %s failed: %s", what, set,
		    desc);
	ha_run_result_free(&r);
	free(env[0]);
	return rc;
}
