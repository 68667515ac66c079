/*
 * Keys, the cluster CA, node certificates and join tokens (see pki.h).
 * Randomness comes straight from the kernel (core/rand) so that no DRBG
 * state is shared with TLS connections.
 */
#include "core/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "core/log.h"
#include "core/rand.h"
#include "core/state.h"

#define PEM_MAX 4096

static int
rng(void *p, unsigned char *out, size_t n)
{
	(void)p;
	return ha_rand_bytes(out, n) == 0 ? 0 : -1;
}

static int
fail(int ret, const char *what, const char *path)
{
	char buf[160];

	mbedtls_strerror(ret, buf, sizeof(buf));
	ha_log(HA_FAILURE, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
	    buf);
	return -1;
}

int
ha_pki_new_key(const char *path)
{
	mbedtls_pk_context pk;
	unsigned char pem[PEM_MAX];
	int ret, rc = -1;

	mbedtls_pk_init(&pk);
	if ((ret = mbedtls_pk_setup(&pk,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_pk_ec(pk), rng, NULL)) != 0 ||
	    (ret = mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem))) != 0) {
		fail(ret, "cannot make a key for", path);
		goto out;
	}
	rc = ha_file_write_atomic(path, pem, strlen((char *)pem), 0600);
out:
	ha_wipe(pem, sizeof(pem));
	mbedtls_pk_free(&pk);
	return rc;
}

static int
load_key(mbedtls_pk_context *pk, const char *path)
{
	int ret;

	mbedtls_pk_init(pk);
	if ((ret = mbedtls_pk_parse_keyfile(pk, path, NULL, rng, NULL)) != 0)
		return fail(ret, "cannot load the key", path);
	return 0;
}

/* "YYYYMMDDhhmmss" in UTC, as x509write wants. */
static void
x509_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y%m%d%H%M%S", &tm);
}

/* Build, sign and PEM-encode a certificate. */
static int
issue(mbedtls_pk_context *subject_key, const char *subject,
    mbedtls_pk_context *issuer_key, const char *issuer, int ca,
    time_t not_before, time_t not_after, struct ha_buf *out)
{
	mbedtls_x509write_cert w;
	unsigned char serial[16], pem[PEM_MAX];
	char nb[16], na[16];
	int ret;

	mbedtls_x509write_crt_init(&w);
	if (ha_rand_bytes(serial, sizeof(serial)) == -1)
		return -1;
	serial[0] &= 0x7f;	/* a positive number */
	serial[0] |= 0x01;
	x509_time(not_before, nb, sizeof(nb));
	x509_time(not_after, na, sizeof(na));
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, subject_key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	if ((ret = mbedtls_x509write_crt_set_serial_raw(&w, serial,
	    sizeof(serial))) != 0 ||
	    (ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, issuer)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, ca,
	    ca ? 0 : -1)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_key_usage(&w, ca ?
	    MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN :
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0 ||
	    (ret = mbedtls_x509write_crt_pem(&w, pem, sizeof(pem), rng,
	    NULL)) != 0) {
		mbedtls_x509write_crt_free(&w);
		return fail(ret, "cannot make a certificate for", subject);
	}
	mbedtls_x509write_crt_free(&w);
	ha_buf_puts(out, (char *)pem);
	return 0;
}

int
ha_pki_new_ca(const char *cluster, const char *key_path, const char *crt_path,
    int days)
{
	mbedtls_pk_context key;
	struct ha_buf pem = { 0 };
	char *dn = ha_xasprintf("CN=habox CA,O=habox,OU=%s", cluster);
	time_t now = time(NULL);
	int rc = -1;

	if (load_key(&key, key_path) == -1)
		goto out;
	/* An hour back: a peer whose clock is a little behind accepts it. */
	if (issue(&key, dn, &key, dn, 1, now - 3600, now + (time_t)days * HA_DAY,
	    &pem) == -1)
		goto out;
	rc = ha_file_write_atomic(crt_path, pem.s, pem.len, 0644);
out:
	mbedtls_pk_free(&key);
	ha_buf_free(&pem);
	free(dn);
	return rc;
}

int
ha_pki_csr(const char *key_path, const char *cluster, const char *node,
    struct ha_buf *out)
{
	mbedtls_x509write_csr w;
	mbedtls_pk_context key;
	unsigned char pem[PEM_MAX];
	char *dn = ha_xasprintf("CN=%s,O=habox,OU=%s", node, cluster);
	int ret, rc = -1;

	mbedtls_x509write_csr_init(&w);
	if (load_key(&key, key_path) == -1)
		goto out;
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, &key);
	if ((ret = mbedtls_x509write_csr_set_subject_name(&w, dn)) != 0 ||
	    (ret = mbedtls_x509write_csr_pem(&w, pem, sizeof(pem), rng,
	    NULL)) != 0) {
		fail(ret, "cannot make a certificate request for", node);
		goto out;
	}
	ha_buf_puts(out, (char *)pem);
	rc = 0;
out:
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&key);
	free(dn);
	return rc;
}

/* The CN of a parsed name list, or -1. */
static int
name_cn(const mbedtls_x509_name *nm, char *out, size_t n)
{
	for (; nm; nm = nm->next)
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &nm->oid) == 0) {
			if (nm->val.len >= n || memchr(nm->val.p, 0, nm->val.len))
				return -1;
			memcpy(out, nm->val.p, nm->val.len);
			out[nm->val.len] = '\0';
			return 0;
		}
	return -1;
}

int
ha_pki_sign(const char *ca_crt, const char *ca_key, const char *cluster,
    const char *node, const uint8_t *csr, size_t n, time_t not_before,
    time_t not_after, struct ha_buf *out)
{
	mbedtls_x509_csr req;
	mbedtls_x509_crt ca;
	mbedtls_pk_context key;
	char cn[128], issuer[256], *dn = NULL;
	unsigned char *copy = ha_xmalloc(n + 1);
	int ret, rc = -1;

	mbedtls_x509_csr_init(&req);
	mbedtls_x509_crt_init(&ca);
	mbedtls_pk_init(&key);
	/* PEM parsing wants the terminating NUL counted. */
	memcpy(copy, csr, n);
	copy[n] = '\0';
	if ((ret = mbedtls_x509_csr_parse(&req, copy, n + 1)) != 0) {
		fail(ret, "a bad certificate request from", node);
		goto out;
	}
	if (name_cn(&req.subject, cn, sizeof(cn)) == -1 ||
	    strcmp(cn, node) != 0) {
		ha_log(HA_FAILURE, "the certificate request from %s is for "
		    "another name", node);
		goto out;
	}
	if ((ret = mbedtls_x509_crt_parse_file(&ca, ca_crt)) != 0) {
		fail(ret, "cannot load the CA", ca_crt);
		goto out;
	}
	if (load_key(&key, ca_key) == -1)
		goto out;
	if (mbedtls_x509_dn_gets(issuer, sizeof(issuer), &ca.subject) < 0)
		goto out;
	dn = ha_xasprintf("CN=%s,O=habox,OU=%s", node, cluster);
	rc = issue(&req.pk, dn, &key, issuer, 0, not_before, not_after, out);
out:
	mbedtls_x509_csr_free(&req);
	mbedtls_x509_crt_free(&ca);
	mbedtls_pk_free(&key);
	free(copy);
	free(dn);
	return rc;
}

/* The value of one subject attribute of a certificate, or -1. */
static int
subject_get(const mbedtls_x509_crt *c, const char *oid, size_t len,
    char *out, size_t n)
{
	const mbedtls_x509_name *nm;

	for (nm = &c->subject; nm; nm = nm->next)
		if (nm->oid.len == len && memcmp(nm->oid.p, oid, len) == 0 &&
		    nm->val.len < n && !memchr(nm->val.p, 0, nm->val.len)) {
			memcpy(out, nm->val.p, nm->val.len);
			out[nm->val.len] = '\0';
			return 0;
		}
	return -1;
}

int
ha_pki_verify(const char *ca_path, const char *pem, size_t n,
    const char *key_path, const char *cluster, const char *node)
{
	mbedtls_x509_crt ca, crt;
	mbedtls_pk_context key;
	unsigned char *copy = ha_xmalloc(n + 1);
	char cn[128], ou[128];
	uint32_t flags;
	int rc = -1;

	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&key);
	memcpy(copy, pem, n);
	copy[n] = '\0';
	if (mbedtls_x509_crt_parse_file(&ca, ca_path) != 0 ||
	    mbedtls_x509_crt_parse(&crt, copy, n + 1) != 0) {
		ha_log(HA_FAILURE, "the certificate received cannot be read");
		goto out;
	}
	if (mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL,
	    NULL) != 0) {
		ha_log(HA_FAILURE, "the certificate received is not valid under "
		    "%s (flags 0x%x)", ca_path, (unsigned)flags);
		goto out;
	}
	if (subject_get(&crt, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(
	    MBEDTLS_OID_AT_CN), cn, sizeof(cn)) == -1 || strcmp(cn, node) ||
	    subject_get(&crt, MBEDTLS_OID_AT_ORG_UNIT, MBEDTLS_OID_SIZE(
	    MBEDTLS_OID_AT_ORG_UNIT), ou, sizeof(ou)) == -1 ||
	    strcmp(ou, cluster)) {
		ha_log(HA_FAILURE, "the certificate received is not for %s of "
		    "cluster %s", node, cluster);
		goto out;
	}
	if (load_key(&key, key_path) == -1)
		goto out;
	if (mbedtls_pk_check_pair(&crt.pk, &key, rng, NULL) != 0) {
		ha_log(HA_FAILURE, "the certificate received is not for our key "
		    "%s", key_path);
		goto out;
	}
	rc = 0;
out:
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);
	free(copy);
	return rc;
}

int
ha_pki_fingerprint(const char *crt_path, uint8_t fp[32])
{
	mbedtls_x509_crt crt;
	int ret;

	mbedtls_x509_crt_init(&crt);
	if ((ret = mbedtls_x509_crt_parse_file(&crt, crt_path)) != 0) {
		mbedtls_x509_crt_free(&crt);
		return fail(ret, "cannot load the certificate", crt_path);
	}
	mbedtls_sha256(crt.raw.p, crt.raw.len, fp, 0);
	mbedtls_x509_crt_free(&crt);
	return 0;
}

static time_t
to_epoch(const mbedtls_x509_time *t)
{
	struct tm tm = { 0 };

	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	return timegm(&tm);
}

int
ha_pki_describe(const char *crt_path, struct ha_buf *out, time_t *not_after)
{
	mbedtls_x509_crt crt;
	char subj[256], iss[256], nb[32], na[32];
	uint8_t fp[32];
	time_t b, a, now = time(NULL);
	struct tm tm;
	int ret, i;

	mbedtls_x509_crt_init(&crt);
	if ((ret = mbedtls_x509_crt_parse_file(&crt, crt_path)) != 0) {
		mbedtls_x509_crt_free(&crt);
		return fail(ret, "cannot load the certificate", crt_path);
	}
	mbedtls_x509_dn_gets(subj, sizeof(subj), &crt.subject);
	mbedtls_x509_dn_gets(iss, sizeof(iss), &crt.issuer);
	b = to_epoch(&crt.valid_from);
	a = to_epoch(&crt.valid_to);
	strftime(nb, sizeof(nb), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&b, &tm));
	strftime(na, sizeof(na), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&a, &tm));
	mbedtls_sha256(crt.raw.p, crt.raw.len, fp, 0);
	ha_buf_printf(out, "file:        %s\nsubject:     %s\nissuer:      %s\n"
	    "valid from:  %s\nvalid until: %s (%s%lld days)\nsha256:      ",
	    crt_path, subj, iss, nb, na, a < now ? "expired " : "",
	    (long long)((a > now ? a - now : now - a) / HA_DAY));
	for (i = 0; i < 32; i++)
		ha_buf_printf(out, "%02x%s", fp[i], i < 31 ? ":" : "\n");
	*not_after = a;
	mbedtls_x509_crt_free(&crt);
	return 0;
}
