/*
 * zio: hasync's compression, one compressed stream per transfer cut into
 * chunks: zstd (RFC 8878) flushed at the end of each chunk
 * (ZSTD_e_flush, zstd.h), or a raw deflate stream (RFC 1951) cut with
 * Z_SYNC_FLUSH (zlib.h) for a peer without zstd.
 *
 * Chunk: u8 type | u32 len (big-endian) | payload
 *	type 0 STORED:   len = payload length, the bytes themselves
 *	type 1 DEFLATED: len = bytes it inflates to (1..HA_ZIO_CHUNK),
 *			 payload = deflate output ending in a sync flush
 *	type 2 ZSTD:     len = bytes it decompresses to (1..HA_ZIO_CHUNK),
 *			 payload = one whole zstd frame that says so
 * One stream uses DEFLATED or ZSTD chunks, never both, and STORED ones.
 *
 * zstd: each chunk is compressed on its own, with no history from the
 * chunks before it: measured at level 1 on text, twice as fast as one
 * zstd stream flushed at each chunk (290-400 against 150-210 MB/s) for 4%
 * more bytes (0.242 against 0.232). zstd stores incompressible blocks
 * itself, so the sender sends what zstd made of any chunk it tried. The
 * receiver decompresses a frame into a buffer of the announced length:
 * no window to allocate, nothing to keep in step.
 *
 * zlib:
 * Keeping the dictionaries in step: deflate may refer back up to 32 KiB
 * into earlier chunks, so both windows must always hold the true last
 * 32 KiB of the stream, stored chunks included. The receiver appends a
 * stored chunk to its window with inflateSetDictionary (allowed at any
 * point of a raw stream). The sender may have run deflate on a chunk it
 * then stored (output not smaller), which leaves its stream state ahead
 * of anything sent; so after any stored chunk it marks itself stale and,
 * before deflating again, resets and loads the last 32 KiB it keeps in
 * hist as the dictionary. Both windows then hold the same bytes.
 */
#include "core/zio.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define HDR 5
#define WIN (32 * 1024)
enum { T_STORED = 0, T_DEFLATED = 1, T_ZSTD = 2 };

struct ha_zio {
	z_stream zs;
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	int deflater, level, ready, stale, failed;
	int seen;			/* receiver: T_DEFLATED or T_ZSTD seen */
	uint8_t *tmp;			/* up to HA_ZIO_CHUNK + 1 */
	size_t tmp_cap;
	uint8_t hist[WIN];		/* sender: last bytes of the stream */
	size_t hist_len;
	struct ha_zio_stats st;
};

struct ha_zio *
ha_zio_packer(int codec, int level)
{
	struct ha_zio *z = ha_xcalloc(1, sizeof(*z));

	z->deflater = 1;
	z->level = level < 0 ? 0 : level > 9 ? 9 : level;
	if (z->level > 0 && codec == HA_ZIO_ZSTD) {
		z->zc = ZSTD_createCCtx();
		if (z->zc == NULL || ZSTD_isError(ZSTD_CCtx_setParameter(z->zc,
		    ZSTD_c_compressionLevel, z->level))) {
			ZSTD_freeCCtx(z->zc);
			free(z);
			return NULL;
		}
	} else if (z->level > 0) {
		/* Raw deflate: no zlib header or Adler-32. */
		if (deflateInit2(&z->zs, z->level, Z_DEFLATED, -15, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			return NULL;
		}
		z->ready = 1;
	}
	return z;
}

struct ha_zio *
ha_zio_unpacker(void)
{
	struct ha_zio *z = ha_xcalloc(1, sizeof(*z));

	if (inflateInit2(&z->zs, -15) != Z_OK) {
		free(z);
		return NULL;
	}
	z->ready = 1;
	return z;
}

void
ha_zio_free(struct ha_zio *z)
{
	if (z == NULL)
		return;
	if (z->ready) {
		if (z->deflater)
			deflateEnd(&z->zs);
		else
			inflateEnd(&z->zs);
	}
	ZSTD_freeCCtx(z->zc);
	ZSTD_freeDCtx(z->zd);
	free(z->tmp);
	free(z);
}

void
ha_zio_stats(const struct ha_zio *z, struct ha_zio_stats *st)
{
	*st = z->st;
}

static void
hist_add(struct ha_zio *z, const uint8_t *p, size_t n)
{
	if (n >= WIN) {
		memcpy(z->hist, p + n - WIN, WIN);
		z->hist_len = WIN;
		return;
	}
	if (z->hist_len + n > WIN) {
		size_t drop = z->hist_len + n - WIN;

		memmove(z->hist, z->hist + drop, z->hist_len - drop);
		z->hist_len -= drop;
	}
	memcpy(z->hist + z->hist_len, p, n);
	z->hist_len += n;
}

/*
 * Random or already compressed data has a flat byte histogram; testing a
 * sample (64 runs of 64 bytes) costs far less than deflating it. The sum
 * of squared counts for N uniform samples is about N * N / 256 + N; text
 * and most binaries land far above. A flat histogram over data with long
 * repeats (the same random block twice) is stored though deflate would
 * have shrunk it: an accepted loss.
 */
int
ha_zio_looks_random(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t cnt[256] = { 0 };
	uint64_t sq = 0, N = 0;
	size_t run, i, j, step;

	/* The runs must not overlap: step >= 64. */
	if (n < HA_ZIO_SAMPLE_MIN)
		return 0;
	step = n / 64;
	for (i = 0; i < 64; i++)
		for (j = 0, run = i * step; j < 64; j++)
			cnt[p[run + j]]++, N++;
	for (i = 0; i < 256; i++)
		sq += (uint64_t)cnt[i] * cnt[i];
	return sq * 10 < (N * N / 256 + N) * 12;
}

static void
put_hdr(struct ha_buf *out, int type, size_t len)
{
	uint8_t h[HDR];

	h[0] = (uint8_t)type;
	h[1] = (uint8_t)(len >> 24);
	h[2] = (uint8_t)(len >> 16);
	h[3] = (uint8_t)(len >> 8);
	h[4] = (uint8_t)len;
	ha_buf_add(out, h, sizeof(h));
}

/* tmp grows to the largest chunk seen (small transfers stay small). */
static void
tmp_room(struct ha_zio *z, size_t n)
{
	if (n > z->tmp_cap) {
		z->tmp = ha_xrealloc(z->tmp, n);
		z->tmp_cap = n;
	}
}

/* Deflate p into tmp; the compressed length, or 0 if not smaller. */
static size_t
try_deflate(struct ha_zio *z, const uint8_t *p, size_t n)
{
	if (n < 2 || ha_zio_looks_random(p, n))
		return 0;
	if (z->stale) {
		deflateReset(&z->zs);
		if (z->hist_len)
			deflateSetDictionary(&z->zs, z->hist,
			    (uInt)z->hist_len);
		z->stale = 0;
	}
	tmp_room(z, n - 1);
	z->zs.next_in = (Bytef *)(uintptr_t)p;
	z->zs.avail_in = (uInt)n;
	z->zs.next_out = z->tmp;
	z->zs.avail_out = (uInt)(n - 1);
	/*
	 * Done only when all input went in and output space is left (with
	 * none left more output may be pending): otherwise it did not
	 * shrink, and the stream state is past what the peer will see.
	 */
	if (deflate(&z->zs, Z_SYNC_FLUSH) != Z_OK || z->zs.avail_in != 0 ||
	    z->zs.avail_out == 0) {
		z->stale = 1;
		return 0;
	}
	return n - 1 - z->zs.avail_out;
}

/*
 * Compress p with zstd into tmp, one frame; the compressed length, or 0
 * when it looks random (then stored); -1 if zstd failed.
 */
static long
try_zstd(struct ha_zio *z, const uint8_t *p, size_t n)
{
	size_t r;

	if (n < 2 || ha_zio_looks_random(p, n))
		return 0;
	tmp_room(z, HA_ZIO_MAX_PACKED - HDR);
	r = ZSTD_compress2(z->zc, z->tmp, HA_ZIO_MAX_PACKED - HDR, p, n);
	return ZSTD_isError(r) ? -1 : (long)r;
}

int
ha_zio_pack(struct ha_zio *z, const void *data, size_t n, struct ha_buf *out,
    const char **why)
{
	const uint8_t *p = data;
	size_t clen = 0;

	if (!z->deflater) {
		*why = "zio: pack on an inflater";
		return -1;
	}
	if (n > HA_ZIO_CHUNK) {
		*why = "zio: chunk too large";
		return -1;
	}
	if (z->failed) {
		*why = "zio: stream already failed";
		return -1;
	}
	if (z->zc != NULL) {
		long zl = try_zstd(z, p, n);

		if (zl == -1) {
			z->failed = 1;
			*why = "zio: zstd failed";
			return -1;
		}
		if (zl > 0) {
			put_hdr(out, T_ZSTD, n);
			ha_buf_add(out, z->tmp, (size_t)zl);
			z->st.deflated_chunks++;
			z->st.out += HDR + (uint64_t)zl;
		} else {
			put_hdr(out, T_STORED, n);
			ha_buf_add(out, p, n);
			z->st.stored_chunks++;
			z->st.out += HDR + n;
		}
		z->st.in += n;
		return 0;
	}
	if (z->level > 0)
		clen = try_deflate(z, p, n);
	if (clen > 0) {
		put_hdr(out, T_DEFLATED, n);
		ha_buf_add(out, z->tmp, clen);
		z->st.deflated_chunks++;
		z->st.out += HDR + clen;
	} else {
		put_hdr(out, T_STORED, n);
		ha_buf_add(out, p, n);
		z->st.stored_chunks++;
		z->st.out += HDR + n;
		/* The deflater's window lacks these bytes (see the top). */
		if (n > 0)
			z->stale = 1;
	}
	z->st.in += n;
	if (z->level > 0)
		hist_add(z, p, n);
	return 0;
}

static int
bad(struct ha_zio *z, const char **why, const char *msg)
{
	z->failed = 1;
	*why = msg;
	return -1;
}

/* Both: len is 1..HA_ZIO_CHUNK (the caller checks). */
static int
inflate_chunk(struct ha_zio *z, const uint8_t *p, size_t n, size_t len,
    struct ha_buf *out, const char **why)
{
	int ret;

	tmp_room(z, len + 1);
	z->zs.next_in = (Bytef *)(uintptr_t)p;
	z->zs.avail_in = (uInt)n;
	z->zs.next_out = z->tmp;
	/* One byte of room more than announced: a longer chunk shows. */
	z->zs.avail_out = (uInt)len + 1;
	ret = inflate(&z->zs, Z_SYNC_FLUSH);
	if (ret == Z_STREAM_END)
		return bad(z, why, "zio: deflate stream ended inside a chunk");
	if (ret != Z_OK && ret != Z_BUF_ERROR)
		return bad(z, why, "zio: corrupt deflate data");
	if (z->zs.avail_in != 0 || len + 1 - z->zs.avail_out != len)
		return bad(z, why, "zio: chunk inflates to another length");
	/*
	 * It must end on the sync flush (an empty stored block, so between
	 * blocks and on a byte boundary): a chunk cut short could still
	 * give all its bytes but leave the stream out of step.
	 */
	if (n < 4 || memcmp(p + n - 4, "\0\0\xff\xff", 4) != 0 ||
	    (z->zs.data_type & 0x1ff) != 128)
		return bad(z, why, "zio: chunk does not end on a sync flush");
	ha_buf_add(out, z->tmp, len);
	z->st.deflated_chunks++;
	return 0;
}

static int
zstd_chunk(struct ha_zio *z, const uint8_t *p, size_t n, size_t len,
    struct ha_buf *out, const char **why)
{
	size_t r;

	/* One frame, exactly, that says it holds len bytes. */
	if (ZSTD_findFrameCompressedSize(p, n) != n)
		return bad(z, why, "zio: zstd chunk is not one whole frame");
	if (ZSTD_getFrameContentSize(p, n) != len)
		return bad(z, why, "zio: zstd frame of another length");
	if (z->zd == NULL && (z->zd = ZSTD_createDCtx()) == NULL)
		return bad(z, why, "zio: cannot start zstd");
	tmp_room(z, len);
	r = ZSTD_decompressDCtx(z->zd, z->tmp, len, p, n);
	if (ZSTD_isError(r))
		return bad(z, why, "zio: corrupt zstd data");
	if (r != len)
		return bad(z, why, "zio: chunk decompresses to another length");
	ha_buf_add(out, z->tmp, len);
	z->st.deflated_chunks++;
	return 0;
}

int
ha_zio_unpack(struct ha_zio *z, const uint8_t *p, size_t n,
    struct ha_buf *out, const char **why)
{
	size_t len;

	if (z->deflater) {
		*why = "zio: unpack on a deflater";
		return -1;
	}
	if (z->failed) {
		*why = "zio: stream already failed";
		return -1;
	}
	if (n < HDR || n > HA_ZIO_MAX_PACKED)
		return bad(z, why, "zio: chunk size out of range");
	len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
	    p[4];
	switch (p[0]) {
	case T_STORED:
		if (len != n - HDR || len > HA_ZIO_CHUNK)
			return bad(z, why, "zio: stored chunk length wrong");
		ha_buf_add(out, p + HDR, len);
		/*
		 * Into deflate's window: the sender's next chunk may refer to
		 * it (zstd streams leave stored chunks out).
		 */
		if (len > 0 && z->seen != T_ZSTD && inflateSetDictionary(&z->zs, len > WIN ?
		    p + n - WIN : p + HDR, len > WIN ? WIN : (uInt)len) != Z_OK)
			return bad(z, why, "zio: cannot extend the window");
		z->st.stored_chunks++;
		break;
	case T_DEFLATED:
	case T_ZSTD:
		if (z->seen && z->seen != p[0])
			return bad(z, why, "zio: deflate and zstd in one stream");
		if (len == 0 || len > HA_ZIO_CHUNK)
			return bad(z, why, "zio: compressed chunk length out of "
			    "range");
		z->seen = p[0];
		if ((p[0] == T_ZSTD ? zstd_chunk(z, p + HDR, n - HDR, len, out,
		    why) : inflate_chunk(z, p + HDR, n - HDR, len, out, why)) ==
		    -1)
			return -1;
		break;
	default:
		return bad(z, why, "zio: unknown chunk type");
	}
	z->st.in += n;
	z->st.out += len;
	return 0;
}
