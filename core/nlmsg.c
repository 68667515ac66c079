/*
 * rtnetlink messages, the pure half of core/netlink: build the requests
 * we send and decode the kernel's replies (links, addresses, errors with
 * extended acks). Replies are checked like untrusted input: every length
 * is checked before use and fields are copied out with memcpy, never read
 * through casts of unaligned pointers. Reference: rtnetlink(7),
 * netlink(7), <linux/rtnetlink.h>, <linux/if_addr.h>.
 */
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include "core/netlink.h"

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)
#define HDRLEN sizeof(struct nlmsghdr)

/* Start a message of type with a payload header of plen bytes. */
static size_t
msg_start(unsigned char *buf, size_t cap, uint16_t type, uint16_t flags,
    uint32_t seq, const void *payload, size_t plen)
{
	struct nlmsghdr h;

	if (cap < HDRLEN + ALIGN4(plen))
		return 0;
	memset(buf, 0, HDRLEN + ALIGN4(plen));
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = (uint32_t)(HDRLEN + plen);
	h.nlmsg_type = type;
	h.nlmsg_flags = flags;
	h.nlmsg_seq = seq;
	memcpy(buf, &h, HDRLEN);
	memcpy(buf + HDRLEN, payload, plen);
	return HDRLEN + ALIGN4(plen);
}

/* Append an attribute; returns the new length or 0 when it does not fit. */
static size_t
attr_put(unsigned char *buf, size_t cap, size_t len, uint16_t type,
    const void *data, size_t dlen)
{
	struct rtattr a;
	struct nlmsghdr h;
	size_t need = ALIGN4(sizeof(a) + dlen);

	if (len == 0 || cap < len || cap - len < need || dlen > 0xfff0)
		return 0;
	a.rta_len = (unsigned short)(sizeof(a) + dlen);
	a.rta_type = type;
	memset(buf + len, 0, need);
	memcpy(buf + len, &a, sizeof(a));
	memcpy(buf + len + sizeof(a), data, dlen);
	memcpy(&h, buf, HDRLEN);
	h.nlmsg_len = (uint32_t)(len + need);
	memcpy(buf, &h, HDRLEN);
	return len + need;
}

size_t
ha_nl_build_getlink(void *buf, size_t cap, uint32_t seq, const char *name)
{
	struct ifinfomsg ifi;
	size_t len, nlen = strlen(name);

	if (nlen == 0 || nlen >= HA_NL_IFNAMSIZ)
		return 0;
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_family = AF_UNSPEC;
	len = msg_start(buf, cap, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, seq,
	    &ifi, sizeof(ifi));
	return attr_put(buf, cap, len, IFLA_IFNAME, name, nlen + 1);
}

size_t
ha_nl_build_getaddr(void *buf, size_t cap, uint32_t seq, int family,
    int ifindex)
{
	struct ifaddrmsg ifa;

	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = (unsigned char)family;
	ifa.ifa_index = (unsigned)ifindex;
	return msg_start(buf, cap, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq,
	    &ifa, sizeof(ifa));
}

size_t
ha_nl_build_addr(void *buf, size_t cap, uint32_t seq, int type,
    unsigned nlflags, int ifindex, const struct ha_cidr *c, const char *label,
    uint32_t lifetime_s)
{
	struct ifaddrmsg ifa;
	struct ifa_cacheinfo ci;
	int v6 = c->addr.family == AF_INET6;
	size_t alen = v6 ? 16 : 4, len;
	uint32_t flags = v6 ? IFA_F_NODAD : 0;

	if ((c->addr.family != AF_INET && !v6) ||
	    (label && strlen(label) >= HA_NL_IFNAMSIZ))
		return 0;
	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = (unsigned char)c->addr.family;
	ifa.ifa_prefixlen = (unsigned char)c->prefix;
	ifa.ifa_flags = (unsigned char)flags;
	ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	ifa.ifa_index = (unsigned)ifindex;
	len = msg_start(buf, cap, (uint16_t)type, (uint16_t)nlflags, seq, &ifa,
	    sizeof(ifa));
	len = attr_put(buf, cap, len, IFA_LOCAL, &c->addr.u, alen);
	len = attr_put(buf, cap, len, IFA_ADDRESS, &c->addr.u, alen);
	if (type != RTM_NEWADDR)
		return len;
	if (v6)
		len = attr_put(buf, cap, len, IFA_FLAGS, &flags, sizeof(flags));
	if (label && *label && !v6)
		len = attr_put(buf, cap, len, IFA_LABEL, label,
		    strlen(label) + 1);
	if (lifetime_s != HA_NL_FOREVER) {
		memset(&ci, 0, sizeof(ci));
		ci.ifa_valid = lifetime_s;
		ci.ifa_prefered = lifetime_s;
		len = attr_put(buf, cap, len, IFA_CACHEINFO, &ci, sizeof(ci));
	}
	return len;
}

/*
 * Check the header of one message: at least a header, nlmsg_len within
 * len, room for a payload header of plen. Returns the header's type, or
 * -1 when malformed.
 */
static int
msg_check(const void *msg, size_t len, size_t plen, struct nlmsghdr *h)
{
	if (len < HDRLEN)
		return -1;
	memcpy(h, msg, HDRLEN);
	if (h->nlmsg_len < HDRLEN || h->nlmsg_len > len)
		return -1;
	if (h->nlmsg_len - HDRLEN < plen)
		return -2;
	return h->nlmsg_type;
}

/*
 * Walk attributes in [p, p + left): calls fn for each; returns -1 on a
 * malformed attribute, else what fn last returned (0 to go on).
 */
static int
attrs_walk(const unsigned char *p, size_t left,
    int (*fn)(unsigned type, const unsigned char *d, size_t n, void *arg),
    void *arg)
{
	struct rtattr a;
	size_t step;
	int r;

	while (left >= sizeof(a)) {
		memcpy(&a, p, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > left)
			return -1;
		if ((r = fn(a.rta_type & NLA_TYPE_MASK, p + sizeof(a),
		    a.rta_len - sizeof(a), arg)) != 0)
			return r;
		step = ALIGN4(a.rta_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	return 0;
}

/* Copy a NUL-terminated string attribute into out[size]; -1 if bad. */
static int
attr_str(const unsigned char *d, size_t n, char *out, size_t size)
{
	size_t sl = strnlen((const char *)d, n);

	if (sl == n || sl >= size)
		return -1;
	memcpy(out, d, sl);
	out[sl] = '\0';
	return 0;
}

static int
link_attr(unsigned type, const unsigned char *d, size_t n, void *arg)
{
	struct ha_nl_link *l = arg;

	switch (type) {
	case IFLA_IFNAME:
		return attr_str(d, n, l->name, sizeof(l->name));
	case IFLA_ADDRESS:
		if (n > sizeof(l->hwaddr))
			return -1;
		memcpy(l->hwaddr, d, n);
		l->hwaddr_len = n;
		return 0;
	case IFLA_MTU:
		if (n < sizeof(uint32_t))
			return -1;
		memcpy(&l->mtu, d, sizeof(uint32_t));
		return 0;
	}
	return 0;
}

int
ha_nl_parse_link(const void *msg, size_t len, struct ha_nl_link *l)
{
	struct nlmsghdr h;
	struct ifinfomsg ifi;
	const unsigned char *p = msg;
	size_t off = HDRLEN + ALIGN4(sizeof(ifi));
	int t = msg_check(msg, len, sizeof(ifi), &h);

	if (t == -1 || (t == -2 && h.nlmsg_type == RTM_NEWLINK))
		return -1;
	if (t != RTM_NEWLINK)
		return 1;
	memset(l, 0, sizeof(*l));
	memcpy(&ifi, p + HDRLEN, sizeof(ifi));
	l->index = ifi.ifi_index;
	l->type = ifi.ifi_type;
	l->flags = ifi.ifi_flags;
	if (l->index <= 0)
		return -1;
	if (off < h.nlmsg_len &&
	    attrs_walk(p + off, h.nlmsg_len - off, link_attr, l) != 0)
		return -1;
	return l->name[0] ? 0 : -1;
}

struct addr_parse {
	struct ha_nl_addr *a;
	size_t alen;
	int have_local, have_addr;
	unsigned char local[16], addr[16];
};

static int
addr_attr(unsigned type, const unsigned char *d, size_t n, void *arg)
{
	struct addr_parse *ap = arg;
	struct ifa_cacheinfo ci;

	switch (type) {
	case IFA_LOCAL:
	case IFA_ADDRESS:
		if (n != ap->alen)
			return -1;
		memcpy(type == IFA_LOCAL ? ap->local : ap->addr, d, n);
		*(type == IFA_LOCAL ? &ap->have_local : &ap->have_addr) = 1;
		return 0;
	case IFA_LABEL:
		return attr_str(d, n, ap->a->label, sizeof(ap->a->label));
	case IFA_FLAGS:
		if (n < sizeof(uint32_t))
			return -1;
		memcpy(&ap->a->flags, d, sizeof(uint32_t));
		return 0;
	case IFA_CACHEINFO:
		if (n < sizeof(ci))
			return -1;
		memcpy(&ci, d, sizeof(ci));
		ap->a->valid_lft = ci.ifa_valid;
		ap->a->preferred_lft = ci.ifa_prefered;
		ap->a->cstamp = ci.cstamp;
		ap->a->tstamp = ci.tstamp;
		return 0;
	}
	return 0;
}

int
ha_nl_parse_addr(const void *msg, size_t len, struct ha_nl_addr *a)
{
	struct nlmsghdr h;
	struct ifaddrmsg ifa;
	struct addr_parse ap;
	const unsigned char *p = msg;
	size_t off = HDRLEN + ALIGN4(sizeof(ifa));
	int t = msg_check(msg, len, sizeof(ifa), &h);

	if (t == -1 || (t == -2 && h.nlmsg_type == RTM_NEWADDR))
		return -1;
	if (t != RTM_NEWADDR)
		return 1;
	memcpy(&ifa, p + HDRLEN, sizeof(ifa));
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6)
		return 1;
	memset(a, 0, sizeof(*a));
	memset(&ap, 0, sizeof(ap));
	ap.a = a;
	ap.alen = ifa.ifa_family == AF_INET ? 4 : 16;
	a->ifindex = (int)ifa.ifa_index;
	a->flags = ifa.ifa_flags;
	a->scope = ifa.ifa_scope;
	a->valid_lft = a->preferred_lft = HA_NL_FOREVER;
	a->cidr.addr.family = ifa.ifa_family;
	a->cidr.prefix = ifa.ifa_prefixlen;
	if (ifa.ifa_prefixlen > ap.alen * 8 || a->ifindex <= 0)
		return -1;
	if (off < h.nlmsg_len &&
	    attrs_walk(p + off, h.nlmsg_len - off, addr_attr, &ap) != 0)
		return -1;
	if (!ap.have_local && !ap.have_addr)
		return -1;
	memcpy(&a->cidr.addr.u, ap.have_local ? ap.local : ap.addr, ap.alen);
	return 0;
}

struct text {
	char *s;
	size_t size;
};

static int
err_attr(unsigned type, const unsigned char *d, size_t n, void *arg)
{
	struct text *t = arg;

	if (type == NLMSGERR_ATTR_MSG && t->size > 0 &&
	    attr_str(d, n, t->s, t->size) == -1)
		t->s[0] = '\0';
	return 0;
}

int
ha_nl_parse_error(const void *msg, size_t len, int *err, char *text,
    size_t textsz)
{
	struct nlmsghdr h, orig;
	struct nlmsgerr e;
	const unsigned char *p = msg;
	size_t off = HDRLEN + sizeof(e);
	struct text targ = { text, textsz };
	int t = msg_check(msg, len, sizeof(e), &h);

	if (textsz)
		text[0] = '\0';
	if (t == -1 || (t == -2 && h.nlmsg_type == NLMSG_ERROR))
		return -1;
	if (t != NLMSG_ERROR)
		return 1;
	memcpy(&e, p + HDRLEN, sizeof(e));
	if (e.error > 0 || e.error < -4095)
		return -1;
	*err = -e.error;
	if (!(h.nlmsg_flags & NLM_F_CAPPED)) {
		/* The request follows in full: skip its payload. */
		memcpy(&orig, &e.msg, sizeof(orig));
		if (orig.nlmsg_len < HDRLEN)
			return -1;
		if (ALIGN4(orig.nlmsg_len) - HDRLEN > h.nlmsg_len - off)
			return (h.nlmsg_flags & NLM_F_ACK_TLVS) ? -1 : 0;
		off += ALIGN4(orig.nlmsg_len) - HDRLEN;
	}
	if ((h.nlmsg_flags & NLM_F_ACK_TLVS) && off < h.nlmsg_len &&
	    attrs_walk(p + off, h.nlmsg_len - off, err_attr, &targ) != 0)
		return -1;
	return 0;
}

const void *
ha_nl_next(const unsigned char **p, size_t *left, size_t *msglen)
{
	struct nlmsghdr h;
	const unsigned char *m = *p;
	size_t step;

	if (*left < HDRLEN)
		return NULL;
	memcpy(&h, m, HDRLEN);
	if (h.nlmsg_len < HDRLEN || h.nlmsg_len > *left)
		return NULL;
	step = ALIGN4(h.nlmsg_len);
	if (step > *left)
		step = *left;
	*p += step;
	*left -= step;
	*msglen = h.nlmsg_len;
	return m;
}

const struct ha_nl_addr *
ha_nl_addr_find(const struct ha_nl_addr *v, size_t n, int ifindex,
    const struct ha_addr *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((ifindex == 0 || v[i].ifindex == ifindex) &&
		    ha_addr_equal(&v[i].cidr.addr, addr))
			return &v[i];
	return NULL;
}
