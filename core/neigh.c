/*
 * ARP and IPv6 neighbour-discovery frames: build the announcements and
 * probes havip sends, and decode what comes back (see neigh.h). Frames
 * are written and read byte by byte, so nothing depends on the alignment
 * of the buffer. Parsing follows the validity checks of RFC 826 and
 * RFC 4861 sections 7.1.1 and 7.1.2: hop limit 255, valid checksum,
 * code 0, length at least 24, no zero-length option, target not
 * multicast, no solicited NA to a multicast destination.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/neigh.h"

#define ETH_HLEN 14
#define ETH_ARP 0x0806
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ARP_LEN 28
#define IP6_HLEN 40
#define ND_LEN 24		/* type, code, sum, flags, target */
#define ICMP6_NS 135
#define ICMP6_NA 136
#define OPT_SLLA 1
#define OPT_TLLA 2

static const unsigned char bcast[HA_MAC_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const unsigned char zero_mac[HA_MAC_LEN];

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned char *
eth_header(unsigned char *buf, const unsigned char dst[HA_MAC_LEN],
    const unsigned char src[HA_MAC_LEN], unsigned type)
{
	memcpy(buf, dst, HA_MAC_LEN);
	memcpy(buf + 6, src, HA_MAC_LEN);
	put16(buf + 12, type);
	return buf + ETH_HLEN;
}

static size_t
arp_frame(unsigned char *buf, size_t cap, unsigned op,
    const unsigned char mac[HA_MAC_LEN], struct in_addr sip,
    const unsigned char tha[HA_MAC_LEN], struct in_addr tip)
{
	unsigned char *p;

	if (cap < ETH_HLEN + ARP_LEN)
		return 0;
	p = eth_header(buf, bcast, mac, ETH_ARP);
	put16(p, 1);			/* Ethernet */
	put16(p + 2, ETH_IPV4);
	p[4] = HA_MAC_LEN;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, mac, HA_MAC_LEN);
	memcpy(p + 14, &sip, 4);
	memcpy(p + 18, tha, HA_MAC_LEN);
	memcpy(p + 24, &tip, 4);
	return ETH_HLEN + ARP_LEN;
}

size_t
ha_neigh_garp(unsigned char *buf, size_t cap, int kind,
    const unsigned char mac[HA_MAC_LEN], struct in_addr ip)
{
	/* RFC 5944 4.6: in a reply the target hardware address is the new
	 * one too (Linux only takes a reply as gratuitous then); unused and
	 * zero in a request (RFC 5227 2.3). */
	if (kind == HA_NEIGH_ARP_REPLY)
		return arp_frame(buf, cap, 2, mac, ip, mac, ip);
	if (kind == HA_NEIGH_ARP_REQUEST)
		return arp_frame(buf, cap, 1, mac, ip, zero_mac, ip);
	return 0;
}

size_t
ha_neigh_arp_probe(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], struct in_addr ip)
{
	struct in_addr any = { 0 };

	return arp_frame(buf, cap, 1, mac, any, zero_mac, ip);
}

uint16_t
ha_neigh_icmp6_sum(const struct in6_addr *src, const struct in6_addr *dst,
    const unsigned char *msg, size_t len)
{
	unsigned char pseudo[40];
	uint32_t sum = 0;
	size_t i;

	memcpy(pseudo, src, 16);
	memcpy(pseudo + 16, dst, 16);
	pseudo[32] = (unsigned char)(len >> 24);
	pseudo[33] = (unsigned char)(len >> 16);
	pseudo[34] = (unsigned char)(len >> 8);
	pseudo[35] = (unsigned char)len;
	pseudo[36] = pseudo[37] = pseudo[38] = 0;
	pseudo[39] = IPPROTO_ICMPV6;
	for (i = 0; i < sizeof(pseudo); i += 2)
		sum += get16(pseudo + i);
	for (i = 0; i + 1 < len; i += 2)
		sum += get16(msg + i);
	if (len & 1)
		sum += (uint32_t)msg[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * An ICMPv6 ND message: Ethernet and IPv6 headers (hop limit 255), the
 * type, the NA flags, the target, an optional link-layer option; the
 * checksum last.
 */
static size_t
nd_frame(unsigned char *buf, size_t cap, const unsigned char ethdst[6],
    const unsigned char mac[6], const struct in6_addr *src,
    const struct in6_addr *dst, int type, unsigned flags,
    const struct in6_addr *target, int opt)
{
	size_t plen = ND_LEN + (opt ? 8 : 0);
	unsigned char *ip, *icmp;

	if (cap < ETH_HLEN + IP6_HLEN + plen)
		return 0;
	ip = eth_header(buf, ethdst, mac, ETH_IPV6);
	memset(ip, 0, IP6_HLEN + plen);
	ip[0] = 0x60;
	put16(ip + 4, (unsigned)plen);
	ip[6] = IPPROTO_ICMPV6;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmp = ip + IP6_HLEN;
	icmp[0] = (unsigned char)type;
	icmp[4] = (unsigned char)flags;
	memcpy(icmp + 8, target, 16);
	if (opt) {
		icmp[24] = (unsigned char)opt;
		icmp[25] = 1;		/* in units of 8 bytes */
		memcpy(icmp + 26, mac, HA_MAC_LEN);
	}
	put16(icmp + 2, ha_neigh_icmp6_sum(src, dst, icmp, plen));
	return ETH_HLEN + IP6_HLEN + plen;
}

size_t
ha_neigh_unsol_na(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], const struct in6_addr *ip)
{
	static const unsigned char all_nodes_mac[6] = {
		0x33, 0x33, 0, 0, 0, 1
	};
	struct in6_addr all_nodes;

	memset(&all_nodes, 0, sizeof(all_nodes));
	all_nodes.s6_addr[0] = 0xff;
	all_nodes.s6_addr[1] = 0x02;
	all_nodes.s6_addr[15] = 1;
	return nd_frame(buf, cap, all_nodes_mac, mac, ip, &all_nodes, ICMP6_NA,
	    HA_NEIGH_NA_OVERRIDE, ip, OPT_TLLA);
}

size_t
ha_neigh_dad_ns(unsigned char *buf, size_t cap,
    const unsigned char mac[HA_MAC_LEN], const struct in6_addr *ip)
{
	unsigned char ethdst[6] = { 0x33, 0x33, 0xff };
	struct in6_addr any, group;

	/* ff02::1:ffXX:XXXX, the solicited-node group of ip. */
	memset(&any, 0, sizeof(any));
	memset(&group, 0, sizeof(group));
	group.s6_addr[0] = 0xff;
	group.s6_addr[1] = 0x02;
	group.s6_addr[11] = 1;
	group.s6_addr[12] = 0xff;
	memcpy(&group.s6_addr[13], &ip->s6_addr[13], 3);
	memcpy(ethdst + 3, &ip->s6_addr[13], 3);
	/* No source link-layer option from the unspecified address. */
	return nd_frame(buf, cap, ethdst, mac, &any, &group, ICMP6_NS, 0, ip,
	    0);
}

static int
parse_arp(const unsigned char *p, size_t len, struct ha_neigh_pkt *pk)
{
	unsigned op;

	if (len < ARP_LEN)
		return -1;
	if (get16(p) != 1 || get16(p + 2) != ETH_IPV4 || p[4] != HA_MAC_LEN ||
	    p[5] != 4)
		return -1;
	op = get16(p + 6);
	if (op != 1 && op != 2)
		return 1;
	pk->kind = op == 1 ? HA_NEIGH_ARP_REQUEST : HA_NEIGH_ARP_REPLY;
	memcpy(pk->lladdr, p + 8, HA_MAC_LEN);
	pk->has_lladdr = 1;
	pk->sender.family = pk->target.family = AF_INET;
	memcpy(&pk->sender.u.v4, p + 14, 4);
	memcpy(pk->tha, p + 18, HA_MAC_LEN);
	memcpy(&pk->target.u.v4, p + 24, 4);
	return 0;
}

/* The options of an NS or NA: every one in bounds and not empty. */
static int
parse_nd_opts(const unsigned char *p, size_t len, int want,
    struct ha_neigh_pkt *pk)
{
	while (len > 0) {
		size_t olen;

		if (len < 2 || p[1] == 0)
			return -1;
		olen = (size_t)p[1] * 8;
		if (olen > len)
			return -1;
		if (p[0] == want && olen >= 2 + HA_MAC_LEN) {
			memcpy(pk->lladdr, p + 2, HA_MAC_LEN);
			pk->has_lladdr = 1;
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

static int
parse_nd(const unsigned char *ip, size_t len, struct ha_neigh_pkt *pk)
{
	const unsigned char *icmp = ip + IP6_HLEN;
	size_t plen;
	struct in6_addr src, dst;

	if (len < IP6_HLEN || (ip[0] >> 4) != 6)
		return -1;
	plen = get16(ip + 4);
	if (plen > len - IP6_HLEN)
		return -1;
	/* Extension headers before ND would be unusual: not ours. */
	if (ip[6] != IPPROTO_ICMPV6 || plen < 1 ||
	    (icmp[0] != ICMP6_NS && icmp[0] != ICMP6_NA))
		return 1;
	if (ip[7] != 255 || plen < ND_LEN || icmp[1] != 0)
		return -1;
	memcpy(&src, ip + 8, 16);
	memcpy(&dst, ip + 24, 16);
	if (ha_neigh_icmp6_sum(&src, &dst, icmp, plen) != 0)
		return -1;
	pk->kind = icmp[0] == ICMP6_NS ? HA_NEIGH_NS : HA_NEIGH_NA;
	pk->sender.family = pk->target.family = pk->dst.family = AF_INET6;
	pk->sender.u.v6 = src;
	pk->dst.u.v6 = dst;
	memcpy(&pk->target.u.v6, icmp + 8, 16);
	pk->na_flags = pk->kind == HA_NEIGH_NA ? icmp[4] : 0;
	if (pk->target.u.v6.s6_addr[0] == 0xff)
		return -1;
	if (pk->kind == HA_NEIGH_NA && dst.s6_addr[0] == 0xff &&
	    (pk->na_flags & HA_NEIGH_NA_SOLICITED))
		return -1;
	if (parse_nd_opts(icmp + ND_LEN, plen - ND_LEN,
	    pk->kind == HA_NEIGH_NS ? OPT_SLLA : OPT_TLLA, pk) == -1)
		return -1;
	if (pk->kind == HA_NEIGH_NS && pk->has_lladdr &&
	    IN6_IS_ADDR_UNSPECIFIED(&src))
		return -1;
	return 0;
}

int
ha_neigh_parse(const unsigned char *frame, size_t len, struct ha_neigh_pkt *p)
{
	unsigned type;

	memset(p, 0, sizeof(*p));
	if (len < ETH_HLEN)
		return -1;
	memcpy(p->eth_dst, frame, HA_MAC_LEN);
	memcpy(p->eth_src, frame + 6, HA_MAC_LEN);
	type = get16(frame + 12);
	if (type == ETH_ARP)
		return parse_arp(frame + ETH_HLEN, len - ETH_HLEN, p);
	if (type == ETH_IPV6)
		return parse_nd(frame + ETH_HLEN, len - ETH_HLEN, p);
	return 1;
}

int
ha_neigh_claims(const struct ha_neigh_pkt *p, const struct ha_addr *addr,
    const unsigned char self[HA_MAC_LEN], unsigned char mac[HA_MAC_LEN])
{
	const unsigned char *who;

	switch (p->kind) {
	case HA_NEIGH_ARP_REQUEST:
	case HA_NEIGH_ARP_REPLY:
		if (!ha_addr_equal(&p->sender, addr))
			return 0;
		who = p->lladdr;
		break;
	case HA_NEIGH_NA:
		if (!ha_addr_equal(&p->target, addr))
			return 0;
		who = p->has_lladdr ? p->lladdr : p->eth_src;
		break;
	default:
		return 0;
	}
	if (memcmp(who, self, HA_MAC_LEN) == 0 ||
	    memcmp(p->eth_src, self, HA_MAC_LEN) == 0)
		return 0;
	memcpy(mac, who, HA_MAC_LEN);
	return 1;
}

void
ha_neigh_fmt_mac(const unsigned char mac[HA_MAC_LEN], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5]);
}
