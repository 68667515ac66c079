/*
 * havip's operations on one address and interface: add (then announce
 * at once), del, renew (one netlink round trip), announce, check (with
 * an RFC 5227 probe or an IPv6 DAD solicitation). Each logs its outcome
 * as `havip: [LEVEL] ...` and returns an exit code. Manual: doc/havip.8.
 */
#include <errno.h>
#include <sched.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_addr.h>

#include "applets/havip.h"
#include "core/announce.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_HOLDERS 8

/* 1 when the process has capability cap; 1 too when it cannot tell. */
static int
has_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == -1)
		return 1;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int
havip_need_caps(const char *what, int admin, int raw)
{
	int no_admin = admin && !has_cap(CAP_NET_ADMIN);
	int no_raw = raw && !has_cap(CAP_NET_RAW);

	if (!no_admin && !no_raw)
		return 0;
	ha_log(HA_FAILURE, "%s: permission denied: needs root (or %s%s%s; "
	    "running as uid %ld without %s)", what,
	    admin ? "CAP_NET_ADMIN" : "", admin && raw ? " and " : "",
	    raw ? "CAP_NET_RAW" : "", (long)getuid(),
	    no_admin && no_raw ? "either" : no_admin ? "CAP_NET_ADMIN" :
	    "CAP_NET_RAW");
	return -1;
}

static int
link_get(struct havip_target *t)
{
	int r = ha_nl_link_get(&t->nl, t->ifname, &t->link);

	if (r == 1) {
		ha_log(HA_FAILURE, "no interface named '%s' ('ip link' lists "
		    "them)", t->ifname);
		return HA_EXIT_USAGE;
	}
	if (r == -1) {
		ha_log(HA_FAILURE, "looking up interface %s: %s", t->ifname,
		    ha_nl_strerror(&t->nl));
		return HA_EXIT_FAIL;
	}
	return 0;
}

int
havip_link(struct havip_target *t)
{
	return link_get(t) == 0 ? 0 : -1;
}

int
havip_open(struct havip_target *t, enum havip_link how)
{
	int rc;

	ha_fmt_cidr(&t->cidr, t->text, sizeof(t->text));
	ha_fmt_addr(&t->cidr.addr, t->addr_text, sizeof(t->addr_text));
	if (ha_nl_open(&t->nl) == -1) {
		ha_log(HA_FAILURE, "opening a netlink socket: %s",
		    ha_nl_strerror(&t->nl));
		return HA_EXIT_FAIL;
	}
	if (how == HAVIP_INDEX) {
		/* An ioctl, so that renew is one netlink round trip. */
		t->link.index = (int)if_nametoindex(t->ifname);
		if (t->link.index > 0)
			return 0;
		return link_get(t);
	}
	if ((rc = link_get(t)) != 0)
		return rc;
	if (how == HAVIP_UP && !(t->link.flags & IFF_UP)) {
		ha_log(HA_FAILURE, "%s is down: bring it up first (ip link set "
		    "%s up)", t->ifname, t->ifname);
		return HA_EXIT_FAIL;
	}
	if (how == HAVIP_UP && !(t->link.flags & IFF_LOWER_UP)) {
		ha_log(HA_FAILURE, "%s has no carrier (its link is down): "
		    "nobody would hear about %s", t->ifname, t->addr_text);
		return HA_EXIT_FAIL;
	}
	return 0;
}

void
havip_close(struct havip_target *t)
{
	ha_nl_close(&t->nl);
	free(t->addrs);
	t->addrs = NULL;
	t->n_addrs = 0;
}

/* 1 when announcements make sense on the link: Ethernet with ARP. */
static int
can_announce(const struct havip_target *t)
{
	return t->link.type == 1 /* ARPHRD_ETHER */ &&
	    t->link.hwaddr_len == HA_MAC_LEN && !(t->link.flags & IFF_NOARP);
}

int
havip_list(struct havip_target *t)
{
	free(t->addrs);
	t->addrs = NULL;
	if (ha_nl_addr_list(&t->nl, t->cidr.addr.family, 0, &t->addrs,
	    &t->n_addrs) == -1) {
		ha_log(HA_FAILURE, "listing the addresses: %s",
		    ha_nl_strerror(&t->nl));
		return -1;
	}
	return 0;
}

enum havip_where
havip_where(const struct havip_target *t, const struct ha_nl_addr **found)
{
	const struct ha_nl_addr *x;

	/* This interface first: the address may be on several. */
	x = ha_nl_addr_find(t->addrs, t->n_addrs, t->link.index,
	    &t->cidr.addr);
	if (x == NULL)
		x = ha_nl_addr_find(t->addrs, t->n_addrs, 0, &t->cidr.addr);
	*found = x;
	if (x == NULL)
		return HAVIP_ABSENT;
	if (x->ifindex == t->link.index && x->cidr.prefix == t->cidr.prefix)
		return HAVIP_HERE;
	return HAVIP_ELSEWHERE;
}

static void
ifname_of(int index, char name[IF_NAMESIZE])
{
	if (if_indextoname((unsigned)index, name) == NULL)
		snprintf(name, IF_NAMESIZE, "#%d", index);
}

/* The FAILURE for an address that is on another interface or prefix. */
static void
say_elsewhere(const struct havip_target *t, const struct ha_nl_addr *x)
{
	char name[IF_NAMESIZE], other[HA_ADDRSTRLEN];

	ifname_of(x->ifindex, name);
	ha_fmt_cidr(&x->cidr, other, sizeof(other));
	if (x->ifindex != t->link.index)
		ha_log(HA_FAILURE, "%s is already on another interface, %s: "
		    "remove it there first (havip del %s dev %s)",
		    t->addr_text, name, other, name);
	else
		ha_log(HA_FAILURE, "%s is on %s as %s, not %s: remove it first "
		    "(havip del %s dev %s)", t->addr_text, t->ifname, other,
		    t->text, other, t->ifname);
}

/* "once", "5 times, 200ms apart" */
static void
times(long count, int64_t interval_ms, char *buf, size_t n)
{
	char gap[32];

	ha_fmt_duration(interval_ms, gap, sizeof(gap));
	if (count == 1)
		snprintf(buf, n, "once");
	else
		snprintf(buf, n, "%ld times, %s apart", count, gap);
}

static void
say_added(const struct havip_target *t, int present, long sent,
    int64_t interval_ms, uint32_t life, long long first_us)
{
	char how[64], lifetxt[48] = "";

	times(sent, interval_ms, how, sizeof(how));
	if (life != HA_NL_FOREVER)
		snprintf(lifetxt, sizeof(lifetxt), ", kernel lifetime %lus",
		    (unsigned long)life);
	if (present && sent > 0)
		ha_log(HA_SUCCESS, "%s was already on %s: announced it again "
		    "(%s%s)", t->text, t->ifname, how, lifetxt);
	else if (present)
		ha_log(HA_SUCCESS, "%s was already on %s%s", t->text,
		    t->ifname, lifetxt);
	else if (sent > 0)
		ha_log(HA_SUCCESS, "%s added to %s and announced %s%s; first "
		    "announcement %lld us after the add request", t->text,
		    t->ifname, how, lifetxt, first_us);
	else
		ha_log(HA_SUCCESS, "%s added to %s, not announced%s", t->text,
		    t->ifname, lifetxt);
}

/*
 * Real-time priority (SCHED_FIFO 1) from just before the address is added
 * until the burst ends, when we may have it (CAP_SYS_NICE): on a busy
 * machine nothing else then runs between the kernel's ack and the first
 * announcement. The burst mostly sleeps. A raw syscall, because musl
 * leaves sched_setscheduler(2) unimplemented on purpose.
 */
static int
realtime(int on)
{
	struct sched_param sp = { .sched_priority = on ? 1 : 0 };

	return (int)syscall(SYS_sched_setscheduler, 0, on ? SCHED_FIFO :
	    SCHED_OTHER, &sp) == 0;
}

int
havip_add(struct havip_target *t, const char *label, uint32_t lifetime,
    long count, int64_t interval_ms)
{
	struct ha_announce an;
	const struct ha_nl_addr *x;
	enum havip_where w;
	int announce = can_announce(t) && count > 0, rc = HA_EXIT_FAIL, rt = 0;
	int64_t t_req;

	if (havip_list(t) == -1)
		return HA_EXIT_FAIL;
	if ((w = havip_where(t, &x)) == HAVIP_ELSEWHERE) {
		say_elsewhere(t, x);
		return HA_EXIT_FAIL;
	}
	if (!can_announce(t))
		ha_log(HA_WARNING, "%s is not an Ethernet link with ARP: %s "
		    "will not be announced", t->ifname, t->addr_text);
	/* Everything for the first announcement is ready before the add. */
	if (announce && ha_announce_open(&an, t->ifname, t->link.index,
	    t->link.hwaddr, &t->cidr.addr, 0) == -1)
		return HA_EXIT_FAIL;
	rt = announce && realtime(1);
	t_req = ha_announce_now_ns();
	if (ha_nl_addr_set(&t->nl, w == HAVIP_HERE ? HA_NL_REPLACE :
	    HA_NL_CREATE, t->link.index, &t->cidr, label, lifetime,
	    NULL) == -1) {
		if (t->nl.err != EEXIST) {
			ha_log(HA_FAILURE, "adding %s to %s: %s", t->text,
			    t->ifname, ha_nl_strerror(&t->nl));
			goto out;
		}
		w = HAVIP_HERE;	/* added meanwhile by someone else */
	}
	if (announce && ha_announce_burst(&an, count, interval_ms) == -1)
		goto out;
	say_added(t, w == HAVIP_HERE, announce ? count : 0, interval_ms,
	    lifetime, announce ? (long long)(an.first_ns - t_req) / 1000 : 0);
	rc = HA_EXIT_OK;
out:
	if (rt)
		(void)realtime(0);
	if (announce)
		ha_announce_close(&an);
	return rc;
}

int
havip_del(struct havip_target *t)
{
	const struct ha_nl_addr *x;
	enum havip_where w;

	if (havip_list(t) == -1)
		return HA_EXIT_FAIL;
	w = havip_where(t, &x);
	if (w == HAVIP_ELSEWHERE && x->ifindex == t->link.index) {
		say_elsewhere(t, x);
		return HA_EXIT_FAIL;
	}
	if (w != HAVIP_HERE ||
	    ha_nl_addr_del(&t->nl, t->link.index, &t->cidr) == -1) {
		if (w == HAVIP_HERE && t->nl.err != EADDRNOTAVAIL) {
			ha_log(HA_FAILURE, "removing %s from %s: %s", t->text,
			    t->ifname, ha_nl_strerror(&t->nl));
			return HA_EXIT_FAIL;
		}
		ha_log(HA_INFO, "%s is not on %s: nothing to do", t->text,
		    t->ifname);
		return HA_EXIT_OK;
	}
	ha_log(HA_SUCCESS, "%s removed from %s", t->text, t->ifname);
	return HA_EXIT_OK;
}

/* After renew found it had re-created the address. */
static int
renew_readded(struct havip_target *t, uint32_t life)
{
	const struct ha_nl_addr *x;
	struct ha_nl_addr *y;
	int rc;

	if (havip_list(t) == -1)
		return HA_EXIT_FAIL;
	for (y = t->addrs; y < t->addrs + t->n_addrs; y++)
		if (y->ifindex == t->link.index && y->cidr.prefix !=
		    t->cidr.prefix && ha_addr_equal(&y->cidr.addr,
		    &t->cidr.addr)) {
			/* It was there all along, with another prefix. */
			(void)ha_nl_addr_del(&t->nl, t->link.index, &t->cidr);
			say_elsewhere(t, y);
			return HA_EXIT_FAIL;
		}
	ha_log(HA_WARNING, "%s was not on %s any more (expired or removed): "
	    "added it again with lifetime %lus", t->text, t->ifname,
	    (unsigned long)life);
	if (havip_link(t) == -1)
		return HA_EXIT_FAIL;
	if (!can_announce(t) || !(t->link.flags & IFF_LOWER_UP) ||
	    havip_where(t, &x) != HAVIP_HERE)
		return HA_EXIT_OK;
	rc = havip_announce(t, 1, 0);
	return rc;
}

int
havip_renew(struct havip_target *t, uint32_t life)
{
	struct ha_nl_addr now;

	/*
	 * One RTM_NEWADDR (replace) and, in the same datagram, a dump that
	 * shows the address afterwards. The kernel creates an address that
	 * is not there; one created just now (created and updated stamps
	 * equal, 1/100 s) had expired or been removed.
	 */
	if (ha_nl_addr_set(&t->nl, HA_NL_REPLACE, t->link.index, &t->cidr,
	    NULL, life, &now) == -1) {
		ha_log(HA_FAILURE, "renewing %s on %s: %s", t->text, t->ifname,
		    ha_nl_strerror(&t->nl));
		return HA_EXIT_FAIL;
	}
	if (now.cstamp == now.tstamp)
		return renew_readded(t, life);
	ha_log(HA_DEBUG, "%s on %s renewed: lifetime %lus", t->text, t->ifname,
	    (unsigned long)life);
	return HA_EXIT_OK;
}

int
havip_announce(struct havip_target *t, long count, int64_t interval_ms)
{
	struct ha_announce an;
	char how[64];
	int rc;

	if (!can_announce(t)) {
		ha_log(HA_FAILURE, "%s is not an Ethernet link with ARP: "
		    "nothing to announce on it", t->ifname);
		return HA_EXIT_FAIL;
	}
	if (ha_announce_open(&an, t->ifname, t->link.index, t->link.hwaddr,
	    &t->cidr.addr, 0) == -1)
		return HA_EXIT_FAIL;
	rc = ha_announce_burst(&an, count, interval_ms);
	ha_announce_close(&an);
	if (rc == -1)
		return HA_EXIT_FAIL;
	times(count, interval_ms, how, sizeof(how));
	ha_log(HA_INFO, "%s announced on %s (%s)", t->addr_text, t->ifname,
	    how);
	return HA_EXIT_OK;
}

/* Probe: -1 failed (logged), else how many other holders (in text). */
static int
probe(struct havip_target *t, int64_t timeout_ms, char *text, size_t n)
{
	struct ha_announce an;
	unsigned char macs[MAX_HOLDERS][HA_MAC_LEN];
	char mac[24];
	int k, i;

	if (!can_announce(t)) {
		ha_log(HA_FAILURE, "%s is not an Ethernet link with ARP: "
		    "cannot probe on it", t->ifname);
		return -1;
	}
	if (ha_announce_open(&an, t->ifname, t->link.index, t->link.hwaddr,
	    &t->cidr.addr, 1) == -1)
		return -1;
	k = ha_announce_probe(&an, timeout_ms, macs, MAX_HOLDERS);
	ha_announce_close(&an);
	text[0] = '\0';
	for (i = 0; i < k; i++) {
		ha_neigh_fmt_mac(macs[i], mac, sizeof(mac));
		snprintf(text + strlen(text), n - strlen(text), "%s%s",
		    i ? ", " : "", mac);
	}
	return k;
}

int
havip_check(struct havip_target *t, int do_probe, int64_t timeout_ms)
{
	const struct ha_nl_addr *x;
	char others[MAX_HOLDERS * 20 + 8], name[IF_NAMESIZE];
	int held, k = 0;

	if (havip_list(t) == -1)
		return HA_EXIT_FAIL;
	held = havip_where(t, &x) != HAVIP_ABSENT &&
	    x->ifindex == t->link.index &&
	    !(x->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
	if (do_probe && (k = probe(t, timeout_ms, others, sizeof(others))) < 0)
		return HA_EXIT_FAIL;
	if (k > 0) {
		ha_log(HA_FAILURE, "%s is held by another host on %s's link: "
		    "%s%s", t->addr_text, t->ifname, others,
		    held ? " (and here too: a conflict)" : "");
		return HA_EXIT_FAIL;
	}
	if (held) {
		ha_log(HA_INFO, "%s is held here, on %s%s", t->addr_text,
		    t->ifname, do_probe ? "; no other host answered" : "");
		return HA_EXIT_OK;
	}
	if (x && x->ifindex != t->link.index) {
		ifname_of(x->ifindex, name);
		ha_log(HA_INFO, "%s is not on %s (it is on %s)", t->addr_text,
		    t->ifname, name);
	} else {
		ha_log(HA_INFO, "%s is not held here, on %s%s%s", t->addr_text,
		    t->ifname, x ? " (tentative or failed duplicate address "
		    "detection)" : "", do_probe ? "; no other host answered" :
		    "");
	}
	return HA_EXIT_DOWN;
}
