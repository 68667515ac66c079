/*
 * Logging to syslog(3) and stderr as `applet: [LEVEL] message`.
 * Each line is formatted once and written with one write(2) so lines of
 * concurrent processes (hawatch and its children) never interleave.
 */
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *ident = "habox";
static int outputs = HA_LOG_STDERR;
static int verbosity;
static int syslog_open;
static void (*hook)(enum ha_level, const char *, void *);
static void *hook_arg;

static const char *const names[] = {
	[HA_DEBUG] = "DEBUG",
	[HA_INFO] = "INFO",
	[HA_SUCCESS] = "SUCCESS",
	[HA_WARNING] = "WARNING",
	[HA_FAILURE] = "FAILURE",
};

static const int prio[] = {
	[HA_DEBUG] = LOG_DEBUG,
	[HA_INFO] = LOG_INFO,
	[HA_SUCCESS] = LOG_NOTICE,
	[HA_WARNING] = LOG_WARNING,
	[HA_FAILURE] = LOG_ERR,
};

void
ha_log_init(const char *id, int out)
{
	ident = id;
	outputs = out;
	if (syslog_open) {
		closelog();
		syslog_open = 0;
	}
	if (outputs & HA_LOG_SYSLOG) {
		openlog(ident, LOG_PID, LOG_DAEMON);
		syslog_open = 1;
	}
}

void
ha_log_verbosity(int v)
{
	verbosity = v;
}

int
ha_log_get_verbosity(void)
{
	return verbosity;
}

const char *
ha_log_ident(void)
{
	return ident;
}

const char *
ha_log_level_name(enum ha_level level)
{
	if ((unsigned)level >= HA_ARRAY_LEN(names))
		return "?";
	return names[level];
}

void
ha_log_set_hook(void (*h)(enum ha_level, const char *, void *), void *arg)
{
	hook = h;
	hook_arg = arg;
}

/* "HH:MM:SS.mmm " in local time: debug output (-vv) says when. */
static const char *
stamp(char *buf, size_t n)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	localtime_r(&t.tv_sec, &tm);
	snprintf(buf, n, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, t.tv_nsec / 1000000);
	return buf;
}

void
ha_vlog(enum ha_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	char line[2200];
	char ts[32];
	int n, saved = errno;

	if ((unsigned)level >= HA_ARRAY_LEN(names))
		level = HA_FAILURE;
	if (level == HA_DEBUG && verbosity < 1)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (hook)
		hook(level, msg, hook_arg);
	if ((outputs & HA_LOG_STDERR) &&
	    (verbosity >= 0 || level >= HA_WARNING)) {
		n = snprintf(line, sizeof(line), "%s%s: [%s] %s\n",
		    verbosity >= 2 ? stamp(ts, sizeof(ts)) : "", ident,
		    names[level], msg);
		if (n > (int)sizeof(line) - 1) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		(void)ha_write_all(STDERR_FILENO, line, (size_t)n);
	}
	if (outputs & HA_LOG_SYSLOG)
		syslog(prio[level], "[%s] %s", names[level], msg);
	errno = saved;
}

void
ha_log(enum ha_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ha_vlog(level, fmt, ap);
	va_end(ap);
}

void
ha_log_errno(enum ha_level level, const char *fmt, ...)
{
	char msg[1800];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ha_log(level, "%s: %s", msg, strerror(e));
	errno = e;
}
