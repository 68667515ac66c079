/*
 * delta, part one: block length, signatures (make, load and index) and
 * whole-file hashes. The layouts are in core/delta_int.h; the matcher is
 * in delta_make.c and the receiver in delta_apply.c. Our own code after
 * the rsync technical report (Tridgell and Mackerras, TR-CS-96-05).
 */
#include "core/delta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/delta_int.h"
#include "core/sha256.h"

#define IO_CHUNK (1024 * 1024)

static uint64_t
isqrt(uint64_t x)
{
	uint64_t r = 0, bit = (uint64_t)1 << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/*
 * About sqrt(size) balances the signature (size / len entries) against
 * the literal cost of one changed byte (one block), as rsync does; a
 * multiple of 64 keeps blocks whole SHA-256 inputs.
 */
uint32_t
ha_delta_block_len(uint64_t size)
{
	uint64_t r = (isqrt(size) + 63) & ~(uint64_t)63;

	if (r < BLOCK_MIN)
		r = BLOCK_MIN;
	if (r > BLOCK_MAX)
		r = BLOCK_MAX;
	return (uint32_t)r;
}

static unsigned
log2_up(uint64_t x)
{
	unsigned n = 0;

	while (n < 64 && ((uint64_t)1 << n) < x)
		n++;
	return n;
}

/*
 * A false match needs some target position (about size of them) to hit
 * some block (nblocks) in both the weak and the strong sum. With the
 * strong sum alone at log2(blocks) + log2(size) + 48 bits the chance per
 * file stays under 2^-48; the whole-file SHA-256 catches the rest.
 */
static uint32_t
strong_len(uint64_t size, uint32_t blen)
{
	unsigned bits = log2_up(size / blen + 1) + log2_up(size + 1) + 48;
	uint32_t n = (bits + 7) / 8;

	return n < STRONG_MIN ? STRONG_MIN : n > STRONG_MAX ? STRONG_MAX : n;
}

void
ha_delta_strong(const uint8_t *p, size_t n, uint8_t out[STRONG_MAX])
{
	uint8_t sha[HA_SHA256_LEN];

	ha_sha256(p, n, sha);
	memcpy(out, sha, STRONG_MAX);
}

/* pread exactly n bytes at off; -1 with *why (errno kept) or short file. */
static int
read_at(int fd, uint8_t *p, size_t n, uint64_t off, const char **why)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			return -1;
		}
		if (r == 0) {
			*why = "file shrank while read";
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* One signature entry with its strong sum already computed. */
static void
entry(struct ha_buf *out, const uint8_t *p, size_t n,
    const uint8_t sha[HA_SHA256_LEN], uint32_t slen)
{
	uint8_t ent[4 + STRONG_MAX];
	uint32_t a, b;

	weak_sums(p, n, &a, &b);
	put32(ent, weak_mix(a, b));
	memcpy(ent + 4, sha, slen);
	ha_buf_add(out, ent, 4 + slen);
}

int
ha_delta_sig_make(int fd, uint64_t size, struct ha_buf *out,
    const char **why)
{
	uint32_t blen = ha_delta_block_len(size), slen = strong_len(size, blen);
	size_t chunk = IO_CHUNK - IO_CHUNK % blen;
	uint8_t hdr[SIG_HDR_LEN], ent[4 + STRONG_MAX], *buf;
	uint64_t off;
	int rc = -1;

	memcpy(hdr, SIG_MAGIC, 4);
	hdr[4] = DELTA_VERSION;
	hdr[5] = (uint8_t)slen;
	hdr[6] = hdr[7] = 0;
	put32(hdr + 8, blen);
	put64(hdr + 12, size);
	ha_buf_add(out, hdr, sizeof(hdr));
	/* A small file needs no 1 MB buffer (no mmap per file). */
	if (size < chunk)
		chunk = (size_t)size + blen - (size_t)size % blen;
	buf = ha_xmalloc(chunk);
	for (off = 0; off < size; ) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		size_t i;

		if (read_at(fd, buf, n, off, why) == -1)
			goto out;
		for (i = 0; i < n; i += blen) {
			size_t bn = n - i < blen ? n - i : blen;
			uint32_t a, b;

			/* Two full blocks hash faster together. */
			if (bn == blen && n - i >= 2 * (size_t)blen) {
				uint8_t s1[HA_SHA256_LEN], s2[HA_SHA256_LEN];

				ha_sha256_pair(buf + i, buf + i + blen, blen,
				    s1, s2);
				entry(out, buf + i, blen, s1, slen);
				i += blen;
				entry(out, buf + i, blen, s2, slen);
				continue;
			}
			weak_sums(buf + i, bn, &a, &b);
			put32(ent, weak_mix(a, b));
			ha_delta_strong(buf + i, bn, ent + 4);
			ha_buf_add(out, ent, 4 + slen);
		}
		off += n;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/*
 * Index the blocks by weak sum. A block equal (weak and strong) to one
 * already in its chain adds nothing for the search and is left out, and
 * chains stop growing at CHAIN_MAX so crafted collisions cannot make
 * each target position walk thousands of candidates. (Sequential runs
 * look blocks up by index, not through the chains, so they still find
 * the left-out duplicates.)
 */
#define CHAIN_MAX 64

static uint32_t
pow2_at_least(uint64_t want, uint32_t min, uint32_t max)
{
	uint32_t size = min;

	while (size < want && size < max)
		size <<= 1;
	return size;
}

/*
 * The filter is a bitmap of about 32 bits per block, small enough to
 * stay in cache: the matcher tests it at every byte of the target and
 * only looks at the (larger) hash table on the rare hits.
 */
static void
index_blocks(struct ha_delta_sig *s)
{
	uint32_t size = pow2_at_least(s->nblocks * 2, 16, 1u << 30);
	uint32_t bits = pow2_at_least(s->nblocks * 128, 64, 1u << 28);
	uint64_t i;

	s->mask = size - 1;
	s->heads = ha_xcalloc(size, sizeof(*s->heads));
	s->fmask = bits - 1;
	s->filter = ha_xcalloc(bits / 64, sizeof(*s->filter));
	for (i = 0; i < s->nblocks; i++) {
		struct sig_block *b = &s->blocks[i];
		uint32_t *slot = &s->heads[b->weak & s->mask], j;
		uint32_t f = b->weak & s->fmask;
		unsigned depth = 0;

		s->filter[f >> 6] |= (uint64_t)1 << (f & 63);
		for (j = *slot; j; j = s->blocks[j - 1].next, depth++) {
			const struct sig_block *o = &s->blocks[j - 1];

			if (depth >= CHAIN_MAX || (o->weak == b->weak &&
			    memcmp(o->strong, b->strong, s->strong_len) == 0))
				break;
		}
		if (j)
			continue;
		b->next = *slot;
		*slot = (uint32_t)i + 1;
	}
}

struct ha_delta_sig *
ha_delta_sig_load(const uint8_t *p, size_t n, const char **why)
{
	struct ha_delta_sig *s;
	uint64_t size, nblocks, i;
	uint32_t blen, slen;

	if (n < SIG_HDR_LEN || memcmp(p, SIG_MAGIC, 4) != 0) {
		*why = "not a signature (bad magic or truncated header)";
		return NULL;
	}
	if (p[4] != DELTA_VERSION) {
		*why = "signature version not supported";
		return NULL;
	}
	slen = p[5];
	blen = get32(p + 8);
	size = get64(p + 12);
	if (slen < STRONG_MIN || slen > STRONG_MAX || p[6] || p[7]) {
		*why = "signature header invalid (strong hash length)";
		return NULL;
	}
	if (blen < BLOCK_MIN || blen > BLOCK_MAX) {
		*why = "signature block length out of range";
		return NULL;
	}
	nblocks = size / blen + (size % blen != 0);
	/* Compare by division: nblocks * (4 + slen) could overflow. */
	if (nblocks > (n - SIG_HDR_LEN) / (4 + slen) ||
	    (n - SIG_HDR_LEN) != nblocks * (4 + slen)) {
		*why = "signature length does not match its basis size";
		return NULL;
	}
	if (nblocks >= UINT32_MAX) {
		*why = "signature has too many blocks";
		return NULL;
	}
	s = ha_xcalloc(1, sizeof(*s));
	s->block_len = blen;
	s->strong_len = slen;
	s->basis_size = size;
	s->nblocks = nblocks;
	s->last_len = size % blen ? (uint32_t)(size % blen) : blen;
	s->blocks = ha_xcalloc(nblocks ? nblocks : 1, sizeof(*s->blocks));
	p += SIG_HDR_LEN;
	for (i = 0; i < nblocks; i++, p += 4 + slen) {
		s->blocks[i].weak = get32(p);
		memcpy(s->blocks[i].strong, p + 4, slen);
	}
	index_blocks(s);
	return s;
}

void
ha_delta_sig_free(struct ha_delta_sig *s)
{
	if (s == NULL)
		return;
	free(s->heads);
	free(s->filter);
	free(s->blocks);
	free(s);
}

int
ha_delta_file_sha(int fd, uint64_t size, uint8_t sha[HA_DELTA_SHA_LEN],
    const char **why)
{
	struct ha_sha256 c;
	size_t chunk = size < IO_CHUNK ? (size_t)size + 1 : IO_CHUNK;
	uint8_t *buf = ha_xmalloc(chunk);
	uint64_t off;
	int rc = -1;

	ha_sha256_init(&c);
	for (off = 0; off < size; ) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		if (read_at(fd, buf, n, off, why) == -1)
			goto out;
		ha_sha256_update(&c, buf, n);
		off += n;
	}
	ha_sha256_final(&c, sha);
	rc = 0;
out:
	free(buf);
	return rc;
}
