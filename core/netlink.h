/*
 * rtnetlink, our own small code (no libnl, no libmnl): interface lookup
 * by name and address add / replace / delete / list for IPv4 and IPv6,
 * with kernel lifetimes (IFA_CACHEINFO), IFA_F_NODAD and labels.
 * References: rtnetlink(7), netlink(7), RFC 3549, <linux/rtnetlink.h>.
 *
 * The I/O functions do not log: they return -1 and leave the reason in
 * the handle (ha_nl_strerror), so the caller, which knows what it tried
 * and on which interface, says it once.
 */
#ifndef HA_NETLINK_H
#define HA_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "core/value.h"

#define HA_NL_IFNAMSIZ 16
#define HA_NL_HWADDR_MAX 32
#define HA_NL_FOREVER 0xffffffffu	/* an infinite lifetime */
#define HA_NL_REQ_MAX 256		/* room for any request we build */
#define HA_NL_RBUF 65536		/* room for any reply datagram */

struct ha_nl {
	int fd;
	unsigned char *rbuf;	/* replies land here (HA_NL_RBUF bytes) */
	uint32_t portid;	/* our netlink address */
	uint32_t seq;
	int err;		/* errno of the last failure */
	char why[320];		/* its text, with the kernel's own message */
};

struct ha_nl_link {
	int index;
	char name[HA_NL_IFNAMSIZ];
	unsigned flags;		/* IFF_UP, IFF_LOWER_UP, IFF_NOARP, ... */
	unsigned type;		/* ARPHRD_ETHER, ... */
	unsigned char hwaddr[HA_NL_HWADDR_MAX];
	size_t hwaddr_len;
	uint32_t mtu;
};

struct ha_nl_addr {
	int ifindex;
	struct ha_cidr cidr;	/* IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6 */
	uint32_t flags;		/* IFA_F_NODAD, IFA_F_TENTATIVE, ... */
	int scope;
	char label[HA_NL_IFNAMSIZ];	/* IPv4 only; "" when absent */
	uint32_t valid_lft;	/* seconds left, HA_NL_FOREVER */
	uint32_t preferred_lft;
	uint32_t cstamp;	/* created, 1/100 s since boot */
	uint32_t tstamp;	/* last updated */
};

/* How ha_nl_addr_set treats an address that is already there. */
enum ha_nl_set {
	HA_NL_CREATE,		/* fail with EEXIST */
	HA_NL_REPLACE,		/* update it (lifetimes), else create it */
};

/*
 * Open a NETLINK_ROUTE socket, with its receive buffer allocated and
 * touched now, so that no request pays for it later (havip sends its
 * first announcement within a millisecond of adding the address).
 * Returns 0 or -1 (reason in nl). ha_nl_close(NULL or closed) is a no-op.
 */
int ha_nl_open(struct ha_nl *nl);
void ha_nl_close(struct ha_nl *nl);

/* Why the last call failed: "Operation not permitted (needs root ...)". */
const char *ha_nl_strerror(const struct ha_nl *nl);

/* Look up an interface by name: 0 found, 1 no such interface, -1 error. */
int ha_nl_link_get(struct ha_nl *nl, const char *name, struct ha_nl_link *l);

/*
 * Every address of family (AF_INET, AF_INET6) on every interface
 * (ifindex 0) or on one. Returns 0 with *v (caller frees) and *n, or -1.
 */
int ha_nl_addr_list(struct ha_nl *nl, int family, int ifindex,
    struct ha_nl_addr **v, size_t *n);

/*
 * Add an address (IPv6 with IFA_F_NODAD, usable at once). lifetime_s:
 * valid and preferred lifetime in seconds, HA_NL_FOREVER for none;
 * label: IPv4 label or NULL. When out is not NULL it gets the address as
 * the kernel reports it afterwards (the reply comes in the same round
 * trip). Returns 0 or -1 (nl->err is EEXIST for HA_NL_CREATE on an
 * address that is there).
 */
int ha_nl_addr_set(struct ha_nl *nl, enum ha_nl_set how, int ifindex,
    const struct ha_cidr *c, const char *label, uint32_t lifetime_s,
    struct ha_nl_addr *out);

/* Delete an address: 0, or -1 (nl->err EADDRNOTAVAIL when absent). */
int ha_nl_addr_del(struct ha_nl *nl, int ifindex, const struct ha_cidr *c);

/* The address of v that equals addr (any prefix) on ifindex (0: any). */
const struct ha_nl_addr *ha_nl_addr_find(const struct ha_nl_addr *v, size_t n,
    int ifindex, const struct ha_addr *addr);

/*
 * The pure parts, for tests and fuzzing. Builders write one request into
 * buf and return its length, or 0 when cap is too small. Parsers take one
 * message (header included) of len bytes that the kernel sent and check
 * every length before use: 0 parsed, 1 not what was asked for (another
 * family, another message type), -1 malformed.
 */
size_t ha_nl_build_getlink(void *buf, size_t cap, uint32_t seq,
    const char *name);
size_t ha_nl_build_getaddr(void *buf, size_t cap, uint32_t seq, int family,
    int ifindex);
size_t ha_nl_build_addr(void *buf, size_t cap, uint32_t seq, int type,
    unsigned nlflags, int ifindex, const struct ha_cidr *c, const char *label,
    uint32_t lifetime_s);
int ha_nl_parse_link(const void *msg, size_t len, struct ha_nl_link *l);
int ha_nl_parse_addr(const void *msg, size_t len, struct ha_nl_addr *a);
/* NLMSG_ERROR: *err = positive errno (0: an ack); text gets the kernel's
 * extended-ack message if any ("" else). */
int ha_nl_parse_error(const void *msg, size_t len, int *err, char *text,
    size_t textsz);
/*
 * Walk a buffer of messages: returns the next one and its length in
 * *msglen, advancing *p and *left, or NULL at the end or when the next
 * header is malformed (*left is then nonzero).
 */
const void *ha_nl_next(const unsigned char **p, size_t *left,
    size_t *msglen);

#endif
