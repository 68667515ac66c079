/*
 * Atomic persistent state (see state.h). File format, one item a line:
 *
 *   habox-state 1
 *   key=value            (value with \\, \n and bytes < 0x20 escaped)
 *   end crc32=1a2b3c4d   (CRC-32 of every byte before this line)
 *
 * Anything else, a missing end line or a wrong checksum means corrupt.
 */
#include "core/state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "core/util.h"

#define HEADER "habox-state 1\n"
#define MAX_STATE (4 * 1024 * 1024)

void (*ha_state_test_hook)(const char *stage);

struct kv {
	char *key;
	char *val;
};

struct ha_state {
	struct kv *v;
	size_t n;
};

struct ha_state *
ha_state_new(void)
{
	return ha_xcalloc(1, sizeof(struct ha_state));
}

void
ha_state_free(struct ha_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n; i++) {
		free(st->v[i].key);
		free(st->v[i].val);
	}
	free(st->v);
	free(st);
}

static int
valid_key(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++)
		if (!isalnum((unsigned char)k[i]) && !strchr("_.-", k[i]))
			return 0;
	return i > 0 && i <= 128;
}

/* Index of key, or where it would go (sorted), with *found. */
static size_t
find(const struct ha_state *st, const char *key, int *found)
{
	size_t lo = 0, hi = st->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(st->v[mid].key, key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *
ha_state_get(const struct ha_state *st, const char *key)
{
	int found;
	size_t i = find(st, key, &found);

	return found ? st->v[i].val : NULL;
}

int
ha_state_get_u64(const struct ha_state *st, const char *key, uint64_t *v)
{
	const char *s = ha_state_get(st, key);
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno ? -1 : 0;
}

int
ha_state_set(struct ha_state *st, const char *key, const char *value)
{
	int found;
	size_t i;

	if (!valid_key(key)) {
		ha_log(HA_FAILURE, "state: bad key '%s'", key);
		return -1;
	}
	i = find(st, key, &found);
	if (found) {
		free(st->v[i].val);
		st->v[i].val = ha_xstrdup(value);
		return 0;
	}
	st->v = ha_xreallocarray(st->v, st->n + 1, sizeof(*st->v));
	memmove(&st->v[i + 1], &st->v[i], (st->n - i) * sizeof(*st->v));
	st->v[i].key = ha_xstrdup(key);
	st->v[i].val = ha_xstrdup(value);
	st->n++;
	return 0;
}

int
ha_state_set_u64(struct ha_state *st, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return ha_state_set(st, key, buf);
}

void
ha_state_unset(struct ha_state *st, const char *key)
{
	int found;
	size_t i = find(st, key, &found);

	if (!found)
		return;
	free(st->v[i].key);
	free(st->v[i].val);
	memmove(&st->v[i], &st->v[i + 1], (st->n - i - 1) * sizeof(*st->v));
	st->n--;
}

size_t
ha_state_count(const struct ha_state *st)
{
	return st->n;
}

const char *
ha_state_key_at(const struct ha_state *st, size_t i)
{
	return i < st->n ? st->v[i].key : NULL;
}

const char *
ha_state_value_at(const struct ha_state *st, size_t i)
{
	return i < st->n ? st->v[i].val : NULL;
}

static void
escape(struct ha_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			ha_buf_puts(b, "\\\\");
		else if (c == '\n')
			ha_buf_puts(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			ha_buf_printf(b, "\\x%02x", c);
		else
			ha_buf_add(b, s, 1);
	}
}

/* Undo escape() in place; -1 on a malformed escape. */
static int
unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (*s != '\\') {
			*w++ = *s++;
			continue;
		}
		s++;
		if (*s == '\\' || *s == 'n') {
			*w++ = *s == 'n' ? '\n' : '\\';
			s++;
		} else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], 0 };
			long c = strtol(hex, NULL, 16);

			if (c == 0)
				return -1;
			*w++ = (char)c;
			s += 3;
		} else {
			return -1;
		}
	}
	*w = '\0';
	return 0;
}

static void
hook(const char *stage)
{
	if (ha_state_test_hook)
		ha_state_test_hook(stage);
}

int
ha_state_save(const struct ha_state *st, const char *path)
{
	struct ha_buf b = { 0 };
	size_t i;
	int r;

	ha_buf_puts(&b, HEADER);
	for (i = 0; i < st->n; i++) {
		ha_buf_printf(&b, "%s=", st->v[i].key);
		escape(&b, st->v[i].val);
		ha_buf_puts(&b, "\n");
	}
	ha_buf_printf(&b, "end crc32=%08lx\n",
	    crc32(0L, (const Bytef *)b.s, (uInt)b.len));
	r = ha_file_write_atomic(path, b.s, b.len, 0600);
	ha_buf_free(&b);
	return r;
}

static int
corrupt(const char *path, const char *why)
{
	ha_log(HA_FAILURE, "state file %s is corrupt (%s): refusing to use it; "
	    "check it, then move it aside to start from empty state", path, why);
	return -1;
}

static int
parse(struct ha_state *st, char *buf, size_t len, const char *path)
{
	char *end_line, *line, *nl;
	char want[32];

	if (len < strlen(HEADER) || memcmp(buf, HEADER, strlen(HEADER)) != 0)
		return corrupt(path, "no habox-state header");
	if (len == 0 || buf[len - 1] != '\n')
		return corrupt(path, "truncated");
	buf[len - 1] = '\0';
	if ((end_line = strrchr(buf, '\n')) == NULL)
		return corrupt(path, "truncated");
	end_line++;
	snprintf(want, sizeof(want), "end crc32=%08lx",
	    crc32(0L, (const Bytef *)buf, (uInt)(end_line - buf)));
	if (!ha_startswith(end_line, "end crc32="))
		return corrupt(path, "no end line: truncated");
	if (strcmp(end_line, want) != 0)
		return corrupt(path, "checksum mismatch");
	*end_line = '\0';
	for (line = buf + strlen(HEADER); *line; line = nl) {
		char *eq;

		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = line + strlen(line);
		if ((eq = strchr(line, '=')) == NULL)
			return corrupt(path, "a line without '='");
		*eq = '\0';
		if (!valid_key(line) || unescape(eq + 1) == -1 ||
		    ha_state_get(st, line) != NULL)
			return corrupt(path, "a bad or repeated key");
		ha_state_set(st, line, eq + 1);
	}
	return 0;
}

int
ha_state_load(const char *path, struct ha_state **out)
{
	struct ha_buf b = { 0 };
	char chunk[8192];
	ssize_t n;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			*out = ha_state_new();
			return 0;
		}
		ha_log_errno(HA_FAILURE, "cannot read state file %s", path);
		return -1;
	}
	ha_buf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || b.len + (size_t)n > MAX_STATE) {
			if (n == -1)
				ha_log_errno(HA_FAILURE, "cannot read state "
				    "file %s", path);
			else
				corrupt(path, "too large");
			close(fd);
			ha_buf_free(&b);
			return -1;
		}
		ha_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	r = ha_state_parse(b.s, b.len, path, out);
	ha_buf_free(&b);
	return r == 0 ? 1 : -1;
}

int
ha_state_parse(const char *text, size_t len, const char *name,
    struct ha_state **out)
{
	char *buf;
	int r;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL)
		return corrupt(name, "NUL bytes");
	buf = ha_xstrndup(text, len);
	*out = ha_state_new();
	r = parse(*out, buf, len, name);
	free(buf);
	if (r == -1) {
		ha_state_free(*out);
		*out = NULL;
	}
	return r;
}

/* Remove temp files that writers which no longer run left behind. */
static void
clean_stale(const char *dir, const char *base)
{
	char prefix[300];
	struct dirent *de;
	DIR *d;

	snprintf(prefix, sizeof(prefix), ".%s.tmp.", base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (!ha_startswith(de->d_name, prefix))
			continue;
		pid = strtol(de->d_name + strlen(prefix), &end, 10);
		if (*end || pid <= 0 || (kill((pid_t)pid, 0) == -1 &&
		    errno == ESRCH))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int
ha_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	char *dcopy = ha_xstrdup(path), *bcopy = ha_xstrdup(path);
	char *dir = dirname(dcopy), *base = basename(bcopy);
	char *tmp = ha_xasprintf("%s/.%s.tmp.%ld", dir, base, (long)getpid());
	int fd = -1, dfd = -1, rc = -1;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		ha_log_errno(HA_FAILURE, "create %s", tmp);
		goto out;
	}
	if (fchmod(fd, mode) == -1 || ha_write_all(fd, data, len) == -1) {
		ha_log_errno(HA_FAILURE, "write %s", tmp);
		goto out;
	}
	hook("written");
	if (fsync(fd) == -1) {
		ha_log_errno(HA_FAILURE, "fsync %s", tmp);
		goto out;
	}
	hook("synced");
	if (close(fd) == -1) {
		fd = -1;
		ha_log_errno(HA_FAILURE, "close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		ha_log_errno(HA_FAILURE, "rename %s -> %s", tmp, path);
		goto out;
	}
	hook("renamed");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		ha_log_errno(HA_FAILURE, "fsync directory %s", dir);
		goto out_renamed;
	}
	clean_stale(dir, base);
	rc = 0;
	goto out_renamed;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
out_renamed:
	if (dfd != -1)
		close(dfd);
	free(tmp);
	free(dcopy);
	free(bcopy);
	return rc;
}
