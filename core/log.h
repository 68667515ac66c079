/*
 * Logging: syslog (ident = applet, facility daemon) and stderr in the
 * foreground, every line as `applet: [LEVEL] message`, so alerting on
 * FAILURE is a grep. Levels: DEBUG (-v only), INFO (not with -q),
 * SUCCESS, WARNING, FAILURE.
 */
#ifndef HA_LOG_H
#define HA_LOG_H

#include <stdarg.h>

#include "core/util.h"

enum ha_level {
	HA_DEBUG,
	HA_INFO,
	HA_SUCCESS,
	HA_WARNING,
	HA_FAILURE,
};

/* Where lines go. */
enum {
	HA_LOG_STDERR = 1,
	HA_LOG_SYSLOG = 2,
};

/*
 * Start logging as `ident` (borrowed: must outlive logging) to the given
 * outputs. Calling it again changes ident and outputs.
 */
void ha_log_init(const char *ident, int outputs);

/* -1 quiet (warnings and failures only), 0 normal, 1 and up verbose. */
void ha_log_verbosity(int v);
int ha_log_get_verbosity(void);

/* The ident given to ha_log_init ("habox" before). */
const char *ha_log_ident(void);

void ha_log(enum ha_level level, const char *fmt, ...) HA_PRINTF(2, 3);
void ha_vlog(enum ha_level level, const char *fmt, va_list ap)
    HA_PRINTF(2, 0);

/* As ha_log, with ": strerror(errno)" appended. */
void ha_log_errno(enum ha_level level, const char *fmt, ...) HA_PRINTF(2, 3);

/* The word for a level: "FAILURE", ... */
const char *ha_log_level_name(enum ha_level level);

/*
 * Optional hook that sees every line logged (for the control socket's
 * event list and for tests); NULL removes it.
 */
void ha_log_set_hook(void (*hook)(enum ha_level, const char *msg, void *arg),
    void *arg);

#endif
