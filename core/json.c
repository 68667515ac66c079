/*
 * JSON strings (see json.h). UTF-8 is checked as RFC 3629 defines it: no
 * overlong forms, no surrogates, nothing above U+10FFFF.
 */
#include "core/json.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0. */
static int
utf8_len(const unsigned char *s)
{
	int n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	/* A NUL ends the string before any continuation byte. */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

void
ha_json_str(struct ha_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	if (s == NULL) {
		ha_buf_puts(b, "null");
		return;
	}
	ha_buf_add(b, "\"", 1);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			ha_buf_printf(b, "\\%c", *p++);
		} else if (*p == '\n') {
			ha_buf_puts(b, "\\n");
			p++;
		} else if (*p == '\t') {
			ha_buf_puts(b, "\\t");
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			ha_buf_printf(b, "\\u%04x", *p++);
		} else if ((n = utf8_len(p)) == 0) {
			ha_buf_puts(b, "\\ufffd");
			p++;
		} else {
			ha_buf_add(b, p, (size_t)n);
			p += n;
		}
	}
	ha_buf_add(b, "\"", 1);
}
