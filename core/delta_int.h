/*
 * delta internals shared by delta.c (signatures), delta_make.c (the
 * sender's matcher) and delta_apply.c (the receiver): the wire layouts,
 * the weak checksum and the decoded signature. Not for applets.
 *
 * Signature (all integers big-endian):
 *	"HSIG" | u8 version (1) | u8 strong_len (8..16) | u16 0 |
 *	u32 block_len | u64 basis_size |
 *	ceil(basis_size / block_len) x (u32 weak | strong_len bytes)
 * Op stream:
 *	"HDLT" | u8 version (1) | u8 0 | u16 0 | u32 block_len |
 *	u64 target_size | ops...
 *	op COPY    0x01 | u32 first block | u32 count (>= 1)
 *	op LITERAL 0x02 | u32 len (1..HA_DELTA_LIT_MAX) | len bytes
 *	op END     0x03 | 32 bytes SHA-256 of the whole target (last op)
 */
#ifndef HA_DELTA_INT_H
#define HA_DELTA_INT_H

#include <stdint.h>

#include "core/delta.h"

#define SIG_MAGIC "HSIG"
#define OPS_MAGIC "HDLT"
#define DELTA_VERSION 1
#define SIG_HDR_LEN 20
#define OPS_HDR_LEN 20

#define BLOCK_MIN 512
#define BLOCK_MAX (128 * 1024)
#define STRONG_MIN 8
#define STRONG_MAX 16

enum { OP_COPY = 1, OP_LITERAL = 2, OP_END = 3 };

/* One basis block as the signature describes it. */
struct sig_block {
	uint32_t weak;
	uint32_t next;		/* hash chain: index + 1, 0 ends it */
	uint8_t strong[STRONG_MAX];
};

struct ha_delta_sig {
	uint32_t block_len;
	uint32_t strong_len;
	uint64_t basis_size;
	uint64_t nblocks;
	uint32_t last_len;	/* length of the last block (<= block_len) */
	uint32_t mask;		/* hash table size - 1 */
	uint32_t *heads;	/* weak & mask -> first block index + 1 */
	uint32_t fmask;		/* filter size in bits - 1 */
	uint64_t *filter;	/* bit weak & fmask: some block has it */
	struct sig_block *blocks;
};

/*
 * The weak checksum: rsync's two running sums over the window, a (sum of
 * bytes) and b (sum of the prefix sums), kept modulo 2^32 and mixed into
 * one 32-bit value so the hash table sees all bits of both.
 */
static inline uint32_t
weak_mix(uint32_t a, uint32_t b)
{
	uint32_t h = a ^ (b * 0x9e3779b1u);

	h ^= h >> 15;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/*
 * a and b over n bytes from scratch: b = sum of (n - i) * p[i]. Taken
 * 16 bytes at a time (b gains 16 * a before each group, then the group's
 * own weighted sum) so the compiler can keep it in vector registers.
 */
static inline void
weak_sums(const uint8_t *p, size_t n, uint32_t *pa, uint32_t *pb)
{
	uint32_t a = 0, b = 0;
	size_t i = 0, j;

	for (; i + 16 <= n; i += 16) {
		uint32_t s = 0, w = 0;

		for (j = 0; j < 16; j++) {
			s += p[i + j];
			w += (uint32_t)(16 - j) * p[i + j];
		}
		b += 16 * a + w;
		a += s;
	}
	for (; i < n; i++) {
		a += p[i];
		b += a;
	}
	*pa = a;
	*pb = b;
}

/* 1 when some basis block may have weak sum w (no false negatives). */
static inline int
filter_hit(const struct ha_delta_sig *s, uint32_t w)
{
	uint32_t i = w & s->fmask;

	return (int)(s->filter[i >> 6] >> (i & 63) & 1);
}

/* The truncated strong hash of one block. */
void ha_delta_strong(const uint8_t *p, size_t n, uint8_t out[STRONG_MAX]);

static inline void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

#endif
