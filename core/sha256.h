/*
 * sha256: SHA-256 (FIPS 180-4) for hasync's data path. Uses the CPU's
 * SHA extensions when it has them (several times faster than portable
 * code, and delta hashes every byte twice) and mbedTLS otherwise.
 */
#ifndef HA_SHA256_H
#define HA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HA_SHA256_LEN 32

struct ha_sha256 {
	uint32_t h[8];
	uint64_t total;		/* bytes hashed so far */
	uint8_t buf[64];
	size_t fill;
};

void ha_sha256_init(struct ha_sha256 *c);
void ha_sha256_update(struct ha_sha256 *c, const void *p, size_t n);
/*
 * The same bytes into two contexts, as two updates would, but about
 * twice as fast with the SHA extensions when both are at a 64-byte
 * boundary.
 */
void ha_sha256_update2(struct ha_sha256 *c1, struct ha_sha256 *c2,
    const void *p, size_t n);
void ha_sha256_final(struct ha_sha256 *c, uint8_t out[HA_SHA256_LEN]);

/* One-shot. */
void ha_sha256(const void *p, size_t n, uint8_t out[HA_SHA256_LEN]);

/* Two one-shot hashes of inputs of the same length, interleaved. */
void ha_sha256_pair(const void *p1, const void *p2, size_t n,
    uint8_t out1[HA_SHA256_LEN], uint8_t out2[HA_SHA256_LEN]);

/* 1 when the SHA extensions are used (for benchmarks and tests). */
int ha_sha256_accel(void);

/* Tests: 1 forces the portable code. */
void ha_sha256_portable(int on);

#endif
