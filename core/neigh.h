/*
 * Ethernet frames that move a neighbour entry, built and parsed: ARP
 * (RFC 826) gratuitous requests and replies (RFC 5944 section 4.6) and
 * probes (RFC 5227), IPv6 neighbour discovery (RFC 4861) unsolicited
 * advertisements and duplicate-address-detection solicitations
 * (RFC 4862). Pure code, no I/O: core/announce sends and receives.
 * The parser takes frames from the network: untrusted input.
 */
#ifndef HA_NEIGH_H
#define HA_NEIGH_H

#include <stddef.h>
#include <stdint.h>

#include "core/value.h"

#define HA_MAC_LEN 6
#define HA_NEIGH_FRAME_MAX 96	/* the largest frame we build: an NA */

enum ha_neigh_kind {
	HA_NEIGH_ARP_REQUEST = 1,
	HA_NEIGH_ARP_REPLY,
	HA_NEIGH_NS,		/* neighbour solicitation */
	HA_NEIGH_NA,		/* neighbour advertisement */
};

/* Flags of a neighbour advertisement (the first byte of its flags). */
enum {
	HA_NEIGH_NA_ROUTER = 0x80,
	HA_NEIGH_NA_SOLICITED = 0x40,
	HA_NEIGH_NA_OVERRIDE = 0x20,
};

/* One decoded frame. */
struct ha_neigh_pkt {
	int kind;			/* enum ha_neigh_kind */
	unsigned char eth_dst[HA_MAC_LEN];
	unsigned char eth_src[HA_MAC_LEN];
	/* ARP: the sender's hardware address; ND: the link-layer address
	 * option (target's in an NA, source's in an NS) when has_lladdr. */
	unsigned char lladdr[HA_MAC_LEN];
	int has_lladdr;
	unsigned char tha[HA_MAC_LEN];	/* ARP: target hardware address */
	struct ha_addr sender;		/* ARP: sender IP; ND: IPv6 source */
	struct ha_addr target;		/* ARP: target IP; ND: target */
	struct ha_addr dst;		/* ND: IPv6 destination */
	unsigned na_flags;		/* NA: HA_NEIGH_NA_* */
};

/*
 * Builders: write one frame into buf (at least HA_NEIGH_FRAME_MAX bytes)
 * and return its length, or 0 when cap is too small.
 */
/* Gratuitous ARP from mac for ip, to broadcast: a request (target
 * hardware address zero) or a reply (target hardware address = mac). */
size_t ha_neigh_garp(unsigned char *buf, size_t cap, int kind,
    const unsigned char mac[HA_MAC_LEN], struct in_addr ip);
/* ARP probe (RFC 5227): sender IP 0.0.0.0, target ip, to broadcast. */
size_t ha_neigh_arp_probe(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], struct in_addr ip);
/* Unsolicited NA for ip from mac: override flag, to all-nodes (ff02::1),
 * source ip, hop limit 255, target link-layer address option. */
size_t ha_neigh_unsol_na(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], const struct in6_addr *ip);
/* Duplicate-address-detection NS for ip: source ::, to ip's
 * solicited-node multicast group; a holder answers to all-nodes. */
size_t ha_neigh_dad_ns(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], const struct in6_addr *ip);

/*
 * Decode one Ethernet frame of len bytes. Returns 0 for a valid ARP
 * request/reply or ND solicitation/advertisement, 1 for another kind of
 * frame (other ethertype, other ICMPv6 type), -1 for a malformed one
 * (truncated, bad lengths, bad checksum, hop limit not 255, ...).
 */
int ha_neigh_parse(const unsigned char *frame, size_t len,
    struct ha_neigh_pkt *p);

/*
 * 1 when p shows another host holding addr: an ARP packet with sender IP
 * addr, or an NA for target addr, from a hardware address other than
 * self; that address is copied to mac. 0 otherwise.
 */
int ha_neigh_claims(const struct ha_neigh_pkt *p, const struct ha_addr *addr,
    const unsigned char self[HA_MAC_LEN], unsigned char mac[HA_MAC_LEN]);

/* The ICMPv6 checksum of msg (len bytes) from src to dst. */
uint16_t ha_neigh_icmp6_sum(const struct in6_addr *src,
    const struct in6_addr *dst, const unsigned char *msg, size_t len);

/* "aa:bb:cc:dd:ee:ff" into buf (at least 18 bytes). */
void ha_neigh_fmt_mac(const unsigned char mac[HA_MAC_LEN], char *buf,
    size_t n);

#endif
