/*
 * libFuzzer target for the state-file decoder (core/state): anything a
 * disk can hand back, including valid files with a recomputed checksum
 * (the first byte 0x01 asks for one), so the decoder behind the checksum
 * is reached too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"
#include "core/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_state *st = NULL;
	struct ha_buf b = { 0 };

	ha_log_init("fuzz", 0);
	if (size && data[0] == 1) {
		ha_buf_puts(&b, "habox-state 1\n");
		ha_buf_add(&b, data + 1, size - 1);
		ha_buf_printf(&b, "end crc32=%08lx\n",
		    crc32(0L, (const Bytef *)b.s, (uInt)b.len));
	} else {
		ha_buf_add(&b, data, size);
	}
	if (ha_state_parse(b.s, b.len, "fuzz", &st) == 0) {
		size_t i;

		for (i = 0; i < ha_state_count(st); i++)
			(void)ha_state_get(st, ha_state_key_at(st, i));
	}
	ha_state_free(st);
	ha_buf_free(&b);
	return 0;
}
