/*
 * mbedTLS's ChaCha20 context when MBEDTLS_CHACHA20_ALT is set
 * (deps/mbedtls_config.h): the functions of mbedtls/chacha20.h are ours,
 * in core/chacha20.c (four blocks at a time with SSE2). deps.sh puts this
 * file next to mbedtls/chacha20.h, which includes it.
 */
#ifndef HA_CHACHA20_ALT_H
#define HA_CHACHA20_ALT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_chacha20_context {
	uint32_t state[16];	/* constants, key, counter, nonce */
	uint8_t keystream[64];	/* of the block before state's counter */
	size_t used;		/* keystream bytes used (64: none left) */
} mbedtls_chacha20_context;

#endif
