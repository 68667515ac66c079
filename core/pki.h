/*
 * The cluster's small PKI on mbedTLS x509write: EC P-256 keys, a
 * self-signed cluster CA, node certificates (CN = node, O = habox,
 * OU = cluster) signed from CSRs, fingerprints. Join tokens: core/token.
 */
#ifndef HA_PKI_H
#define HA_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/util.h"

#define HA_DAY 86400

/* A new EC P-256 key as PEM, written atomically with mode 0600. */
int ha_pki_new_key(const char *path);
/* A self-signed CA for the cluster, valid from now for `days`. */
int ha_pki_new_ca(const char *cluster, const char *key_path,
    const char *crt_path, int days);
/* A CSR for node (PEM, into out). */
int ha_pki_csr(const char *key_path, const char *cluster, const char *node,
    struct ha_buf *out);
/*
 * Sign a CSR (PEM) for node with the CA: the CSR must name node (CN) and
 * be validly self-signed; the certificate is built from our own subject
 * template, valid [not_before, not_after]. PEM into out. 0, or -1
 * (logged).
 */
int ha_pki_sign(const char *ca_crt, const char *ca_key, const char *cluster,
    const char *node, const uint8_t *csr, size_t n, time_t not_before,
    time_t not_after, struct ha_buf *out);
/*
 * Check a certificate (PEM in memory) before using it: it chains to the CA
 * file, names node in cluster, and belongs to the key file. 0 or -1
 * (logged).
 */
int ha_pki_verify(const char *ca_path, const char *pem, size_t n,
    const char *key_path, const char *cluster, const char *node);
/* SHA-256 of the (first) certificate in a PEM file. */
int ha_pki_fingerprint(const char *crt_path, uint8_t fp[32]);
/* Subject, issuer, validity and fingerprint as text; *not_after set. */
int ha_pki_describe(const char *crt_path, struct ha_buf *out,
    time_t *not_after);

#endif
