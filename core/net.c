/*
 * TCP sockets (see net.h). Nagle is off: our messages are small and
 * latency matters more than packet count (heartbeats, votes).
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static socklen_t
sockaddr_of(const struct ha_addr *a, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = a->u.v6;
		return sizeof(*s6);
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr = a->u.v4;
		return sizeof(*s4);
	}
}

void
ha_net_fmt(const struct ha_addr *addr, int port, char *buf, size_t n)
{
	char a[HA_ADDRSTRLEN];

	ha_fmt_addr(addr, a, sizeof(a));
	snprintf(buf, n, addr->family == AF_INET6 ? "[%s]:%d" : "%s:%d", a,
	    port);
}

static void
tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
ha_net_listen(const struct ha_addr *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	char name[HA_ADDRSTRLEN + 8];
	int fd, one = 1;

	ha_net_fmt(addr, port, name, sizeof(name));
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ha_log_errno(HA_FAILURE, "listen on %s: socket", name);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		ha_log_errno(HA_FAILURE, "listen on %s", name);
		close(fd);
		return -1;
	}
	return fd;
}

int
ha_net_accept(int lfd, char *peer, size_t peersz)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct ha_addr a;
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	tune(fd);
	memset(&a, 0, sizeof(a));
	a.family = ss.ss_family;
	if (ss.ss_family == AF_INET6) {
		a.u.v6 = ((struct sockaddr_in6 *)&ss)->sin6_addr;
		ha_net_fmt(&a, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port),
		    peer, peersz);
	} else {
		a.u.v4 = ((struct sockaddr_in *)&ss)->sin_addr;
		ha_net_fmt(&a, ntohs(((struct sockaddr_in *)&ss)->sin_port),
		    peer, peersz);
	}
	return fd;
}

int
ha_net_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - ha_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

int
ha_net_dial(const struct ha_addr *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	int fd;

	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ha_log_errno(HA_DEBUG, "socket");
		return -1;
	}
	tune(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		ha_log_errno(HA_DEBUG, "connect");
		close(fd);
		return -1;
	}
	return fd;
}

int
ha_net_connect(const struct ha_addr *addr, int port, int64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	char name[HA_ADDRSTRLEN + 8];
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	ha_net_fmt(addr, port, name, sizeof(name));
	fd = socket(addr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ha_log_errno(HA_FAILURE, "connect to %s: socket", name);
		return -1;
	}
	tune(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		ha_log_errno(HA_FAILURE, "connect to %s", name);
		close(fd);
		return -1;
	}
	r = ha_net_wait(fd, POLLOUT, deadline);
	if (r == 0) {
		ha_log(HA_FAILURE, "connect to %s: timed out", name);
		close(fd);
		return -1;
	}
	if (r == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
	    err) {
		errno = err ? err : errno;
		ha_log_errno(HA_FAILURE, "connect to %s", name);
		close(fd);
		return -1;
	}
	return fd;
}
