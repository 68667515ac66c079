/*
 * AES-GCM (NIST SP 800-38D) for mbedTLS, in place of its own
 * (MBEDTLS_GCM_ALT, context in deps/gcm_alt.h). mbedTLS 3.6 encrypts and
 * multiplies one 16-byte block at a time (290 MB/s on the bench machine
 * even with AES-NI). Here, on x86-64 CPUs with AES-NI and PCLMULQDQ, eight
 * counter blocks go through the AES rounds side by side and GHASH sums
 * eight carry-less products (the ciphertext times H^8..H^1) before one
 * reduction; with VAES, VPCLMULQDQ and AVX-512, sixteen blocks in four
 * 512-bit registers (H^16..H^1). AES-128 and AES-256 keys are expanded
 * with AESKEYGENASSIST.
 * Other CPUs, and AES-192, take the portable path: mbedTLS's AES for the
 * blocks and a bit-serial GHASH (SP 800-38D, algorithm 1) that is also the
 * tests' reference. The API and its semantics are mbedTLS's
 * (mbedtls/gcm.h): any split of the additional data and of the text
 * across calls, output at once, in place allowed. Built only when
 * MBEDTLS_GCM_ALT is set (not with SYSTEM_DEPS=1).
 */
#include <string.h>

#include "core/gcm.h"
#include "mbedtls/gcm.h"
#include "mbedtls/platform_util.h"

/* Only with our configuration: installed libraries keep their own. */
#if defined(MBEDTLS_GCM_ALT)

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* x = x * h in GF(2^128), bit by bit (SP 800-38D, algorithm 1). */
static void
gmul_portable(uint8_t x[16], const uint8_t h[16])
{
	uint64_t zh = 0, zl = 0, vh = get_be64(h), vl = get_be64(h + 8);
	int i;

	for (i = 0; i < 128; i++) {
		uint64_t bit = (uint64_t)(x[i / 8] >> (7 - i % 8) & 1);
		uint64_t m = 0 - bit, lsb = 0 - (vl & 1);

		zh ^= vh & m;
		zl ^= vl & m;
		vl = vl >> 1 | vh << 63;
		vh = vh >> 1 ^ (0xe1ull << 56 & lsb);
	}
	put_be64(x, zh);
	put_be64(x + 8, zl);
}

static void
encrypt_block(mbedtls_gcm_context *ctx, const uint8_t in[16],
    uint8_t out[16])
{
	/* Cannot fail with a key set: only the mode is checked. */
	(void)mbedtls_aes_crypt_ecb(&ctx->aes, MBEDTLS_AES_ENCRYPT, in, out);
}

static void
inc32(uint8_t cb[16])
{
	put_be32(cb + 12, get_be32(cb + 12) + 1);
}

/*
 * out = in ^ ks over n bytes (in place allowed); the ciphertext, the
 * output when encrypting, goes to ct for GHASH.
 */
static void
ctr_xor(uint8_t *out, const uint8_t *in, const uint8_t *ks, uint8_t *ct,
    size_t n, int enc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t x = in[i];

		out[i] = x ^ ks[i];
		ct[i] = enc ? out[i] : x;
	}
}

#if HAVE_X86
#define FAST __attribute__((target("aes,pclmul,sse4.1,ssse3")))

/* pshufb mask that reverses the bytes of a block */
#define BSWAP _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, \
	14, 15)

/* lo, mid, hi += a * b, unreduced (schoolbook, four products). */
FAST static inline void
clmul_add(__m128i a, __m128i b, __m128i *lo, __m128i *mid, __m128i *hi)
{
	*lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
	*hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
	*mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b,
	    0x01), _mm_clmulepi64_si128(a, b, 0x10)));
}

/*
 * The 256-bit sum of products [hi:mid:lo] of byte-reversed operands back
 * to one byte-reversed element: fold the middle in, shift left one bit
 * (the operands' bits are reflected), then reduce modulo
 * x^128 + x^7 + x^2 + x + 1 in two phases of shifts (Gueron and Kounavis,
 * "Intel Carry-Less Multiplication Instruction and its Usage for
 * Computing the GCM Mode").
 */
FAST static inline __m128i
reduce(__m128i lo, __m128i mid, __m128i hi)
{
	__m128i a, b, c;

	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));

	a = _mm_srli_epi32(lo, 31);
	b = _mm_srli_epi32(hi, 31);
	lo = _mm_slli_epi32(lo, 1);
	hi = _mm_slli_epi32(hi, 1);
	c = _mm_srli_si128(a, 12);
	b = _mm_slli_si128(b, 4);
	a = _mm_slli_si128(a, 4);
	lo = _mm_or_si128(lo, a);
	hi = _mm_or_si128(_mm_or_si128(hi, b), c);

	a = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31),
	    _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
	b = _mm_srli_si128(a, 4);
	lo = _mm_xor_si128(lo, _mm_slli_si128(a, 12));
	c = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1),
	    _mm_srli_epi32(lo, 2)), _mm_xor_si128(_mm_srli_epi32(lo, 7), b));
	lo = _mm_xor_si128(lo, c);
	return _mm_xor_si128(hi, lo);
}

FAST static inline __m128i
gmul_fast(__m128i a, __m128i b)
{
	__m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;

	clmul_add(a, b, &lo, &mid, &hi);
	return reduce(lo, mid, hi);
}

/* Each word of k XORed with the words before it (FIPS 197 key words). */
FAST static __m128i
prefix_xor(__m128i k)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, _mm_slli_si128(k, 4));
}

/* The next round key: RotWord, SubWord and Rcon of the last word. */
FAST static __m128i
k128(__m128i k, __m128i g)
{
	return _mm_xor_si128(prefix_xor(k), _mm_shuffle_epi32(g, 0xff));
}

/* AES-256's odd round keys: SubWord only. */
FAST static __m128i
k256b(__m128i k, __m128i g)
{
	return _mm_xor_si128(prefix_xor(k), _mm_shuffle_epi32(g, 0xaa));
}

#define K128(i, rc) \
	rk[i] = k128(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rc))
#define K256(i, rc) do {						\
	rk[i] = k128(rk[i - 2],						\
	    _mm_aeskeygenassist_si128(rk[i - 1], rc));			\
	if (i < 14)							\
		rk[i + 1] = k256b(rk[i - 1],				\
		    _mm_aeskeygenassist_si128(rk[i], 0));		\
} while (0)

/* FIPS 197 key expansion for 128- or 256-bit keys, into ctx->rk. */
FAST static void
expand_key(mbedtls_gcm_context *ctx, const uint8_t *key, unsigned int bits)
{
	__m128i rk[15];
	int i;

	rk[0] = _mm_loadu_si128((const __m128i *)key);
	if (bits == 128) {
		K128(1, 0x01); K128(2, 0x02); K128(3, 0x04); K128(4, 0x08);
		K128(5, 0x10); K128(6, 0x20); K128(7, 0x40); K128(8, 0x80);
		K128(9, 0x1b); K128(10, 0x36);
		ctx->rounds = 10;
	} else {
		rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
		K256(2, 0x01); K256(4, 0x02); K256(6, 0x04); K256(8, 0x08);
		K256(10, 0x10); K256(12, 0x20); K256(14, 0x40);
		ctx->rounds = 14;
	}
	for (i = 0; i <= ctx->rounds; i++)
		_mm_store_si128((__m128i *)(ctx->rk + 16 * i), rk[i]);
	/* mbedTLS's own zeroing, since the compiler may keep copies */
	mbedtls_platform_zeroize(rk, sizeof(rk));
}

/* H^1..H^16, byte-reversed. */
FAST static void
h_powers(mbedtls_gcm_context *ctx)
{
	__m128i h = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)ctx->h),
	    BSWAP), p = h;
	int i;

	_mm_store_si128((__m128i *)ctx->hpow[0], h);
	for (i = 1; i < 16; i++) {
		p = gmul_fast(p, h);
		_mm_store_si128((__m128i *)ctx->hpow[i], p);
	}
}

FAST static void
ghash_fast(mbedtls_gcm_context *ctx, const uint8_t *p, size_t nblocks)
{
	const __m128i bs = BSWAP;
	__m128i y = _mm_shuffle_epi8(_mm_loadu_si128((__m128i *)ctx->y), bs);
	__m128i h = _mm_load_si128((const __m128i *)ctx->hpow[0]);

	for (; nblocks > 0; nblocks--, p += 16)
		y = gmul_fast(_mm_xor_si128(y, _mm_shuffle_epi8(
		    _mm_loadu_si128((const __m128i *)p), bs)), h);
	_mm_storeu_si128((__m128i *)ctx->y, _mm_shuffle_epi8(y, bs));
}

/*
 * nblocks whole blocks of text: counter mode and GHASH of the
 * ciphertext, eight blocks at a time, then one at a time.
 */
FAST static void
crypt_fast(mbedtls_gcm_context *ctx, const uint8_t *in, uint8_t *out,
    size_t nblocks)
{
	const __m128i bs = BSWAP;
	const int enc = ctx->mode == MBEDTLS_GCM_ENCRYPT, nr = ctx->rounds;
	__m128i rk[15], hp[8], y, base;
	uint32_t ctr = get_be32(ctx->cb + 12);
	int i, r;

	for (i = 0; i <= nr; i++)
		rk[i] = _mm_load_si128((const __m128i *)(ctx->rk + 16 * i));
	for (i = 0; i < 8; i++)
		hp[i] = _mm_load_si128((const __m128i *)ctx->hpow[i]);
	y = _mm_shuffle_epi8(_mm_loadu_si128((__m128i *)ctx->y), bs);
	base = _mm_loadu_si128((const __m128i *)ctx->cb);

	for (; nblocks >= 8; nblocks -= 8, in += 128, out += 128) {
		__m128i b[8], x[8], lo, mid, hi;

		for (i = 0; i < 8; i++)
			b[i] = _mm_xor_si128(_mm_insert_epi32(base, (int)
			    __builtin_bswap32(ctr + (uint32_t)i), 3), rk[0]);
		ctr += 8;
		for (r = 1; r < nr; r++)
			for (i = 0; i < 8; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
		for (i = 0; i < 8; i++) {
			x[i] = _mm_loadu_si128((const __m128i *)(in + 16 * i));
			b[i] = _mm_xor_si128(_mm_aesenclast_si128(b[i],
			    rk[nr]), x[i]);
		}
		for (i = 0; i < 8; i++)
			_mm_storeu_si128((__m128i *)(out + 16 * i), b[i]);
		/* GHASH takes the ciphertext: the output when encrypting */
		lo = mid = hi = _mm_setzero_si128();
		for (i = 0; i < 8; i++) {
			__m128i c = _mm_shuffle_epi8(enc ? b[i] : x[i], bs);

			if (i == 0)
				c = _mm_xor_si128(c, y);
			clmul_add(c, hp[7 - i], &lo, &mid, &hi);
		}
		y = reduce(lo, mid, hi);
	}
	for (; nblocks > 0; nblocks--, in += 16, out += 16) {
		__m128i b, x;

		b = _mm_xor_si128(_mm_insert_epi32(base,
		    (int)__builtin_bswap32(ctr++), 3), rk[0]);
		for (r = 1; r < nr; r++)
			b = _mm_aesenc_si128(b, rk[r]);
		x = _mm_loadu_si128((const __m128i *)in);
		b = _mm_xor_si128(_mm_aesenclast_si128(b, rk[nr]), x);
		_mm_storeu_si128((__m128i *)out, b);
		y = gmul_fast(_mm_xor_si128(y, _mm_shuffle_epi8(enc ? b : x,
		    bs)), hp[0]);
	}
	_mm_storeu_si128((__m128i *)ctx->y, _mm_shuffle_epi8(y, bs));
	put_be32(ctx->cb + 12, ctr);
	mbedtls_platform_zeroize(rk, sizeof(rk));
}

#define WIDE __attribute__((target("avx512f,avx512bw,avx512vl,avx2,vaes," \
	"vpclmulqdq,aes,pclmul,sse4.1,ssse3")))

/* The XOR of the four 128-bit lanes. */
WIDE static inline __m128i
fold4(__m512i z)
{
	__m256i t = _mm256_xor_si256(_mm512_castsi512_si256(z),
	    _mm512_extracti64x4_epi64(z, 1));

	return _mm_xor_si128(_mm256_castsi256_si128(t),
	    _mm256_extracti128_si256(t, 1));
}

/*
 * Sixteen blocks at a time, four to a register, while nblocks >= 16;
 * returns the blocks done (crypt_fast takes the rest). The counter blocks
 * are kept byte-reversed, where the 32-bit counter is each lane's first
 * dword and wraps on its own.
 */
WIDE static size_t
crypt_wide(mbedtls_gcm_context *ctx, const uint8_t *in, uint8_t *out,
    size_t nblocks)
{
	const __m512i bs = _mm512_broadcast_i32x4(BSWAP);
	const __m512i step = _mm512_set_epi32(0, 0, 0, 16, 0, 0, 0, 16, 0, 0,
	    0, 16, 0, 0, 0, 16);
	const int enc = ctx->mode == MBEDTLS_GCM_ENCRYPT, nr = ctx->rounds;
	__m512i rk[15], hz[4], ctr[4], rev;
	__m128i y;
	size_t done = 0;
	int i, k, r;

	for (i = 0; i <= nr; i++)
		rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(
		    (const __m128i *)(ctx->rk + 16 * i)));
	/*
	 * Block 4k + l of a round is multiplied by H^(16 - 4k - l): four
	 * powers up from H^(13 - 4k), their lanes reversed.
	 */
	for (k = 0; k < 4; k++) {
		hz[k] = _mm512_loadu_si512(ctx->hpow[12 - 4 * k]);
		hz[k] = _mm512_shuffle_i64x2(hz[k], hz[k], 0x1b);
	}
	rev = _mm512_broadcast_i32x4(_mm_shuffle_epi8(
	    _mm_loadu_si128((const __m128i *)ctx->cb), BSWAP));
	for (k = 0; k < 4; k++)
		ctr[k] = _mm512_add_epi32(rev, _mm512_set_epi32(0, 0, 0,
		    4 * k + 3, 0, 0, 0, 4 * k + 2, 0, 0, 0, 4 * k + 1, 0, 0, 0,
		    4 * k));
	y = _mm_shuffle_epi8(_mm_loadu_si128((__m128i *)ctx->y), BSWAP);

	for (; nblocks - done >= 16; done += 16, in += 256, out += 256) {
		__m512i b[4], x[4], lo, mid, hi;

		for (k = 0; k < 4; k++) {
			b[k] = _mm512_xor_si512(_mm512_shuffle_epi8(ctr[k], bs),
			    rk[0]);
			ctr[k] = _mm512_add_epi32(ctr[k], step);
		}
		for (r = 1; r < nr; r++)
			for (k = 0; k < 4; k++)
				b[k] = _mm512_aesenc_epi128(b[k], rk[r]);
		for (k = 0; k < 4; k++) {
			x[k] = _mm512_loadu_si512(in + 64 * k);
			b[k] = _mm512_xor_si512(_mm512_aesenclast_epi128(b[k],
			    rk[nr]), x[k]);
			_mm512_storeu_si512(out + 64 * k, b[k]);
		}
		lo = mid = hi = _mm512_setzero_si512();
		for (k = 0; k < 4; k++) {
			__m512i c = _mm512_shuffle_epi8(enc ? b[k] : x[k], bs);

			if (k == 0)
				c = _mm512_xor_si512(c, _mm512_inserti32x4(
				    _mm512_setzero_si512(), y, 0));
			lo = _mm512_xor_si512(lo,
			    _mm512_clmulepi64_epi128(c, hz[k], 0x00));
			hi = _mm512_xor_si512(hi,
			    _mm512_clmulepi64_epi128(c, hz[k], 0x11));
			mid = _mm512_ternarylogic_epi64(mid,
			    _mm512_clmulepi64_epi128(c, hz[k], 0x01),
			    _mm512_clmulepi64_epi128(c, hz[k], 0x10), 0x96);
		}
		y = reduce(fold4(lo), fold4(mid), fold4(hi));
	}
	_mm_storeu_si128((__m128i *)ctx->y, _mm_shuffle_epi8(y, BSWAP));
	put_be32(ctx->cb + 12, get_be32(ctx->cb + 12) + (uint32_t)done);
	mbedtls_platform_zeroize(rk, sizeof(rk));
	return done;
}

/* VAES, VPCLMULQDQ, AVX-512 F/BW/VL, and the kernel saves ZMM state. */
static int
have_wide(void)
{
	static int cached = -1;
	unsigned int a, b, c, d, lo, hi;

	if (cached >= 0)
		return cached;
	cached = 0;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & 1u << 27))
		return cached;
	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	if ((lo & 0xe6) == 0xe6 && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & 1u << 16) && (b & 1u << 30) && (b & 1u << 31) &&
	    (c & 1u << 9) && (c & 1u << 10))
		cached = 1;
	return cached;
}

/* AES-NI, PCLMULQDQ, SSSE3 and SSE4.1 (the XMM state is always saved). */
static int
have_fast(void)
{
	static int cached = -1;
	unsigned int a, b, c, d;

	if (cached < 0)
		cached = __get_cpuid(1, &a, &b, &c, &d) && (c & 1u << 1) &&
		    (c & 1u << 9) && (c & 1u << 19) && (c & 1u << 25);
	return cached;
}
#else
static int
have_fast(void)
{
	return 0;
}

static int
have_wide(void)
{
	return 0;
}
#endif

/* Tests limit the paths to check the slower ones on any CPU. */
static enum ha_gcm_path limit = HA_GCM_WIDE;

void
ha_gcm_limit(enum ha_gcm_path p)
{
	limit = p;
}

enum ha_gcm_path
ha_gcm_path(void)
{
	if (limit <= HA_GCM_WIDE && have_fast() && have_wide())
		return HA_GCM_WIDE;
	if (limit <= HA_GCM_XMM && have_fast())
		return HA_GCM_XMM;
	return HA_GCM_PORTABLE;
}

/* nblocks whole blocks into GHASH (additional data, the IV, lengths). */
static void
ghash(mbedtls_gcm_context *ctx, const uint8_t *p, size_t nblocks)
{
	int i;

#if HAVE_X86
	if (ctx->fast) {
		ghash_fast(ctx, p, nblocks);
		return;
	}
#endif
	for (; nblocks > 0; nblocks--, p += 16) {
		for (i = 0; i < 16; i++)
			ctx->y[i] ^= p[i];
		gmul_portable(ctx->y, ctx->h);
	}
}

/* The partial block in buf, zero-padded after n bytes, into GHASH. */
static void
ghash_partial(mbedtls_gcm_context *ctx, size_t n)
{
	memset(ctx->buf + n, 0, 16 - n);
	ghash(ctx, ctx->buf, 1);
}

static void
crypt_blocks(mbedtls_gcm_context *ctx, const uint8_t *in, uint8_t *out,
    size_t nblocks)
{
	const int enc = ctx->mode == MBEDTLS_GCM_ENCRYPT;
	uint8_t ks[16], c[16];

#if HAVE_X86
	if (ctx->fast) {
		size_t done = ctx->wide ? crypt_wide(ctx, in, out, nblocks) : 0;

		crypt_fast(ctx, in + 16 * done, out + 16 * done,
		    nblocks - done);
		return;
	}
#endif
	for (; nblocks > 0; nblocks--, in += 16, out += 16) {
		encrypt_block(ctx, ctx->cb, ks);
		inc32(ctx->cb);
		ctr_xor(out, in, ks, c, 16, enc);
		ghash(ctx, c, 1);
	}
	mbedtls_platform_zeroize(ks, sizeof(ks));
}

void
mbedtls_gcm_init(mbedtls_gcm_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	mbedtls_aes_init(&ctx->aes);
}

void
mbedtls_gcm_free(mbedtls_gcm_context *ctx)
{
	if (ctx == NULL)
		return;
	mbedtls_aes_free(&ctx->aes);
	mbedtls_platform_zeroize(ctx, sizeof(*ctx));
}

int
mbedtls_gcm_setkey(mbedtls_gcm_context *ctx, mbedtls_cipher_id_t cipher,
    const unsigned char *key, unsigned int keybits)
{
	static const uint8_t zero[16];
	enum ha_gcm_path path = ha_gcm_path();
	int ret;

	if (cipher != MBEDTLS_CIPHER_ID_AES ||
	    (keybits != 128 && keybits != 192 && keybits != 256))
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	ctx->keyed = 0;
	if ((ret = mbedtls_aes_setkey_enc(&ctx->aes, key, keybits)) != 0)
		return ret;
	encrypt_block(ctx, zero, ctx->h);
	ctx->fast = ctx->wide = 0;
	ctx->rounds = 0;
#if HAVE_X86
	if (path != HA_GCM_PORTABLE && keybits != 192) {
		expand_key(ctx, key, keybits);
		h_powers(ctx);
		ctx->fast = 1;
		ctx->wide = path == HA_GCM_WIDE;
	}
#endif
	ctx->keyed = 1;
	return 0;
}

int
mbedtls_gcm_starts(mbedtls_gcm_context *ctx, int mode,
    const unsigned char *iv, size_t iv_len)
{
	uint8_t lens[16];
	size_t full;

	if (!ctx->keyed || iv_len == 0 || (uint64_t)iv_len >> 61 != 0 ||
	    (mode != MBEDTLS_GCM_ENCRYPT && mode != MBEDTLS_GCM_DECRYPT))
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	ctx->mode = mode;
	ctx->len = ctx->add_len = 0;
	memset(ctx->y, 0, sizeof(ctx->y));
	if (iv_len == 12) {
		memcpy(ctx->cb, iv, 12);
		put_be32(ctx->cb + 12, 1);
	} else {
		/* J0 = GHASH(IV || 0-padding || 0^64 || [len(IV)]64) */
		full = iv_len / 16;
		ghash(ctx, iv, full);
		if (iv_len % 16 != 0) {
			memcpy(ctx->buf, iv + 16 * full, iv_len % 16);
			ghash_partial(ctx, iv_len % 16);
		}
		memset(lens, 0, 8);
		put_be64(lens + 8, (uint64_t)iv_len * 8);
		ghash(ctx, lens, 1);
		memcpy(ctx->cb, ctx->y, 16);
		memset(ctx->y, 0, sizeof(ctx->y));
	}
	encrypt_block(ctx, ctx->cb, ctx->ek0);
	inc32(ctx->cb);
	return 0;
}

int
mbedtls_gcm_update_ad(mbedtls_gcm_context *ctx, const unsigned char *add,
    size_t add_len)
{
	uint64_t total = ctx->add_len + (uint64_t)add_len;
	size_t off = (size_t)(ctx->add_len % 16), n;

	/* Additional data only before the text; at most 2^61 bytes. */
	if (ctx->len != 0 || total < ctx->add_len || total >> 61 != 0)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	ctx->add_len = total;
	if (off != 0) {
		n = add_len < 16 - off ? add_len : 16 - off;
		memcpy(ctx->buf + off, add, n);
		add += n;
		add_len -= n;
		if (off + n < 16)
			return 0;
		ghash(ctx, ctx->buf, 1);
	}
	ghash(ctx, add, add_len / 16);
	memcpy(ctx->buf, add + add_len / 16 * 16, add_len % 16);
	return 0;
}

int
mbedtls_gcm_update(mbedtls_gcm_context *ctx, const unsigned char *input,
    size_t input_length, unsigned char *output, size_t output_size,
    size_t *output_length)
{
	const int enc = ctx->mode == MBEDTLS_GCM_ENCRYPT;
	size_t off = (size_t)(ctx->len % 16), n;

	if (output_size < input_length)
		return MBEDTLS_ERR_GCM_BUFFER_TOO_SMALL;
	*output_length = input_length;
	if (input_length == 0)
		return 0;
	/* in place, or not overlapping when the output comes after */
	if (output > input && (size_t)(output - input) < input_length)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	/* 2^32 - 2 blocks of text at most (the 32-bit counter) */
	if (ctx->len + input_length < ctx->len ||
	    ctx->len + input_length > 0xFFFFFFFE0ull)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	if (ctx->len == 0 && ctx->add_len % 16 != 0)
		ghash_partial(ctx, (size_t)(ctx->add_len % 16));
	ctx->len += input_length;

	/* the rest of a block begun by the last call */
	if (off != 0) {
		n = input_length < 16 - off ? input_length : 16 - off;
		ctr_xor(output, input, ctx->ks + off, ctx->buf + off, n, enc);
		input += n;
		output += n;
		input_length -= n;
		if (off + n < 16)
			return 0;
		ghash(ctx, ctx->buf, 1);
	}
	n = input_length / 16;
	crypt_blocks(ctx, input, output, n);
	input += 16 * n;
	output += 16 * n;
	input_length %= 16;
	/* a partial block: its keystream waits for the next call */
	if (input_length != 0) {
		encrypt_block(ctx, ctx->cb, ctx->ks);
		inc32(ctx->cb);
		ctr_xor(output, input, ctx->ks, ctx->buf, input_length, enc);
	}
	return 0;
}

int
mbedtls_gcm_finish(mbedtls_gcm_context *ctx, unsigned char *output,
    size_t output_size, size_t *output_length, unsigned char *tag,
    size_t tag_len)
{
	uint8_t lens[16];
	size_t i;

	(void)output;
	(void)output_size;
	if (tag_len > 16 || tag_len < 4)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	*output_length = 0;
	if (ctx->len == 0 && ctx->add_len % 16 != 0)
		ghash_partial(ctx, (size_t)(ctx->add_len % 16));
	if (ctx->len % 16 != 0)
		ghash_partial(ctx, (size_t)(ctx->len % 16));
	put_be64(lens, ctx->add_len * 8);
	put_be64(lens + 8, ctx->len * 8);
	ghash(ctx, lens, 1);
	for (i = 0; i < tag_len; i++)
		tag[i] = ctx->ek0[i] ^ ctx->y[i];
	return 0;
}

int
mbedtls_gcm_crypt_and_tag(mbedtls_gcm_context *ctx, int mode, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *add,
    size_t add_len, const unsigned char *input, unsigned char *output,
    size_t tag_len, unsigned char *tag)
{
	size_t olen;
	int ret;

	if ((ret = mbedtls_gcm_starts(ctx, mode, iv, iv_len)) != 0 ||
	    (ret = mbedtls_gcm_update_ad(ctx, add, add_len)) != 0 ||
	    (ret = mbedtls_gcm_update(ctx, input, length, output, length,
	    &olen)) != 0 ||
	    (ret = mbedtls_gcm_finish(ctx, NULL, 0, &olen, tag, tag_len)) != 0)
		return ret;
	return 0;
}

int
mbedtls_gcm_auth_decrypt(mbedtls_gcm_context *ctx, size_t length,
    const unsigned char *iv, size_t iv_len, const unsigned char *add,
    size_t add_len, const unsigned char *tag, size_t tag_len,
    const unsigned char *input, unsigned char *output)
{
	uint8_t check[16], diff = 0;
	size_t i;
	int ret;

	if (tag_len > 16 || tag_len < 4)
		return MBEDTLS_ERR_GCM_BAD_INPUT;
	if ((ret = mbedtls_gcm_crypt_and_tag(ctx, MBEDTLS_GCM_DECRYPT, length,
	    iv, iv_len, add, add_len, input, output, tag_len, check)) != 0)
		return ret;
	/* in constant time */
	for (i = 0; i < tag_len; i++)
		diff |= (uint8_t)(tag[i] ^ check[i]);
	mbedtls_platform_zeroize(check, sizeof(check));
	if (diff != 0) {
		mbedtls_platform_zeroize(output, length);
		return MBEDTLS_ERR_GCM_AUTH_FAILED;
	}
	return 0;
}

#else

/* mbedTLS's own GCM (SYSTEM_DEPS=1): one block at a time. */
enum ha_gcm_path
ha_gcm_path(void)
{
	return HA_GCM_PORTABLE;
}

void
ha_gcm_limit(enum ha_gcm_path p)
{
	(void)p;
}

#endif
