/*
 * Text that habox writes for PostgreSQL: libpq connection strings (for
 * primary_conninfo and the tools) and settings in postgresql.auto.conf
 * (a standby's primary_conninfo). Pure string work, no I/O. Quoting rules:
 * PostgreSQL 15 documentation, "Connection Strings" (libpq) and "Setting
 * Parameters" (configuration files).
 */
#ifndef HA_PGCONF_H
#define HA_PGCONF_H

#include <stddef.h>

#include "core/util.h"

/*
 * Append " key=value" (no leading space when b is empty) to a libpq
 * connection string, the value in single quotes with \ and ' escaped by a
 * backslash, so any value is safe.
 */
void ha_pgconf_conninfo_add(struct ha_buf *b, const char *key,
    const char *value);

/* Append value as a configuration-file string: '...', ' and \ doubled. */
void ha_pgconf_quote(struct ha_buf *b, const char *value);

/*
 * Edit the text of a postgresql.auto.conf (len bytes): remove every line
 * that sets a parameter named in drop or set (case-blind, as the server
 * compares), keep every other line as it is, then append `key = 'value'`
 * for each pair of set. drop is NULL-terminated; set is NULL-terminated
 * pairs (key, value, key, value, ..., NULL); either may be NULL. Keys must
 * be parameter names (letters, digits, '_', '.'). Writes the new text to
 * *out (caller frees). 0, or -1 with *why for input with a NUL byte or
 * longer than 1 MiB.
 */
int ha_pgconf_edit(const char *text, size_t len, const char *const *drop,
    const char *const *set, struct ha_buf *out, const char **why);

/*
 * The value that the text of a postgresql.auto.conf gives to key (the last
 * line setting it wins, as in the server), unquoted, in *out (caller
 * frees). 1 when set, 0 when not, -1 with *why for bad input.
 */
int ha_pgconf_get(const char *text, size_t len, const char *key,
    struct ha_buf *out, const char **why);

#endif
