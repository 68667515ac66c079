/*
 * havip: add, remove, renew, announce and check a virtual IP on an
 * interface (rtnetlink; gratuitous ARP for IPv4, unsolicited neighbour
 * advertisements for IPv6; RFC 5227 probes to find another owner).
 */
#include <stddef.h>

#include "applets/applets.h"
#include "core/util.h"

struct havip_opts {
	long count;
	int64_t interval_ms;
	const char *label;
	int64_t lifetime_ms;
	int probe;
	int64_t timeout_ms;
};

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
	  "renewed (whole seconds; default forever)", HA_OPT_DURATION,
	  O(lifetime_ms), 0, 0 },
	{ 0 },
};

static const struct ha_opt renew_opts[] = {
	{ 0, "lifetime", "T", "new kernel lifetime (whole seconds)",
	  HA_OPT_DURATION, O(lifetime_ms), 0, 0 },
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

static const struct ha_cmd cmds[] = {
	{ "add", "ADDR/PREFIX dev IFACE", "Add a virtual IP to an interface "
	  "and announce it; already there: announce again.", add_opts, 3, 3,
	  0, ha_not_implemented },
	{ "announce", "ADDR dev IFACE", "Announce an address again without "
	  "touching the interface's addresses.", announce_opts, 3, 3, 0,
	  ha_not_implemented },
	{ "check", "ADDR dev IFACE", "Exit 0 when the address is held here, "
	  "3 when not.", check_opts, 3, 3, 0, ha_not_implemented },
	{ "del", "ADDR/PREFIX dev IFACE", "Remove a virtual IP; absent: "
	  "nothing to do.", NULL, 3, 3, 0, ha_not_implemented },
	{ "down", "NAME", "Remove the [vip NAME] of the configuration.", NULL,
	  1, 1, HA_CMD_CONFIG, ha_not_implemented },
	{ "renew", "ADDR/PREFIX dev IFACE", "Renew the kernel lifetime of an "
	  "address in one netlink round trip.", renew_opts, 3, 3, 0,
	  ha_not_implemented },
	{ "status", "", "Show each [vip] of the configuration and whether it "
	  "is held here.", NULL, 0, 0, HA_CMD_CONFIG, ha_not_implemented },
	{ "up", "NAME", "Add and announce the [vip NAME] of the "
	  "configuration.", NULL, 1, 1, HA_CMD_CONFIG, ha_not_implemented },
};

static const struct ha_applet app = {
	"havip", "Add, remove, announce and check a virtual IP", cmds,
	HA_ARRAY_LEN(cmds),
};

int
havip_main(int argc, char **argv)
{
	struct havip_opts o = { .count = 5, .interval_ms = 200,
	    .timeout_ms = 1000 };

	return ha_cli_main(&app, argc, argv, &o);
}
