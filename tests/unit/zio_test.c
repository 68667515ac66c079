/*
 * Unit tests for core/zio, for both codecs (zstd and zlib): round trips
 * of interleaved compressible and random chunks (and chunks that refer
 * back into stored ones, which only works while both dictionaries stay in
 * step), random data stored, level 0, and malformed or oversized chunks,
 * bombs, zstd chunks that are not one frame of their length, and mixed
 * codecs refused.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "core/zio.h"

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
random_bytes(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void
text(uint8_t *p, size_t n)
{
	static const char *w[] = { "leader ", "follower ", "term ", "lease ",
	    "vip ", "sync ", "\n", "42 " };
	size_t i = 0;

	while (i < n) {
		const char *s = w[rnd() % HA_ARRAY_LEN(w)];

		while (*s && i < n)
			p[i++] = (uint8_t)*s++;
	}
}

/* Pack the chunks, unpack them, compare; 1 when all came back. */
static int
roundtrip(int codec, int level, uint8_t **chunks, size_t *lens, int n,
    struct ha_zio_stats *st)
{
	struct ha_zio *d = ha_zio_packer(codec, level), *in = ha_zio_unpacker();
	struct ha_buf packed = { 0 }, out = { 0 };
	const char *why = NULL;
	int i, ok = 1;

	for (i = 0; i < n && ok; i++) {
		packed.len = 0;
		out.len = 0;
		if (ha_zio_pack(d, chunks[i], lens[i], &packed, &why) == -1 ||
		    packed.len > HA_ZIO_MAX_PACKED ||
		    ha_zio_unpack(in, (uint8_t *)packed.s, packed.len, &out,
		    &why) == -1) {
			printf("# chunk %d: %s\n", i, why);
			ok = 0;
		} else if (out.len != lens[i] ||
		    memcmp(out.s, chunks[i], lens[i]) != 0) {
			printf("# chunk %d: differs\n", i);
			ok = 0;
		}
	}
	ha_zio_stats(d, st);
	ha_zio_free(d);
	ha_zio_free(in);
	ha_buf_free(&packed);
	ha_buf_free(&out);
	return ok;
}

static const int codecs[] = { HA_ZIO_ZSTD, HA_ZIO_ZLIB };

TEST(random_is_stored)
{
	uint8_t *p = ha_xmalloc(HA_ZIO_CHUNK);
	size_t len = HA_ZIO_CHUNK;
	struct ha_zio_stats st;
	size_t c;

	for (c = 0; c < HA_ARRAY_LEN(codecs); c++) {
		random_bytes(p, len);
		CHECK(roundtrip(codecs[c], 6, &p, &len, 1, &st));
		CHECK(st.stored_chunks == 1 && st.deflated_chunks == 0);
		CHECK(st.out == len + 5);
		text(p, len);
		CHECK(roundtrip(codecs[c], 6, &p, &len, 1, &st));
		CHECK(st.deflated_chunks == 1 && st.out < len / 3);
		CHECK(roundtrip(codecs[c], 0, &p, &len, 1, &st));
		CHECK(st.stored_chunks == 1 && st.out == len + 5);
	}
	free(p);
}

/* The sample test from HA_ZIO_SAMPLE_MIN bytes up (the sender's pieces). */
TEST(looks_random_small)
{
	uint8_t p[HA_ZIO_SAMPLE_MIN * 2];
	size_t len = HA_ZIO_SAMPLE_MIN;
	uint8_t *c = p;
	struct ha_zio_stats st;
	int i, hits = 0;

	for (i = 0; i < 200; i++) {
		random_bytes(p, sizeof(p));
		hits += ha_zio_looks_random(p, HA_ZIO_SAMPLE_MIN);
		hits += ha_zio_looks_random(p, sizeof(p));
	}
	CHECK(hits == 400);
	CHECK(!ha_zio_looks_random(p, HA_ZIO_SAMPLE_MIN - 1));
	text(p, sizeof(p));
	CHECK(!ha_zio_looks_random(p, HA_ZIO_SAMPLE_MIN));
	CHECK(!ha_zio_looks_random(p, sizeof(p)));
	memset(p, 0, sizeof(p));
	CHECK(!ha_zio_looks_random(p, sizeof(p)));
	random_bytes(p, len);
	CHECK(roundtrip(HA_ZIO_ZSTD, 1, &c, &len, 1, &st));
	CHECK(st.stored_chunks == 1 && st.deflated_chunks == 0);
	CHECK(roundtrip(HA_ZIO_ZLIB, 1, &c, &len, 1, &st));
	CHECK(st.stored_chunks == 1 && st.deflated_chunks == 0);
}

/*
 * Interleaved: text, random (stored by the sample test), small random
 * (deflate tried and given up), copies of earlier stored bytes (back
 * references into stored chunks), empty chunks.
 */
TEST(interleaved)
{
	enum { N = 120 };
	uint8_t *c[N];
	size_t len[N];
	struct ha_zio_stats st;
	int i, level;
	size_t cd;

	for (i = 0; i < N; i++) {
		c[i] = ha_xmalloc(HA_ZIO_CHUNK);
		len[i] = 1 + rnd() % HA_ZIO_CHUNK;
		switch (rnd() % 6) {
		case 0:
			text(c[i], len[i]);
			break;
		case 1:
			random_bytes(c[i], len[i]);
			break;
		case 2:
			len[i] = 1 + rnd() % 8000;
			random_bytes(c[i], len[i]);
			break;
		case 3:
		case 4:
			/* The last chunk's tail twice: refers back. */
			if (i > 0) {
				size_t k = len[i - 1] < 20000 ? len[i - 1] :
				    20000;

				memcpy(c[i], c[i - 1] + len[i - 1] - k, k);
				memcpy(c[i] + k, c[i - 1] + len[i - 1] - k, k);
				len[i] = 2 * k;
			} else {
				text(c[i], len[i]);
			}
			break;
		default:
			len[i] = rnd() % 3;
			text(c[i], len[i]);
			break;
		}
	}
	for (cd = 0; cd < HA_ARRAY_LEN(codecs); cd++)
		for (level = 0; level <= 9; level += 3) {
			CHECK(roundtrip(codecs[cd], level, c, len, N, &st));
			CHECK(st.stored_chunks + st.deflated_chunks == N);
			if (level > 0)
				CHECK(st.stored_chunks > 10 &&
				    st.deflated_chunks > 10);
		}
	for (i = 0; i < N; i++)
		free(c[i]);
}

static int
unpack1(const uint8_t *p, size_t n, const char **why)
{
	struct ha_zio *z = ha_zio_unpacker();
	struct ha_buf out = { 0 };
	int r = ha_zio_unpack(z, p, n, &out, why);

	if (out.len > HA_ZIO_CHUNK)
		r = -2;
	ha_zio_free(z);
	ha_buf_free(&out);
	return r;
}

TEST(malformed)
{
	uint8_t src[4000], bad[HA_ZIO_MAX_PACKED + 10];
	struct ha_zio *d = ha_zio_packer(HA_ZIO_ZLIB, 6), *in;
	struct ha_buf p = { 0 }, out = { 0 };
	const char *why = NULL;
	size_t i;

	text(src, sizeof(src));
	CHECK(ha_zio_pack(d, src, sizeof(src), &p, &why) == 0);
	CHECK(p.s[0] == 1);
	CHECK(unpack1((uint8_t *)p.s, p.len, &why) == 0);
	for (i = 0; i < p.len; i++)
		CHECK(unpack1((uint8_t *)p.s, i, &why) == -1);
	memcpy(bad, p.s, p.len);
	bad[0] = 3;
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "unknown"));
	memcpy(bad, p.s, p.len);
	bad[4]++;	/* announces one byte more than it inflates to */
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "length"));
	memcpy(bad, p.s, p.len);
	bad[4]--;
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "length"));
	memcpy(bad, p.s, p.len);
	bad[1] = 0x10;	/* more than HA_ZIO_CHUNK */
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "range"));
	memcpy(bad, p.s, p.len);
	bad[5] = 0xff;	/* invalid block type */
	bad[6] = 0xff;
	CHECK(unpack1(bad, p.len, &why) == -1);
	/* Stored: the length must be the payload's. */
	memcpy(bad, "\0\0\0\0\3abcd", 9);
	CHECK(unpack1(bad, 9, &why) == -1 && strstr(why, "stored"));
	CHECK(unpack1(bad, 8, &why) == 0);
	memset(bad, 0, sizeof(bad));
	CHECK(unpack1(bad, sizeof(bad), &why) == -1 && strstr(why, "range"));
	/* After a failure the inflater refuses everything. */
	in = ha_zio_unpacker();
	CHECK(ha_zio_unpack(in, bad, 3, &out, &why) == -1);
	CHECK(ha_zio_unpack(in, (uint8_t *)p.s, p.len, &out, &why) == -1);
	CHECK(strstr(why, "already failed") != NULL);
	ha_zio_free(in);
	ha_zio_free(d);
	ha_buf_free(&p);
	ha_buf_free(&out);
}

/* The same for zstd chunks, and a stream mixing the codecs. */
TEST(malformed_zstd)
{
	uint8_t src[4000], bad[HA_ZIO_MAX_PACKED + 10];
	struct ha_zio *d = ha_zio_packer(HA_ZIO_ZSTD, 3), *dz, *in;
	struct ha_buf p = { 0 }, q = { 0 }, out = { 0 };
	const char *why = NULL;
	size_t i;

	text(src, sizeof(src));
	CHECK(ha_zio_pack(d, src, sizeof(src), &p, &why) == 0);
	CHECK(p.s[0] == 2 && p.len < sizeof(src) / 2);
	CHECK(unpack1((uint8_t *)p.s, p.len, &why) == 0);
	for (i = 0; i < p.len; i++)
		CHECK(unpack1((uint8_t *)p.s, i, &why) == -1);
	memcpy(bad, p.s, p.len);
	bad[4]++;
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "length"));
	memcpy(bad, p.s, p.len);
	bad[4]--;
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "length"));
	memcpy(bad, p.s, p.len);
	bad[1] = 0x10;
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "range"));
	memcpy(bad, p.s, p.len);
	bad[5] ^= 0xff;	/* the frame's magic number */
	CHECK(unpack1(bad, p.len, &why) == -1 && strstr(why, "zstd"));
	/* Garbage after a good chunk's bytes. */
	memcpy(bad, p.s, p.len);
	memset(bad + p.len, 0x55, 7);
	CHECK(unpack1(bad, p.len + 7, &why) == -1);
	/* A zstd chunk after a deflated one, and the other way round. */
	dz = ha_zio_packer(HA_ZIO_ZLIB, 6);
	CHECK(ha_zio_pack(dz, src, sizeof(src), &q, &why) == 0);
	in = ha_zio_unpacker();
	CHECK(ha_zio_unpack(in, (uint8_t *)q.s, q.len, &out, &why) == 0);
	CHECK(ha_zio_unpack(in, (uint8_t *)p.s, p.len, &out, &why) == -1);
	CHECK(strstr(why, "deflate and zstd") != NULL);
	ha_zio_free(in);
	in = ha_zio_unpacker();
	CHECK(ha_zio_unpack(in, (uint8_t *)p.s, p.len, &out, &why) == 0);
	CHECK(ha_zio_unpack(in, (uint8_t *)q.s, q.len, &out, &why) == -1);
	ha_zio_free(in);
	ha_zio_free(dz);
	ha_zio_free(d);
	ha_buf_free(&p);
	ha_buf_free(&q);
	ha_buf_free(&out);
}

/* A tiny chunk announcing HA_ZIO_CHUNK that inflates to far more. */
TEST(bomb)
{
	uint8_t *zeros = ha_xcalloc(1, 4 * HA_ZIO_CHUNK);
	uint8_t *pk = ha_xmalloc(HA_ZIO_MAX_PACKED);
	z_stream zs;
	const char *why = NULL;
	size_t n;

	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) ==
	    Z_OK);
	zs.next_in = zeros;
	zs.avail_in = 4 * HA_ZIO_CHUNK;
	zs.next_out = pk + 5;
	zs.avail_out = HA_ZIO_MAX_PACKED - 5;
	CHECK(deflate(&zs, Z_SYNC_FLUSH) == Z_OK);
	n = HA_ZIO_MAX_PACKED - zs.avail_out;
	deflateEnd(&zs);
	pk[0] = 1;
	pk[1] = (uint8_t)(HA_ZIO_CHUNK >> 24);
	pk[2] = (uint8_t)(HA_ZIO_CHUNK >> 16);
	pk[3] = (uint8_t)(HA_ZIO_CHUNK >> 8);
	pk[4] = (uint8_t)HA_ZIO_CHUNK;
	CHECK(unpack1(pk, n, &why) == -1);
	CHECK(why && strstr(why, "length"));
	/* The same as a zstd chunk. */
	n = ZSTD_compress(pk + 5, HA_ZIO_MAX_PACKED - 5, zeros,
	    4 * HA_ZIO_CHUNK, 19);
	CHECK(!ZSTD_isError(n) && n < 1000);
	pk[0] = 2;
	why = NULL;
	CHECK(unpack1(pk, n + 5, &why) == -1);
	CHECK(why && strstr(why, "length"));
	free(zeros);
	free(pk);
}

/*
 * A zstd chunk must be one whole frame that declares the chunk's length:
 * a flushed but unended stream, two frames, a frame without its content
 * size or with another one are refused.
 */
TEST(zstd_frames)
{
	uint8_t src[4000], pk[16000];
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_inBuffer in = { src, sizeof(src), 0 };
	ZSTD_outBuffer o = { pk + 5, sizeof(pk) - 5, 0 };
	const char *why = NULL;
	size_t n, n2;

	text(src, sizeof(src));
	pk[0] = 2, pk[1] = 0, pk[2] = 0;
	pk[3] = sizeof(src) >> 8, pk[4] = sizeof(src) & 0xff;
	n = ZSTD_compress(pk + 5, sizeof(pk) - 5, src, sizeof(src), 1);
	CHECK(!ZSTD_isError(n));
	CHECK(unpack1(pk, n + 5, &why) == 0);
	/* Two frames of half each: the right total, not one frame. */
	n = ZSTD_compress(pk + 5, sizeof(pk) - 5, src, sizeof(src) / 2, 1);
	n2 = ZSTD_compress(pk + 5 + n, sizeof(pk) - 5 - n,
	    src + sizeof(src) / 2, sizeof(src) / 2, 1);
	CHECK(unpack1(pk, n + n2 + 5, &why) == -1 && strstr(why, "one whole"));
	/* Flushed, never ended. */
	CHECK(ZSTD_compressStream2(cc, &o, &in, ZSTD_e_flush) == 0);
	CHECK(unpack1(pk, o.pos + 5, &why) == -1 && strstr(why, "one whole"));
	/* Ended, but the size is not in the header (a stream of unknown size). */
	ZSTD_CCtx_reset(cc, ZSTD_reset_session_only);
	in.pos = 0, o.pos = 0;
	CHECK(ZSTD_compressStream2(cc, &o, &in, ZSTD_e_continue) == 0 ||
	    in.pos == in.size);
	CHECK(ZSTD_compressStream2(cc, &o, &in, ZSTD_e_end) == 0);
	CHECK(ZSTD_getFrameContentSize(pk + 5, o.pos) ==
	    ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(unpack1(pk, o.pos + 5, &why) == -1 &&
	    strstr(why, "another length"));
	/* A frame of 3999 bytes announced as 4000. */
	n = ZSTD_compress(pk + 5, sizeof(pk) - 5, src, sizeof(src) - 1, 1);
	CHECK(unpack1(pk, n + 5, &why) == -1 && strstr(why, "another length"));
	ZSTD_freeCCtx(cc);
}

TEST(pack_limits)
{
	struct ha_zio *d = ha_zio_packer(HA_ZIO_ZLIB, 6), *in = ha_zio_unpacker();
	struct ha_zio *dz = ha_zio_packer(HA_ZIO_ZSTD, 1);
	struct ha_buf p = { 0 };
	const char *why = NULL;
	static uint8_t big[HA_ZIO_CHUNK + 1];
	size_t k;

	CHECK(ha_zio_pack(d, big, sizeof(big), &p, &why) == -1);
	CHECK(ha_zio_pack(dz, big, sizeof(big), &p, &why) == -1);
	/*
	 * zstd's worst case: random bytes except where the sample looks
	 * (64 runs of 64 bytes, HA_ZIO_CHUNK / 64 apart).
	 */
	random_bytes(big, HA_ZIO_CHUNK);
	for (k = 0; k < 64; k++)
		memset(big + k * (HA_ZIO_CHUNK / 64), 'a', 64);
	p.len = 0;
	CHECK(ha_zio_pack(dz, big, HA_ZIO_CHUNK, &p, &why) == 0);
	CHECK(p.s[0] == 2 && p.len > HA_ZIO_CHUNK - 8192 &&
	    p.len <= HA_ZIO_MAX_PACKED);
	ha_zio_free(dz);
	CHECK(ha_zio_pack(in, big, 10, &p, &why) == -1);
	CHECK(ha_zio_unpack(d, big, 10, &p, &why) == -1);
	ha_zio_free(d);
	ha_zio_free(in);
	ha_zio_free(NULL);
	ha_buf_free(&p);
}

int
main(void)
{
	t_suite = "zio";
	RUN(random_is_stored);
	RUN(looks_random_small);
	RUN(interleaved);
	RUN(malformed);
	RUN(malformed_zstd);
	RUN(bomb);
	RUN(zstd_frames);
	RUN(pack_limits);
	return t_done();
}
