/*
 * delta: the rsync algorithm (our own code). The receiver sends the
 * signature of its copy (the basis); the sender finds the basis's blocks
 * in its file with a rolling weak checksum and a hash table, confirms
 * them with a truncated strong hash and emits a stream of copy and
 * literal ops ending with the whole file's SHA-256; the receiver applies
 * the stream against its basis into a new file and checks that hash.
 *
 * Both encodings (signature and op stream) are decoded from the network:
 * every length and index is checked, and a fuzz target covers each.
 * Their layouts are in core/delta_int.h. On a read or write error *why
 * is strerror(errno) and errno is kept; other *why strings are static.
 */
#ifndef HA_DELTA_H
#define HA_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define HA_DELTA_SHA_LEN 32
#define HA_DELTA_OUT_CHUNK (64 * 1024)	/* largest piece given to out() */
#define HA_DELTA_LIT_MAX (32 * 1024)	/* largest LITERAL op */

/* The block length for a basis of this size (sqrt-ish, bounded). */
uint32_t ha_delta_block_len(uint64_t size);

/*
 * Signature of the basis read from fd (from offset 0, size bytes),
 * encoded into out (appended). The strong hash length is chosen from
 * the size so the collision risk stays negligible. -1 with *why on a
 * read error.
 */
int ha_delta_sig_make(int fd, uint64_t size, struct ha_buf *out,
    const char **why);

/* A decoded signature with its hash index (opaque). */
struct ha_delta_sig;

/* Decode and index a signature (untrusted input). NULL with *why. */
struct ha_delta_sig *ha_delta_sig_load(const uint8_t *p, size_t n,
    const char **why);
void ha_delta_sig_free(struct ha_delta_sig *sig);

/* Where the op stream goes, in pieces of at most HA_DELTA_OUT_CHUNK. */
typedef int (*ha_delta_out_fn)(void *arg, const void *p, size_t n);

struct ha_delta_stats {
	uint64_t matched;	/* bytes copied from the basis */
	uint64_t literal;	/* bytes sent as literals */
};

/*
 * The op stream that turns the basis into the file read from fd (size
 * bytes, from offset 0); sig NULL means no basis (all literal). The
 * stream starts with a header (block length, target size) and ends with
 * the target's SHA-256, also returned in sha. out() returning non-zero
 * stops it (-1). -1 with *why on a read error or if the file changed
 * size while being read.
 */
int ha_delta_make(int fd, uint64_t size, const struct ha_delta_sig *sig,
    ha_delta_out_fn out, void *arg, uint8_t sha[HA_DELTA_SHA_LEN],
    struct ha_delta_stats *st, const char **why);

/* Applying an op stream (opaque state). */
struct ha_delta_apply;

/*
 * Apply into out_fd (written sequentially from its current offset),
 * reading blocks of the basis with pread from basis_fd (-1: no basis,
 * any copy op is an error), basis_size bytes long.
 */
struct ha_delta_apply *ha_delta_apply_new(int basis_fd, uint64_t basis_size,
    int out_fd);

/*
 * Feed the next bytes of the stream, split anywhere. Returns 0 when more
 * is expected, 1 when the end was reached and the output's SHA-256
 * matched (trailing bytes after the end are an error), -1 with *why on
 * a malformed stream, a copy past the basis, a size or hash mismatch or
 * a write error. After -1 or 1 the state accepts nothing more.
 */
int ha_delta_apply_feed(struct ha_delta_apply *a, const void *p, size_t n,
    const char **why);

/*
 * Bytes written so far; the verified SHA-256 after feed returned 1 (NULL
 * before).
 */
uint64_t ha_delta_apply_written(const struct ha_delta_apply *a);
const uint8_t *ha_delta_apply_sha(const struct ha_delta_apply *a);
void ha_delta_apply_free(struct ha_delta_apply *a);

/* Whole-file SHA-256 of fd from offset 0 (size bytes). */
int ha_delta_file_sha(int fd, uint64_t size, uint8_t sha[HA_DELTA_SHA_LEN],
    const char **why);

#endif
