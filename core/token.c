/*
 * Join tokens (see token.h). Comparisons of secrets are constant-time;
 * a token is removed durably before the certificate it pays for is sent,
 * so a crash can lose a token but never let it be used twice.
 */
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "core/log.h"
#include "core/state.h"
#include "core/util.h"

#define PREFIX "HBX1."
#define RAW (32 + HA_TOKEN_SECRET)

void
ha_token_format(const uint8_t fp[32], const uint8_t *secret, char *out,
    size_t n)
{
	unsigned char raw[RAW], b64[96];
	size_t len = 0, i;

	memcpy(raw, fp, 32);
	memcpy(raw + 32, secret, HA_TOKEN_SECRET);
	mbedtls_base64_encode(b64, sizeof(b64), &len, raw, sizeof(raw));
	for (i = 0; i < len; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	while (len && b64[len - 1] == '=')
		len--;
	snprintf(out, n, "%s%.*s", PREFIX, (int)len, b64);
	ha_wipe(raw, sizeof(raw));
	ha_wipe(b64, sizeof(b64));
}

int
ha_token_parse(const char *token, uint8_t fp[32],
    uint8_t secret[HA_TOKEN_SECRET], const char **why)
{
	unsigned char b64[100], raw[RAW + 4];
	size_t len, i, out = 0;

	*why = "not a habox join token (it starts with " PREFIX ")";
	if (strncmp(token, PREFIX, strlen(PREFIX)) != 0)
		return -1;
	token += strlen(PREFIX);
	len = strcspn(token, " \t\r\n");
	*why = "a damaged join token (copy it again, whole)";
	if (len == 0 || len > 90 || token[len + strspn(token + len,
	    " \t\r\n")] != '\0')
		return -1;
	for (i = 0; i < len; i++)
		b64[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' :
		    (unsigned char)token[i];
	while (i % 4)
		b64[i++] = '=';
	if (mbedtls_base64_decode(raw, sizeof(raw), &out, b64, i) != 0 ||
	    out != RAW)
		return -1;
	memcpy(fp, raw, 32);
	memcpy(secret, raw + 32, HA_TOKEN_SECRET);
	ha_wipe(raw, sizeof(raw));
	ha_wipe(b64, sizeof(b64));
	return 0;
}

static char *
store_path(const char *state_dir)
{
	return ha_xasprintf("%s/join-tokens", state_dir);
}

static void
hash_hex(const uint8_t *secret, size_t n, char hex[65])
{
	uint8_t h[32];
	int i;

	mbedtls_sha256(secret, n, h, 0);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

int
ha_token_store(const char *state_dir, const uint8_t *secret, time_t expires)
{
	struct ha_state *st;
	char hex[65], key[32], val[96];
	char *path = store_path(state_dir);
	size_t i;
	int rc = -1;

	if (ha_state_load(path, &st) == -1)
		goto out;
	/* Forget expired tokens while we are here. */
	for (i = ha_state_count(st); i-- > 0;) {
		long long exp = 0;

		if (sscanf(ha_state_value_at(st, i), "%*64s %lld", &exp) == 1 &&
		    exp <= (long long)time(NULL))
			ha_state_unset(st, ha_state_key_at(st, i));
	}
	hash_hex(secret, HA_TOKEN_SECRET, hex);
	snprintf(key, sizeof(key), "t.%.16s", hex);
	snprintf(val, sizeof(val), "%s %lld", hex, (long long)expires);
	ha_state_set(st, key, val);
	rc = ha_state_save(st, path);
	ha_state_free(st);
out:
	free(path);
	return rc;
}

/* memcmp that takes the same time wherever the first difference is. */
static int
same(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
ha_token_consume(const char *state_dir, const uint8_t *secret, size_t n,
    const char **why)
{
	struct ha_state *st = NULL;
	char hex[65], key[32], stored[65];
	char *path = store_path(state_dir);
	const char *val;
	long long exp;
	int rc = -1;

	*why = "the join token store cannot be read (see the log)";
	if (n != HA_TOKEN_SECRET || ha_state_load(path, &st) == -1)
		goto out;
	hash_hex(secret, n, hex);
	snprintf(key, sizeof(key), "t.%.16s", hex);
	*why = "unknown or already used join token (make a new one with "
	    "hactl token)";
	if ((val = ha_state_get(st, key)) == NULL ||
	    sscanf(val, "%64s %lld", stored, &exp) != 2 || strlen(stored) != 64 ||
	    !same(stored, hex, 64))
		goto out;
	ha_state_unset(st, key);
	if (exp <= (long long)time(NULL)) {
		*why = "the join token has expired (make a new one with hactl "
		    "token)";
		ha_state_save(st, path);
		goto out;
	}
	*why = "the join token store cannot be written (see the log)";
	if (ha_state_save(st, path) == -1)
		goto out;
	rc = 0;
out:
	ha_state_free(st);
	free(path);
	return rc;
}
