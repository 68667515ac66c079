/*
 * havip's two halves: the command line (havip.c: options, arguments,
 * the [vip] sections of the configuration) and the operations on an
 * interface (havip_ops.c: add, del, renew, announce, check).
 */
#ifndef HA_HAVIP_H
#define HA_HAVIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/netlink.h"
#include "core/value.h"

struct havip_opts {
	long count;
	long up_count;		/* havip up --count; -1: the config's */
	int64_t interval_ms;
	const char *label;
	const char *lifetime;	/* parsed by havip_parse_lifetime */
	int probe;
	int64_t timeout_ms;
};

/* One address on one interface, and what we learnt about them. */
struct havip_target {
	struct ha_cidr cidr;
	const char *ifname;
	char text[HA_ADDRSTRLEN];	/* "10.0.0.100/24" */
	char addr_text[HA_ADDRSTRLEN];	/* "10.0.0.100" */
	struct ha_nl nl;
	struct ha_nl_link link;
	struct ha_nl_addr *addrs;	/* of the family, every interface */
	size_t n_addrs;
};

/* Where an address is, as havip_where sees it. */
enum havip_where {
	HAVIP_ABSENT,		/* on no interface */
	HAVIP_HERE,		/* on t's interface with t's prefix */
	HAVIP_ELSEWHERE,	/* another interface or another prefix */
};

/*
 * 0 when the process has the capabilities (CAP_NET_ADMIN when admin,
 * CAP_NET_RAW when raw); else a FAILURE naming what `what` needs, -1.
 */
int havip_need_caps(const char *what, int admin, int raw);

/* How much havip_open learns about the interface. */
enum havip_link {
	HAVIP_INDEX,		/* its index only (no netlink round trip) */
	HAVIP_ANY,		/* index, flags, type, MAC */
	HAVIP_UP,		/* the same; refuse it down or without carrier */
};

/*
 * Open netlink and look up t->ifname. Returns 0 or an exit code
 * (logged): 2 for an unknown interface, 1 otherwise. havip_close in
 * every case.
 */
int havip_open(struct havip_target *t, enum havip_link how);

/* The rest of t->link after havip_open(HAVIP_INDEX): 0 or -1 (logged). */
int havip_link(struct havip_target *t);
void havip_close(struct havip_target *t);

/* List the addresses of t's family into t->addrs: 0 or -1 (logged). */
int havip_list(struct havip_target *t);

/* Where t's address is (after havip_list); *found: its entry if any. */
enum havip_where havip_where(const struct havip_target *t,
    const struct ha_nl_addr **found);

/*
 * The commands' work on an opened target; each returns an exit code and
 * logs the outcome. lifetime in seconds or HA_NL_FOREVER.
 */
int havip_add(struct havip_target *t, const char *label, uint32_t lifetime,
    long count, int64_t interval_ms);
int havip_del(struct havip_target *t);
int havip_renew(struct havip_target *t, uint32_t lifetime);
int havip_announce(struct havip_target *t, long count, int64_t interval_ms);
int havip_check(struct havip_target *t, int probe, int64_t timeout_ms);

#endif
