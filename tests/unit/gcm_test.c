/*
 * Unit tests for core/gcm (mbedTLS's GCM API, ours with MBEDTLS_GCM_ALT):
 * 268 published vectors (McGrew-Viega, NIST CAVP; tests/unit/gcm_vectors.h)
 * on each of the three paths (VAES, AES-NI, portable), authentication
 * failures, the paths against each other on random keys, lengths and
 * splits, in place,
 * across the 32-bit counter's wrap, and the API's refusals. The vectors
 * also run through mbedTLS's cipher layer, as TLS uses it.
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/cipher.h"
#include "mbedtls/gcm.h"

#include "check.h"
#include "core/gcm.h"
#include "gcm_vectors.h"

static uint32_t seed = 12345;

static uint32_t
rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

static void
fill(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = (uint8_t)rnd();
}

static void
vectors(void)
{
	static uint8_t key[32], iv[128], ad[128], pt[128], ct[128], tag[16];
	static uint8_t out[128], got[16];
	mbedtls_gcm_context c;
	size_t k, kl, ivl, adl, ptl, tl;

	for (k = 0; k < HA_ARRAY_LEN(gcm_vecs); k++) {
		const struct gcm_vec *v = &gcm_vecs[k];
		int ret;

		kl = t_unhex(v->key, key);
		ivl = t_unhex(v->iv, iv);
		adl = t_unhex(v->ad, ad);
		ptl = t_unhex(v->pt, pt);
		t_unhex(v->ct, ct);
		tl = t_unhex(v->tag, tag);
		mbedtls_gcm_init(&c);
		CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key,
		    (unsigned)kl * 8) == 0);
		if (!v->fail) {
			CHECK(mbedtls_gcm_crypt_and_tag(&c, MBEDTLS_GCM_ENCRYPT,
			    ptl, iv, ivl, ad, adl, pt, out, tl, got) == 0);
			CHECK(memcmp(out, ct, ptl) == 0);
			CHECK(memcmp(got, tag, tl) == 0);
		}
		/* the ciphertext's length is the plaintext's (or ct's) */
		ptl = strlen(v->ct) / 2;
		memset(out, 0x55, sizeof(out));
		ret = mbedtls_gcm_auth_decrypt(&c, ptl, iv, ivl, ad, adl, tag,
		    tl, ct, out);
		if (v->fail) {
			static const uint8_t zero[128];

			CHECK(ret == MBEDTLS_ERR_GCM_AUTH_FAILED);
			CHECK(memcmp(out, zero, ptl) == 0);
		} else {
			CHECK(ret == 0);
			CHECK(memcmp(out, pt, ptl) == 0);
		}
		mbedtls_gcm_free(&c);
	}
}

TEST(vectors_plain)
{
	vectors();
}

#if defined(MBEDTLS_GCM_ALT)
/*
 * The CI machine has VAES, VPCLMULQDQ and AVX-512: the wide path must be
 * the one taken there, and the others are tested by limiting the choice.
 */
TEST(vectors_wide)
{
	CHECK(ha_gcm_path() == HA_GCM_WIDE);
	vectors();
}

TEST(vectors_xmm)
{
	ha_gcm_limit(HA_GCM_XMM);
	CHECK(ha_gcm_path() == HA_GCM_XMM);
	vectors();
	ha_gcm_limit(HA_GCM_WIDE);
}

TEST(vectors_portable)
{
	ha_gcm_limit(HA_GCM_PORTABLE);
	CHECK(ha_gcm_path() == HA_GCM_PORTABLE);
	vectors();
	ha_gcm_limit(HA_GCM_WIDE);
}

#endif

/* The vectors through mbedTLS's cipher layer (what TLS 1.3 calls). */
TEST(vectors_cipher_layer)
{
	static uint8_t key[32], iv[128], ad[128], pt[128], ct[128];
	static uint8_t both[144], out[144];
	mbedtls_cipher_context_t c;
	size_t k, kl, ivl, adl, ptl, tl, olen;

	for (k = 0; k < HA_ARRAY_LEN(gcm_vecs); k++) {
		const struct gcm_vec *v = &gcm_vecs[k];
		const mbedtls_cipher_info_t *info;

		if (v->fail)
			continue;
		kl = t_unhex(v->key, key);
		ivl = t_unhex(v->iv, iv);
		adl = t_unhex(v->ad, ad);
		ptl = t_unhex(v->pt, pt);
		t_unhex(v->ct, ct);
		tl = strlen(v->tag) / 2;
		info = mbedtls_cipher_info_from_values(MBEDTLS_CIPHER_ID_AES,
		    (int)kl * 8, MBEDTLS_MODE_GCM);
		CHECK(info != NULL);
		if (info == NULL)
			continue;
		mbedtls_cipher_init(&c);
		CHECK(mbedtls_cipher_setup(&c, info) == 0);
		CHECK(mbedtls_cipher_setkey(&c, key, (int)kl * 8,
		    MBEDTLS_ENCRYPT) == 0);
		CHECK(mbedtls_cipher_auth_encrypt_ext(&c, iv, ivl, ad, adl, pt,
		    ptl, both, sizeof(both), &olen, tl) == 0);
		CHECK(olen == ptl + tl);
		CHECK(memcmp(both, ct, ptl) == 0);
		CHECK(mbedtls_cipher_setkey(&c, key, (int)kl * 8,
		    MBEDTLS_DECRYPT) == 0);
		CHECK(mbedtls_cipher_auth_decrypt_ext(&c, iv, ivl, ad, adl,
		    both, olen, out, sizeof(out), &olen, tl) == 0);
		CHECK(olen == ptl && memcmp(out, pt, ptl) == 0);
		both[0] ^= 0x80;
		CHECK(mbedtls_cipher_auth_decrypt_ext(&c, iv, ivl, ad, adl,
		    both, ptl + tl, out, sizeof(out), &olen, tl) ==
		    MBEDTLS_ERR_CIPHER_AUTH_FAILED);
		mbedtls_cipher_free(&c);
	}
}

#if defined(MBEDTLS_GCM_ALT)
/*
 * Encrypt (or decrypt) n bytes with the AD and the text split at random
 * points, in place or not; wrap: start the counter 5 blocks before 2^32.
 */
static void
run_split(enum ha_gcm_path path, int mode, const uint8_t *key, unsigned bits,
    const uint8_t *iv, size_t ivl, const uint8_t *ad, size_t adl,
    const uint8_t *in, uint8_t *out, size_t n, int inplace, int wrap,
    uint8_t tag[16])
{
	mbedtls_gcm_context c;
	size_t off, k, olen;

	ha_gcm_limit(path);
	mbedtls_gcm_init(&c);
	CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, bits) == 0);
	CHECK(c.fast == (path != HA_GCM_PORTABLE && bits != 192));
	CHECK(c.wide == (path == HA_GCM_WIDE && bits != 192));
	CHECK(mbedtls_gcm_starts(&c, mode, iv, ivl) == 0);
	if (wrap) {
		/* ek0 stays that of the real J0; the text's counter moves */
		memset(c.cb + 12, 0xff, 4);
		c.cb[15] = 0xfb;
	}
	for (off = 0; off < adl; off += k) {
		k = rnd() % 40;
		if (k > adl - off)
			k = adl - off;
		CHECK(mbedtls_gcm_update_ad(&c, ad + off, k) == 0);
	}
	if (inplace)
		memmove(out, in, n);
	for (off = 0; off < n; off += k) {
		k = rnd() % 4 == 0 ? rnd() % 17 : rnd() % 700;
		if (k > n - off)
			k = n - off;
		CHECK(mbedtls_gcm_update(&c, inplace ? out + off : in + off, k,
		    out + off, k, &olen) == 0);
		CHECK(olen == k);
	}
	CHECK(mbedtls_gcm_finish(&c, NULL, 0, &olen, tag, 16) == 0);
	CHECK(olen == 0);
	mbedtls_gcm_free(&c);
	ha_gcm_limit(HA_GCM_WIDE);
}

/* The three paths against each other; decryption undoes it. */
TEST(paths_agree)
{
	static uint8_t in[5000], a[5000], b[5000], w[5000], back[5000];
	static const unsigned bits[] = { 128, 192, 256 };
	uint8_t key[32], iv[40], ad[100], ta[16], tb[16], tc[16], tw[16];
	size_t r, n, ivl, adl;

	fill(in, sizeof(in));
	for (r = 0; r < 600; r++) {
		unsigned kb = bits[r % 3];
		int inplace = (int)(r / 3 % 2), wrap = r % 7 == 0;

		n = r < 300 ? r : rnd() % sizeof(in);
		ivl = r % 5 == 0 ? 1 + rnd() % 40 : 12;
		adl = rnd() % 3 == 0 ? 0 : rnd() % sizeof(ad);
		fill(key, sizeof(key));
		fill(iv, ivl);
		fill(ad, adl);
		run_split(HA_GCM_WIDE, MBEDTLS_GCM_ENCRYPT, key, kb, iv, ivl,
		    ad, adl, in, w, n, inplace, wrap, tw);
		run_split(HA_GCM_XMM, MBEDTLS_GCM_ENCRYPT, key, kb, iv, ivl,
		    ad, adl, in, a, n, !inplace, wrap, ta);
		run_split(HA_GCM_PORTABLE, MBEDTLS_GCM_ENCRYPT, key, kb, iv,
		    ivl, ad, adl, in, b, n, inplace, wrap, tb);
		CHECK(memcmp(a, b, n) == 0);
		CHECK(memcmp(ta, tb, 16) == 0);
		CHECK(memcmp(w, b, n) == 0);
		CHECK(memcmp(tw, tb, 16) == 0);
		run_split((enum ha_gcm_path)(r % 3), MBEDTLS_GCM_DECRYPT, key,
		    kb, iv, ivl, ad, adl, a, back, n, inplace, wrap, tc);
		CHECK(memcmp(back, in, n) == 0);
		/* the tag of a decryption is that of the ciphertext */
		CHECK(memcmp(tc, ta, 16) == 0);
		if (n > 0)
			CHECK(memcmp(a, in, n) != 0 || n < 4);
	}
}

/* A changed bit anywhere is refused, and nothing is given out. */
TEST(tampering)
{
	static uint8_t pt[300], ct[300], out[300], zero[300];
	uint8_t key[16], iv[12], ad[21], tag[16];
	mbedtls_gcm_context c;
	int path, what;

	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(ad, sizeof(ad));
	fill(pt, sizeof(pt));
	for (path = HA_GCM_WIDE; path <= HA_GCM_PORTABLE; path++) {
		ha_gcm_limit((enum ha_gcm_path)path);
		mbedtls_gcm_init(&c);
		CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 128) ==
		    0);
		CHECK(mbedtls_gcm_crypt_and_tag(&c, MBEDTLS_GCM_ENCRYPT,
		    sizeof(pt), iv, sizeof(iv), ad, sizeof(ad), pt, ct, 16,
		    tag) == 0);
		for (what = 0; what < 4; what++) {
			uint8_t *p = what == 0 ? ct + 299 : what == 1 ? ct + 7 :
			    what == 2 ? ad + 20 : tag + 15;

			*p ^= 1;
			memset(out, 0x55, sizeof(out));
			CHECK(mbedtls_gcm_auth_decrypt(&c, sizeof(ct), iv,
			    sizeof(iv), ad, sizeof(ad), tag, 16, ct, out) ==
			    MBEDTLS_ERR_GCM_AUTH_FAILED);
			CHECK(memcmp(out, zero, sizeof(out)) == 0);
			*p ^= 1;
		}
		/* a shorter tag is a prefix of the long one */
		CHECK(mbedtls_gcm_auth_decrypt(&c, sizeof(ct), iv, sizeof(iv),
		    ad, sizeof(ad), tag, 8, ct, out) == 0);
		CHECK(memcmp(out, pt, sizeof(pt)) == 0);
		mbedtls_gcm_free(&c);
		ha_gcm_limit(HA_GCM_WIDE);
	}
}

TEST(refusals)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, buf[32] = { 0 }, tag[16];
	mbedtls_gcm_context c;
	size_t olen;

	mbedtls_gcm_init(&c);
	/* no key yet */
	CHECK(mbedtls_gcm_starts(&c, MBEDTLS_GCM_ENCRYPT, iv, 12) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 64) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_CHACHA20, key, 256) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 128) == 0);
	CHECK(mbedtls_gcm_starts(&c, MBEDTLS_GCM_ENCRYPT, iv, 0) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_starts(&c, 7, iv, 12) == MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_starts(&c, MBEDTLS_GCM_ENCRYPT, iv, 12) == 0);
	CHECK(mbedtls_gcm_update(&c, buf, 20, buf, 19, &olen) ==
	    MBEDTLS_ERR_GCM_BUFFER_TOO_SMALL);
	/* an output that starts inside the input */
	CHECK(mbedtls_gcm_update(&c, buf, 20, buf + 1, 20, &olen) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_update(&c, buf, 16, buf, 16, &olen) == 0);
	/* additional data only before the text */
	CHECK(mbedtls_gcm_update_ad(&c, buf, 4) == MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_finish(&c, NULL, 0, &olen, tag, 3) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_finish(&c, NULL, 0, &olen, tag, 17) ==
	    MBEDTLS_ERR_GCM_BAD_INPUT);
	CHECK(mbedtls_gcm_finish(&c, NULL, 0, &olen, tag, 16) == 0);
	CHECK(mbedtls_gcm_auth_decrypt(&c, 16, iv, 12, NULL, 0, tag, 2, buf,
	    buf) == MBEDTLS_ERR_GCM_BAD_INPUT);
	mbedtls_gcm_free(&c);
	mbedtls_gcm_free(NULL);
}
#endif

int
main(void)
{
	t_suite = "gcm";
	RUN(vectors_plain);
#if defined(MBEDTLS_GCM_ALT)
	RUN(vectors_wide);
	RUN(vectors_xmm);
	RUN(vectors_portable);
	RUN(paths_agree);
	RUN(tampering);
	RUN(refusals);
#endif
	RUN(vectors_cipher_layer);
	return t_done();
}
