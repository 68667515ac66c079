/*
 * libFuzzer target for the rtnetlink reply decoders (core/nlmsg): the
 * input is one datagram as the kernel would send it; every message the
 * walker finds is copied to a buffer of its exact size (so a read past
 * its end is caught) and given to each decoder. The seed corpus
 * (fuzz/corpus/nlmsg) holds replies of a real kernel: link lookups,
 * address dumps with labels and lifetimes, errors with extended acks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	const void *m;
	size_t left = size, mlen, textsz = size ? data[0] % 40 : 0;
	struct ha_nl_link l;
	struct ha_nl_addr a;
	char text[40];
	unsigned char *copy;
	int err;

	ha_log_init("fuzz", 0);
	while ((m = ha_nl_next(&p, &left, &mlen)) != NULL) {
		copy = malloc(mlen);
		if (copy == NULL)
			return 0;
		memcpy(copy, m, mlen);
		(void)ha_nl_parse_link(copy, mlen, &l);
		(void)ha_nl_parse_addr(copy, mlen, &a);
		(void)ha_nl_parse_error(copy, mlen, &err, text, textsz);
		free(copy);
	}
	return 0;
}
