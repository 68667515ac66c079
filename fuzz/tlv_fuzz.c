/*
 * libFuzzer target for the TLV codec (core/wire ha_tlv_decode): every
 * field type, required and optional, critical and not, nested fields
 * decoded recursively; whatever is accepted must re-encode to a message
 * that decodes to the same values.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct all {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	struct ha_tlv_slice e, f, g;
};

#define A(f) offsetof(struct all, f)

static const struct ha_tlv_spec spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_U8, 0, A(a), 0 },
	{ 2, HA_TLV_U16, 0, A(b), 0 },
	{ 3, HA_TLV_U32, 1, A(c), 0 },
	{ 4 | HA_TLV_CRIT, HA_TLV_U64, 0, A(d), 0 },
	{ 5, HA_TLV_BYTES, 0, A(e), 100 },
	{ 6, HA_TLV_STR, 0, A(f), 100 },
	{ 7, HA_TLV_NEST, 0, A(g), 0 },
	{ 0 },
};

static void
decode(const uint8_t *p, size_t n, int depth)
{
	struct all v, w;
	struct ha_buf b = { 0 };
	uint32_t seen, seen2;
	const char *why;

	memset(&v, 0, sizeof(v));
	if (depth > 4 || ha_tlv_decode(p, n, spec, &v, &seen, &why) == -1)
		return;
	if (seen & 1) ha_tlv_u8(&b, 1 | HA_TLV_CRIT, v.a);
	if (seen & 2) ha_tlv_u16(&b, 2, v.b);
	ha_tlv_u32(&b, 3, v.c);
	if (seen & 8) ha_tlv_u64(&b, 4 | HA_TLV_CRIT, v.d);
	if (seen & 16) ha_tlv_bytes(&b, 5, v.e.p, v.e.n);
	if (seen & 32) ha_tlv_bytes(&b, 6, v.f.p, v.f.n);
	if (seen & 64) ha_tlv_bytes(&b, 7, v.g.p, v.g.n);
	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode((uint8_t *)b.s, b.len, spec, &w, &seen2, &why) == -1 ||
	    seen2 != seen || w.a != v.a || w.b != v.b || w.c != v.c ||
	    w.d != v.d || w.e.n != v.e.n || w.f.n != v.f.n ||
	    (v.f.n && memcmp(w.f.p, v.f.p, v.f.n) != 0))
		__builtin_trap();
	ha_buf_free(&b);
	if (seen & 64)
		decode(v.g.p, v.g.n, depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size, 0);
	return 0;
}
