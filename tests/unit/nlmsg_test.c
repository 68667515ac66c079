/*
 * Unit tests for core/nlmsg: the rtnetlink requests we build (header,
 * payload and every attribute) and the decoding of kernel replies, good
 * and malformed: links, addresses with lifetimes and labels, errors with
 * and without the kernel's extended-ack message, message walking.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>
#include <linux/if_addr.h>

#include "check.h"
#include "core/netlink.h"

/* A message under construction, the way the kernel lays them out. */
struct msg {
	unsigned char b[512];
	size_t len;
};

static void
m_start(struct msg *m, int type, const void *payload, size_t plen)
{
	struct nlmsghdr h = { 0 };

	memset(m, 0, sizeof(*m));
	h.nlmsg_type = (uint16_t)type;
	memcpy(m->b + sizeof(h), payload, plen);
	m->len = NLMSG_ALIGN(sizeof(h) + plen);
	h.nlmsg_len = (uint32_t)m->len;
	memcpy(m->b, &h, sizeof(h));
}

static void
m_attr(struct msg *m, int type, const void *data, size_t n)
{
	struct rtattr a = { (unsigned short)(sizeof(a) + n),
	    (unsigned short)type };
	struct nlmsghdr h;

	memcpy(m->b + m->len, &a, sizeof(a));
	memcpy(m->b + m->len + sizeof(a), data, n);
	m->len += RTA_ALIGN(sizeof(a) + n);
	memcpy(&h, m->b, sizeof(h));
	h.nlmsg_len = (uint32_t)m->len;
	memcpy(m->b, &h, sizeof(h));
}

/* Find attribute type in a request built by us; its data and length. */
static const unsigned char *
find_attr(const unsigned char *b, size_t len, size_t off, int type, size_t *n)
{
	struct rtattr a;

	while (off + sizeof(a) <= len) {
		memcpy(&a, b + off, sizeof(a));
		if (a.rta_len < sizeof(a))
			return NULL;
		if (a.rta_type == type) {
			*n = a.rta_len - sizeof(a);
			return b + off + sizeof(a);
		}
		off += RTA_ALIGN(a.rta_len);
	}
	return NULL;
}

static struct ha_cidr
cidr(const char *s)
{
	struct ha_cidr c;
	const char *why;

	CHECK(ha_parse_cidr(s, 1, &c, &why) == 0);
	return c;
}

TEST(build_getlink)
{
	unsigned char b[HA_NL_REQ_MAX];
	struct nlmsghdr h;
	size_t len = ha_nl_build_getlink(b, sizeof(b), 7, "eth0"), n;
	const unsigned char *d;

	CHECK(len == NLMSG_ALIGN(16 + sizeof(struct ifinfomsg)) + 12);
	memcpy(&h, b, sizeof(h));
	CHECK(h.nlmsg_len == len && h.nlmsg_type == RTM_GETLINK);
	CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) && h.nlmsg_seq == 7);
	d = find_attr(b, len, 32, IFLA_IFNAME, &n);
	CHECK(d && n == 5 && memcmp(d, "eth0", 5) == 0);
	CHECK(ha_nl_build_getlink(b, sizeof(b), 7, "0123456789abcdef") == 0);
	CHECK(ha_nl_build_getlink(b, sizeof(b), 7, "") == 0);
	CHECK(ha_nl_build_getlink(b, 20, 7, "eth0") == 0);
}

TEST(build_addr)
{
	unsigned char b[HA_NL_REQ_MAX];
	struct ha_cidr c4 = cidr("10.0.0.100/24"), c6 = cidr("fd00::100/64");
	struct ifaddrmsg ifa;
	struct ifa_cacheinfo ci;
	struct nlmsghdr h;
	const unsigned char *d;
	size_t len, n;
	uint32_t fl;

	len = ha_nl_build_addr(b, sizeof(b), 9, RTM_NEWADDR, NLM_F_REQUEST |
	    NLM_F_CREATE, 3, &c4, "eth0:vip", 30);
	memcpy(&h, b, sizeof(h));
	memcpy(&ifa, b + 16, sizeof(ifa));
	CHECK(h.nlmsg_len == len && h.nlmsg_type == RTM_NEWADDR);
	CHECK(ifa.ifa_family == AF_INET && ifa.ifa_prefixlen == 24);
	CHECK(ifa.ifa_index == 3 && ifa.ifa_flags == 0);
	d = find_attr(b, len, 24, IFA_LOCAL, &n);
	CHECK(d && n == 4 && memcmp(d, &c4.addr.u.v4, 4) == 0);
	CHECK(find_attr(b, len, 24, IFA_ADDRESS, &n) && n == 4);
	d = find_attr(b, len, 24, IFA_LABEL, &n);
	CHECK(d && n == 9 && strcmp((const char *)d, "eth0:vip") == 0);
	d = find_attr(b, len, 24, IFA_CACHEINFO, &n);
	CHECK(d && n == sizeof(ci));
	if (d) {
		memcpy(&ci, d, sizeof(ci));
		CHECK(ci.ifa_valid == 30 && ci.ifa_prefered == 30);
	}
	CHECK(find_attr(b, len, 24, IFA_FLAGS, &n) == NULL);

	/* IPv6: NODAD in both flag fields, no label, forever: no cacheinfo. */
	len = ha_nl_build_addr(b, sizeof(b), 9, RTM_NEWADDR, NLM_F_REQUEST, 3,
	    &c6, "eth0:x", HA_NL_FOREVER);
	memcpy(&ifa, b + 16, sizeof(ifa));
	CHECK(ifa.ifa_family == AF_INET6 && ifa.ifa_prefixlen == 64);
	CHECK(ifa.ifa_flags == IFA_F_NODAD);
	d = find_attr(b, len, 24, IFA_FLAGS, &n);
	CHECK(d && n == 4);
	if (d) {
		memcpy(&fl, d, 4);
		CHECK(fl == IFA_F_NODAD);
	}
	CHECK(find_attr(b, len, 24, IFA_LABEL, &n) == NULL);
	CHECK(find_attr(b, len, 24, IFA_CACHEINFO, &n) == NULL);
	d = find_attr(b, len, 24, IFA_LOCAL, &n);
	CHECK(d && n == 16 && memcmp(d, &c6.addr.u.v6, 16) == 0);

	/* Delete: the address only. Too small a buffer: 0. */
	len = ha_nl_build_addr(b, sizeof(b), 9, RTM_DELADDR, NLM_F_REQUEST, 3,
	    &c4, "eth0:vip", 30);
	CHECK(len == 24 + 8 + 8);
	CHECK(ha_nl_build_addr(b, 30, 9, RTM_NEWADDR, 0, 3, &c4, NULL, 5) == 0);
	CHECK(ha_nl_build_addr(b, sizeof(b), 9, RTM_NEWADDR, 0, 3, &c4,
	    "eth0:0123456789ab", 5) == 0);
}

TEST(build_getaddr)
{
	unsigned char b[HA_NL_REQ_MAX];
	struct nlmsghdr h;
	struct ifaddrmsg ifa;

	CHECK(ha_nl_build_getaddr(b, sizeof(b), 4, AF_INET6, 2) == 24);
	memcpy(&h, b, sizeof(h));
	memcpy(&ifa, b + 16, sizeof(ifa));
	CHECK(h.nlmsg_type == RTM_GETADDR);
	CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
	CHECK(ifa.ifa_family == AF_INET6 && ifa.ifa_index == 2);
}

/* A kernel-style RTM_NEWADDR for 10.0.0.100/24 on index 3. */
static void
kernel_addr(struct msg *m)
{
	struct ifaddrmsg ifa = { AF_INET, 24, IFA_F_SECONDARY, 0, 3 };
	struct ifa_cacheinfo ci = { 8, 9, 1234, 5678 };
	struct in_addr a;
	uint32_t fl = IFA_F_SECONDARY | IFA_F_NOPREFIXROUTE;

	inet_pton(AF_INET, "10.0.0.100", &a);
	m_start(m, RTM_NEWADDR, &ifa, sizeof(ifa));
	m_attr(m, IFA_ADDRESS, &a, 4);
	m_attr(m, IFA_LOCAL, &a, 4);
	m_attr(m, IFA_LABEL, "eth0:vip", 9);
	m_attr(m, IFA_FLAGS, &fl, 4);
	m_attr(m, IFA_CACHEINFO, &ci, sizeof(ci));
}

TEST(parse_addr)
{
	struct msg m;
	struct ha_nl_addr a;
	struct ha_cidr want = cidr("10.0.0.100/24");
	unsigned char b[HA_NL_REQ_MAX];
	size_t len;

	kernel_addr(&m);
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == 0);
	CHECK(a.ifindex == 3 && a.cidr.prefix == 24);
	CHECK(ha_addr_equal(&a.cidr.addr, &want.addr));
	CHECK(strcmp(a.label, "eth0:vip") == 0);
	CHECK(a.flags == (IFA_F_SECONDARY | IFA_F_NOPREFIXROUTE));
	CHECK(a.preferred_lft == 8 && a.valid_lft == 9);
	CHECK(a.cstamp == 1234 && a.tstamp == 5678);
	/* Our own request decodes to what it asked for. */
	want = cidr("fd00::100/64");
	len = ha_nl_build_addr(b, sizeof(b), 1, RTM_NEWADDR, 0, 4, &want, NULL,
	    HA_NL_FOREVER);
	CHECK(ha_nl_parse_addr(b, len, &a) == 0);
	CHECK(a.ifindex == 4 && ha_addr_equal(&a.cidr.addr, &want.addr));
	CHECK(a.valid_lft == HA_NL_FOREVER && a.flags == IFA_F_NODAD);
}

TEST(parse_addr_malformed)
{
	struct msg m;
	struct ha_nl_addr a;
	struct ifaddrmsg ifa = { AF_INET, 24, 0, 0, 3 };
	struct rtattr ra;
	size_t n;

	kernel_addr(&m);
	for (n = 0; n < 24; n++)
		CHECK(ha_nl_parse_addr(m.b, n, &a) == -1);
	/* nlmsg_len beyond the buffer; attributes cut short. */
	CHECK(ha_nl_parse_addr(m.b, m.len - 1, &a) == -1);
	m.b[0] = 30;		/* nlmsg_len ends inside an attribute */
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	kernel_addr(&m);
	memcpy(&ra, m.b + 24, sizeof(ra));
	ra.rta_len = 3;		/* shorter than its header */
	memcpy(m.b + 24, &ra, sizeof(ra));
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	ra.rta_len = 200;	/* longer than the message */
	memcpy(m.b + 24, &ra, sizeof(ra));
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	m_start(&m, RTM_NEWADDR, &ifa, sizeof(ifa));
	m_attr(&m, IFA_ADDRESS, "\x0a\x00\x00", 3);	/* 3-byte address */
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	m_start(&m, RTM_NEWADDR, &ifa, sizeof(ifa));
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);	/* no address */
	m_attr(&m, IFA_LOCAL, "\x0a\x00\x00\x01", 4);
	m_attr(&m, IFA_LABEL, "eth0", 4);		/* no NUL */
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	ifa.ifa_prefixlen = 33;
	m_start(&m, RTM_NEWADDR, &ifa, sizeof(ifa));
	m_attr(&m, IFA_LOCAL, "\x0a\x00\x00\x01", 4);
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == -1);
	/* Not an address, or another family: not for us, not an error. */
	ifa.ifa_prefixlen = 24;
	ifa.ifa_family = AF_PACKET;
	m_start(&m, RTM_NEWADDR, &ifa, sizeof(ifa));
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == 1);
	m_start(&m, RTM_NEWROUTE, &ifa, sizeof(ifa));
	CHECK(ha_nl_parse_addr(m.b, m.len, &a) == 1);
}

TEST(parse_link)
{
	struct msg m;
	struct ha_nl_link l;
	struct ifinfomsg ifi = { AF_UNSPEC, 0, 1, 5, IFF_UP | IFF_LOWER_UP, 0 };
	uint32_t mtu = 1500;

	m_start(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	m_attr(&m, IFLA_IFNAME, "eth0", 5);
	m_attr(&m, IFLA_ADDRESS, "\x02\x00\x5e\x10\x00\x01", 6);
	m_attr(&m, IFLA_MTU, &mtu, 4);
	CHECK(ha_nl_parse_link(m.b, m.len, &l) == 0);
	CHECK(l.index == 5 && l.type == 1 && strcmp(l.name, "eth0") == 0);
	CHECK(l.flags == (IFF_UP | IFF_LOWER_UP) && l.mtu == 1500);
	CHECK(l.hwaddr_len == 6 && l.hwaddr[5] == 1);
	m_attr(&m, IFLA_ADDRESS, "0123456789abcdef0123456789abcdef!", 33);
	CHECK(ha_nl_parse_link(m.b, m.len, &l) == -1);
	m_start(&m, RTM_NEWLINK, &ifi, sizeof(ifi));
	CHECK(ha_nl_parse_link(m.b, m.len, &l) == -1);	/* no name */
	m_attr(&m, IFLA_IFNAME, "0123456789abcdefgh", 19);
	CHECK(ha_nl_parse_link(m.b, m.len, &l) == -1);	/* name too long */
	m_start(&m, RTM_NEWLINK, &ifi, 8);		/* short payload */
	CHECK(ha_nl_parse_link(m.b, 24, &l) == -1);
	m_start(&m, RTM_NEWADDR, &ifi, sizeof(ifi));
	CHECK(ha_nl_parse_link(m.b, m.len, &l) == 1);
}

TEST(parse_error)
{
	struct msg m;
	struct nlmsgerr e = { 0 };
	struct nlmsghdr h;
	char text[64];
	int err = -1;

	/* An ack: error 0, capped. */
	m_start(&m, NLMSG_ERROR, &e, sizeof(e));
	memcpy(&h, m.b, sizeof(h));
	h.nlmsg_flags = NLM_F_CAPPED;
	memcpy(m.b, &h, sizeof(h));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == 0);
	CHECK(err == 0 && text[0] == '\0');
	/* EPERM with the kernel's message. */
	e.error = -EPERM;
	m_start(&m, NLMSG_ERROR, &e, sizeof(e));
	m_attr(&m, NLMSGERR_ATTR_MSG, "no way", 7);
	memcpy(&h, m.b, sizeof(h));
	h.nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	memcpy(m.b, &h, sizeof(h));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == 0);
	CHECK(err == EPERM && strcmp(text, "no way") == 0);
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, 4) == 0);
	CHECK(text[0] == '\0');		/* did not fit: nothing, not a cut */
	/* Not capped: the request (a 24-byte one) sits before the TLVs. */
	e.msg.nlmsg_len = 24;
	{
		unsigned char p[sizeof(e) + 8] = { 0 };

		memcpy(p, &e, sizeof(e));
		m_start(&m, NLMSG_ERROR, p, sizeof(p));
	}
	m_attr(&m, NLMSGERR_ATTR_MSG, "bad prefix", 11);
	memcpy(&h, m.b, sizeof(h));
	h.nlmsg_flags = NLM_F_ACK_TLVS;
	memcpy(m.b, &h, sizeof(h));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == 0);
	CHECK(strcmp(text, "bad prefix") == 0);
	e.msg.nlmsg_len = 400;	/* claims more request than there is */
	memcpy(m.b + 20, &e.msg, sizeof(e.msg));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == -1);
	e.error = 5;		/* errors are negative */
	m_start(&m, NLMSG_ERROR, &e, sizeof(e));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == -1);
	CHECK(ha_nl_parse_error(m.b, 30, &err, text, sizeof(text)) == -1);
	m_start(&m, NLMSG_DONE, &e, sizeof(e));
	CHECK(ha_nl_parse_error(m.b, m.len, &err, text, sizeof(text)) == 1);
}

TEST(walk_messages)
{
	unsigned char b[1024];
	const unsigned char *p = b;
	struct msg m;
	size_t left, mlen, n = 0;

	kernel_addr(&m);
	memcpy(b, m.b, m.len);
	memcpy(b + m.len, m.b, m.len);
	left = 2 * m.len;
	while (ha_nl_next(&p, &left, &mlen) != NULL) {
		CHECK(mlen == m.len);
		n++;
	}
	CHECK(n == 2 && left == 0);
	/* A header that claims more than there is stops the walk. */
	p = b;
	left = 2 * m.len - 1;
	CHECK(ha_nl_next(&p, &left, &mlen) != NULL);
	CHECK(ha_nl_next(&p, &left, &mlen) == NULL && left == m.len - 1);
	p = b;
	left = 10;
	CHECK(ha_nl_next(&p, &left, &mlen) == NULL);
}

TEST(find_address)
{
	struct ha_nl_addr v[3];
	struct ha_cidr a = cidr("10.0.0.100/24"), b = cidr("10.0.0.100/32");
	struct ha_cidr c = cidr("10.0.0.1/24");

	memset(v, 0, sizeof(v));
	v[0].ifindex = 2;
	v[0].cidr = c;
	v[1].ifindex = 3;
	v[1].cidr = b;
	v[2].ifindex = 4;
	v[2].cidr = a;
	CHECK(ha_nl_addr_find(v, 3, 0, &a.addr) == &v[1]);
	CHECK(ha_nl_addr_find(v, 3, 4, &a.addr) == &v[2]);
	CHECK(ha_nl_addr_find(v, 3, 2, &a.addr) == NULL);
	CHECK(ha_nl_addr_find(v, 0, 0, &a.addr) == NULL);
}

int
main(void)
{
	t_suite = "nlmsg";
	RUN(build_getlink);
	RUN(build_addr);
	RUN(build_getaddr);
	RUN(parse_addr);
	RUN(parse_addr_malformed);
	RUN(parse_link);
	RUN(parse_error);
	RUN(walk_messages);
	RUN(find_address);
	return t_done();
}
