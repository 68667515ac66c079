/*
 * The wire format between nodes (DESIGN.md "Wire protocol"): frames
 * `u32 length | u8 type | payload`, big-endian, length = payload bytes, at
 * most HA_WIRE_MAX; payloads are TLV fields `u16 tag | u32 length | value`,
 * where tag bit 15 marks a field the receiver must understand (unknown
 * critical fields are refused, unknown others skipped). Every decoder
 * checks each length before use and refuses truncated, oversized,
 * duplicated or unknown-critical input with a reason.
 */
#ifndef HA_WIRE_H
#define HA_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define HA_WIRE_PROTO 1			/* protocol version in HELLO */
#define HA_WIRE_HDR 5			/* u32 length + u8 type */
#define HA_WIRE_MAX (1024 * 1024)	/* largest payload */
#define HA_TLV_HDR 6			/* u16 tag + u32 length */
#define HA_TLV_CRIT 0x8000		/* the receiver must know the tag */

/* Frame types. Ranges: 1-15 common, 16-63 hawatch, 64-127 hasync. */
enum ha_msg {
	HA_MSG_HELLO = 1,
	HA_MSG_ERROR = 2,
	HA_MSG_PING = 3,
	HA_MSG_PONG = 4,
	HA_MSG_ENROLL = 5,	/* join: token + CSR */
	HA_MSG_CERT = 6,	/* the signed certificate + CA */
	HA_MSG_RENEW = 7,	/* re-issue: CSR, from an authenticated node */
};

/* Append a whole frame to out. */
void ha_wire_frame(struct ha_buf *out, uint8_t type, const void *payload,
    size_t n);

/*
 * Look for one frame at the start of p[0..n). Returns 1 and sets *type,
 * *payload, *plen, *used when a whole frame is there; 0 when more bytes
 * are needed (*used = bytes needed in total, when known); -1 with *why when
 * the frame can never be valid (length above max, unknown type 0).
 */
int ha_wire_parse(const uint8_t *p, size_t n, size_t max, uint8_t *type,
    const uint8_t **payload, size_t *plen, size_t *used, const char **why);

/* --- TLV payloads ------------------------------------------------------- */

void ha_tlv_u8(struct ha_buf *b, uint16_t tag, uint8_t v);
void ha_tlv_u16(struct ha_buf *b, uint16_t tag, uint16_t v);
void ha_tlv_u32(struct ha_buf *b, uint16_t tag, uint32_t v);
void ha_tlv_u64(struct ha_buf *b, uint16_t tag, uint64_t v);
void ha_tlv_bytes(struct ha_buf *b, uint16_t tag, const void *p, size_t n);
void ha_tlv_str(struct ha_buf *b, uint16_t tag, const char *s);
/* A nested field: begin returns a mark for end, which sets its length. */
size_t ha_tlv_begin(struct ha_buf *b, uint16_t tag);
void ha_tlv_end(struct ha_buf *b, size_t mark);

enum ha_tlv_type {
	HA_TLV_U8 = 1, HA_TLV_U16, HA_TLV_U32, HA_TLV_U64,
	HA_TLV_BYTES,	/* struct ha_tlv_slice */
	HA_TLV_STR,	/* struct ha_tlv_slice: UTF-8, no NUL */
	HA_TLV_NEST,	/* struct ha_tlv_slice: decode it with its own spec */
};

/* A value inside the decoded buffer (borrowed: valid while it lives). */
struct ha_tlv_slice {
	const uint8_t *p;
	uint32_t n;
};

/*
 * One known field: its tag (with HA_TLV_CRIT if it is critical), type,
 * whether it is required, where it goes in the output struct (uint8_t,
 * uint16_t, uint32_t, uint64_t or struct ha_tlv_slice), and for byte
 * types the largest length accepted (0: HA_WIRE_MAX).
 */
struct ha_tlv_spec {
	uint16_t tag;
	uint8_t type;
	uint8_t required;
	size_t off;
	uint32_t max;
};

/*
 * Decode p[0..n) by spec (ends with a zero tag) into out. *seen (may be
 * NULL) gets bit i for spec[i] present. 0, or -1 with *why.
 */
int ha_tlv_decode(const uint8_t *p, size_t n, const struct ha_tlv_spec *spec,
    void *out, uint32_t *seen, const char **why);

/* A slice as a NUL-terminated copy (caller frees). */
char *ha_tlv_strdup(const struct ha_tlv_slice *s);

/* Big-endian helpers. */
void ha_put_be16(uint8_t *p, uint16_t v);
void ha_put_be32(uint8_t *p, uint32_t v);
void ha_put_be64(uint8_t *p, uint64_t v);
uint16_t ha_get_be16(const uint8_t *p);
uint32_t ha_get_be32(const uint8_t *p);
uint64_t ha_get_be64(const uint8_t *p);

#endif
