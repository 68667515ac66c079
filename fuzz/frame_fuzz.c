/*
 * libFuzzer target for the frame decoder (core/wire ha_wire_parse) and the
 * payload decoders a peer meets before it is trusted: HELLO and ERROR
 * (core/peer). The input is a byte stream as a socket would deliver it.
 */
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "core/peer.h"
#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	ha_log_init("fuzz", 0);
	while (off < size) {
		const uint8_t *pl;
		const char *why;
		size_t plen, used;
		uint8_t type;
		struct ha_hello h;
		uint32_t code;
		char msg[256];

		if (ha_wire_parse(data + off, size - off, 4096, &type, &pl, &plen,
		    &used, &why) != 1)
			break;
		if (used > size - off || plen > used)
			__builtin_trap();
		if (type == HA_MSG_HELLO)
			(void)ha_hello_decode(pl, plen, &h, &why);
		else
			(void)ha_error_decode(pl, plen, &code, msg, sizeof(msg));
		off += used;
	}
	return 0;
}
