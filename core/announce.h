/*
 * Announce an address on a link and ask who else holds it: gratuitous
 * ARP (request and reply forms) or unsolicited neighbour advertisements,
 * sent in bursts on an AF_PACKET socket; ARP probes (RFC 5227) and
 * duplicate-address-detection solicitations (RFC 4862), with the answers
 * read and checked by core/neigh. Reference: packet(7), doc/havip.8.
 */
#ifndef HA_ANNOUNCE_H
#define HA_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/neigh.h"
#include "core/value.h"

struct ha_announce {
	int fd;
	int ifindex;		/* 0: fd is not an AF_PACKET socket (tests) */
	char ifname[16];	/* for messages */
	unsigned char mac[HA_MAC_LEN];
	struct ha_addr addr;
	unsigned char frame[2][HA_NEIGH_FRAME_MAX];
	size_t len[2];
	int nframes;		/* frames per announcement: 2 (ARP) or 1 */
	int64_t first_ns;	/* when the first frame of a burst left */
};

/*
 * Prepare announcements of addr from mac on interface ifindex: opens an
 * AF_PACKET socket (CAP_NET_RAW), which receives ARP or IPv6 frames when
 * probe is set. Everything is ready to send afterwards, so a burst can
 * start right after the address is added. Returns 0 or -1 (logged).
 */
int ha_announce_open(struct ha_announce *an, const char *ifname, int ifindex,
    const unsigned char mac[HA_MAC_LEN], const struct ha_addr *addr,
    int probe);

/* The same on a descriptor the caller owns, with send() and recv()
 * (tests: one end of a socketpair). */
void ha_announce_init(struct ha_announce *an, int fd,
    const unsigned char mac[HA_MAC_LEN], const struct ha_addr *addr);

void ha_announce_close(struct ha_announce *an);

/*
 * Send count announcements interval_ms apart, the first one at once
 * (each announcement: a gratuitous ARP request and reply, or one NA).
 * The schedule is absolute, so delays do not add up. Returns 0 or -1
 * (logged).
 */
int ha_announce_burst(struct ha_announce *an, long count, int64_t interval_ms);

/*
 * Ask the link who holds the address: three probes spread over
 * timeout_ms, listening the whole time (until 100 ms after the first
 * answer). The hardware addresses of other holders go to macs (at most
 * max, each once). Returns how many, or -1 (logged).
 */
int ha_announce_probe(struct ha_announce *an, int64_t timeout_ms,
    unsigned char (*macs)[HA_MAC_LEN], size_t max);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t ha_announce_now_ns(void);

#endif
