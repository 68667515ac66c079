/*
 * delta, part three: the receiver. A state machine over the op stream
 * (layout in core/delta_int.h) that accepts it split at any byte, checks
 * every index and length against the basis and the announced size before
 * acting on it, writes the output sequentially and verifies the SHA-256.
 */
#include "core/delta.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/delta_int.h"
#include "core/sha256.h"

enum state {
	S_HDR,		/* collecting the stream header */
	S_OP,		/* collecting an op byte */
	S_COPY,		/* collecting COPY's index and count */
	S_LITLEN,	/* collecting LITERAL's length */
	S_LIT,		/* passing literal bytes through */
	S_END,		/* collecting END's hash */
	S_DONE,
	S_FAILED,
};

struct ha_delta_apply {
	int basis_fd, out_fd;
	uint64_t basis_size;
	enum state state;
	uint8_t acc[OPS_HDR_LEN + HA_DELTA_SHA_LEN];
	size_t have, want;

	uint32_t blen;
	uint64_t nblocks, target_size;
	uint32_t lit_left;
	uint64_t written;		/* output bytes accepted */
	struct ha_sha256 sha;
	uint8_t sha_out[HA_DELTA_SHA_LEN];

	/* Output is gathered into write()s of HA_DELTA_OUT_CHUNK. */
	uint8_t obuf[HA_DELTA_OUT_CHUNK];
	size_t olen;
};

/*
 * One freed state kept for the next file: a receiver applies thousands
 * of small files in a row, and with musl's allocator each 64 KiB state
 * freed would be an munmap (a TLB shootdown) and fresh page faults.
 */
static struct ha_delta_apply *spare;

struct ha_delta_apply *
ha_delta_apply_new(int basis_fd, uint64_t basis_size, int out_fd)
{
	struct ha_delta_apply *a = spare;

	spare = NULL;
	if (a)
		memset(a, 0, offsetof(struct ha_delta_apply, obuf));
	else
		a = ha_xcalloc(1, sizeof(*a));
	a->olen = 0;

	a->basis_fd = basis_fd;
	a->basis_size = basis_fd >= 0 ? basis_size : 0;
	a->out_fd = out_fd;
	a->state = S_HDR;
	a->want = OPS_HDR_LEN;
	ha_sha256_init(&a->sha);
	return a;
}

void
ha_delta_apply_free(struct ha_delta_apply *a)
{
	if (a && spare == NULL)
		spare = a;
	else
		free(a);
}

uint64_t
ha_delta_apply_written(const struct ha_delta_apply *a)
{
	/* What reached out_fd, not what waits in obuf. */
	return a->written - a->olen;
}

const uint8_t *
ha_delta_apply_sha(const struct ha_delta_apply *a)
{
	return a->state == S_DONE ? a->sha_out : NULL;
}

static int
fail(struct ha_delta_apply *a, const char **why, const char *msg)
{
	a->state = S_FAILED;
	*why = msg;
	return -1;
}

static int
flush(struct ha_delta_apply *a, const char **why)
{
	if (a->olen == 0)
		return 0;
	ha_sha256_update(&a->sha, a->obuf, a->olen);
	if (ha_write_all(a->out_fd, a->obuf, a->olen) == -1)
		return fail(a, why, strerror(errno));
	a->olen = 0;
	return 0;
}

static int
put(struct ha_delta_apply *a, const uint8_t *p, size_t n, const char **why)
{
	while (n > 0) {
		size_t take = sizeof(a->obuf) - a->olen;

		if (take == 0) {
			if (flush(a, why) == -1)
				return -1;
			continue;
		}
		if (take > n)
			take = n;
		memcpy(a->obuf + a->olen, p, take);
		a->olen += take;
		a->written += take;
		p += take;
		n -= take;
	}
	return 0;
}

/* Blocks [first, first + count) of the basis to the output. */
static int
copy(struct ha_delta_apply *a, uint32_t first, uint32_t count,
    const char **why)
{
	uint64_t off, span, end;

	if (count == 0)
		return fail(a, why, "delta COPY of zero blocks");
	if (a->nblocks == 0)
		return fail(a, why, "delta COPY without a basis");
	if ((uint64_t)first + count > a->nblocks)
		return fail(a, why, "delta COPY past the end of the basis");
	/*
	 * first, count < 2^32 and blen <= 2^17: both products fit in 64
	 * bits, and off < basis_size since first < nblocks; the last block
	 * may be short.
	 */
	off = (uint64_t)first * a->blen;
	span = (uint64_t)count * a->blen;
	end = a->basis_size - off < span ? a->basis_size : off + span;
	if (end - off > a->target_size - a->written)
		return fail(a, why, "delta output longer than announced");
	while (off < end) {
		size_t take = sizeof(a->obuf) - a->olen;
		ssize_t r;

		if (take == 0) {
			if (flush(a, why) == -1)
				return -1;
			continue;
		}
		if (take > end - off)
			take = (size_t)(end - off);
		r = pread(a->basis_fd, a->obuf + a->olen, take, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail(a, why, strerror(errno));
		if (r == 0)
			return fail(a, why, "basis shorter than its size");
		a->olen += (size_t)r;
		a->written += (uint64_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int
header(struct ha_delta_apply *a, const char **why)
{
	if (memcmp(a->acc, OPS_MAGIC, 4) != 0)
		return fail(a, why, "not a delta stream (bad magic)");
	if (a->acc[4] != DELTA_VERSION)
		return fail(a, why, "delta stream version not supported");
	if (a->acc[5] || a->acc[6] || a->acc[7])
		return fail(a, why, "delta header invalid (reserved bytes)");
	a->blen = get32(a->acc + 8);
	a->target_size = get64(a->acc + 12);
	if (a->blen != 0 && (a->blen < BLOCK_MIN || a->blen > BLOCK_MAX))
		return fail(a, why, "delta block length out of range");
	if (a->blen)
		a->nblocks = a->basis_size / a->blen +
		    (a->basis_size % a->blen != 0);
	return 0;
}

static int
end(struct ha_delta_apply *a, const char **why)
{
	if (a->written != a->target_size)
		return fail(a, why, "delta output shorter than announced");
	if (flush(a, why) == -1)
		return -1;
	ha_sha256_final(&a->sha, a->sha_out);
	if (memcmp(a->sha_out, a->acc, HA_DELTA_SHA_LEN) != 0)
		return fail(a, why, "SHA-256 of the result does not match");
	a->state = S_DONE;
	return 0;
}

/* A complete fixed-size field is in acc: act on it, say what comes next. */
static int
step(struct ha_delta_apply *a, const char **why)
{
	uint32_t len;

	a->have = 0;
	switch (a->state) {
	case S_HDR:
		if (header(a, why) == -1)
			return -1;
		a->state = S_OP;
		a->want = 1;
		return 0;
	case S_OP:
		switch (a->acc[0]) {
		case OP_COPY:
			a->state = S_COPY;
			a->want = 8;
			return 0;
		case OP_LITERAL:
			a->state = S_LITLEN;
			a->want = 4;
			return 0;
		case OP_END:
			a->state = S_END;
			a->want = HA_DELTA_SHA_LEN;
			return 0;
		}
		return fail(a, why, "delta stream has an unknown op");
	case S_COPY:
		if (copy(a, get32(a->acc), get32(a->acc + 4), why) == -1)
			return -1;
		break;
	case S_LITLEN:
		len = get32(a->acc);
		if (len == 0 || len > HA_DELTA_LIT_MAX)
			return fail(a, why,
			    "delta LITERAL length out of range");
		if (len > a->target_size - a->written)
			return fail(a, why,
			    "delta output longer than announced");
		a->lit_left = len;
		a->state = S_LIT;
		return 0;
	case S_END:
		return end(a, why);
	default:
		return fail(a, why, "delta state invalid");
	}
	a->state = S_OP;
	a->want = 1;
	return 0;
}

int
ha_delta_apply_feed(struct ha_delta_apply *a, const void *data, size_t n,
    const char **why)
{
	const uint8_t *p = data;

	if (a->state == S_DONE)
		return fail(a, why, "delta stream continues after its end");
	if (a->state == S_FAILED) {
		*why = "delta stream already failed";
		return -1;
	}
	while (n > 0) {
		size_t take;

		if (a->state == S_DONE)
			return fail(a, why,
			    "delta stream continues after its end");
		if (a->state == S_LIT) {
			take = n < a->lit_left ? n : a->lit_left;
			if (put(a, p, take, why) == -1)
				return -1;
			a->lit_left -= (uint32_t)take;
			if (a->lit_left == 0) {
				a->state = S_OP;
				a->want = 1;
			}
		} else {
			take = a->want - a->have;
			if (take > n)
				take = n;
			memcpy(a->acc + a->have, p, take);
			a->have += take;
			if (a->have == a->want && step(a, why) == -1)
				return -1;
		}
		p += take;
		n -= take;
	}
	return a->state == S_DONE ? 1 : 0;
}
