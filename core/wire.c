/*
 * Frames and TLV payloads (see wire.h). The decoders never read a byte
 * before checking that the length they were given covers it, and refuse
 * rather than guess.
 */
#include "core/wire.h"

#include <stdlib.h>
#include <string.h>

void
ha_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
ha_put_be32(uint8_t *p, uint32_t v)
{
	ha_put_be16(p, (uint16_t)(v >> 16));
	ha_put_be16(p + 2, (uint16_t)v);
}

void
ha_put_be64(uint8_t *p, uint64_t v)
{
	ha_put_be32(p, (uint32_t)(v >> 32));
	ha_put_be32(p + 4, (uint32_t)v);
}

uint16_t
ha_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
ha_get_be32(const uint8_t *p)
{
	return (uint32_t)ha_get_be16(p) << 16 | ha_get_be16(p + 2);
}

uint64_t
ha_get_be64(const uint8_t *p)
{
	return (uint64_t)ha_get_be32(p) << 32 | ha_get_be32(p + 4);
}

void
ha_wire_frame(struct ha_buf *out, uint8_t type, const void *payload, size_t n)
{
	uint8_t h[HA_WIRE_HDR];

	ha_put_be32(h, (uint32_t)n);
	h[4] = type;
	ha_buf_add(out, h, sizeof(h));
	ha_buf_add(out, payload, n);
}

int
ha_wire_parse(const uint8_t *p, size_t n, size_t max, uint8_t *type,
    const uint8_t **payload, size_t *plen, size_t *used, const char **why)
{
	uint32_t len;

	*used = HA_WIRE_HDR;
	if (n < HA_WIRE_HDR)
		return 0;
	len = ha_get_be32(p);
	if (len > max) {
		*why = "frame longer than the maximum";
		return -1;
	}
	if (p[4] == 0) {
		*why = "frame of type 0";
		return -1;
	}
	*used = HA_WIRE_HDR + (size_t)len;
	if (n < *used)
		return 0;
	*type = p[4];
	*payload = p + HA_WIRE_HDR;
	*plen = len;
	return 1;
}

static void
tlv_head(struct ha_buf *b, uint16_t tag, uint32_t len)
{
	uint8_t h[HA_TLV_HDR];

	ha_put_be16(h, tag);
	ha_put_be32(h + 2, len);
	ha_buf_add(b, h, sizeof(h));
}

void
ha_tlv_u8(struct ha_buf *b, uint16_t tag, uint8_t v)
{
	tlv_head(b, tag, 1);
	ha_buf_add(b, &v, 1);
}

void
ha_tlv_u16(struct ha_buf *b, uint16_t tag, uint16_t v)
{
	uint8_t x[2];

	ha_put_be16(x, v);
	tlv_head(b, tag, 2);
	ha_buf_add(b, x, 2);
}

void
ha_tlv_u32(struct ha_buf *b, uint16_t tag, uint32_t v)
{
	uint8_t x[4];

	ha_put_be32(x, v);
	tlv_head(b, tag, 4);
	ha_buf_add(b, x, 4);
}

void
ha_tlv_u64(struct ha_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t x[8];

	ha_put_be64(x, v);
	tlv_head(b, tag, 8);
	ha_buf_add(b, x, 8);
}

void
ha_tlv_bytes(struct ha_buf *b, uint16_t tag, const void *p, size_t n)
{
	tlv_head(b, tag, (uint32_t)n);
	ha_buf_add(b, p, n);
}

void
ha_tlv_str(struct ha_buf *b, uint16_t tag, const char *s)
{
	ha_tlv_bytes(b, tag, s, strlen(s));
}

size_t
ha_tlv_begin(struct ha_buf *b, uint16_t tag)
{
	size_t mark = b->len;

	tlv_head(b, tag, 0);
	return mark;
}

void
ha_tlv_end(struct ha_buf *b, size_t mark)
{
	ha_put_be32((uint8_t *)b->s + mark + 2,
	    (uint32_t)(b->len - mark - HA_TLV_HDR));
}

/* Valid UTF-8 without NUL (overlong forms and surrogates refused). */
static int
utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0, k, need;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

static const size_t scalar_len[] = {
	[HA_TLV_U8] = 1, [HA_TLV_U16] = 2, [HA_TLV_U32] = 4, [HA_TLV_U64] = 8,
};

/* Store one field's value; 0 or -1 with *why. */
static int
store(const struct ha_tlv_spec *s, const uint8_t *v, uint32_t len, void *out,
    const char **why)
{
	char *f = (char *)out + s->off;
	struct ha_tlv_slice *sl = (struct ha_tlv_slice *)f;

	switch (s->type) {
	case HA_TLV_U8: case HA_TLV_U16: case HA_TLV_U32: case HA_TLV_U64:
		if (len != scalar_len[s->type]) {
			*why = "a number field of the wrong length";
			return -1;
		}
		if (s->type == HA_TLV_U8)
			*(uint8_t *)f = v[0];
		else if (s->type == HA_TLV_U16)
			*(uint16_t *)f = ha_get_be16(v);
		else if (s->type == HA_TLV_U32)
			*(uint32_t *)f = ha_get_be32(v);
		else
			*(uint64_t *)f = ha_get_be64(v);
		return 0;
	case HA_TLV_STR:
		if (!utf8_ok(v, len)) {
			*why = "a text field that is not UTF-8";
			return -1;
		}
		/* fall through */
	case HA_TLV_BYTES:
	case HA_TLV_NEST:
		if (len > (s->max ? s->max : HA_WIRE_MAX)) {
			*why = "a field longer than allowed";
			return -1;
		}
		sl->p = v;
		sl->n = len;
		return 0;
	}
	*why = "a field of unknown type";
	return -1;
}

int
ha_tlv_decode(const uint8_t *p, size_t n, const struct ha_tlv_spec *spec,
    void *out, uint32_t *seen, const char **why)
{
	uint32_t got = 0;
	size_t i, pos = 0;

	while (pos < n) {
		uint16_t tag;
		uint32_t len;

		if (n - pos < HA_TLV_HDR) {
			*why = "a truncated field header";
			return -1;
		}
		tag = ha_get_be16(p + pos);
		len = ha_get_be32(p + pos + 2);
		pos += HA_TLV_HDR;
		if (len > n - pos) {
			*why = "a field longer than the message";
			return -1;
		}
		for (i = 0; spec[i].tag; i++)
			if ((spec[i].tag & ~HA_TLV_CRIT) == (tag & ~HA_TLV_CRIT))
				break;
		if (spec[i].tag == 0) {
			if (tag & HA_TLV_CRIT) {
				*why = "an unknown critical field";
				return -1;
			}
		} else {
			if (got & (1u << i)) {
				*why = "a duplicated field";
				return -1;
			}
			got |= 1u << i;
			if (store(&spec[i], p + pos, len, out, why) == -1)
				return -1;
		}
		pos += len;
	}
	for (i = 0; spec[i].tag; i++)
		if (spec[i].required && !(got & (1u << i))) {
			*why = "a required field is missing";
			return -1;
		}
	if (seen)
		*seen = got;
	return 0;
}

char *
ha_tlv_strdup(const struct ha_tlv_slice *s)
{
	char *c = ha_xmalloc((size_t)s->n + 1);

	if (s->n)
		memcpy(c, s->p, s->n);
	c[s->n] = '\0';
	return c;
}
