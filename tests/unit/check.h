/*
 * A tiny unit-test harness: TEST(name) defines a case, CHECK(cond) records
 * a failure without stopping the case, RUN(name) runs one and prints
 * "PASS suite: name" or "FAIL suite: name: file:line: CHECK(cond)".
 * tests/run.sh counts those lines. Log lines are captured, not printed,
 * so cases can assert on messages with logged("text").
 */
#ifndef HA_CHECK_H
#define HA_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

static const char *t_suite = "unit";
static int t_case_failed, t_passed, t_failed;
static struct ha_buf t_why, t_log;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			if (!t_case_failed) \
				ha_buf_printf(&t_why, "%s:%d: CHECK(%s)", \
				    __FILE__, __LINE__, #cond); \
			t_case_failed = 1; \
		} \
	} while (0)

#define TEST(name) static void name(void)
#define RUN(name) t_run(#name, name)

static void
t_hook(enum ha_level level, const char *msg, void *arg)
{
	(void)arg;
	ha_buf_printf(&t_log, "[%s] %s\n", ha_log_level_name(level), msg);
}

/* 1 when a line containing text was logged in this case. */
static inline int
logged(const char *text)
{
	return t_log.s != NULL && strstr(t_log.s, text) != NULL;
}

/* Number of log lines at level (e.g. "[FAILURE]") in this case. */
static inline int
logged_count(const char *level)
{
	int n = 0;
	const char *s = t_log.s;

	while (s && (s = strstr(s, level)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static inline void
t_clear_log(void)
{
	ha_buf_free(&t_log);
}

static void
t_run(const char *name, void (*fn)(void))
{
	t_case_failed = 0;
	t_why.len = 0;
	ha_buf_free(&t_log);
	ha_log_init("test", 0);
	ha_log_verbosity(1);
	ha_log_set_hook(t_hook, NULL);
	fn();
	if (t_case_failed) {
		t_failed++;
		printf("FAIL %s: %s: %s\n", t_suite, name, t_why.s);
		if (t_log.s && getenv("T_VERBOSE"))
			printf("%s", t_log.s);
	} else {
		t_passed++;
		printf("PASS %s: %s\n", t_suite, name);
	}
	fflush(stdout);
}

/* Hex digits s into out: the number of bytes. */
static inline size_t
t_unhex(const char *s, unsigned char *out)
{
	size_t i;

	for (i = 0; s[2 * i] && s[2 * i + 1]; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			break;
		out[i] = (unsigned char)v;
	}
	return i;
}

static inline int
t_done(void)
{
	ha_buf_free(&t_why);
	ha_buf_free(&t_log);
	return t_failed ? 1 : 0;
}

#endif
