/*
 * Unit tests for core/wire: frames (complete, partial, oversized), TLV
 * round trips of random messages, and every truncation of a valid message
 * refused; duplicated and unknown-critical fields refused.
 */
#include <stddef.h>

#include "check.h"
#include "core/wire.h"

struct msg {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	struct ha_tlv_slice e;	/* bytes */
	struct ha_tlv_slice f;	/* str */
	struct ha_tlv_slice g;	/* nested */
};

#define M(f) offsetof(struct msg, f)

static const struct ha_tlv_spec all_required[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_U8, 1, M(a), 0 },
	{ 2, HA_TLV_U16, 1, M(b), 0 },
	{ 3, HA_TLV_U32, 1, M(c), 0 },
	{ 4, HA_TLV_U64, 1, M(d), 0 },
	{ 5, HA_TLV_BYTES, 1, M(e), 64 },
	{ 6, HA_TLV_STR, 1, M(f), 64 },
	{ 7, HA_TLV_NEST, 1, M(g), 0 },
	{ 0 },
};

static const struct ha_tlv_spec optional[] = {
	{ 1, HA_TLV_U8, 0, M(a), 0 },
	{ 2, HA_TLV_U16, 0, M(b), 0 },
	{ 5, HA_TLV_BYTES, 0, M(e), 64 },
	{ 0 },
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random valid message of all seven fields, in random order. */
static void
make(struct ha_buf *b, struct msg *want, uint8_t *bytes, char *str)
{
	size_t i, n = rnd() % 64, order[7] = { 0, 1, 2, 3, 4, 5, 6 };
	size_t mark;

	want->a = (uint8_t)rnd();
	want->b = (uint16_t)rnd();
	want->c = (uint32_t)rnd();
	want->d = rnd();
	for (i = 0; i < n; i++)
		bytes[i] = (uint8_t)rnd();
	want->e.n = (uint32_t)n;
	n = rnd() % 60;
	for (i = 0; i < n; i++)
		str[i] = (char)('a' + rnd() % 26);
	str[n] = '\0';
	for (i = 6; i > 0; i--) {
		size_t j = rnd() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 7; i++) {
		switch (order[i]) {
		case 0: ha_tlv_u8(b, 1 | HA_TLV_CRIT, want->a); break;
		case 1: ha_tlv_u16(b, 2, want->b); break;
		case 2: ha_tlv_u32(b, 3, want->c); break;
		case 3: ha_tlv_u64(b, 4, want->d); break;
		case 4: ha_tlv_bytes(b, 5, bytes, want->e.n); break;
		case 5: ha_tlv_str(b, 6, str); break;
		case 6:
			mark = ha_tlv_begin(b, 7);
			ha_tlv_u8(b, 1, 42);
			ha_tlv_str(b, 5, "in");
			ha_tlv_end(b, mark);
			break;
		}
	}
}

TEST(round_trips)
{
	int round, bad = 0;

	for (round = 0; round < 2000; round++) {
		struct ha_buf b = { 0 };
		struct msg want = { 0 }, got, inner;
		uint8_t bytes[64];
		char str[64];
		const char *why = NULL;
		uint32_t seen;

		make(&b, &want, bytes, str);
		memset(&got, 0, sizeof(got));
		if (ha_tlv_decode((uint8_t *)b.s, b.len, all_required, &got, &seen,
		    &why) == -1 || seen != 0x7f)
			bad++;
		else if (got.a != want.a || got.b != want.b || got.c != want.c ||
		    got.d != want.d || got.e.n != want.e.n ||
		    memcmp(got.e.p, bytes, want.e.n) != 0 ||
		    got.f.n != strlen(str) || memcmp(got.f.p, str, got.f.n) != 0)
			bad++;
		else if (ha_tlv_decode(got.g.p, got.g.n, optional, &inner, &seen,
		    &why) == -1 || inner.a != 42 || inner.e.n != 2 ||
		    seen != 0x5)
			bad++;
		ha_buf_free(&b);
	}
	CHECK(bad == 0);
}

TEST(every_truncation_refused)
{
	int round, accepted = 0, framed = 0;

	for (round = 0; round < 200; round++) {
		struct ha_buf b = { 0 }, f = { 0 };
		struct msg want, got;
		uint8_t bytes[64], type;
		char str[64];
		const uint8_t *pl;
		size_t cut, plen, used;
		const char *why;

		make(&b, &want, bytes, str);
		for (cut = 0; cut < b.len; cut++)
			if (ha_tlv_decode((uint8_t *)b.s, cut, all_required, &got,
			    NULL, &why) == 0)
				accepted++;
		/* A truncated frame is never taken for a frame. */
		ha_wire_frame(&f, HA_MSG_PING, b.s, b.len);
		for (cut = 0; cut < f.len; cut++)
			if (ha_wire_parse((uint8_t *)f.s, cut, HA_WIRE_MAX, &type,
			    &pl, &plen, &used, &why) != 0)
				framed++;
		CHECK(ha_wire_parse((uint8_t *)f.s, f.len, HA_WIRE_MAX, &type, &pl,
		    &plen, &used, &why) == 1 && used == f.len && plen == b.len &&
		    type == HA_MSG_PING);
		ha_buf_free(&b);
		ha_buf_free(&f);
	}
	CHECK(accepted == 0);
	CHECK(framed == 0);
}

TEST(bad_fields)
{
	struct ha_buf b = { 0 };
	struct msg got;
	const char *why = NULL;
	uint8_t raw[16];

	/* duplicated */
	ha_tlv_u8(&b, 1, 1);
	ha_tlv_u8(&b, 1, 2);
	CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, optional, &got, NULL,
	    &why) == -1 && strstr(why, "duplicated"));
	/* unknown critical vs unknown optional */
	b.len = 0;
	ha_tlv_u8(&b, 9 | HA_TLV_CRIT, 1);
	CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, optional, &got, NULL,
	    &why) == -1 && strstr(why, "unknown critical"));
	b.len = 0;
	ha_tlv_u32(&b, 9, 1);
	ha_tlv_u8(&b, 1, 7);
	CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, optional, &got, NULL,
	    &why) == 0 && got.a == 7);
	/* a number of the wrong width */
	b.len = 0;
	ha_tlv_u32(&b, 1, 1);
	CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, optional, &got, NULL,
	    &why) == -1 && strstr(why, "wrong length"));
	/* a field over its maximum */
	b.len = 0;
	memset(raw, 0, sizeof(raw));
	{
		uint8_t big[65] = { 0 };

		ha_tlv_bytes(&b, 5, big, sizeof(big));
	}
	CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, optional, &got, NULL,
	    &why) == -1 && strstr(why, "longer than allowed"));
	/* a length pointing past the end */
	ha_put_be16(raw, 5);
	ha_put_be32(raw + 2, 0xffffffff);
	CHECK(ha_tlv_decode(raw, 10, optional, &got, NULL, &why) == -1 &&
	    strstr(why, "longer than the message"));
	/* text that is not UTF-8, or has a NUL */
	{
		static const struct ha_tlv_spec s[] = {
			{ 6, HA_TLV_STR, 1, M(f), 0 }, { 0 },
		};
		const char *bad[] = { "a\xff", "\xc0\xaf", "a\0b", "\xed\xa0\x80",
		    "\xe2\x82" };
		size_t lens[] = { 2, 2, 3, 3, 2 }, i;

		for (i = 0; i < HA_ARRAY_LEN(bad); i++) {
			b.len = 0;
			ha_tlv_bytes(&b, 6, bad[i], lens[i]);
			CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, s, &got, NULL,
			    &why) == -1);
		}
		b.len = 0;
		ha_tlv_str(&b, 6, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
		CHECK(ha_tlv_decode((uint8_t *)b.s, b.len, s, &got, NULL,
		    &why) == 0);
	}
	ha_buf_free(&b);
}

TEST(frames)
{
	uint8_t h[HA_WIRE_HDR] = { 0xff, 0xff, 0xff, 0xff, 1 }, type;
	const uint8_t *pl;
	size_t plen, used;
	const char *why = NULL;
	struct ha_buf f = { 0 };

	/* A 4 GB length is refused from its 5 header bytes alone. */
	CHECK(ha_wire_parse(h, sizeof(h), HA_WIRE_MAX, &type, &pl, &plen, &used,
	    &why) == -1 && strstr(why, "longer than the maximum"));
	ha_put_be32(h, HA_WIRE_MAX + 1);
	CHECK(ha_wire_parse(h, sizeof(h), HA_WIRE_MAX, &type, &pl, &plen, &used,
	    &why) == -1);
	ha_put_be32(h, 10);
	h[4] = 0;
	CHECK(ha_wire_parse(h, sizeof(h), HA_WIRE_MAX, &type, &pl, &plen, &used,
	    &why) == -1 && strstr(why, "type 0"));
	h[4] = 3;
	CHECK(ha_wire_parse(h, sizeof(h), HA_WIRE_MAX, &type, &pl, &plen, &used,
	    &why) == 0 && used == 15);
	/* Two frames back to back: the first is taken alone. */
	ha_wire_frame(&f, HA_MSG_PING, "ab", 2);
	ha_wire_frame(&f, HA_MSG_PONG, "", 0);
	CHECK(ha_wire_parse((uint8_t *)f.s, f.len, HA_WIRE_MAX, &type, &pl,
	    &plen, &used, &why) == 1 && type == HA_MSG_PING && plen == 2 &&
	    used == 7 && memcmp(pl, "ab", 2) == 0);
	CHECK(ha_wire_parse((uint8_t *)f.s + used, f.len - used, HA_WIRE_MAX,
	    &type, &pl, &plen, &used, &why) == 1 && type == HA_MSG_PONG &&
	    plen == 0);
	ha_buf_free(&f);
}

int
main(void)
{
	t_suite = "wire";
	RUN(round_trips);
	RUN(every_truncation_refused);
	RUN(bad_fields);
	RUN(frames);
	return t_done();
}
