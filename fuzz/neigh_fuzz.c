/*
 * libFuzzer target for the ARP / neighbour-discovery frame parser
 * (core/neigh: ha_neigh_parse, ha_neigh_claims): the input is one
 * Ethernet frame as an AF_PACKET socket hands it to havip. The seed
 * corpus (fuzz/corpus/neigh) holds frames captured in the test topology:
 * gratuitous ARP, probes and their answers, NS/NA, ping, MLD, RS.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "core/neigh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char self[6] = { 2, 0, 0x5e, 0x10, 0, 1 };
	struct ha_addr a4 = { .family = AF_INET }, a6 = { .family = AF_INET6 };
	struct ha_neigh_pkt p;
	unsigned char mac[HA_MAC_LEN];
	char text[24];

	ha_log_init("fuzz", 0);
	inet_pton(AF_INET, "10.0.0.100", &a4.u.v4);
	inet_pton(AF_INET6, "fd00::100", &a6.u.v6);
	if (ha_neigh_parse(data, size, &p) != 0)
		return 0;
	(void)ha_neigh_claims(&p, &a4, self, mac);
	(void)ha_neigh_claims(&p, &a6, self, mac);
	if (ha_neigh_claims(&p, &p.target, self, mac) ||
	    ha_neigh_claims(&p, &p.sender, self, mac))
		ha_neigh_fmt_mac(mac, text, sizeof(text));
	return 0;
}
