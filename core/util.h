/*
 * Small helpers every module uses: exit codes, allocation that never
 * returns NULL, string building, monotonic time, array sizes.
 */
#ifndef HA_UTIL_H
#define HA_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes: an interface (hawatch runs applets as children). */
enum {
	HA_EXIT_OK = 0,		/* done */
	HA_EXIT_FAIL = 1,	/* the operation failed */
	HA_EXIT_USAGE = 2,	/* bad arguments or bad configuration */
	HA_EXIT_DOWN = 3,	/* status query: not running / not leader */
	HA_EXIT_TEMP = 75,	/* not now, nothing changed: try again soon
				 * (sysexits' EX_TEMPFAIL) */
};

#define HA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HA_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation: on failure these log a FAILURE and abort(); never NULL. */
void *ha_xmalloc(size_t n);
void *ha_xcalloc(size_t n, size_t size);
void *ha_xrealloc(void *p, size_t n);
void *ha_xreallocarray(void *p, size_t n, size_t size);
char *ha_xstrdup(const char *s);
char *ha_xstrndup(const char *s, size_t n);
char *ha_xasprintf(const char *fmt, ...) HA_PRINTF(1, 2);

/* A growing string; `s` is always NUL-terminated once anything was added. */
struct ha_buf {
	char *s;
	size_t len;
	size_t cap;
};
void ha_buf_add(struct ha_buf *b, const void *p, size_t n);
void ha_buf_puts(struct ha_buf *b, const char *s);
void ha_buf_printf(struct ha_buf *b, const char *fmt, ...) HA_PRINTF(2, 3);
void ha_buf_vprintf(struct ha_buf *b, const char *fmt, va_list ap)
    HA_PRINTF(2, 0);
void ha_buf_free(struct ha_buf *b);

/* Monotonic milliseconds (CLOCK_BOOTTIME: keeps counting in suspend). */
int64_t ha_now_ms(void);

/* Copy at most size-1 bytes and terminate; returns strlen(src). */
size_t ha_strlcpy(char *dst, const char *src, size_t size);

/* 1 when s starts with prefix. */
int ha_startswith(const char *s, const char *prefix);

/* Wipe secrets so the compiler cannot drop the write. */
void ha_wipe(void *p, size_t n);

/* Write all n bytes, retrying on EINTR and short writes; -1 on error. */
int ha_write_all(int fd, const void *p, size_t n);

#endif
