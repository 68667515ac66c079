/*
 * Helpers every module uses. Allocation failure is logged and aborts: a
 * half-built state in an HA daemon is worse than a restart by init.
 */
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static void
oom(size_t n)
{
	ha_log(HA_FAILURE, "out of memory (allocating %zu bytes)", n);
	abort();
}

void *
ha_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
ha_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
ha_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

void *
ha_xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return ha_xrealloc(p, n * size);
}

char *
ha_xstrdup(const char *s)
{
	return ha_xstrndup(s, strlen(s));
}

char *
ha_xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len = strnlen(s, n);

	p = ha_xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
ha_xasprintf(const char *fmt, ...)
{
	struct ha_buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	ha_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return b.s;
}

static void
reserve(struct ha_buf *b, size_t more)
{
	size_t need;

	if (more > SIZE_MAX - b->len - 1)
		oom(SIZE_MAX);
	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->s = ha_xrealloc(b->s, b->cap);
}

void
ha_buf_add(struct ha_buf *b, const void *p, size_t n)
{
	reserve(b, n);
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
ha_buf_puts(struct ha_buf *b, const char *s)
{
	ha_buf_add(b, s, strlen(s));
}

void
ha_buf_vprintf(struct ha_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	reserve(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
ha_buf_printf(struct ha_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ha_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
ha_buf_free(struct ha_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int64_t
ha_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t
ha_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
ha_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void
ha_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

int
ha_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
