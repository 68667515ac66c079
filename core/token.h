/*
 * One-time join tokens: "HBX1." + base64url of the cluster CA's SHA-256
 * (so the joining node can authenticate the server) and a random secret
 * (so the server can authenticate the joining node). The server keeps only
 * the secret's SHA-256 and expiry, in <state_dir>/join-tokens, until the
 * token is used once or expires.
 */
#ifndef HA_TOKEN_H
#define HA_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HA_TOKEN_SECRET 20

/* "HBX1." + base64url(fp || secret) into out (at least 96 bytes). */
void ha_token_format(const uint8_t fp[32], const uint8_t *secret,
    char *out, size_t n);
/* 0, or -1 with *why for a malformed token. */
int ha_token_parse(const char *token, uint8_t fp[32],
    uint8_t secret[HA_TOKEN_SECRET], const char **why);
/* Remember a token's hash until `expires` (wall clock). */
int ha_token_store(const char *state_dir, const uint8_t *secret,
    time_t expires);
/*
 * Use a token: it must be stored, unexpired and unused; it is removed
 * (durably) before this returns 0. -1 with *why otherwise.
 */
int ha_token_consume(const char *state_dir, const uint8_t *secret,
    size_t n, const char **why);

#endif
