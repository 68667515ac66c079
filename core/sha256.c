/*
 * SHA-256 (FIPS 180-4). delta hashes every byte of a file twice (block
 * hashes and the whole-file check), so the compression function matters:
 * on x86-64 with the SHA extensions (checked once with cpuid) it uses
 * them, about five times faster than portable C; elsewhere portable C.
 * tests/unit/sha256_test.c checks both against mbedTLS.
 */
#include "core/sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void
blocks_c(uint32_t h[8], const uint8_t *p, size_t nblk)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (; nblk > 0; nblk--, p += 64) {
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 |
			    (uint32_t)p[4 * i + 1] << 16 |
			    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^
			    w[i - 15] >> 3;
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
			    w[i - 2] >> 10;

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (i = 0; i < 64; i++) {
			t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
			    ((e & f) ^ (~e & g)) + K[i] + w[i];
			t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
			    ((a & b) ^ (a & c) ^ (b & c));
			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
}

#if defined(__x86_64__)
/*
 * The SHA-NI form keeps the state as two vectors, ABEF and CDGH: each
 * sha256rnds2 does two rounds and returns the new ABEF, and the old ABEF
 * is then the new CDGH, so the two vectors swap roles every two rounds.
 * The message schedule is four words at a time with msg1/msg2.
 *
 * nh states (1 or 2) hash the same data: the schedule is shared and the
 * rounds of the two interleave, which hides the latency of sha256rnds2
 * (delta hashes a block and the whole file over the same bytes).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static inline void
load_state(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
	__m128i tmp = _mm_loadu_si128((const __m128i *)&h[0]);	/* DCBA */
	__m128i st1 = _mm_loadu_si128((const __m128i *)&h[4]);	/* HGFE */

	tmp = _mm_shuffle_epi32(tmp, 0xb1);			/* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1b);			/* EFGH */
	*abef = _mm_alignr_epi8(tmp, st1, 8);			/* ABEF */
	*cdgh = _mm_blend_epi16(st1, tmp, 0xf0);		/* CDGH */
}

__attribute__((target("sha,sse4.1,ssse3")))
static inline void
store_state(uint32_t h[8], __m128i st0, __m128i st1)
{
	__m128i tmp = _mm_shuffle_epi32(st0, 0x1b);		/* FEBA */

	st1 = _mm_shuffle_epi32(st1, 0xb1);			/* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xf0);			/* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);			/* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], st0);
	_mm_storeu_si128((__m128i *)&h[4], st1);
}

__attribute__((target("sha,sse4.1,ssse3"), always_inline))
static inline void
blocks_ni_n(uint32_t *h1, uint32_t *h2, const uint8_t *p, size_t nblk)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i a0, a1, b0, b1, sa0, sa1, sb0, sb1, msg, w[4];
	int i;

	load_state(h1, &a0, &a1);
	if (h2)
		load_state(h2, &b0, &b1);
	else
		b0 = b1 = _mm_setzero_si128();
	for (; nblk > 0; nblk--, p += 64) {
		sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1;
		/* Unrolled: the schedule stays in registers (-O2 would not). */
#pragma GCC unroll 16
		for (i = 0; i < 16; i++) {
			__m128i *cur = &w[i & 3];

			if (i < 4)
				*cur = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p + 16 * i)), bswap);
			else
				*cur = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(*cur, w[(i + 1) & 3]),
				    _mm_alignr_epi8(w[(i + 3) & 3],
				    w[(i + 2) & 3], 4)), w[(i + 3) & 3]);
			msg = _mm_add_epi32(*cur,
			    _mm_loadu_si128((const __m128i *)&K[4 * i]));
			a1 = _mm_sha256rnds2_epu32(a1, a0, msg);
			if (h2)
				b1 = _mm_sha256rnds2_epu32(b1, b0, msg);
			msg = _mm_shuffle_epi32(msg, 0x0e);
			a0 = _mm_sha256rnds2_epu32(a0, a1, msg);
			if (h2)
				b0 = _mm_sha256rnds2_epu32(b0, b1, msg);
		}
		a0 = _mm_add_epi32(a0, sa0);
		a1 = _mm_add_epi32(a1, sa1);
		b0 = _mm_add_epi32(b0, sb0);
		b1 = _mm_add_epi32(b1, sb1);
	}
	store_state(h1, a0, a1);
	if (h2)
		store_state(h2, b0, b1);
}

/* Two states over two different inputs: two schedules, rounds interleaved. */
__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_ni_pair(uint32_t *h1, const uint8_t *p1, uint32_t *h2,
    const uint8_t *p2, size_t nblk)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i a0, a1, b0, b1, sa0, sa1, sb0, sb1, ma, mb, k, wa[4], wb[4];
	int i;

	load_state(h1, &a0, &a1);
	load_state(h2, &b0, &b1);
	for (; nblk > 0; nblk--, p1 += 64, p2 += 64) {
		sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1;
#pragma GCC unroll 16
		for (i = 0; i < 16; i++) {
			int c = i & 3, n1 = (i + 1) & 3, n2 = (i + 2) & 3;
			int n3 = (i + 3) & 3;

			if (i < 4) {
				wa[c] = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p1 + 16 * i)), bswap);
				wb[c] = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const __m128i *)(p2 + 16 * i)), bswap);
			} else {
				wa[c] = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(wa[c], wa[n1]),
				    _mm_alignr_epi8(wa[n3], wa[n2], 4)),
				    wa[n3]);
				wb[c] = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(wb[c], wb[n1]),
				    _mm_alignr_epi8(wb[n3], wb[n2], 4)),
				    wb[n3]);
			}
			k = _mm_loadu_si128((const __m128i *)&K[4 * i]);
			ma = _mm_add_epi32(wa[c], k);
			mb = _mm_add_epi32(wb[c], k);
			a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
			b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
			ma = _mm_shuffle_epi32(ma, 0x0e);
			mb = _mm_shuffle_epi32(mb, 0x0e);
			a0 = _mm_sha256rnds2_epu32(a0, a1, ma);
			b0 = _mm_sha256rnds2_epu32(b0, b1, mb);
		}
		a0 = _mm_add_epi32(a0, sa0);
		a1 = _mm_add_epi32(a1, sa1);
		b0 = _mm_add_epi32(b0, sb0);
		b1 = _mm_add_epi32(b1, sb1);
	}
	store_state(h1, a0, a1);
	store_state(h2, b0, b1);
}

/* Each a copy of blocks_ni_n with h2 known, so its tests fold away. */
__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_ni(uint32_t h[8], const uint8_t *p, size_t nblk)
{
	blocks_ni_n(h, NULL, p, nblk);
}

__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_ni2(uint32_t h1[8], uint32_t h2[8], const uint8_t *p, size_t nblk)
{
	blocks_ni_n(h1, h2, p, nblk);
}

static int
have_ni(void)
{
	static int cached = -1;
	unsigned int a, b, c, d;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) &&
	    __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19)) &&
	    (c & (1u << 9)))
		cached = 1;
	return cached;
}
#else
static int
have_ni(void)
{
	return 0;
}

static void
blocks_ni(uint32_t h[8], const uint8_t *p, size_t nblk)
{
	blocks_c(h, p, nblk);
}

static void
blocks_ni2(uint32_t h1[8], uint32_t h2[8], const uint8_t *p, size_t nblk)
{
	blocks_c(h1, p, nblk);
	blocks_c(h2, p, nblk);
}

static void
blocks_ni_pair(uint32_t *h1, const uint8_t *p1, uint32_t *h2,
    const uint8_t *p2, size_t nblk)
{
	blocks_c(h1, p1, nblk);
	blocks_c(h2, p2, nblk);
}
#endif

/* Tests turn the extensions off to check the portable code. */
static int portable_only;

static void
blocks(uint32_t h[8], const uint8_t *p, size_t nblk)
{
	if (!portable_only && have_ni())
		blocks_ni(h, p, nblk);
	else
		blocks_c(h, p, nblk);
}

int
ha_sha256_accel(void)
{
	return !portable_only && have_ni();
}

void
ha_sha256_portable(int on)
{
	portable_only = on;
}

void
ha_sha256_init(struct ha_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->fill = 0;
}

void
ha_sha256_update(struct ha_sha256 *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t take;

	c->total += n;
	if (c->fill) {
		take = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill < 64)
			return;
		blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	if (n >= 64) {
		blocks(c->h, p, n / 64);
		p += n & ~(size_t)63;
		n &= 63;
	}
	if (n) {
		memcpy(c->buf, p, n);
		c->fill = n;
	}
}

void
ha_sha256_update2(struct ha_sha256 *c1, struct ha_sha256 *c2, const void *data,
    size_t n)
{
	const uint8_t *p = data;
	size_t whole = n & ~(size_t)63;

	if (c1->fill || c2->fill || whole == 0 || portable_only || !have_ni()) {
		ha_sha256_update(c1, p, n);
		ha_sha256_update(c2, p, n);
		return;
	}
	blocks_ni2(c1->h, c2->h, p, whole / 64);
	c1->total += whole;
	c2->total += whole;
	ha_sha256_update(c1, p + whole, n - whole);
	ha_sha256_update(c2, p + whole, n - whole);
}

void
ha_sha256_final(struct ha_sha256 *c, uint8_t out[HA_SHA256_LEN])
{
	uint64_t bits = c->total * 8;
	int i;

	c->buf[c->fill++] = 0x80;
	if (c->fill > 56) {
		memset(c->buf + c->fill, 0, 64 - c->fill);
		blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, 56 - c->fill);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	blocks(c->h, c->buf, 1);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void
ha_sha256(const void *p, size_t n, uint8_t out[HA_SHA256_LEN])
{
	struct ha_sha256 c;

	ha_sha256_init(&c);
	ha_sha256_update(&c, p, n);
	ha_sha256_final(&c, out);
}

void
ha_sha256_pair(const void *p1, const void *p2, size_t n,
    uint8_t out1[HA_SHA256_LEN], uint8_t out2[HA_SHA256_LEN])
{
	struct ha_sha256 c1, c2;
	size_t whole = n & ~(size_t)63;

	ha_sha256_init(&c1);
	ha_sha256_init(&c2);
	if (whole && !portable_only && have_ni()) {
		blocks_ni_pair(c1.h, p1, c2.h, p2, whole / 64);
		c1.total = c2.total = whole;
	} else {
		whole = 0;
	}
	ha_sha256_update(&c1, (const uint8_t *)p1 + whole, n - whole);
	ha_sha256_update(&c2, (const uint8_t *)p2 + whole, n - whole);
	ha_sha256_final(&c1, out1);
	ha_sha256_final(&c2, out2);
}
