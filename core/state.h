/*
 * Persistent state (term, vote, sync generations, ...) as key=value pairs
 * in a small text file with a CRC-32 trailer, and atomic file writes for
 * everything habox persists: temp file in the same directory, write all,
 * fsync, rename, fsync the directory. On any failure the old file stays
 * and the temp file is removed; a torn or corrupted state file is
 * detected and refused, never trusted silently.
 */
#ifndef HA_STATE_H
#define HA_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ha_state;

struct ha_state *ha_state_new(void);
void ha_state_free(struct ha_state *st);

/*
 * Load path into *out (caller frees). Returns 1 when loaded, 0 when the
 * file does not exist (*out is empty), -1 when it is unreadable or
 * corrupt (logged; *out is NULL).
 */
int ha_state_load(const char *path, struct ha_state **out);

/*
 * Decode the text of a state file (len bytes, named `name` in messages)
 * into *out (caller frees). 0, or -1 (logged) when it is corrupt.
 */
int ha_state_parse(const char *buf, size_t len, const char *name,
    struct ha_state **out);

/* Write atomically with a checksum; 0, or -1 (logged, old file kept). */
int ha_state_save(const struct ha_state *st, const char *path);

/* The value of key (borrowed), or NULL. */
const char *ha_state_get(const struct ha_state *st, const char *key);
/* 0 and *v, or -1 when absent or not a number. */
int ha_state_get_u64(const struct ha_state *st, const char *key,
    uint64_t *v);

/*
 * Set key (letters, digits, '_', '.', '-'; at most 128) to any value
 * (newlines and bytes are escaped in the file). -1 for a bad key.
 */
int ha_state_set(struct ha_state *st, const char *key, const char *value);
int ha_state_set_u64(struct ha_state *st, const char *key, uint64_t v);
void ha_state_unset(struct ha_state *st, const char *key);

/* Number of keys, and the i-th key and value in key order. */
size_t ha_state_count(const struct ha_state *st);
const char *ha_state_key_at(const struct ha_state *st, size_t i);
const char *ha_state_value_at(const struct ha_state *st, size_t i);

/*
 * Replace path with data atomically (see above), creating it with mode.
 * 0, or -1 (logged).
 */
int ha_file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode);

/*
 * Test seam: called at each stage of ha_file_write_atomic ("written",
 * "synced", "renamed") when set; tests use it to crash at a given point.
 */
extern void (*ha_state_test_hook)(const char *stage);

#endif
