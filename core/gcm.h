/*
 * core/gcm.c implements mbedTLS's GCM API (mbedtls/gcm.h, with
 * MBEDTLS_GCM_ALT); this header has its test seam and what TLS asks of it.
 */
#ifndef HA_GCM_H
#define HA_GCM_H

/* The paths a key set from now on may take (tests limit them). */
enum ha_gcm_path {
	HA_GCM_WIDE,		/* 16 blocks: VAES, VPCLMULQDQ, AVX-512 */
	HA_GCM_XMM,		/* 8 blocks: AES-NI, PCLMULQDQ */
	HA_GCM_PORTABLE,	/* mbedTLS's AES, bit-serial GHASH */
};

/* The fastest path keys set from now on take on this CPU. */
enum ha_gcm_path ha_gcm_path(void);

/* Tests: keys set from now on take path p or a slower one. */
void ha_gcm_limit(enum ha_gcm_path p);

#endif
