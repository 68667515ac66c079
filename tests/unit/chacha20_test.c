/*
 * Unit tests for core/chacha20 (mbedTLS's ChaCha20 API, ours with
 * MBEDTLS_CHACHA20_ALT): RFC 8439 vectors (2.4.2, 2.3.2 extended to 1000
 * bytes, checked with another implementation; 2.8.2 through mbedTLS's
 * ChaCha20-Poly1305), any split of the input giving the same stream, in
 * place, and the eight- and four-block paths (AVX2, SSE2) against the
 * one-block path across the counter's wrap.
 */
#include <stdint.h>
#include <string.h>

#include "mbedtls/chacha20.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/sha256.h"

#include "check.h"
#include "core/chacha20.h"

static const char sunscreen[] = "Ladies and Gentlemen of the class of "
    "'99: If I could offer you only one tip for the future, sunscreen "
    "would be it.";

static void
key_0_31(uint8_t key[32])
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
}

TEST(rfc8439_encrypt)
{
	uint8_t key[32], nonce[12], ct[114], want[114], back[114];

	key_0_31(key);
	t_unhex("000000000000004a00000000", nonce);
	t_unhex("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9f"
	    "ae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c35"
	    "9f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818c"
	    "e91ab77937365af90bbf74a35be6b40b8eedf2785e42874d", want);
	CHECK(mbedtls_chacha20_crypt(key, nonce, 1, sizeof(ct),
	    (const uint8_t *)sunscreen, ct) == 0);
	CHECK(memcmp(ct, want, sizeof(ct)) == 0);
	CHECK(mbedtls_chacha20_crypt(key, nonce, 1, sizeof(ct), ct, back) ==
	    0);
	CHECK(memcmp(back, sunscreen, sizeof(back)) == 0);
}

/* 1000 bytes of keystream: four-block groups, single blocks, a tail. */
TEST(keystream_1000)
{
	uint8_t key[32], nonce[12], zero[1000] = { 0 }, ks[1000];
	uint8_t sha[32], want[32], first[16];

	key_0_31(key);
	t_unhex("000000090000004a00000000", nonce);
	t_unhex("10f1e7e4d13b5915500fdd1fa32071c4", first);
	t_unhex("302d413abfccba5df5e6b06c951f7252"
	    "658b764dc5d7f654d116e5dec470829e",
	    want);
	CHECK(mbedtls_chacha20_crypt(key, nonce, 1, sizeof(ks), zero, ks) ==
	    0);
	CHECK(memcmp(ks, first, 16) == 0);
	CHECK(mbedtls_sha256(ks, sizeof(ks), sha, 0) == 0);
	CHECK(memcmp(sha, want, 32) == 0);
}

/* Any split, in place or not, from any counter: the same stream. */
TEST(splits)
{
	static uint8_t in[5000], one[5000], out[5000];
	uint8_t key[32], nonce[12] = { 1, 2, 3 };
	static const uint32_t counters[] = { 0, 7, 0xfffffffe, 0xfffffff9 };
	mbedtls_chacha20_context c;
	uint32_t x = 12345;
	size_t i, off, k, r;

	key_0_31(key);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(x = x * 1103515245 + 12345);
	for (k = 0; k < HA_ARRAY_LEN(counters); k++) {
		mbedtls_chacha20_crypt(key, nonce, counters[k], sizeof(in), in,
		    one);
		for (r = 0; r < 20; r++) {
			int inplace = (int)(r & 1);

			memcpy(out, in, sizeof(out));
			mbedtls_chacha20_init(&c);
			mbedtls_chacha20_setkey(&c, key);
			mbedtls_chacha20_starts(&c, nonce, counters[k]);
			for (off = 0; off < sizeof(in);) {
				size_t n = r == 0 ? 64 : r == 1 ? 1 :
				    (x = x * 1103515245 + 12345) >> 16 & 511;

				if (n > sizeof(in) - off)
					n = sizeof(in) - off;
				mbedtls_chacha20_update(&c, n, inplace ?
				    out + off : in + off, out + off);
				off += n;
			}
			mbedtls_chacha20_free(&c);
			CHECK(memcmp(out, one, sizeof(out)) == 0);
		}
	}
}

/* RFC 8439 2.8.2: the AEAD that TLS uses, through mbedTLS. */
TEST(rfc8439_aead)
{
	mbedtls_chachapoly_context c;
	uint8_t key[32], nonce[12], aad[12], ct[114], tag[16], want[16];
	uint8_t sha[32], want_sha[32], back[114];
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	t_unhex("070000004041424344454647", nonce);
	t_unhex("50515253c0c1c2c3c4c5c6c7", aad);
	t_unhex("1ae10b594f09e26a7e902ecbd0600691", want);
	t_unhex("eaf0adc045b86e7b8107ed2d6a8c2466"
	    "cfb1c1f1a943dd5d37c578ee75a06829",
	    want_sha);
	mbedtls_chachapoly_init(&c);
	CHECK(mbedtls_chachapoly_setkey(&c, key) == 0);
	CHECK(mbedtls_chachapoly_encrypt_and_tag(&c, sizeof(ct), nonce, aad,
	    sizeof(aad), (const uint8_t *)sunscreen, ct, tag) == 0);
	CHECK(memcmp(tag, want, 16) == 0);
	CHECK(mbedtls_sha256(ct, sizeof(ct), sha, 0) == 0);
	CHECK(memcmp(sha, want_sha, 32) == 0);
	CHECK(mbedtls_chachapoly_auth_decrypt(&c, sizeof(ct), nonce, aad,
	    sizeof(aad), tag, ct, back) == 0);
	CHECK(memcmp(back, sunscreen, sizeof(back)) == 0);
	ct[50] ^= 1;
	CHECK(mbedtls_chachapoly_auth_decrypt(&c, sizeof(ct), nonce, aad,
	    sizeof(aad), tag, ct, back) != 0);
	mbedtls_chachapoly_free(&c);
}

int
main(void)
{
	t_suite = "chacha20";
	RUN(rfc8439_encrypt);
	RUN(keystream_1000);
	RUN(splits);
#if defined(MBEDTLS_CHACHA20_ALT)
	/* Again without AVX2: the SSE2 path on this machine too. */
	ha_chacha20_no_avx2(1);
	RUN(rfc8439_encrypt);
	RUN(keystream_1000);
	RUN(splits);
	ha_chacha20_no_avx2(0);
#endif
	RUN(rfc8439_aead);
	return t_done();
}
