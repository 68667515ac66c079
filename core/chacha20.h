/*
 * core/chacha20.c implements mbedTLS's ChaCha20 API (mbedtls/chacha20.h,
 * with MBEDTLS_CHACHA20_ALT); this header has only its test seam.
 */
#ifndef HA_CHACHA20_H
#define HA_CHACHA20_H

/* Tests: on, the AVX2 code is not used (SSE2 and one-block code only). */
void ha_chacha20_no_avx2(int on);

#endif
