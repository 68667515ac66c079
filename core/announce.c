/*
 * Announcements and probes on the wire (see announce.h). Frames go out
 * on an AF_PACKET socket, complete with their Ethernet header, so we
 * choose every field (source address, hop limit, destination group) and
 * need neither a route nor a usable source address: a probe from the
 * unspecified address works before the address is ours. Schedules use
 * CLOCK_MONOTONIC with absolute deadlines. Reference: packet(7).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "core/announce.h"
#include "core/log.h"
#include "core/util.h"

#define NPROBES 3
#define GRACE_NS 100000000LL	/* listen this long after a first answer */

int64_t
ha_announce_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
ha_announce_init(struct ha_announce *an, int fd,
    const unsigned char mac[HA_MAC_LEN], const struct ha_addr *addr)
{
	memset(an, 0, sizeof(*an));
	an->fd = fd;
	ha_strlcpy(an->ifname, "-", sizeof(an->ifname));
	memcpy(an->mac, mac, HA_MAC_LEN);
	an->addr = *addr;
	if (addr->family == AF_INET) {
		an->len[0] = ha_neigh_garp(an->frame[0], sizeof(an->frame[0]),
		    HA_NEIGH_ARP_REQUEST, mac, addr->u.v4);
		an->len[1] = ha_neigh_garp(an->frame[1], sizeof(an->frame[1]),
		    HA_NEIGH_ARP_REPLY, mac, addr->u.v4);
		an->nframes = 2;
	} else {
		an->len[0] = ha_neigh_unsol_na(an->frame[0],
		    sizeof(an->frame[0]), mac, &addr->u.v6);
		an->nframes = 1;
	}
}

int
ha_announce_open(struct ha_announce *an, const char *ifname, int ifindex,
    const unsigned char mac[HA_MAC_LEN], const struct ha_addr *addr,
    int probe)
{
	int proto = addr->family == AF_INET ? ETH_P_ARP : ETH_P_IPV6;
	struct sockaddr_ll sll;
	int fd, one = 1;

	/* Protocol 0: a socket that sends and never receives. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
	    probe ? htons(proto) : 0);
	if (fd == -1) {
		ha_log_errno(HA_FAILURE, "opening a packet socket to announce "
		    "on %s%s", ifname, errno == EPERM ?
		    " (needs root or CAP_NET_RAW)" : "");
		return -1;
	}
	if (probe) {
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(proto);
		sll.sll_ifindex = ifindex;
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
			ha_log_errno(HA_FAILURE, "binding a packet socket "
			    "to %s", ifname);
			close(fd);
			return -1;
		}
		/* Our own probes are no answer (the parser knows anyway). */
		(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		    sizeof(one));
	}
	ha_announce_init(an, fd, mac, addr);
	an->ifindex = ifindex;
	ha_strlcpy(an->ifname, ifname, sizeof(an->ifname));
	return 0;
}

void
ha_announce_close(struct ha_announce *an)
{
	if (an->fd >= 0)
		close(an->fd);
	an->fd = -1;
}

static int
send_frame(struct ha_announce *an, const unsigned char *f, size_t len)
{
	struct sockaddr_ll sll;
	ssize_t n;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	memcpy(&sll.sll_protocol, f + 12, 2);	/* the ethertype, as sent */
	sll.sll_ifindex = an->ifindex;
	sll.sll_halen = HA_MAC_LEN;
	memcpy(sll.sll_addr, f, HA_MAC_LEN);
	do {
		if (an->ifindex)
			n = sendto(an->fd, f, len, MSG_NOSIGNAL,
			    (struct sockaddr *)&sll, sizeof(sll));
		else
			n = send(an->fd, f, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		ha_log_errno(HA_FAILURE, "sending on %s", an->ifname);
		return -1;
	}
	if ((size_t)n != len) {
		ha_log(HA_FAILURE, "sending on %s: %zd of %zu bytes sent",
		    an->ifname, n, len);
		return -1;
	}
	return 0;
}

static void
sleep_until(int64_t at_ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(at_ns / 1000000000LL);
	ts.tv_nsec = (long)(at_ns % 1000000000LL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

int
ha_announce_burst(struct ha_announce *an, long count, int64_t interval_ms)
{
	int64_t t0 = ha_announce_now_ns();
	long i;
	int f;

	for (i = 0; i < count; i++) {
		if (i > 0)
			sleep_until(t0 + i * interval_ms * 1000000LL);
		for (f = 0; f < an->nframes; f++) {
			if (send_frame(an, an->frame[f], an->len[f]) == -1)
				return -1;
			if (i == 0 && f == 0)
				an->first_ns = ha_announce_now_ns();
		}
	}
	return 0;
}

/* Record mac once; returns 1 when it is new. */
static int
add_mac(unsigned char (*macs)[HA_MAC_LEN], size_t max, size_t *n,
    const unsigned char mac[HA_MAC_LEN])
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp(macs[i], mac, HA_MAC_LEN) == 0)
			return 0;
	if (*n < max)
		memcpy(macs[(*n)++], mac, HA_MAC_LEN);
	return 1;
}

/* Read every frame waiting; returns 1 when a new holder showed up. */
static int
drain(struct ha_announce *an, unsigned char (*macs)[HA_MAC_LEN], size_t max,
    size_t *n)
{
	unsigned char buf[2048], mac[HA_MAC_LEN];
	struct ha_neigh_pkt p;
	ssize_t r;
	int found = 0;

	while ((r = recv(an->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (ha_neigh_parse(buf, (size_t)r, &p) == 0 &&
		    ha_neigh_claims(&p, &an->addr, an->mac, mac))
			found |= add_mac(macs, max, n, mac);
	}
	return found;
}

int
ha_announce_probe(struct ha_announce *an, int64_t timeout_ms,
    unsigned char (*macs)[HA_MAC_LEN], size_t max)
{
	unsigned char probe[HA_NEIGH_FRAME_MAX];
	size_t plen, n = 0;
	int64_t t0 = ha_announce_now_ns(), now, next, wait;
	int64_t span = timeout_ms * 1000000LL, deadline = t0 + span;
	struct pollfd pfd = { an->fd, POLLIN, 0 };
	int sent = 0, answered = 0;

	if (an->addr.family == AF_INET)
		plen = ha_neigh_arp_probe(probe, sizeof(probe), an->mac,
		    an->addr.u.v4);
	else
		plen = ha_neigh_dad_ns(probe, sizeof(probe), an->mac,
		    &an->addr.u.v6);
	for (;;) {
		now = ha_announce_now_ns();
		next = t0 + sent * span / NPROBES;
		if (sent < NPROBES && now >= next) {
			if (send_frame(an, probe, plen) == -1)
				return -1;
			sent++;
			continue;
		}
		if (now >= deadline)
			break;
		wait = (sent < NPROBES && next < deadline ? next : deadline) -
		    now;
		if (poll(&pfd, 1, (int)((wait + 999999) / 1000000)) == -1 &&
		    errno != EINTR) {
			ha_log_errno(HA_FAILURE, "poll on %s", an->ifname);
			return -1;
		}
		/* After a first answer, a short wait for the others. */
		if ((pfd.revents & POLLIN) && drain(an, macs, max, &n) &&
		    !answered) {
			answered = 1;
			now = ha_announce_now_ns();
			if (deadline > now + GRACE_NS)
				deadline = now + GRACE_NS;
		}
	}
	drain(an, macs, max, &n);
	return (int)n;
}
