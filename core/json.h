/*
 * Writing JSON (RFC 8259) for machines: `--json` outputs. Only what the
 * applets need: strings escaped correctly whatever bytes they hold.
 */
#ifndef HA_JSON_H
#define HA_JSON_H

#include "core/util.h"

/*
 * Append s as a JSON string: quoted, '"', '\\' and control characters
 * escaped, bytes that are not UTF-8 replaced by U+FFFD so the output is
 * always valid. NULL appends null.
 */
void ha_json_str(struct ha_buf *b, const char *s);

#endif
