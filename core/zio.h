/*
 * zio: zlib streams for hasync's data. The sender packs a byte stream
 * (delta ops and literals) into self-describing chunks, each either
 * deflated or stored (when deflate would not make it smaller: random or
 * already compressed data goes through without the cost); the receiver
 * unpacks them in order. One deflate stream per transfer keeps the
 * dictionary across chunks; a stored chunk keeps both sides' dictionaries
 * in step. Unpack is decoder of network input: sizes are checked, output
 * is bounded (no zip bombs), a fuzz target covers it.
 */
#ifndef HA_ZIO_H
#define HA_ZIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define HA_ZIO_CHUNK (256 * 1024)	/* largest input to one pack() */
#define HA_ZIO_MAX_PACKED (HA_ZIO_CHUNK + 64)	/* largest chunk out */

struct ha_zio;

/* level 0: every chunk stored; 1-9 zlib levels. */
struct ha_zio *ha_zio_deflater(int level);
struct ha_zio *ha_zio_inflater(void);
void ha_zio_free(struct ha_zio *z);

/* Append one chunk for n <= HA_ZIO_CHUNK input bytes to out. */
int ha_zio_pack(struct ha_zio *z, const void *p, size_t n, struct ha_buf *out,
    const char **why);

/*
 * Unpack one chunk (exactly as pack made it) and append its bytes to out
 * (at most HA_ZIO_CHUNK). -1 with *why on anything malformed.
 */
int ha_zio_unpack(struct ha_zio *z, const uint8_t *p, size_t n,
    struct ha_buf *out, const char **why);

/*
 * Does p look random (already compressed, encrypted)? A byte histogram of
 * a sample, for n >= HA_ZIO_SAMPLE_MIN (smaller: 0). pack() stores such
 * a chunk without trying deflate; a sender that keeps random-looking
 * data and the rest in separate chunks gets the former through at the
 * cost of a copy.
 */
#define HA_ZIO_SAMPLE_MIN 4096
int ha_zio_looks_random(const void *p, size_t n);

/* Totals for the log and benchmarks. */
struct ha_zio_stats {
	uint64_t in, out, stored_chunks, deflated_chunks;
};
void ha_zio_stats(const struct ha_zio *z, struct ha_zio_stats *st);

#endif
