/*
 * A single-threaded event loop on poll(2): file descriptors with
 * callbacks, one-shot timers on the monotonic clock (ha_now_ms), and
 * signals delivered as ordinary events through a signalfd.
 */
#ifndef HA_LOOP_H
#define HA_LOOP_H

#include <stdint.h>

struct ha_loop;
struct ha_timer;

typedef void ha_loop_fd_cb(struct ha_loop *l, int fd, short revents,
    void *arg);
typedef void ha_loop_cb(struct ha_loop *l, void *arg);

struct ha_loop *ha_loop_new(void);
void ha_loop_free(struct ha_loop *l);

/* Watch fd for events (POLLIN/POLLOUT); one watch per fd. */
void ha_loop_add(struct ha_loop *l, int fd, short events, ha_loop_fd_cb *cb,
    void *arg);
void ha_loop_events(struct ha_loop *l, int fd, short events);
/* Stop watching fd (safe from inside a callback). */
void ha_loop_del(struct ha_loop *l, int fd);

/* Call cb at time `at` (ha_now_ms clock). */
struct ha_timer *ha_loop_at(struct ha_loop *l, int64_t at, ha_loop_cb *cb,
    void *arg);
/* Cancel a pending timer (safe from inside callbacks; NULL: no-op). */
void ha_loop_cancel(struct ha_loop *l, struct ha_timer *t);

/*
 * Deliver signo as an event (blocked for normal delivery). -1 (logged)
 * when no signalfd can be made.
 */
int ha_loop_signal(struct ha_loop *l, int signo, ha_loop_cb *cb, void *arg);

/* Wait for and run what is due, at most until `until`; -1 on error. */
int ha_loop_once(struct ha_loop *l, int64_t until);
/* Run until ha_loop_stop(). */
void ha_loop_run(struct ha_loop *l);
void ha_loop_stop(struct ha_loop *l);

#endif
