/*
 * ChaCha20 (RFC 8439, section 2.4) for mbedTLS, in place of its own
 * (MBEDTLS_CHACHA20_ALT, context in deps/chacha20_alt.h): TLS prefers
 * ChaCha20-Poly1305 (core/tls.c) and hasync's data goes through it on both
 * sides. mbedTLS computes one 64-byte block at a time; here eight blocks
 * run side by side in AVX2 registers (one register per state word, a
 * block per lane) or four in SSE2 ones on x86-64 CPUs without AVX2. Other
 * CPUs and the tail of a message take the one-block code. The API and its
 * semantics are mbedTLS's (mbedtls/chacha20.h): a 32-bit block counter
 * that wraps, any split of the input across update calls, in place
 * allowed. Built only when MBEDTLS_CHACHA20_ALT is set (not with
 * SYSTEM_DEPS=1).
 */
#include <string.h>

#include "core/chacha20.h"
#include "mbedtls/chacha20.h"

/* Only with our configuration: installed libraries keep their own. */
#if defined(MBEDTLS_CHACHA20_ALT)

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SSE2 1
#else
#define HAVE_SSE2 0
#endif

static uint32_t
rotl(uint32_t v, int n)
{
	return v << n | v >> (32 - n);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#define QR(x, a, b, c, d) do {						\
	x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 16);			\
	x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 12);			\
	x[a] += x[b]; x[d] = rotl(x[d] ^ x[a], 8);			\
	x[c] += x[d]; x[b] = rotl(x[b] ^ x[c], 7);			\
} while (0)

/* One block of keystream for state s (RFC 8439, 2.3). */
static void
block1(const uint32_t s[16], uint8_t out[64])
{
	uint32_t x[16];
	int i;

	memcpy(x, s, sizeof(x));
	for (i = 0; i < 10; i++) {
		QR(x, 0, 4, 8, 12);
		QR(x, 1, 5, 9, 13);
		QR(x, 2, 6, 10, 14);
		QR(x, 3, 7, 11, 15);
		QR(x, 0, 5, 10, 15);
		QR(x, 1, 6, 11, 12);
		QR(x, 2, 7, 8, 13);
		QR(x, 3, 4, 9, 14);
	}
	for (i = 0; i < 16; i++)
		put_le32(out + 4 * i, x[i] + s[i]);
}

#if HAVE_SSE2
#define ROTV(v, n) _mm_or_si128(_mm_slli_epi32(v, n),			\
	_mm_srli_epi32(v, 32 - (n)))
#define QRV(x, a, b, c, d) do {						\
	x[a] = _mm_add_epi32(x[a], x[b]);				\
	x[d] = ROTV(_mm_xor_si128(x[d], x[a]), 16);			\
	x[c] = _mm_add_epi32(x[c], x[d]);				\
	x[b] = ROTV(_mm_xor_si128(x[b], x[c]), 12);			\
	x[a] = _mm_add_epi32(x[a], x[b]);				\
	x[d] = ROTV(_mm_xor_si128(x[d], x[a]), 8);			\
	x[c] = _mm_add_epi32(x[c], x[d]);				\
	x[b] = ROTV(_mm_xor_si128(x[b], x[c]), 7);			\
} while (0)

/*
 * Four blocks (counters s[12] .. s[12] + 3) XORed into in, to out (256
 * bytes each). Lane j of x[i] is word i of block j; the result is
 * transposed four words at a time back into the blocks' byte order.
 */
static void
xor4(const uint32_t s[16], const uint8_t *in, uint8_t *out)
{
	__m128i x[16], o[16];
	int i, g, b;

	for (i = 0; i < 16; i++)
		o[i] = _mm_set1_epi32((int)s[i]);
	o[12] = _mm_add_epi32(o[12], _mm_set_epi32(3, 2, 1, 0));
	memcpy(x, o, sizeof(x));
	for (i = 0; i < 10; i++) {
		QRV(x, 0, 4, 8, 12);
		QRV(x, 1, 5, 9, 13);
		QRV(x, 2, 6, 10, 14);
		QRV(x, 3, 7, 11, 15);
		QRV(x, 0, 5, 10, 15);
		QRV(x, 1, 6, 11, 12);
		QRV(x, 2, 7, 8, 13);
		QRV(x, 3, 4, 9, 14);
	}
	for (i = 0; i < 16; i++)
		x[i] = _mm_add_epi32(x[i], o[i]);
	for (g = 0; g < 4; g++) {
		__m128i *w = &x[4 * g], t0, t1, t2, t3, blk[4];

		/* Words 4g..4g+3 of blocks 0..3 into each block's order. */
		t0 = _mm_unpacklo_epi32(w[0], w[1]);
		t1 = _mm_unpacklo_epi32(w[2], w[3]);
		t2 = _mm_unpackhi_epi32(w[0], w[1]);
		t3 = _mm_unpackhi_epi32(w[2], w[3]);
		blk[0] = _mm_unpacklo_epi64(t0, t1);
		blk[1] = _mm_unpackhi_epi64(t0, t1);
		blk[2] = _mm_unpacklo_epi64(t2, t3);
		blk[3] = _mm_unpackhi_epi64(t2, t3);
		for (b = 0; b < 4; b++) {
			const uint8_t *ip = in + 64 * b + 16 * g;

			_mm_storeu_si128((__m128i *)(out + 64 * b + 16 * g),
			    _mm_xor_si128(blk[b],
			    _mm_loadu_si128((const __m128i *)ip)));
		}
	}
}

#define ROT16(v) _mm256_shuffle_epi8(v, r16)
#define ROT8(v) _mm256_shuffle_epi8(v, r8)
#define ROTW(v, n) _mm256_or_si256(_mm256_slli_epi32(v, n),		\
	_mm256_srli_epi32(v, 32 - (n)))
#define QRW(x, a, b, c, d) do {						\
	x[a] = _mm256_add_epi32(x[a], x[b]);				\
	x[d] = ROT16(_mm256_xor_si256(x[d], x[a]));			\
	x[c] = _mm256_add_epi32(x[c], x[d]);				\
	x[b] = ROTW(_mm256_xor_si256(x[b], x[c]), 12);			\
	x[a] = _mm256_add_epi32(x[a], x[b]);				\
	x[d] = ROT8(_mm256_xor_si256(x[d], x[a]));			\
	x[c] = _mm256_add_epi32(x[c], x[d]);				\
	x[b] = ROTW(_mm256_xor_si256(x[b], x[c]), 7);			\
} while (0)

/*
 * The same with eight blocks in AVX2 registers (512 bytes): lanes 0-3
 * are blocks 0-3 in the low half, 4-7 in the high half; the rotations by
 * 16 and 8 are byte shuffles.
 */
__attribute__((target("avx2")))
static void
xor8(const uint32_t s[16], const uint8_t *in, uint8_t *out)
{
	const __m256i r16 = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10,
	    5, 4, 7, 6, 1, 0, 3, 2, 13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6,
	    1, 0, 3, 2);
	const __m256i r8 = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11,
	    6, 5, 4, 7, 2, 1, 0, 3, 14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7,
	    2, 1, 0, 3);
	__m256i x[16], o[16];
	int i, g, b;

	for (i = 0; i < 16; i++)
		o[i] = _mm256_set1_epi32((int)s[i]);
	o[12] = _mm256_add_epi32(o[12], _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1,
	    0));
	memcpy(x, o, sizeof(x));
	for (i = 0; i < 10; i++) {
		QRW(x, 0, 4, 8, 12);
		QRW(x, 1, 5, 9, 13);
		QRW(x, 2, 6, 10, 14);
		QRW(x, 3, 7, 11, 15);
		QRW(x, 0, 5, 10, 15);
		QRW(x, 1, 6, 11, 12);
		QRW(x, 2, 7, 8, 13);
		QRW(x, 3, 4, 9, 14);
	}
	for (i = 0; i < 16; i++)
		x[i] = _mm256_add_epi32(x[i], o[i]);
	for (g = 0; g < 4; g++) {
		__m256i *w = &x[4 * g], t0, t1, t2, t3, blk[4];

		t0 = _mm256_unpacklo_epi32(w[0], w[1]);
		t1 = _mm256_unpacklo_epi32(w[2], w[3]);
		t2 = _mm256_unpackhi_epi32(w[0], w[1]);
		t3 = _mm256_unpackhi_epi32(w[2], w[3]);
		blk[0] = _mm256_unpacklo_epi64(t0, t1);
		blk[1] = _mm256_unpackhi_epi64(t0, t1);
		blk[2] = _mm256_unpacklo_epi64(t2, t3);
		blk[3] = _mm256_unpackhi_epi64(t2, t3);
		for (b = 0; b < 4; b++) {
			size_t lo = 64 * (size_t)b + 16 * (size_t)g;
			size_t hi = lo + 256;

			_mm_storeu_si128((__m128i *)(out + lo), _mm_xor_si128(
			    _mm256_castsi256_si128(blk[b]),
			    _mm_loadu_si128((const __m128i *)(in + lo))));
			_mm_storeu_si128((__m128i *)(out + hi), _mm_xor_si128(
			    _mm256_extracti128_si256(blk[b], 1),
			    _mm_loadu_si128((const __m128i *)(in + hi))));
		}
	}
}

/* AVX2 usable: the CPU has it and the kernel saves the YMM registers. */
static int
have_avx2(void)
{
	static int cached = -1;
	unsigned int a, b, c, d, lo, hi;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) ||
	    !(c & (1u << 28)))
		return cached;
	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & (1u << 5)))
		cached = 1;
	return cached;
}
#endif

/* Tests turn AVX2 off to check the SSE2 code on any machine. */
static int no_avx2;

void
ha_chacha20_no_avx2(int on)
{
	no_avx2 = on;
}

void
mbedtls_chacha20_init(mbedtls_chacha20_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->used = 64;
}

void
mbedtls_chacha20_free(mbedtls_chacha20_context *ctx)
{
	volatile uint8_t *p = (volatile uint8_t *)ctx;
	size_t i;

	/* Key material: not a memset the compiler may drop. */
	for (i = 0; ctx && i < sizeof(*ctx); i++)
		p[i] = 0;
}

int
mbedtls_chacha20_setkey(mbedtls_chacha20_context *ctx,
    const unsigned char key[32])
{
	int i;

	/* "expand 32-byte k" */
	ctx->state[0] = 0x61707865;
	ctx->state[1] = 0x3320646e;
	ctx->state[2] = 0x79622d32;
	ctx->state[3] = 0x6b206574;
	for (i = 0; i < 8; i++)
		ctx->state[4 + i] = get_le32(key + 4 * i);
	return 0;
}

int
mbedtls_chacha20_starts(mbedtls_chacha20_context *ctx,
    const unsigned char nonce[12], uint32_t counter)
{
	ctx->state[12] = counter;
	ctx->state[13] = get_le32(nonce);
	ctx->state[14] = get_le32(nonce + 4);
	ctx->state[15] = get_le32(nonce + 8);
	memset(ctx->keystream, 0, sizeof(ctx->keystream));
	ctx->used = 64;
	return 0;
}

int
mbedtls_chacha20_update(mbedtls_chacha20_context *ctx, size_t size,
    const unsigned char *input, unsigned char *output)
{
	uint8_t ks[64];
	size_t i;

	/* The rest of the last block's keystream first. */
	for (; size > 0 && ctx->used < 64; size--)
		*output++ = *input++ ^ ctx->keystream[ctx->used++];
#if HAVE_SSE2
	if (!no_avx2 && size >= 512 && have_avx2())
		for (; size >= 512; size -= 512, input += 512, output += 512) {
			xor8(ctx->state, input, output);
			ctx->state[12] += 8;
		}
	for (; size >= 256; size -= 256, input += 256, output += 256) {
		xor4(ctx->state, input, output);
		ctx->state[12] += 4;
	}
#endif
	for (; size >= 64; size -= 64, input += 64, output += 64) {
		block1(ctx->state, ks);
		ctx->state[12]++;
		for (i = 0; i < 64; i++)
			output[i] = input[i] ^ ks[i];
	}
	if (size > 0) {
		block1(ctx->state, ctx->keystream);
		ctx->state[12]++;
		for (i = 0; i < size; i++)
			output[i] = input[i] ^ ctx->keystream[i];
		ctx->used = size;
	}
	memset(ks, 0, sizeof(ks));
	return 0;
}

int
mbedtls_chacha20_crypt(const unsigned char key[32],
    const unsigned char nonce[12], uint32_t counter, size_t size,
    const unsigned char *input, unsigned char *output)
{
	mbedtls_chacha20_context ctx;

	mbedtls_chacha20_init(&ctx);
	mbedtls_chacha20_setkey(&ctx, key);
	mbedtls_chacha20_starts(&ctx, nonce, counter);
	mbedtls_chacha20_update(&ctx, size, input, output);
	mbedtls_chacha20_free(&ctx);
	return 0;
}

#endif /* MBEDTLS_CHACHA20_ALT */
