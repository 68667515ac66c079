/*
 * The election's messages on the wire: one frame of type HA_MSG_ELECT
 * whose TLV payload carries a struct ha_elect_msg. The receiver never
 * trusts the sender field: hawatch sets it from the TLS identity.
 */
#ifndef HA_ELECT_MSG_H
#define HA_ELECT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/elect.h"
#include "core/util.h"

#define HA_MSG_ELECT 16

void ha_elect_msg_encode(const struct ha_elect_msg *m, struct ha_buf *out);
/* 0, or -1 with *why (kind unknown, fields missing or malformed). */
int ha_elect_msg_decode(const uint8_t *p, size_t n, struct ha_elect_msg *m,
    const char **why);

#endif
