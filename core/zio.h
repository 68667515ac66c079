/*
 * zio: compressed streams for hasync's data. The sender packs a byte
 * stream (delta ops and literals) into self-describing chunks, each
 * either compressed (zstd, or zlib for a peer without zstd) or stored
 * (random or already compressed data goes through without the cost);
 * the receiver unpacks them in order, whichever codec the sender chose.
 * zstd compresses each chunk on its own (faster); zlib keeps one stream
 * per transfer, its history across chunks.
 * Unpack is a decoder of network input: sizes are checked, output and
 * memory are bounded (no zip bombs), a fuzz target covers it.
 */
#ifndef HA_ZIO_H
#define HA_ZIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define HA_ZIO_CHUNK (256 * 1024)	/* largest input to one pack() */
/* The largest chunk out: above ZSTD_compressBound(HA_ZIO_CHUNK) + 5. */
#define HA_ZIO_MAX_PACKED (HA_ZIO_CHUNK + HA_ZIO_CHUNK / 128 + 512)

enum { HA_ZIO_ZLIB = 1, HA_ZIO_ZSTD = 2 };

struct ha_zio;

/*
 * A sender's stream: codec HA_ZIO_ZSTD or HA_ZIO_ZLIB, level 0 (every
 * chunk stored) or 1-9 (the codec's level). NULL if the codec failed.
 */
struct ha_zio *ha_zio_packer(int codec, int level);
/* A receiver's stream: either codec. */
struct ha_zio *ha_zio_unpacker(void);
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

/* Totals for the log and benchmarks (deflated: compressed by either). */
struct ha_zio_stats {
	uint64_t in, out, stored_chunks, deflated_chunks;
};
void ha_zio_stats(const struct ha_zio *z, struct ha_zio_stats *st);

#endif
