/*
 * neighwait: wait until this namespace's neighbour entry for ADDR shows
 * MAC, and print when that happened, for bench/vip.sh. It listens to the
 * kernel's neighbour notifications (rtnetlink, RTNLGRP_NEIGH), so it sees
 * the change as it happens instead of polling `ip neigh`.
 *
 *   neighwait ADDR MAC TIMEOUT_MS
 *
 * Prints "ready" once listening, then the CLOCK_REALTIME of the change
 * in microseconds (the clock of bash's $EPOCHREALTIME), exit 0; exit 1
 * on timeout, 2 on bad arguments. Self-contained: no habox code in it.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>

static unsigned char want_addr[16], want_mac[6];
static size_t want_alen;
static int want_family;

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 1 when the RTM_NEWNEIGH message m (len bytes) is the change we await. */
static int
matches(const unsigned char *m, size_t len)
{
	struct nlmsghdr h;
	struct ndmsg nd;
	struct rtattr a;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nd));
	int addr_ok = 0, mac_ok = 0;

	memcpy(&h, m, sizeof(h));
	if (h.nlmsg_type != RTM_NEWNEIGH || len < off)
		return 0;
	memcpy(&nd, m + NLMSG_HDRLEN, sizeof(nd));
	if (nd.ndm_family != want_family)
		return 0;
	while (off + sizeof(a) <= len) {
		memcpy(&a, m + off, sizeof(a));
		if (a.rta_len < sizeof(a) || off + a.rta_len > len)
			return 0;
		if (a.rta_type == NDA_DST && a.rta_len - sizeof(a) == want_alen)
			addr_ok = !memcmp(m + off + sizeof(a), want_addr,
			    want_alen);
		if (a.rta_type == NDA_LLADDR && a.rta_len - sizeof(a) == 6)
			mac_ok = !memcmp(m + off + sizeof(a), want_mac, 6);
		off += RTA_ALIGN(a.rta_len);
	}
	return addr_ok && mac_ok;
}

static int
parse_args(int argc, char **argv, long *timeout_ms)
{
	unsigned m[6];
	int i;

	if (argc != 4)
		return -1;
	if (inet_pton(AF_INET, argv[1], want_addr) == 1) {
		want_family = AF_INET;
		want_alen = 4;
	} else if (inet_pton(AF_INET6, argv[1], want_addr) == 1) {
		want_family = AF_INET6;
		want_alen = 16;
	} else {
		return -1;
	}
	if (sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
	    &m[4], &m[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		want_mac[i] = (unsigned char)m[i];
	*timeout_ms = atol(argv[3]);
	return *timeout_ms > 0 ? 0 : -1;
}

/* 1 when one of the n bytes of messages in buf is the change. */
static int
scan(const unsigned char *buf, size_t n)
{
	struct nlmsghdr h;
	size_t off = 0;

	while (n - off >= sizeof(h)) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > n - off)
			return 0;
		if (matches(buf + off, h.nlmsg_len))
			return 1;
		off += NLMSG_ALIGN(h.nlmsg_len);
		if (off > n)
			return 0;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[65536];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_NEIGH };
	struct pollfd pfd;
	long timeout_ms;
	long long end, t;
	ssize_t n;

	if (parse_args(argc, argv, &timeout_ms) == -1) {
		fprintf(stderr, "usage: neighwait ADDR MAC TIMEOUT_MS\n");
		return 2;
	}
	pfd.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	pfd.events = POLLIN;
	if (pfd.fd == -1 || bind(pfd.fd, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		perror("neighwait: netlink");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	end = now_us() + timeout_ms * 1000;
	while ((t = now_us()) < end) {
		if (poll(&pfd, 1, (int)((end - t) / 1000) + 1) <= 0)
			continue;
		if ((n = recv(pfd.fd, buf, sizeof(buf), 0)) <= 0)
			continue;
		t = now_us();
		if (scan(buf, (size_t)n)) {
			printf("%lld\n", t);
			return 0;
		}
	}
	fprintf(stderr, "neighwait: %s did not change to %s in %ld ms\n",
	    argv[1], argv[2], timeout_ms);
	return 1;
}
