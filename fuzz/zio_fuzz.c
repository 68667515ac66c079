/*
 * libFuzzer target for core/zio. The first byte picks:
 *	even: the rest is chunks, each after a 3-byte big-endian length,
 *	      unpacked in order until one is refused; no chunk may give
 *	      more than HA_ZIO_CHUNK bytes;
 *	odd:  the rest is packed in chunks (sizes and level from the first
 *	      byte; zstd or zlib by its top bit) and unpacked again, and must come back the same: this
 *	      checks that the dictionaries stay in step.
 */
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "core/zio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
unpack(const uint8_t *data, size_t size)
{
	struct ha_zio *z = ha_zio_unpacker();
	struct ha_buf out = { 0 };
	const char *why = NULL;

	while (size >= 3) {
		size_t n = (size_t)data[0] << 16 | (size_t)data[1] << 8 |
		    data[2];

		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		out.len = 0;
		if (ha_zio_unpack(z, data, n, &out, &why) == -1) {
			if (why == NULL)
				__builtin_trap();
			break;
		}
		if (out.len > HA_ZIO_CHUNK)
			__builtin_trap();
		data += n;
		size -= n;
	}
	ha_zio_free(z);
	ha_buf_free(&out);
}

static void
roundtrip(uint8_t seed, const uint8_t *data, size_t size)
{
	struct ha_zio *d = ha_zio_packer(seed & 0x80 ? HA_ZIO_ZLIB : HA_ZIO_ZSTD,
	    seed % 10), *in = ha_zio_unpacker();
	struct ha_buf p = { 0 }, out = { 0 };
	const char *why = NULL;
	uint32_t lcg = seed;

	while (size > 0) {
		size_t n;

		lcg = lcg * 1103515245u + 12345u;
		n = (lcg >> 16) % 3000;
		if (n > size)
			n = size;
		p.len = out.len = 0;
		if (ha_zio_pack(d, data, n, &p, &why) == -1 ||
		    p.len > HA_ZIO_MAX_PACKED ||
		    ha_zio_unpack(in, (uint8_t *)p.s, p.len, &out,
		    &why) == -1 ||
		    out.len != n || (n && memcmp(out.s, data, n) != 0))
			__builtin_trap();
		data += n;
		size -= n;
	}
	ha_zio_free(d);
	ha_zio_free(in);
	ha_buf_free(&p);
	ha_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ha_log_init("fuzz", 0);
	if (size == 0)
		return 0;
	if (data[0] & 1)
		roundtrip(data[0] >> 1, data + 1, size - 1);
	else
		unpack(data + 1, size - 1);
	return 0;
}
