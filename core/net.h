/*
 * TCP sockets for peers: listen, accept, connect with a deadline, all
 * non-blocking and close-on-exec; addresses as text for messages.
 */
#ifndef HA_NET_H
#define HA_NET_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/value.h"

/* A listening socket on addr:port (SO_REUSEADDR); -1 (logged). */
int ha_net_listen(const struct ha_addr *addr, int port);

/* Accept one connection; -1 with errno (EAGAIN when none waits). */
int ha_net_accept(int lfd, char *peer, size_t peersz);

/*
 * Connect to addr:port by the deadline (ha_now_ms clock). The socket
 * stays non-blocking. -1 (logged, naming the peer) on failure.
 */
int ha_net_connect(const struct ha_addr *addr, int port, int64_t deadline);

/*
 * Start a non-blocking connect to addr:port: the socket, to be polled for
 * POLLOUT and checked with SO_ERROR; -1 (logged at DEBUG) on failure.
 */
int ha_net_dial(const struct ha_addr *addr, int port);

/* "10.0.0.1:7405" or "[fd00::1]:7405". */
void ha_net_fmt(const struct ha_addr *addr, int port, char *buf, size_t n);

/* Wait for fd to become readable (POLLIN) or writable (POLLOUT) by the
 * deadline: 1 ready, 0 timed out, -1 error. */
int ha_net_wait(int fd, short events, int64_t deadline);

#endif
