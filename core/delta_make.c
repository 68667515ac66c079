/*
 * delta, part two: the sender's matcher. Reads the target once, front to
 * back, through a window buffer (never the whole file), finds the basis
 * blocks in it with the rolling weak sum and the signature's hash index,
 * and emits COPY / LITERAL / END ops (layout in core/delta_int.h).
 */
#include "core/delta.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/delta_int.h"
#include "core/sha256.h"

#define READ_CHUNK (1024 * 1024)

struct mk {
	int fd;
	uint64_t size;
	const struct ha_delta_sig *sig;
	ha_delta_out_fn out;
	void *arg;
	const char **why;
	struct ha_sha256 sha;		/* of the target, up to sha_off */
	uint64_t sha_off;
	struct ha_delta_stats st;

	/* buf[0] is file offset buf_off; bytes up to read_off are read. */
	uint8_t *buf;
	size_t cap;
	uint64_t buf_off, read_off;

	uint64_t lit_start;		/* first byte not yet in an op */
	uint32_t cp_first, cp_count;	/* pending COPY run (0: none) */
	uint64_t next_block;		/* the block after the last match */

	uint8_t obuf[HA_DELTA_OUT_CHUNK];
	size_t olen;
};

static int
flush_out(struct mk *m)
{
	if (m->olen && m->out(m->arg, m->obuf, m->olen) != 0) {
		*m->why = "delta output stopped";
		return -1;
	}
	m->olen = 0;
	return 0;
}

static int
emit(struct mk *m, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0) {
		size_t take = sizeof(m->obuf) - m->olen;

		if (take > n)
			take = n;
		memcpy(m->obuf + m->olen, s, take);
		m->olen += take;
		s += take;
		n -= take;
		if (m->olen == sizeof(m->obuf) && flush_out(m) == -1)
			return -1;
	}
	return 0;
}

static const uint8_t *
at(const struct mk *m, uint64_t off)
{
	return m->buf + (off - m->buf_off);
}

/*
 * The whole-file hash runs behind the reads, up to off, so that at the
 * start of a run next_matches can hash a block and the file in one pass.
 * Bytes leave buf only after it took them (sha_off >= buf_off).
 */
static void
sha_to(struct mk *m, uint64_t off)
{
	if (off > m->sha_off) {
		ha_sha256_update(&m->sha, at(m, m->sha_off),
		    (size_t)(off - m->sha_off));
		m->sha_off = off;
	}
}

/*
 * Make bytes [lit_start, end) readable in buf: slide what is still
 * needed (from lit_start) to the front and read on. lit_start trails
 * the window by at most HA_DELTA_LIT_MAX, so cap bounds the memory.
 */
static int
need(struct mk *m, uint64_t end)
{
	size_t keep;

	if (end <= m->read_off)
		return 0;
	sha_to(m, m->lit_start);
	keep = (size_t)(m->read_off - m->lit_start);
	memmove(m->buf, m->buf + (m->lit_start - m->buf_off), keep);
	m->buf_off = m->lit_start;
	while (m->read_off < end) {
		size_t room = m->cap - (size_t)(m->read_off - m->buf_off);
		uint64_t left = m->size - m->read_off;
		ssize_t r;

		if (room > left)
			room = (size_t)left;
		if (room == 0) {
			/* Cannot happen: cap covers literal + window. */
			*m->why = "delta window overflow";
			return -1;
		}
		r = pread(m->fd, m->buf + (m->read_off - m->buf_off), room,
		    (off_t)m->read_off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*m->why = strerror(errno);
			return -1;
		}
		if (r == 0) {
			*m->why = "file shrank while read";
			return -1;
		}
		m->read_off += (uint64_t)r;
	}
	return 0;
}

static int
flush_copy(struct mk *m)
{
	uint8_t op[9];

	if (m->cp_count == 0)
		return 0;
	op[0] = OP_COPY;
	put32(op + 1, m->cp_first);
	put32(op + 5, m->cp_count);
	m->cp_count = 0;
	return emit(m, op, sizeof(op));
}

/* Literal ops for [lit_start, end). */
static int
flush_literal(struct mk *m, uint64_t end)
{
	uint8_t op[5];

	if (m->lit_start < end && flush_copy(m) == -1)
		return -1;
	while (m->lit_start < end) {
		uint64_t n = end - m->lit_start;

		if (n > HA_DELTA_LIT_MAX)
			n = HA_DELTA_LIT_MAX;
		op[0] = OP_LITERAL;
		put32(op + 1, (uint32_t)n);
		if (emit(m, op, sizeof(op)) == -1 ||
		    emit(m, at(m, m->lit_start), (size_t)n) == -1)
			return -1;
		m->st.literal += n;
		m->lit_start += n;
	}
	return 0;
}

/* Block idx matched at off (len bytes): extend the COPY run or start one. */
static int
matched(struct mk *m, uint64_t off, uint32_t idx, uint32_t len)
{
	if (flush_literal(m, off) == -1)
		return -1;
	if (m->cp_count && idx == m->cp_first + m->cp_count &&
	    m->cp_count < UINT32_MAX) {
		m->cp_count++;
	} else {
		if (flush_copy(m) == -1)
			return -1;
		m->cp_first = idx;
		m->cp_count = 1;
	}
	m->st.matched += len;
	m->lit_start = off + len;
	m->next_block = (uint64_t)idx + 1;
	return 0;
}

static int
full_block(const struct ha_delta_sig *s, uint64_t i)
{
	return i + 1 < s->nblocks || s->last_len == s->block_len;
}

/*
 * The basis block at this window, or -1. The block after the last match
 * is tried first: in a mostly unchanged file the next block is where the
 * match is, and duplicates of it (zeros) would otherwise break the run.
 * The strong hash is computed at most once per position, and only when
 * some weak sum agrees.
 */
static int64_t
find(struct mk *m, uint32_t w, const uint8_t *p)
{
	const struct ha_delta_sig *s = m->sig;
	uint8_t strong[STRONG_MAX];
	int have = 0;
	uint32_t j;

	if (m->next_block < s->nblocks && s->blocks[m->next_block].weak == w &&
	    full_block(s, m->next_block)) {
		ha_delta_strong(p, s->block_len, strong);
		have = 1;
		if (memcmp(strong, s->blocks[m->next_block].strong,
		    s->strong_len) == 0)
			return (int64_t)m->next_block;
	}
	for (j = s->heads[w & s->mask]; j; j = s->blocks[j - 1].next) {
		const struct sig_block *b = &s->blocks[j - 1];

		if (b->weak != w || !full_block(s, j - 1))
			continue;
		if (!have) {
			ha_delta_strong(p, s->block_len, strong);
			have = 1;
		}
		if (memcmp(strong, b->strong, s->strong_len) == 0)
			return (int64_t)j - 1;
	}
	return -1;
}

/*
 * At the start and right after a match the next block is the likely one
 * (an unchanged stretch): its strong sum alone decides, and the weak sum
 * is not computed at all while a run lasts. A miss costs one strong sum
 * per run. (One candidate per such position, against the weak sum's
 * many: the strong sum's length covers it.)
 */
static int
next_matches(struct mk *m, uint64_t off, const uint8_t *p)
{
	const struct ha_delta_sig *s = m->sig;
	uint8_t strong[STRONG_MAX], sha[HA_SHA256_LEN];
	struct ha_sha256 c;

	if (m->next_block >= s->nblocks ||
	    !full_block(s, m->next_block))
		return 0;
	/* Hash block and file together (the file hash never passed p). */
	sha_to(m, off);
	if (m->sha_off == off) {
		ha_sha256_init(&c);
		ha_sha256_update2(&m->sha, &c, p, s->block_len);
		m->sha_off += s->block_len;
		ha_sha256_final(&c, sha);
		memcpy(strong, sha, STRONG_MAX);
	} else {
		ha_delta_strong(p, s->block_len, strong);
	}
	return memcmp(strong, s->blocks[m->next_block].strong,
	    s->strong_len) == 0;
}

/*
 * The basis's last block, when shorter than block_len, can only match
 * the target's last bytes (the rolling window is always block_len long).
 */
static int
tail(struct mk *m, uint64_t p)
{
	const struct ha_delta_sig *s = m->sig;
	uint8_t strong[STRONG_MAX];
	uint32_t a, b;
	uint64_t last = s->nblocks - 1;

	if (s->nblocks == 0 || m->size - p != s->last_len)
		return 0;
	if (need(m, m->size) == -1)
		return -1;
	weak_sums(at(m, p), s->last_len, &a, &b);
	if (weak_mix(a, b) != s->blocks[last].weak)
		return 0;
	ha_delta_strong(at(m, p), s->last_len, strong);
	if (memcmp(strong, s->blocks[last].strong, s->strong_len) != 0)
		return 0;
	return matched(m, p, (uint32_t)last, s->last_len);
}

/*
 * Between matches the window slides one byte at a time. The inner loop
 * rolls over the bytes already read, testing only the in-cache filter,
 * and leaves for the full lookup (find) on a filter hit, at the end of
 * what was read, or when the pending literal reaches HA_DELTA_LIT_MAX.
 */
static int
search(struct mk *m)
{
	const struct ha_delta_sig *s = m->sig;
	const uint64_t *filter = s->filter;	/* in registers for the loop */
	uint32_t fmask = s->fmask;
	uint32_t blen = s->block_len, a = 0, b = 0, w;
	uint64_t p = 0, stop, k, kmax;
	const uint8_t *q;
	int fresh = 1;
	int64_t idx;

	while (m->size - p >= blen) {
		if (need(m, p + blen) == -1)
			return -1;
		if (fresh && next_matches(m, p, at(m, p))) {
			if (matched(m, p, (uint32_t)m->next_block, blen) == -1)
				return -1;
			p += blen;
			continue;
		}
		if (fresh)
			weak_sums(at(m, p), blen, &a, &b);
		fresh = 0;
		w = weak_mix(a, b);
		if (filter_hit(s, w) && (idx = find(m, w, at(m, p))) >= 0) {
			if (matched(m, p, (uint32_t)idx, blen) == -1)
				return -1;
			p += blen;
			fresh = 1;
			continue;
		}
		if (p + blen == m->size) {
			p++;
			break;
		}
		if (need(m, p + blen + 1) == -1)
			return -1;
		/* p + 1 <= stop: p + blen < read_off, size; literal < max. */
		stop = m->read_off - blen;
		if (stop > m->lit_start + HA_DELTA_LIT_MAX)
			stop = m->lit_start + HA_DELTA_LIT_MAX;
		q = at(m, p);
		kmax = stop - p;
		for (k = 0;;) {
			uint8_t out = q[k], in = q[k + blen];
			uint32_t f;

			a += (uint32_t)in - out;
			b += a - blen * (uint32_t)out;
			if (++k == kmax)
				break;
			f = weak_mix(a, b) & fmask;
			if (filter[f >> 6] >> (f & 63) & 1)
				break;
		}
		p += k;
		if (p - m->lit_start >= HA_DELTA_LIT_MAX &&
		    flush_literal(m, p) == -1)
			return -1;
	}
	if (p < m->size && tail(m, p) == -1)
		return -1;
	return 0;
}

static int
finish(struct mk *m, uint8_t sha[HA_DELTA_SHA_LEN])
{
	uint8_t op[1 + HA_DELTA_SHA_LEN], extra;
	ssize_t r;

	/* The rest is literal, read one op at a time to bound the buffer. */
	while (m->lit_start < m->size) {
		uint64_t end = m->size - m->lit_start > HA_DELTA_LIT_MAX ?
		    m->lit_start + HA_DELTA_LIT_MAX : m->size;

		if (need(m, end) == -1 || flush_literal(m, end) == -1)
			return -1;
	}
	if (flush_copy(m) == -1)
		return -1;
	sha_to(m, m->size);
	do
		r = pread(m->fd, &extra, 1, (off_t)m->size);
	while (r < 0 && errno == EINTR);
	if (r != 0) {
		*m->why = r < 0 ? strerror(errno) : "file grew while read";
		return -1;
	}
	ha_sha256_final(&m->sha, sha);
	op[0] = OP_END;
	memcpy(op + 1, sha, HA_DELTA_SHA_LEN);
	if (emit(m, op, sizeof(op)) == -1)
		return -1;
	return flush_out(m);
}

/*
 * The state and read buffer of the last call, kept for the next: a sender
 * makes thousands of deltas in a row, and with musl's allocator each large
 * block freed would be an munmap (a TLB shootdown) and fresh page faults.
 */
static struct mk *spare;
static uint8_t *spare_buf;
static size_t spare_cap;

int
ha_delta_make(int fd, uint64_t size, const struct ha_delta_sig *sig,
    ha_delta_out_fn out, void *arg, uint8_t sha[HA_DELTA_SHA_LEN],
    struct ha_delta_stats *st, const char **why)
{
	struct mk *m = spare;
	uint8_t hdr[OPS_HDR_LEN];
	int rc = -1;

	spare = NULL;
	if (m)
		memset(m, 0, offsetof(struct mk, obuf));
	else
		m = ha_xcalloc(1, sizeof(*m));
	m->olen = 0;

	m->fd = fd;
	m->size = size;
	m->sig = sig;
	m->out = out;
	m->arg = arg;
	m->why = why;
	/* Reads need no more room than the file (no mmap per small file). */
	m->cap = HA_DELTA_LIT_MAX + (sig ? sig->block_len : 0) +
	    (size < READ_CHUNK ? (size_t)size + 4096 : READ_CHUNK);
	if (spare_buf && spare_cap >= m->cap) {
		m->buf = spare_buf;
		m->cap = spare_cap;
	} else {
		free(spare_buf);
		m->buf = ha_xmalloc(m->cap);
	}
	spare_buf = NULL;
	ha_sha256_init(&m->sha);
	memcpy(hdr, OPS_MAGIC, 4);
	hdr[4] = DELTA_VERSION;
	hdr[5] = hdr[6] = hdr[7] = 0;
	put32(hdr + 8, sig ? sig->block_len : 0);
	put64(hdr + 12, size);
	if (emit(m, hdr, sizeof(hdr)) == -1)
		goto out;
	if (sig && search(m) == -1)
		goto out;
	if (finish(m, sha) == -1)
		goto out;
	if (st)
		*st = m->st;
	rc = 0;
out:
	spare_buf = m->buf;
	spare_cap = m->cap;
	spare = m;
	return rc;
}
