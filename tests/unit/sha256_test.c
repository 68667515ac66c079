/*
 * Unit tests for core/sha256: the FIPS 180-4 examples, and every length
 * up to a few blocks plus random splits of the input agree with mbedTLS,
 * with the CPU's SHA extensions and with the portable code.
 */
#include <string.h>

#include <mbedtls/sha256.h>

#include "check.h"
#include "core/sha256.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
same_as_mbedtls(const uint8_t *p, size_t n)
{
	uint8_t want[32], got[32];
	struct ha_sha256 c;
	size_t off = 0;

	mbedtls_sha256(p, n, want, 0);
	ha_sha256(p, n, got);
	if (memcmp(want, got, 32) != 0)
		return 0;
	ha_sha256_init(&c);
	while (off < n) {
		size_t k = 1 + rnd() % 150;

		if (k > n - off)
			k = n - off;
		ha_sha256_update(&c, p + off, k);
		off += k;
	}
	ha_sha256_final(&c, got);
	return memcmp(want, got, 32) == 0;
}

static void
all_lengths(void)
{
	uint8_t buf[1000];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (i = 0; i <= sizeof(buf); i++)
		CHECK(same_as_mbedtls(buf, i));
}

TEST(fips_abc)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad,
	};
	uint8_t got[32];

	ha_sha256("abc", 3, got);
	CHECK(memcmp(got, abc, 32) == 0);
	ha_sha256_portable(1);
	ha_sha256("abc", 3, got);
	CHECK(memcmp(got, abc, 32) == 0);
	ha_sha256_portable(0);
}

TEST(accelerated)
{
	printf("# SHA extensions: %s\n", ha_sha256_accel() ? "yes" : "no");
	all_lengths();
}

TEST(portable)
{
	ha_sha256_portable(1);
	all_lengths();
	ha_sha256_portable(0);
}

/* update2 equals two updates, aligned (the fast path) or not. */
TEST(two_at_once)
{
	uint8_t buf[3000], pre[200], w1[32], w2[32], g1[32], g2[32];
	int round;

	for (round = 0; round < 400; round++) {
		struct ha_sha256 a, b, c, d;
		size_t np = round % 2 ? 64 * (rnd() % 3) : rnd() % 200;
		size_t n = rnd() % sizeof(buf), i;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rnd();
		for (i = 0; i < sizeof(pre); i++)
			pre[i] = (uint8_t)rnd();
		ha_sha256_init(&a);
		ha_sha256_init(&b);
		ha_sha256_update(&a, pre, np);
		c = a;
		d = b;
		ha_sha256_update(&a, buf, n);
		ha_sha256_update(&b, buf, n);
		ha_sha256_update2(&c, &d, buf, n);
		ha_sha256_final(&a, w1);
		ha_sha256_final(&b, w2);
		ha_sha256_final(&c, g1);
		ha_sha256_final(&d, g2);
		CHECK(memcmp(w1, g1, 32) == 0 && memcmp(w2, g2, 32) == 0);
	}
}

TEST(pair)
{
	uint8_t x[2000], y[2000], w1[32], w2[32], g1[32], g2[32];
	size_t i, n;

	for (i = 0; i < sizeof(x); i++) {
		x[i] = (uint8_t)rnd();
		y[i] = (uint8_t)rnd();
	}
	for (n = 0; n <= sizeof(x); n += 1 + n / 7) {
		ha_sha256(x, n, w1);
		ha_sha256(y, n, w2);
		ha_sha256_pair(x, y, n, g1, g2);
		CHECK(memcmp(w1, g1, 32) == 0 && memcmp(w2, g2, 32) == 0);
	}
}

int
main(void)
{
	t_suite = "sha256";
	RUN(fips_abc);
	RUN(accelerated);
	RUN(portable);
	RUN(two_at_once);
	RUN(pair);
	return t_done();
}
