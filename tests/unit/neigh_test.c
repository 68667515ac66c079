/*
 * Unit tests for core/neigh: the frames we build, byte for byte (the
 * expected bytes and checksum were computed apart from this code), the
 * parser on them and on every kind of malformed frame, and the rule that
 * says which answer names another holder.
 */
#include <arpa/inet.h>

#include "check.h"
#include "core/neigh.h"

static const unsigned char mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const unsigned char other[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };

static struct ha_addr
v4(const char *s)
{
	struct ha_addr a = { .family = AF_INET };

	inet_pton(AF_INET, s, &a.u.v4);
	return a;
}

static struct ha_addr
v6(const char *s)
{
	struct ha_addr a = { .family = AF_INET6 };

	inet_pton(AF_INET6, s, &a.u.v6);
	return a;
}

/* The unsolicited NA for fd00::100 from mac (checksum 0xfa8c). */
static const unsigned char na_want[86] = {
	0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00,
	0x01, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88,
	0x00, 0xfa, 0x8c, 0x20, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x02, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01,
};

TEST(garp_request_and_reply)
{
	static const unsigned char req[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x10,
		0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
		0x00, 0x01, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 10, 0, 0, 100,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 100,
	};
	unsigned char buf[HA_NEIGH_FRAME_MAX];
	struct ha_addr a = v4("10.0.0.100");

	CHECK(ha_neigh_garp(buf, sizeof(buf), HA_NEIGH_ARP_REQUEST, mac,
	    a.u.v4) == 42);
	CHECK(memcmp(buf, req, 42) == 0);
	CHECK(ha_neigh_garp(buf, sizeof(buf), HA_NEIGH_ARP_REPLY, mac,
	    a.u.v4) == 42);
	/* The same but opcode 2 and the target hardware address = ours. */
	CHECK(memcmp(buf, req, 21) == 0 && buf[21] == 2);
	CHECK(memcmp(buf + 22, req + 22, 10) == 0);
	CHECK(memcmp(buf + 32, mac, 6) == 0);
	CHECK(memcmp(buf + 38, req + 38, 4) == 0);
	CHECK(ha_neigh_garp(buf, 41, HA_NEIGH_ARP_REQUEST, mac, a.u.v4) == 0);
	CHECK(ha_neigh_garp(buf, sizeof(buf), HA_NEIGH_NA, mac, a.u.v4) == 0);
}

TEST(arp_probe)
{
	unsigned char buf[HA_NEIGH_FRAME_MAX];
	struct ha_addr a = v4("10.0.0.100");
	struct ha_neigh_pkt p;

	CHECK(ha_neigh_arp_probe(buf, sizeof(buf), mac, a.u.v4) == 42);
	CHECK(ha_neigh_parse(buf, 42, &p) == 0);
	CHECK(p.kind == HA_NEIGH_ARP_REQUEST);
	CHECK(p.sender.u.v4.s_addr == 0);
	CHECK(ha_addr_equal(&p.target, &a));
	CHECK(memcmp(p.eth_dst, "\xff\xff\xff\xff\xff\xff", 6) == 0);
	CHECK(memcmp(p.lladdr, mac, 6) == 0);
}

TEST(unsolicited_na)
{
	unsigned char buf[HA_NEIGH_FRAME_MAX];
	struct ha_addr a = v6("fd00::100"), all = v6("ff02::1");
	struct ha_neigh_pkt p;

	CHECK(ha_neigh_unsol_na(buf, sizeof(buf), mac, &a.u.v6) == 86);
	CHECK(memcmp(buf, na_want, 86) == 0);
	CHECK(ha_neigh_unsol_na(buf, 85, mac, &a.u.v6) == 0);
	CHECK(ha_neigh_parse(na_want, 86, &p) == 0);
	CHECK(p.kind == HA_NEIGH_NA);
	CHECK(p.na_flags == HA_NEIGH_NA_OVERRIDE);
	CHECK(ha_addr_equal(&p.target, &a) && ha_addr_equal(&p.sender, &a));
	CHECK(ha_addr_equal(&p.dst, &all));
	CHECK(p.has_lladdr && memcmp(p.lladdr, mac, 6) == 0);
	CHECK(memcmp(p.eth_src, mac, 6) == 0);
}

TEST(dad_solicitation)
{
	unsigned char buf[HA_NEIGH_FRAME_MAX];
	struct ha_addr a = v6("fd00::12:3456"), grp = v6("ff02::1:ff12:3456");
	struct ha_neigh_pkt p;
	static const unsigned char dst[6] = {
		0x33, 0x33, 0xff, 0x12, 0x34, 0x56
	};

	CHECK(ha_neigh_dad_ns(buf, sizeof(buf), mac, &a.u.v6) == 78);
	CHECK(ha_neigh_parse(buf, 78, &p) == 0);
	CHECK(p.kind == HA_NEIGH_NS);
	CHECK(memcmp(p.eth_dst, dst, 6) == 0);
	CHECK(ha_addr_equal(&p.dst, &grp));
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&p.sender.u.v6));
	CHECK(ha_addr_equal(&p.target, &a));
	CHECK(!p.has_lladdr);
	CHECK(buf[14 + 7] == 255);
}

TEST(truncated_frames_are_refused)
{
	unsigned char buf[HA_NEIGH_FRAME_MAX];
	struct ha_addr a4 = v4("10.0.0.100"), a6 = v6("fd00::100");
	struct ha_neigh_pkt p;
	size_t n, len;

	len = ha_neigh_garp(buf, sizeof(buf), HA_NEIGH_ARP_REPLY, mac, a4.u.v4);
	for (n = 0; n < len; n++)
		CHECK(ha_neigh_parse(buf, n, &p) == -1);
	len = ha_neigh_unsol_na(buf, sizeof(buf), mac, &a6.u.v6);
	for (n = 0; n < len; n++)
		CHECK(ha_neigh_parse(buf, n, &p) != 0);
	/* Trailing bytes (Ethernet padding) are fine. */
	memset(buf + len, 0, 4);
	CHECK(ha_neigh_parse(buf, len + 4, &p) == 0);
}

/*
 * One change to the stored NA: set byte at to val (or flip bit 0 when
 * val is -1), recompute the checksum when resum, and what parse says.
 */
struct na_change {
	const char *what;
	int at, val, resum, want;
};

static const struct na_change na_changes[] = {
	{ "bad checksum", 57, -1, 0, -1 },
	{ "hop limit 254", 21, 254, 1, -1 },
	{ "code 1", 55, 1, 1, -1 },
	{ "option of length 0", 79, 0, 1, -1 },
	{ "option longer than the message", 79, 2, 1, -1 },
	{ "solicited, to a multicast group", 58, 0x60, 1, -1 },
	{ "multicast target", 62, 0xff, 1, -1 },
	{ "payload longer than the frame", 19, 0x21, 0, -1 },
	{ "payload shorter than an NA", 19, 23, 1, -1 },
	{ "IP version 4 in an IPv6 frame", 14, 0x40, 1, -1 },
	{ "UDP, not ICMPv6: not ours", 20, 17, 1, 1 },
	{ "an echo request: not ours", 54, 128, 1, 1 },
	{ "no option: still a valid NA", 19, 24, 1, 0 },
};

static int
parse_changed(const struct na_change *c)
{
	unsigned char f[sizeof(na_want)];
	struct ha_neigh_pkt p;
	struct in6_addr s, d;
	size_t plen;
	uint16_t sum;

	memcpy(f, na_want, sizeof(f));
	f[c->at] = c->val < 0 ? f[c->at] ^ 1 : (unsigned char)c->val;
	plen = (size_t)f[18] << 8 | f[19];
	if (c->resum && plen <= sizeof(f) - 54) {
		memcpy(&s, f + 22, 16);
		memcpy(&d, f + 38, 16);
		f[56] = f[57] = 0;
		sum = ha_neigh_icmp6_sum(&s, &d, f + 54, plen);
		f[56] = (unsigned char)(sum >> 8);
		f[57] = (unsigned char)sum;
	}
	return ha_neigh_parse(f, sizeof(f), &p);
}

TEST(malformed_nd_is_refused)
{
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(na_changes); i++)
		if (parse_changed(&na_changes[i]) != na_changes[i].want) {
			ha_log(HA_INFO, "wrong answer for: %s",
			    na_changes[i].what);
			CHECK(!"every change gives the expected answer");
		}
}

TEST(malformed_arp_is_refused)
{
	unsigned char f[HA_NEIGH_FRAME_MAX];
	struct ha_addr a = v4("10.0.0.100");
	struct ha_neigh_pkt p;
	/* htype, ptype, hlen, plen */
	static const int at[] = { 14, 16, 18, 19 };
	size_t i, len;

	for (i = 0; i < HA_ARRAY_LEN(at); i++) {
		len = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REQUEST, mac,
		    a.u.v4);
		f[at[i] + (at[i] < 18)] ^= 0x40;
		CHECK(ha_neigh_parse(f, len, &p) == -1);
	}
	len = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REQUEST, mac, a.u.v4);
	f[21] = 3;			/* RARP request: not ours */
	CHECK(ha_neigh_parse(f, len, &p) == 1);
	f[12] = 0x08;
	f[13] = 0x00;			/* IPv4: not ours */
	CHECK(ha_neigh_parse(f, len, &p) == 1);
}

TEST(who_claims_the_address)
{
	unsigned char f[HA_NEIGH_FRAME_MAX], got[6];
	struct ha_addr a = v4("10.0.0.100"), b = v4("10.0.0.101");
	struct ha_addr a6 = v6("fd00::100");
	struct ha_neigh_pkt p;
	size_t len;

	/* An ARP reply from another host for the address. */
	len = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REPLY, other, a.u.v4);
	CHECK(ha_neigh_parse(f, len, &p) == 0);
	CHECK(ha_neigh_claims(&p, &a, mac, got) == 1);
	CHECK(memcmp(got, other, 6) == 0);
	CHECK(ha_neigh_claims(&p, &b, mac, got) == 0);
	CHECK(ha_neigh_claims(&p, &a, other, got) == 0);	/* our own */
	/* A probe holds nothing. */
	len = ha_neigh_arp_probe(f, sizeof(f), other, a.u.v4);
	CHECK(ha_neigh_parse(f, len, &p) == 0);
	CHECK(ha_neigh_claims(&p, &a, mac, got) == 0);
	/* An NA from another host; a solicitation claims nothing. */
	len = ha_neigh_unsol_na(f, sizeof(f), other, &a6.u.v6);
	CHECK(ha_neigh_parse(f, len, &p) == 0);
	CHECK(ha_neigh_claims(&p, &a6, mac, got) == 1);
	CHECK(memcmp(got, other, 6) == 0);
	CHECK(ha_neigh_claims(&p, &a, mac, got) == 0);
	len = ha_neigh_dad_ns(f, sizeof(f), other, &a6.u.v6);
	CHECK(ha_neigh_parse(f, len, &p) == 0);
	CHECK(ha_neigh_claims(&p, &a6, mac, got) == 0);
}

TEST(checksum_and_mac_text)
{
	struct ha_addr s = v6("fd00::100"), d = v6("ff02::1");
	char buf[24];

	/* The stored frame's checksum verifies to zero. */
	CHECK(ha_neigh_icmp6_sum(&s.u.v6, &d.u.v6, na_want + 54, 32) == 0);
	ha_neigh_fmt_mac(other, buf, sizeof(buf));
	CHECK(strcmp(buf, "02:00:5e:10:00:02") == 0);
}

int
main(void)
{
	t_suite = "neigh";
	RUN(garp_request_and_reply);
	RUN(arp_probe);
	RUN(unsolicited_na);
	RUN(dad_solicitation);
	RUN(truncated_frames_are_refused);
	RUN(malformed_nd_is_refused);
	RUN(malformed_arp_is_refused);
	RUN(who_claims_the_address);
	RUN(checksum_and_mac_text);
	return t_done();
}
