/*
 * Unit tests for core/netlink against the running kernel, reading only:
 * interface lookup (lo, a name that does not exist), address dumps, and
 * requests the kernel refuses before changing anything, so that its
 * errors come back as clear text. Nothing is added or removed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>

#include "check.h"
#include "core/netlink.h"

TEST(lookup_lo)
{
	struct ha_nl nl;
	struct ha_nl_link l;

	CHECK(ha_nl_open(&nl) == 0);
	CHECK(ha_nl_link_get(&nl, "lo", &l) == 0);
	CHECK(l.index == (int)if_nametoindex("lo"));
	CHECK(strcmp(l.name, "lo") == 0);
	CHECK(l.flags & IFF_LOOPBACK);
	CHECK(l.type == 772);		/* ARPHRD_LOOPBACK */
	CHECK(l.hwaddr_len == 6);
	CHECK(ha_nl_link_get(&nl, "nosuch-if0", &l) == 1);
	CHECK(ha_nl_link_get(&nl, "a-name-far-too-long", &l) == 1);
	/* The socket is still usable after an error. */
	CHECK(ha_nl_link_get(&nl, "lo", &l) == 0);
	ha_nl_close(&nl);
	ha_nl_close(&nl);
}

TEST(list_addresses)
{
	struct ha_nl nl;
	struct ha_nl_addr *v = NULL;
	struct ha_addr lo4 = { .family = AF_INET };
	const struct ha_nl_addr *x;
	size_t n = 0, i;
	int lo = (int)if_nametoindex("lo");

	inet_pton(AF_INET, "127.0.0.1", &lo4.u.v4);
	CHECK(ha_nl_open(&nl) == 0);
	CHECK(ha_nl_addr_list(&nl, AF_INET, 0, &v, &n) == 0);
	x = ha_nl_addr_find(v, n, lo, &lo4);
	CHECK(x != NULL);
	if (x) {
		CHECK(x->cidr.prefix == 8 && strcmp(x->label, "lo") == 0);
		CHECK(x->valid_lft == HA_NL_FOREVER);
	}
	for (i = 0; i < n; i++)
		CHECK(v[i].cidr.addr.family == AF_INET);
	free(v);
	/* One interface only. */
	CHECK(ha_nl_addr_list(&nl, AF_INET, lo, &v, &n) == 0);
	for (i = 0; i < n; i++)
		CHECK(v[i].ifindex == lo);
	free(v);
	CHECK(ha_nl_addr_list(&nl, AF_INET6, 0, &v, &n) == 0);
	for (i = 0; i < n; i++)
		CHECK(v[i].cidr.addr.family == AF_INET6);
	free(v);
	ha_nl_close(&nl);
}

TEST(kernel_errors_are_clear)
{
	struct ha_nl nl;
	struct ha_cidr c;
	const char *why;

	CHECK(ha_parse_cidr("192.0.2.77/32", 1, &c, &why) == 0);
	CHECK(ha_nl_open(&nl) == 0);
	/* No such interface: refused whatever our privileges. */
	CHECK(ha_nl_addr_set(&nl, HA_NL_CREATE, 0x7ffffff0, &c, NULL,
	    HA_NL_FOREVER, NULL) == -1);
	CHECK(nl.err == ENODEV || nl.err == EPERM);
	CHECK(strstr(ha_nl_strerror(&nl), strerror(nl.err)) != NULL);
	if (nl.err == EPERM)
		CHECK(strstr(ha_nl_strerror(&nl), "needs root or "
		    "CAP_NET_ADMIN") != NULL);
	/* Deleting an address that is not there. */
	CHECK(ha_nl_addr_del(&nl, (int)if_nametoindex("lo"), &c) == -1);
	CHECK(nl.err == EADDRNOTAVAIL || nl.err == EPERM);
	ha_nl_close(&nl);
	CHECK(ha_nl_link_get(&nl, "lo", &(struct ha_nl_link){ 0 }) == -1);
	CHECK(nl.err == EBADF);
}

int
main(void)
{
	t_suite = "netlink";
	RUN(lookup_lo);
	RUN(list_addresses);
	RUN(kernel_errors_are_clear);
	return t_done();
}
