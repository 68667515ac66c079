/*
 * havip: add, remove, renew, announce and check a virtual IP on an
 * interface (rtnetlink; gratuitous ARP for IPv4, unsolicited neighbour
 * advertisements for IPv6; RFC 5227 probes to find another owner).
 * This half: the command line and the [vip] sections of the
 * configuration; the work is in havip_ops.c. Manual: doc/havip.8.
 */
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_addr.h>

#include "applets/applets.h"
#include "applets/havip.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "ha_kconfig.h"

#define O(f) offsetof(struct havip_opts, f)

static const struct ha_opt announce_opts[] = {
	{ 0, "count", "N", "announcements to send (default 5)", HA_OPT_INT,
	  O(count), 0, 100 },
	{ 0, "interval", "T", "time between announcements (default 200ms)",
	  HA_OPT_DURATION, O(interval_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt add_opts[] = {
	{ 0, "count", "N", "announcements to send (default 5)", HA_OPT_INT,
	  O(count), 0, 100 },
	{ 0, "interval", "T", "time between announcements (default 200ms)",
	  HA_OPT_DURATION, O(interval_ms), 0, 0 },
	{ 0, "label", "L", "address label (IPv4, e.g. eth0:vip)", HA_OPT_STR,
	  O(label), 0, 0 },
	{ 0, "lifetime", "T", "kernel lifetime: the address goes away unless "
	  "renewed (whole seconds: 30 or 30s; default forever)", HA_OPT_STR,
	  O(lifetime), 0, 0 },
	{ 0 },
};

static const struct ha_opt renew_opts[] = {
	{ 0, "lifetime", "T", "new kernel lifetime (whole seconds: 30 or 30s; "
	  "required)", HA_OPT_STR, O(lifetime), 0, 0 },
	{ 0 },
};

static const struct ha_opt check_opts[] = {
	{ 0, "probe", NULL, "also ask the network (ARP probe / neighbour "
	  "solicitation); exit 1 naming the MAC of another holder",
	  HA_OPT_FLAG, O(probe), 0, 0 },
	{ 0, "timeout", "T", "how long to wait for answers to a probe "
	  "(default 1s)", HA_OPT_DURATION, O(timeout_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt up_opts[] = {
	{ 0, "count", "N", "announcements to send now (default: the "
	  "section's count)", HA_OPT_INT, O(up_count), 0, 100 },
	{ 0, "lifetime", "T", "kernel lifetime, as for add (default forever)",
	  HA_OPT_STR, O(lifetime), 0, 0 },
	{ 0 },
};

/* "30" (seconds) or a duration in whole seconds ("30s", "1m"). */
static int
parse_lifetime(const struct ha_args *a, const char *s, uint32_t *sec)
{
	int64_t ms;
	long v;
	const char *why;

	*sec = HA_NL_FOREVER;
	if (s == NULL)
		return 0;
	if (s[0] >= '0' && s[0] <= '9' && s[strspn(s, "0123456789")] == '\0') {
		if (ha_parse_int(s, 1, 0x7fffffff, &v, &why) == -1)
			return ha_cli_usage_error(a, "--lifetime %s: %s", s,
			    why);
		*sec = (uint32_t)v;
		return 0;
	}
	if (ha_parse_duration(s, &ms, &why) == -1)
		return ha_cli_usage_error(a, "--lifetime %s: %s", s, why);
	if (ms < 1000 || ms % 1000 != 0 || ms / 1000 > 0x7fffffff)
		return ha_cli_usage_error(a, "--lifetime %s: the kernel counts "
		    "lifetimes in whole seconds (at least 1s)", s);
	*sec = (uint32_t)(ms / 1000);
	return 0;
}

/* NULL when label suits an address of family on ifname, else why not. */
static const char *
bad_label(int family, const char *ifname, const char *label)
{
	size_t n = strlen(ifname);

	if (label == NULL)
		return NULL;
	if (family != AF_INET)
		return "labels are for IPv4 addresses only";
	if (strlen(label) >= IFNAMSIZ || strncmp(label, ifname, n) != 0 ||
	    (label[n] != '\0' && label[n] != ':'))
		return "a label is the interface's name, or that name, a colon "
		    "and more (at most 15 characters in all)";
	return NULL;
}

/* A unicast address the kernel will accept for an interface. */
static const char *
not_unicast(const struct ha_addr *ad)
{
	const unsigned char *b = ad->family == AF_INET ?
	    (const unsigned char *)&ad->u.v4 : ad->u.v6.s6_addr;
	static const unsigned char zero[16];

	if (memcmp(b, zero, ad->family == AF_INET ? 4 : 16) == 0)
		return "the unspecified address";
	if (ad->family == AF_INET && (b[0] >= 224 || b[0] == 127))
		return b[0] == 127 ? "a loopback address" :
		    "a multicast or broadcast address";
	if (ad->family == AF_INET6 && b[0] == 0xff)
		return "a multicast address";
	if (ad->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&ad->u.v6))
		return "a loopback address";
	return NULL;
}

/*
 * Parse "ADDR[/PREFIX] dev IFACE" from the positional arguments into t
 * (without a prefix: a host prefix, unless need_prefix). Returns 0 or an
 * exit code after a usage error.
 */
static int
parse_args(const struct ha_args *a, int need_prefix, struct havip_target *t)
{
	const char *why, *s = a->argv[0];

	memset(t, 0, sizeof(*t));
	t->nl.fd = -1;
	if (strcmp(a->argv[1], "dev") != 0)
		return ha_cli_usage_error(a, "expected 'dev IFACE' after the "
		    "address, not '%s'", a->argv[1]);
	t->ifname = a->argv[2];
	if (strchr(s, '/')) {
		if (ha_parse_cidr(s, CONFIG_HA_IPV6, &t->cidr, &why) == -1)
			return ha_cli_usage_error(a, "%s: %s", s, why);
	} else if (need_prefix) {
		return ha_cli_usage_error(a, "%s: not ADDRESS/PREFIX "
		    "(examples: 10.0.0.100/24, fd00::100/64)", s);
	} else {
		if (ha_parse_addr(s, CONFIG_HA_IPV6, &t->cidr.addr, &why) == -1)
			return ha_cli_usage_error(a, "%s: %s", s, why);
		t->cidr.prefix = t->cidr.addr.family == AF_INET ? 32 : 128;
	}
	if ((why = not_unicast(&t->cidr.addr)) != NULL)
		return ha_cli_usage_error(a, "%s: %s cannot be a virtual IP", s,
		    why);
	return 0;
}


static int
cmd_add(const struct ha_args *a, void *opts)
{
	struct havip_opts *o = opts;
	struct havip_target t;
	uint32_t life;
	const char *why;
	int rc;

	if ((rc = parse_args(a, 1, &t)) != 0 ||
	    (rc = parse_lifetime(a, o->lifetime, &life)) != 0)
		return rc;
	if ((why = bad_label(t.cidr.addr.family, t.ifname, o->label)) != NULL)
		return ha_cli_usage_error(a, "--label %s: %s", o->label, why);
	if (havip_need_caps("havip add", 1, 1) == -1)
		return HA_EXIT_FAIL;
	if ((rc = havip_open(&t, HAVIP_UP)) == 0)
		rc = havip_add(&t, o->label, life, o->count, o->interval_ms);
	havip_close(&t);
	return rc;
}

static int
cmd_del(const struct ha_args *a, void *opts)
{
	struct havip_target t;
	int rc;

	(void)opts;
	if ((rc = parse_args(a, 1, &t)) != 0)
		return rc;
	if (havip_need_caps("havip del", 1, 0) == -1)
		return HA_EXIT_FAIL;
	if ((rc = havip_open(&t, HAVIP_ANY)) == 0)
		rc = havip_del(&t);
	havip_close(&t);
	return rc;
}

static int
cmd_renew(const struct ha_args *a, void *opts)
{
	struct havip_opts *o = opts;
	struct havip_target t;
	uint32_t life;
	int rc;

	if ((rc = parse_args(a, 1, &t)) != 0 ||
	    (rc = parse_lifetime(a, o->lifetime, &life)) != 0)
		return rc;
	if (life == HA_NL_FOREVER)
		return ha_cli_usage_error(a, "renew needs --lifetime T");
	if (havip_need_caps("havip renew", 1, 1) == -1)
		return HA_EXIT_FAIL;
	if ((rc = havip_open(&t, HAVIP_INDEX)) == 0)
		rc = havip_renew(&t, life);
	havip_close(&t);
	return rc;
}

static int
cmd_announce(const struct ha_args *a, void *opts)
{
	struct havip_opts *o = opts;
	struct havip_target t;
	const struct ha_nl_addr *x;
	int rc;

	if ((rc = parse_args(a, 0, &t)) != 0)
		return rc;
	if (havip_need_caps("havip announce", 0, 1) == -1)
		return HA_EXIT_FAIL;
	if ((rc = havip_open(&t, HAVIP_UP)) != 0 || (rc = havip_list(&t)) != 0)
		goto out;
	/* Announcing an address held elsewhere would steal its traffic. */
	if (havip_where(&t, &x) == HAVIP_ABSENT ||
	    x->ifindex != t.link.index) {
		ha_log(HA_FAILURE, "%s is not on %s: not announcing it",
		    t.addr_text, t.ifname);
		rc = HA_EXIT_FAIL;
		goto out;
	}
	rc = havip_announce(&t, o->count, o->interval_ms);
out:
	havip_close(&t);
	return rc < 0 ? HA_EXIT_FAIL : rc;
}

static int
cmd_check(const struct ha_args *a, void *opts)
{
	struct havip_opts *o = opts;
	struct havip_target t;
	int rc;

	if ((rc = parse_args(a, 0, &t)) != 0)
		return rc;
	if (o->probe && o->timeout_ms <= 0)
		return ha_cli_usage_error(a, "--timeout must be more than 0");
	if (o->probe && havip_need_caps("havip check --probe", 0, 1) == -1)
		return HA_EXIT_FAIL;
	if ((rc = havip_open(&t, o->probe ? HAVIP_UP : HAVIP_ANY)) == 0)
		rc = havip_check(&t, o->probe, o->timeout_ms);
	havip_close(&t);
	return rc;
}

/* Load the configuration and find [vip NAME]; 0 or an exit code. */
static int
load_vip(const struct ha_args *a, struct ha_cfg **cfg,
    const struct ha_cfg_vip **v, struct havip_target *t)
{
	const char *why;

	memset(t, 0, sizeof(*t));
	t->nl.fd = -1;
	if ((*cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides)) == NULL)
		return HA_EXIT_USAGE;
	if ((*v = ha_cfg_vip(*cfg, a->argv[0])) == NULL) {
		ha_log(HA_FAILURE, "%s: no [vip %s] section ('havip status' "
		    "lists those there are)", a->conf, a->argv[0]);
		return HA_EXIT_USAGE;
	}
	if ((why = bad_label((*v)->address.addr.family, (*v)->interface,
	    (*v)->label)) != NULL) {
		ha_log(HA_FAILURE, "%s: [vip %s] label %s: %s", a->conf,
		    (*v)->name, (*v)->label, why);
		return HA_EXIT_USAGE;
	}
	t->cidr = (*v)->address;
	t->ifname = (*v)->interface;
	return 0;
}

static int
cmd_up(const struct ha_args *a, void *opts)
{
	struct havip_opts *o = opts;
	struct ha_cfg *cfg = NULL;
	const struct ha_cfg_vip *v;
	struct havip_target t;
	uint32_t life;
	int rc;

	if ((rc = parse_lifetime(a, o->lifetime, &life)) != 0)
		return rc;
	if ((rc = load_vip(a, &cfg, &v, &t)) == 0 &&
	    (rc = havip_need_caps("havip up", 1, 1)) == 0 &&
	    (rc = havip_open(&t, HAVIP_UP)) == 0)
		rc = havip_add(&t, v->label, life,
		    o->up_count >= 0 ? o->up_count : v->count, v->interval_ms);
	havip_close(&t);
	ha_cfg_free(cfg);
	return rc < 0 ? HA_EXIT_FAIL : rc;
}

static int
cmd_down(const struct ha_args *a, void *opts)
{
	struct ha_cfg *cfg = NULL;
	const struct ha_cfg_vip *v;
	struct havip_target t;
	int rc;

	(void)opts;
	if ((rc = load_vip(a, &cfg, &v, &t)) == 0 &&
	    (rc = havip_need_caps("havip down", 1, 0)) == 0 &&
	    (rc = havip_open(&t, HAVIP_ANY)) == 0)
		rc = havip_del(&t);
	havip_close(&t);
	ha_cfg_free(cfg);
	return rc < 0 ? HA_EXIT_FAIL : rc;
}

/* The state of one [vip] in words; returns 1 held, 0 not, -1 failed. */
static int
vip_state(struct ha_nl *nl, const struct ha_cfg_vip *v, char *buf, size_t n)
{
	struct ha_nl_link l;
	struct ha_nl_addr *addrs = NULL;
	const struct ha_nl_addr *x;
	char other[IF_NAMESIZE];
	size_t na;
	int r, held = 0;

	if ((r = ha_nl_link_get(nl, v->interface, &l)) == 1) {
		snprintf(buf, n, "not held (no interface %s)", v->interface);
		return 0;
	}
	if (r == -1 || ha_nl_addr_list(nl, v->address.addr.family, 0, &addrs,
	    &na) == -1) {
		ha_log(HA_FAILURE, "[vip %s]: %s", v->name, ha_nl_strerror(nl));
		return -1;
	}
	if ((x = ha_nl_addr_find(addrs, na, l.index,
	    &v->address.addr)) != NULL) {
		held = !(x->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
		snprintf(buf, n, "%s%s", held ? "held" : "not held (tentative)",
		    (l.flags & IFF_UP) ? "" : ", interface down");
		if (held && x->valid_lft != HA_NL_FOREVER)
			snprintf(buf + strlen(buf), n - strlen(buf),
			    ", lifetime %lus left",
			    (unsigned long)x->valid_lft);
	} else if ((x = ha_nl_addr_find(addrs, na, 0,
	    &v->address.addr)) != NULL) {
		if (if_indextoname((unsigned)x->ifindex, other) == NULL)
			snprintf(other, sizeof(other), "#%d", x->ifindex);
		snprintf(buf, n, "not held (on %s)", other);
	} else {
		snprintf(buf, n, "not held");
	}
	free(addrs);
	return held;
}

static int
cmd_status(const struct ha_args *a, void *opts)
{
	struct ha_cfg *cfg;
	struct ha_nl nl;
	struct ha_buf out = { 0 };
	char addr[HA_ADDRSTRLEN], state[128];
	size_t i;
	int r, rc = HA_EXIT_OK;

	(void)opts;
	if ((cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides)) == NULL)
		return HA_EXIT_USAGE;
	if (ha_nl_open(&nl) == -1) {
		ha_log(HA_FAILURE, "opening a netlink socket: %s",
		    ha_nl_strerror(&nl));
		ha_cfg_free(cfg);
		return HA_EXIT_FAIL;
	}
	if (cfg->n_vips == 0)
		ha_log(HA_INFO, "%s has no [vip] section", a->conf);
	else
		ha_buf_printf(&out, "%-12s %-28s %-15s %s\n", "VIP", "ADDRESS",
		    "INTERFACE", "STATE");
	for (i = 0; i < cfg->n_vips && rc != HA_EXIT_FAIL; i++) {
		const struct ha_cfg_vip *v = &cfg->vips[i];

		if ((r = vip_state(&nl, v, state, sizeof(state))) == -1)
			rc = HA_EXIT_FAIL;
		else if (r == 0)
			rc = HA_EXIT_DOWN;
		ha_fmt_cidr(&v->address, addr, sizeof(addr));
		if (r != -1)
			ha_buf_printf(&out, "%-12s %-28s %-15s %s\n", v->name,
			    addr, v->interface, state);
	}
	if (out.len && ha_write_all(STDOUT_FILENO, out.s, out.len) == -1) {
		ha_log_errno(HA_FAILURE, "writing the status");
		rc = HA_EXIT_FAIL;
	}
	ha_buf_free(&out);
	ha_nl_close(&nl);
	ha_cfg_free(cfg);
	return rc;
}

static const struct ha_cmd cmds[] = {
	{ "add", "ADDR/PREFIX dev IFACE", "Add a virtual IP to an interface "
	  "and announce it; already there: announce again.", add_opts, 3, 3,
	  0, cmd_add },
	{ "announce", "ADDR dev IFACE", "Announce an address again without "
	  "touching the interface's addresses.", announce_opts, 3, 3, 0,
	  cmd_announce },
	{ "check", "ADDR dev IFACE", "Exit 0 when the address is held here, "
	  "3 when not.", check_opts, 3, 3, 0, cmd_check },
	{ "del", "ADDR/PREFIX dev IFACE", "Remove a virtual IP; absent: "
	  "nothing to do.", NULL, 3, 3, 0, cmd_del },
	{ "down", "NAME", "Remove the [vip NAME] of the configuration.", NULL,
	  1, 1, HA_CMD_CONFIG, cmd_down },
	{ "renew", "ADDR/PREFIX dev IFACE", "Renew the kernel lifetime of an "
	  "address in one netlink round trip.", renew_opts, 3, 3, 0,
	  cmd_renew },
	{ "status", "", "Show each [vip] of the configuration and whether it "
	  "is held here (exit 3 when one is not).", NULL, 0, 0,
	  HA_CMD_CONFIG, cmd_status },
	{ "up", "NAME", "Add and announce the [vip NAME] of the "
	  "configuration.", up_opts, 1, 1, HA_CMD_CONFIG, cmd_up },
};

static const struct ha_applet app = {
	"havip", "Add, remove, announce and check a virtual IP", cmds,
	HA_ARRAY_LEN(cmds),
};

int
havip_main(int argc, char **argv)
{
	struct havip_opts o = { .count = 5, .up_count = -1, .interval_ms = 200,
	    .timeout_ms = 1000 };

	return ha_cli_main(&app, argc, argv, &o);
}
