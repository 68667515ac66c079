/*
 * habox's mbedTLS 3.6 configuration: only what our peers speak.
 * TLS 1.3 (certificate ECDHE and PSK-ephemeral) with TLS 1.2 fallback
 * (ECDHE-ECDSA, ECDHE-PSK), P-256 and X25519, AES-GCM and
 * ChaCha20-Poly1305, x509 parse and write (CA, CSR, certificates),
 * CTR-DRBG seeded from getrandom(2) (core/rand.c), SHA-256; SHA-1 only for
 * certificate key identifiers. No RSA, DTLS, renegotiation, CRL or legacy
 * ciphers. The library and every file including mbedTLS headers are built
 * with this very file (MBEDTLS_CONFIG_FILE).
 */
#ifndef HA_MBEDTLS_CONFIG_H
#define HA_MBEDTLS_CONFIG_H

/* platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_FS_IO

/* entropy: our getrandom(2) poll, no /dev/random (absent in rescue images) */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C

/* ciphers and hashes */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_GCM_C
/* GCM itself is ours: core/gcm.c, eight blocks at a time with AES-NI. */
#define MBEDTLS_GCM_ALT
#define MBEDTLS_CHACHA20_C
/* ChaCha20 itself is ours: core/chacha20.c, four blocks at a time. */
#define MBEDTLS_CHACHA20_ALT
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_HKDF_C

/* public keys: EC only */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* x509: verify peers, make the cluster CA, CSRs and node certificates */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CSR_WRITE_C

/* PSA (TLS 1.3 needs it) */
#define MBEDTLS_PSA_CRYPTO_C

/* TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_PSK_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED

/* messages for mbedtls_strerror() in core/tls */
#define MBEDTLS_ERROR_C

#endif
