/*
 * libFuzzer target for the journal decoder (core/journal): any bytes a
 * disk can hand back. With the first byte 0x01 the rest is read as
 * (type, length, payload) triples and framed as valid records with the
 * right checksums, so the replay behind the checksums is reached too.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/journal.h"
#include "core/log.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
frame(struct ha_buf *b, const uint8_t *data, size_t size)
{
	unsigned char h[9] = { 'H', 'B', 'X', 'J', 0, 0, 0, 1 };
	size_t i = 0;

	ha_buf_add(b, h, 8);
	while (i + 2 <= size) {
		uint8_t type = data[i], n = data[i + 1];
		uLong crc;

		i += 2;
		if (n > size - i)
			n = (uint8_t)(size - i);
		put32(h, (uint32_t)n + 1);
		h[8] = type;
		crc = crc32(0L, h, 4);
		crc = crc32(crc, h + 8, 1);
		if (n)
			crc = crc32(crc, data + i, n);
		put32(h + 4, (uint32_t)crc);
		ha_buf_add(b, h, 9);
		ha_buf_add(b, data + i, n);
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_pathset set;
	struct ha_buf b = { 0 };
	size_t good, records, i, live = 0;
	int rescan;

	ha_log_init("fuzz", 0);
	if (size && data[0] == 1)
		frame(&b, data + 1, size - 1);
	else
		ha_buf_add(&b, data, size);
	ha_pathset_init(&set);
	(void)ha_journal_decode(b.s ? b.s : "", b.len, &set, &rescan, &good,
	    &records);
	if (good > b.len)
		__builtin_trap();
	for (i = 0; i < set.n_ents; i++)
		if (set.ents[i].path) {
			if (strlen(set.ents[i].path) > HA_JOURNAL_PATH_MAX)
				__builtin_trap();
			live++;
		}
	if (live != set.count)
		__builtin_trap();
	ha_pathset_fini(&set);
	ha_buf_free(&b);
	return 0;
}
