/*
 * libFuzzer target for the configuration decoder (core/config*): the
 * input is a habox.conf; its first line is also offered as an environment
 * variable and its second as a -o override, so those paths are fuzzed too.
 * Every accepted config is printed back (ha_cfg_format).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
line(const char *s, size_t len, size_t n)
{
	const char *e;

	while (n-- && (e = memchr(s, '\n', len)) != NULL) {
		len -= (size_t)(e + 1 - s);
		s = e + 1;
	}
	e = memchr(s, '\n', len);
	return ha_xstrndup(s, e ? (size_t)(e - s) : len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *env[2] = { NULL, NULL };
	const char *ov[1];
	struct ha_cfg *cfg;
	struct ha_buf out = { 0 };

	ha_log_init("fuzz", 0);
	env[0] = line(text, size, 0);
	ov[0] = line(text, size, 1);
	cfg = ha_cfg_parse("fuzz.conf", text, size, env, ov, 1, NULL);
	if (cfg) {
		ha_cfg_format(cfg, &out);
		ha_buf_free(&out);
	}
	ha_cfg_free(cfg);
	free(env[0]);
	free((char *)ov[0]);
	return 0;
}
