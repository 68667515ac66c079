/*
 * Daemon manners (STYLE.md "Daemons"): with -f stay in the foreground and
 * log to stderr too; otherwise fork, and have the parent wait until the
 * child says it is ready (then exit 0) or why it failed (exit 1), so that
 * sysvinit and OpenRC scripts see a real result. Pidfile written
 * atomically once ready, removed on exit.
 */
#ifndef HA_DAEMON_H
#define HA_DAEMON_H

/*
 * Detach unless foreground. Returns in the child (or at once with -f):
 * 0, or -1 (logged) when the fork failed. The parent never returns: it
 * exits with the child's verdict.
 */
int ha_daemon_start(const char *ident, int foreground);
/*
 * Hold SIGHUP, SIGUSR1 and SIGUSR2 from now on, for a daemon whose loop
 * reads them (core/loop, signalfd): one sent while it starts waits for
 * the loop instead of killing it (their default action). Children get an
 * empty mask (core/run).
 */
void ha_daemon_hold_signals(void);
/* Ready: write the pidfile (NULL: none) and release the parent. */
int ha_daemon_ready(const char *pidfile);
/* Could not start: tell the parent why (it prints it), then return. */
void ha_daemon_failed(const char *why);
/* Remove the pidfile if it is still ours. */
void ha_daemon_stop(const char *pidfile);
/* The pid in a pidfile if that process runs, else 0. */
int ha_daemon_running(const char *pidfile);

#endif
