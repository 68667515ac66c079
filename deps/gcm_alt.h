/*
 * mbedTLS's GCM context when MBEDTLS_GCM_ALT is set
 * (deps/mbedtls_config.h): the functions of mbedtls/gcm.h are ours, in
 * core/gcm.c (sixteen blocks at a time with VAES and VPCLMULQDQ, eight
 * with AES-NI and PCLMULQDQ). deps.sh
 * puts this file next to mbedtls/gcm.h, which includes it.
 */
#ifndef HA_GCM_ALT_H
#define HA_GCM_ALT_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/aes.h"

typedef struct mbedtls_gcm_context {
	/* AES-NI round keys (fast != 0), 16-byte aligned for the loads. */
	uint8_t rk[15 * 16] __attribute__((aligned(16)));
	/* H^1..H^16, byte-reversed, for PCLMULQDQ (fast != 0). */
	uint8_t hpow[16][16] __attribute__((aligned(16)));
	mbedtls_aes_context aes;	/* the portable path's cipher */
	uint8_t h[16];		/* E(K, 0^128) */
	uint8_t y[16];		/* the GHASH accumulator */
	uint8_t ek0[16];	/* E(K, J0), for the tag */
	uint8_t cb[16];		/* the next counter block */
	uint8_t ks[16];		/* keystream of the last partial block */
	uint8_t buf[16];	/* a partial block of GHASH input */
	uint64_t len;		/* bytes of text so far */
	uint64_t add_len;	/* bytes of additional data so far */
	int rounds;		/* 10 or 14 with fast, else 0 */
	int fast;		/* AES-NI and PCLMULQDQ for this key */
	int wide;		/* and VAES, VPCLMULQDQ, AVX-512 */
	int keyed;
	int mode;		/* MBEDTLS_GCM_ENCRYPT or _DECRYPT */
} mbedtls_gcm_context;

#endif
