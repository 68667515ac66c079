/*
 * libFuzzer target for the join-token decoder (core/token): what an
 * operator pastes or a file holds. Accepted tokens must format back to
 * themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = ha_xstrndup((const char *)data, size), back[128];
	uint8_t fp[32], secret[HA_TOKEN_SECRET];
	const char *why;

	if (ha_token_parse(s, fp, secret, &why) == 0) {
		ha_token_format(fp, secret, back, sizeof(back));
		if (strncmp(back, s, strlen(back)) != 0)
			__builtin_trap();
	}
	free(s);
	return 0;
}
