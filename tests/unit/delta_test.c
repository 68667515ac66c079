/*
 * Unit tests for core/delta: basis/target pairs (identical, edits,
 * appends, truncations, empty sides, sizes around block boundaries,
 * random edits, one byte changed in 10 MB) round-trip exactly through
 * sig_make, sig_load, delta_make and apply_feed fed in random pieces;
 * corrupted signatures and op streams are refused with a reason.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/delta.h"
#include "core/delta_int.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* An unlinked temporary file holding p. */
static int
tmpfd(const void *p, size_t n)
{
	char path[] = "/tmp/delta_test.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	if (n && ha_write_all(fd, p, n) == -1) {
		perror("write");
		exit(2);
	}
	return fd;
}

static int
collect(void *arg, const void *p, size_t n)
{
	if (n == 0 || n > HA_DELTA_OUT_CHUNK)
		return -1;
	ha_buf_add(arg, p, n);
	return 0;
}

/* The op stream for basis -> target, with the signature step. */
static int
make_delta(const uint8_t *basis, size_t bn, int with_sig,
    const uint8_t *target, size_t tn, struct ha_buf *d,
    struct ha_delta_stats *st)
{
	struct ha_buf sig = { 0 };
	struct ha_delta_sig *s = NULL;
	uint8_t sha[HA_DELTA_SHA_LEN];
	const char *why = NULL;
	int bfd = tmpfd(basis, bn), tfd = tmpfd(target, tn), rc = -1;

	if (with_sig) {
		if (ha_delta_sig_make(bfd, bn, &sig, &why) == -1)
			goto out;
		if ((s = ha_delta_sig_load((uint8_t *)sig.s, sig.len, &why)) ==
		    NULL)
			goto out;
	}
	rc = ha_delta_make(tfd, tn, s, collect, d, sha, st, &why);
out:
	if (rc == -1)
		printf("# make_delta: %s\n", why);
	ha_delta_sig_free(s);
	ha_buf_free(&sig);
	close(bfd);
	close(tfd);
	return rc;
}

/* Feed d in random pieces; the feed result and the output in *outp. */
static int
apply(const uint8_t *basis, size_t bn, int with_basis, const uint8_t *d,
    size_t dn, uint8_t **outp, size_t *outn, const char **why)
{
	int bfd = with_basis ? tmpfd(basis, bn) : -1, ofd = tmpfd(NULL, 0);
	struct ha_delta_apply *a = ha_delta_apply_new(bfd, bn, ofd);
	size_t off = 0;
	int r = 0;
	off_t end;

	while (off < dn && r == 0) {
		size_t n = rnd() % 4 == 0 ? 1 + rnd() % 7 : 1 + rnd() % 70000;

		if (n > dn - off)
			n = dn - off;
		r = ha_delta_apply_feed(a, d + off, n, why);
		off += n;
	}
	if (r == 1 && ha_delta_apply_sha(a) == NULL)
		r = -2;
	end = lseek(ofd, 0, SEEK_END);
	*outn = (size_t)end;
	*outp = ha_xmalloc(*outn + 1);
	if (pread(ofd, *outp, *outn, 0) != (ssize_t)*outn)
		r = -3;
	ha_delta_apply_free(a);
	if (bfd >= 0)
		close(bfd);
	close(ofd);
	return r;
}

/* Round trip; 1 when the output equals the target. */
static int
roundtrip(const uint8_t *basis, size_t bn, int with_sig,
    const uint8_t *target, size_t tn, struct ha_delta_stats *st,
    size_t *dlen)
{
	struct ha_buf d = { 0 };
	struct ha_delta_stats st0;
	uint8_t *out = NULL;
	size_t on = 0;
	const char *why = NULL;
	int ok = 0, r;

	if (make_delta(basis, bn, with_sig, target, tn, &d, &st0) == -1)
		goto out;
	if (st0.matched + st0.literal != tn)
		goto out;
	r = apply(basis, bn, with_sig, (uint8_t *)d.s, d.len, &out, &on, &why);
	if (r != 1) {
		printf("# apply: %d %s\n", r, why ? why : "");
		goto out;
	}
	ok = on == tn && (tn == 0 || memcmp(out, target, tn) == 0);
	if (st)
		*st = st0;
	if (dlen)
		*dlen = d.len;
out:
	free(out);
	ha_buf_free(&d);
	return ok;
}

TEST(block_len_bounds)
{
	CHECK(ha_delta_block_len(0) == 512);
	CHECK(ha_delta_block_len(1000) == 512);
	CHECK(ha_delta_block_len(100 * 1000 * 1000) % 64 == 0);
	CHECK(ha_delta_block_len(100 * 1000 * 1000) >= 9984);
	CHECK(ha_delta_block_len(100 * 1000 * 1000) <= 10048);
	CHECK(ha_delta_block_len(UINT64_MAX) == 128 * 1024);
}

TEST(identical_and_empty)
{
	size_t n = 300000;
	uint8_t *a = ha_xmalloc(n);
	struct ha_delta_stats st;

	fill(a, n);
	CHECK(roundtrip(a, n, 1, a, n, &st, NULL));
	CHECK(st.literal == 0 && st.matched == n);
	CHECK(roundtrip(a, 0, 1, a, n, &st, NULL));	/* empty basis */
	CHECK(st.literal == n);
	CHECK(roundtrip(a, n, 1, a, 0, &st, NULL));	/* empty target */
	CHECK(roundtrip(a, 0, 1, a, 0, &st, NULL));	/* both */
	CHECK(roundtrip(NULL, 0, 0, a, n, &st, NULL));	/* no basis */
	CHECK(roundtrip(NULL, 0, 0, a, 0, &st, NULL));
	/* One short block. */
	CHECK(roundtrip(a, 100, 1, a, 100, &st, NULL));
	CHECK(st.matched == 100);
	free(a);
}

TEST(edits)
{
	size_t n = 200000, bl = ha_delta_block_len(n);
	uint8_t *a = ha_xmalloc(n), *b = ha_xmalloc(n + 5000);
	struct ha_delta_stats st;

	fill(a, n);
	/* append */
	memcpy(b, a, n);
	fill(b + n, 5000);
	CHECK(roundtrip(a, n, 1, b, n + 5000, &st, NULL));
	CHECK(st.matched >= n - bl);
	/* insert in the middle */
	memcpy(b, a, n / 2);
	fill(b + n / 2, 777);
	memcpy(b + n / 2 + 777, a + n / 2, n / 2);
	CHECK(roundtrip(a, n, 1, b, n + 777, &st, NULL));
	CHECK(st.matched >= n - 3 * bl);
	/* delete from the middle */
	memcpy(b, a, n / 3);
	memcpy(b + n / 3, a + n / 3 + 1234, n - n / 3 - 1234);
	CHECK(roundtrip(a, n, 1, b, n - 1234, &st, NULL));
	CHECK(st.matched >= n - 1234 - 3 * bl);
	/* truncation, and the basis truncated */
	CHECK(roundtrip(a, n, 1, a, n / 2 + 3, &st, NULL));
	CHECK(roundtrip(a, n / 2 + 3, 1, a, n, &st, NULL));
	CHECK(st.matched >= n / 2 - bl);
	/* blocks moved around */
	memcpy(b, a + n / 2, n / 2);
	memcpy(b + n / 2, a, n / 2);
	CHECK(roundtrip(a, n, 1, b, n, &st, NULL));
	CHECK(st.matched >= n - 2 * bl);
	free(a);
	free(b);
}

TEST(block_boundaries)
{
	size_t sizes[] = { 1, 511, 512, 513, 1023, 1024, 1025, 4095, 4096,
	    4097, 262143, 262144, 262145 };
	uint8_t *a = ha_xmalloc(300000), *b = ha_xmalloc(300000);
	size_t i, j;

	fill(a, 300000);
	for (i = 0; i < HA_ARRAY_LEN(sizes); i++)
		for (j = 0; j < HA_ARRAY_LEN(sizes); j++) {
			memcpy(b, a, sizes[j]);
			if (sizes[j] > 10)
				b[sizes[j] / 2] ^= 1;
			CHECK(roundtrip(a, sizes[i], 1, a, sizes[j], NULL,
			    NULL));
			CHECK(roundtrip(a, sizes[i], 1, b, sizes[j], NULL,
			    NULL));
		}
	free(a);
	free(b);
}

/* Random pairs: the target is the basis with random edits. */
TEST(random_pairs)
{
	uint8_t *a = ha_xmalloc(1 << 20), *b = ha_xmalloc(2 << 20);
	int round;

	for (round = 0; round < 60; round++) {
		size_t an = rnd() % (1 << 20), bn = 0, pos = 0;
		int edits = (int)(rnd() % 8);

		fill(a, an);
		/* Low entropy now and then: zeros and repeats stress runs. */
		if (round % 5 == 0)
			memset(a, 0, an / 2);
		while (pos < an && bn < (1 << 20)) {
			size_t take = 1 + rnd() % (an / (edits + 1) + 1);

			if (take > an - pos)
				take = an - pos;
			memcpy(b + bn, a + pos, take);
			bn += take;
			pos += take;
			switch (rnd() % 4) {
			case 0:	/* insert */
				take = rnd() % 3000;
				fill(b + bn, take);
				bn += take;
				break;
			case 1:	/* delete */
				pos += rnd() % 3000;
				break;
			case 2:	/* change a byte */
				if (bn)
					b[bn - 1] ^= 0x5a;
				break;
			}
		}
		CHECK(roundtrip(a, an, 1, b, bn, NULL, NULL));
	}
	free(a);
	free(b);
}

TEST(one_byte_in_10mb)
{
	size_t n = 10 * 1000 * 1000, dlen = 0;
	uint8_t *a = ha_xmalloc(n), *b = ha_xmalloc(n);
	struct ha_delta_stats st;

	fill(a, n);
	memcpy(b, a, n);
	b[n / 3] ^= 1;
	CHECK(roundtrip(a, n, 1, b, n, &st, &dlen));
	CHECK(dlen < n / 100);
	CHECK(st.literal <= ha_delta_block_len(n));
	printf("# 10 MB, one byte changed: delta %zu bytes\n", dlen);
	free(a);
	free(b);
}

/* Identical files give one COPY run, zeros (all blocks alike) too. */
TEST(runs_coalesce)
{
	size_t n = 1 << 20, dlen = 0;
	uint8_t *a = ha_xcalloc(1, n);
	struct ha_delta_stats st;

	CHECK(roundtrip(a, n, 1, a, n, &st, &dlen));
	CHECK(dlen == OPS_HDR_LEN + 9 + 33);
	fill(a, n);
	CHECK(roundtrip(a, n, 1, a, n, &st, &dlen));
	CHECK(dlen == OPS_HDR_LEN + 9 + 33);
	/* Zeros inside random data still come back in order. */
	memset(a + n / 4, 0, n / 2);
	CHECK(roundtrip(a, n, 1, a, n, &st, &dlen));
	CHECK(dlen == OPS_HDR_LEN + 9 + 33);
	free(a);
}

/*
 * A hostile signature: every block with the same weak sum and different
 * strong sums (chains capped), or with garbage sums. The matcher must
 * stay correct (the result is still the target) and not crawl.
 */
TEST(hostile_signature)
{
	size_t n = 400000, i, bl, nb;
	uint8_t *a = ha_xmalloc(n), *out = NULL, sha[HA_DELTA_SHA_LEN];
	struct ha_buf sig = { 0 }, d = { 0 };
	struct ha_delta_sig *s;
	const char *why = NULL;
	size_t on;
	int fd, round;

	fill(a, n);
	fd = tmpfd(a, n);
	CHECK(ha_delta_sig_make(fd, n, &sig, &why) == 0);
	bl = get32((uint8_t *)sig.s + 8);
	nb = (n + bl - 1) / bl;
	for (round = 0; round < 2; round++) {
		size_t ent = (sig.len - SIG_HDR_LEN) / nb;

		for (i = 0; i < nb; i++) {
			uint8_t *e = (uint8_t *)sig.s + SIG_HDR_LEN + i * ent;

			if (round == 0)
				e[4] ^= (uint8_t)i;	/* strong differs */
			else
				put32(e, get32((uint8_t *)sig.s + SIG_HDR_LEN));
		}
		s = ha_delta_sig_load((uint8_t *)sig.s, sig.len, &why);
		CHECK(s != NULL);
		d.len = 0;
		CHECK(ha_delta_make(fd, n, s, collect, &d, sha, NULL, &why) ==
		    0);
		CHECK(apply(a, n, 1, (uint8_t *)d.s, d.len, &out, &on, &why) ==
		    1);
		CHECK(on == n && memcmp(out, a, n) == 0);
		free(out);
		ha_delta_sig_free(s);
	}
	close(fd);
	free(a);
	ha_buf_free(&sig);
	ha_buf_free(&d);
}

/* A basis shorter than the size the caller gave is an error, not junk. */
TEST(basis_short)
{
	size_t an = 20000;
	uint8_t *a = ha_xmalloc(an), *b = ha_xmalloc(an);
	struct ha_buf d = { 0 };
	struct ha_delta_stats st;
	struct ha_delta_apply *ap;
	const char *why = NULL;
	int bfd, ofd;

	fill(a, an);
	CHECK(make_delta(a, an, 1, a, an, &d, &st) == 0);
	bfd = tmpfd(a, an / 2);
	ofd = tmpfd(NULL, 0);
	ap = ha_delta_apply_new(bfd, an, ofd);
	CHECK(ha_delta_apply_feed(ap, d.s, d.len, &why) == -1);
	CHECK(why && strstr(why, "basis shorter"));
	ha_delta_apply_free(ap);
	close(bfd);
	close(ofd);
	free(a);
	free(b);
	ha_buf_free(&d);
}

/* A valid stream for the corruption tests: copies and literals. */
static void
sample(uint8_t *a, size_t an, uint8_t *b, size_t *bn, struct ha_buf *d)
{
	struct ha_delta_stats st;

	fill(a, an);
	memcpy(b, a, an);
	fill(b + 5000, 100);
	*bn = an;
	CHECK(make_delta(a, an, 1, b, *bn, d, &st) == 0);
}

static int
apply_one(const uint8_t *a, size_t an, const void *d, size_t dn,
    const char **why)
{
	uint8_t *out = NULL;
	size_t on;
	int r = apply(a, an, 1, d, dn, &out, &on, why);

	free(out);
	return r;
}

/* Offset of the first op of type t in a valid stream. */
static size_t
find_op(const uint8_t *d, size_t n, int t)
{
	size_t off = OPS_HDR_LEN;

	while (off < n && d[off] != t)
		off += d[off] == OP_COPY ? 9 : d[off] == OP_LITERAL ?
		    5 + get32(d + off + 1) : 33;
	return off;
}

TEST(corrupt_streams)
{
	size_t an = 50000, bn, i, off;
	uint8_t *a = ha_xmalloc(an), *b = ha_xmalloc(an), *c;
	struct ha_buf d = { 0 };
	const char *why = NULL;

	sample(a, an, b, &bn, &d);
	CHECK(apply_one(a, an, d.s, d.len, &why) == 1);
	c = ha_xmalloc(d.len + 16);
#define MUT(stmt, text) do { \
		memcpy(c, d.s, d.len); \
		why = NULL; \
		stmt; \
		CHECK(apply_one(a, an, c, d.len, &why) == -1); \
		CHECK(why && strstr(why, text)); \
	} while (0)
	MUT(c[0] = 'X', "bad magic");
	MUT(c[4] = 9, "version");
	MUT(c[5] = 1, "reserved");
	MUT(put32(c + 8, 100), "block length");
	MUT(put64(c + 12, bn - 1), "longer than announced");
	MUT(put64(c + 12, bn + 1), "shorter than announced");
	MUT(put64(c + 12, UINT64_MAX), "shorter than announced");
	off = find_op((uint8_t *)d.s, d.len, OP_COPY);
	CHECK(off < d.len);
	MUT(put32(c + off + 1, 1000000), "past the end");
	MUT(put32(c + off + 1, UINT32_MAX), "past the end");
	MUT(put32(c + off + 5, UINT32_MAX), "past the end");
	MUT(put32(c + off + 5, 0), "zero blocks");
	MUT(c[off] = 7, "unknown op");
	off = find_op((uint8_t *)d.s, d.len, OP_LITERAL);
	CHECK(off < d.len);
	MUT(put32(c + off + 1, HA_DELTA_LIT_MAX + 1), "LITERAL length");
	MUT(put32(c + off + 1, 0), "LITERAL length");
	MUT(c[off + 5] ^= 1, "SHA-256");
	MUT(c[d.len - 1] ^= 1, "SHA-256");
	/* Trailing bytes after END. */
	memcpy(c, d.s, d.len);
	c[d.len] = 0;
	CHECK(apply_one(a, an, c, d.len + 1, &why) == -1);
	CHECK(strstr(why, "after its end") != NULL);
	/* Every truncation leaves it waiting (0), never done. */
	for (i = 0; i < d.len; i += 1 + i / 50)
		CHECK(apply_one(a, an, d.s, i, &why) == 0);
	/* A copy without a basis. */
	{
		uint8_t *out;
		size_t on;

		CHECK(apply(a, an, 0, (uint8_t *)d.s, d.len, &out, &on,
		    &why) == -1);
		CHECK(strstr(why, "without a basis") != NULL);
		free(out);
	}
	free(a);
	free(b);
	free(c);
	ha_buf_free(&d);
}

TEST(refuses_after_end)
{
	size_t an = 20000, bn;
	uint8_t *a = ha_xmalloc(an), *b = ha_xmalloc(an);
	struct ha_buf d = { 0 };
	const char *why;
	int bfd, ofd;
	struct ha_delta_apply *ap;

	sample(a, an, b, &bn, &d);
	bfd = tmpfd(a, an);
	ofd = tmpfd(NULL, 0);
	ap = ha_delta_apply_new(bfd, an, ofd);
	CHECK(ha_delta_apply_feed(ap, d.s, d.len, &why) == 1);
	CHECK(ha_delta_apply_written(ap) == bn);
	CHECK(ha_delta_apply_sha(ap) != NULL);
	CHECK(ha_delta_apply_feed(ap, "x", 1, &why) == -1);
	CHECK(ha_delta_apply_feed(ap, "x", 1, &why) == -1);
	ha_delta_apply_free(ap);
	close(bfd);
	close(ofd);
	free(a);
	free(b);
	ha_buf_free(&d);
}

/* Fed one byte at a time: 0 until the very last byte, then 1. */
TEST(byte_at_a_time)
{
	size_t an = 30000, bn, i;
	uint8_t *a = ha_xmalloc(an), *b = ha_xmalloc(an), *out;
	struct ha_buf d = { 0 };
	struct ha_delta_apply *ap;
	const char *why = NULL;
	int bfd, ofd, r = 0;

	sample(a, an, b, &bn, &d);
	bfd = tmpfd(a, an);
	ofd = tmpfd(NULL, 0);
	ap = ha_delta_apply_new(bfd, an, ofd);
	for (i = 0; i < d.len && r == 0; i++)
		r = ha_delta_apply_feed(ap, d.s + i, 1, &why);
	CHECK(r == 1 && i == d.len);
	out = ha_xmalloc(bn);
	CHECK(pread(ofd, out, bn, 0) == (ssize_t)bn);
	CHECK(memcmp(out, b, bn) == 0);
	ha_delta_apply_free(ap);
	close(bfd);
	close(ofd);
	free(a);
	free(b);
	free(out);
	ha_buf_free(&d);
}

TEST(corrupt_signatures)
{
	size_t n = 100000, i;
	uint8_t *a = ha_xmalloc(n), *c;
	struct ha_buf sig = { 0 };
	struct ha_delta_sig *s;
	const char *why = NULL;
	int fd;

	fill(a, n);
	fd = tmpfd(a, n);
	CHECK(ha_delta_sig_make(fd, n, &sig, &why) == 0);
	close(fd);
	s = ha_delta_sig_load((uint8_t *)sig.s, sig.len, &why);
	CHECK(s != NULL);
	ha_delta_sig_free(s);
	for (i = 0; i < sig.len; i += 1 + i / 20) {
		why = NULL;
		CHECK(ha_delta_sig_load((uint8_t *)sig.s, i, &why) == NULL);
		CHECK(why != NULL);
	}
	c = ha_xmalloc(sig.len + 1);
#define SMUT(stmt, text) do { \
		memcpy(c, sig.s, sig.len); \
		why = NULL; \
		stmt; \
		CHECK(ha_delta_sig_load(c, sig.len, &why) == NULL); \
		CHECK(why && strstr(why, text)); \
	} while (0)
	SMUT(c[1] = 'x', "magic");
	SMUT(c[4] = 2, "version");
	SMUT(c[5] = 7, "strong");
	SMUT(c[5] = 17, "strong");
	SMUT(put32(c + 8, 511), "block length");
	SMUT(put32(c + 8, 1 << 20), "block length");
	SMUT(put64(c + 12, n + 1024), "does not match");
	SMUT(put64(c + 12, UINT64_MAX), "does not match");
	memcpy(c, sig.s, sig.len);
	c[sig.len] = 0;
	CHECK(ha_delta_sig_load(c, sig.len + 1, &why) == NULL);
	free(c);
	free(a);
	ha_buf_free(&sig);
}

/* A file that changes size while it is read is refused. */
TEST(size_changed)
{
	uint8_t a[5000];
	struct ha_buf d = { 0 };
	uint8_t sha[HA_DELTA_SHA_LEN];
	const char *why = NULL;
	int fd;

	fill(a, sizeof(a));
	fd = tmpfd(a, sizeof(a));
	CHECK(ha_delta_make(fd, sizeof(a) - 1, NULL, collect, &d, sha, NULL,
	    &why) == -1);
	CHECK(why && strstr(why, "grew"));
	CHECK(ha_delta_make(fd, sizeof(a) + 1, NULL, collect, &d, sha, NULL,
	    &why) == -1);
	CHECK(why && strstr(why, "shr"));
	CHECK(ha_delta_file_sha(fd, sizeof(a) + 1, sha, &why) == -1);
	close(fd);
	ha_buf_free(&d);
}

int
main(void)
{
	t_suite = "delta";
	RUN(block_len_bounds);
	RUN(identical_and_empty);
	RUN(edits);
	RUN(block_boundaries);
	RUN(random_pairs);
	RUN(one_byte_in_10mb);
	RUN(runs_coalesce);
	RUN(hostile_signature);
	RUN(basis_short);
	RUN(corrupt_streams);
	RUN(refuses_after_end);
	RUN(byte_at_a_time);
	RUN(corrupt_signatures);
	RUN(size_changed);
	return t_done();
}
