/*
 * Peer TLS on mbedTLS 3.6 (see tls.h). One context holds the two
 * configurations (client and server), the DRBG and the credentials; each
 * connection is an mbedtls_ssl_context over a non-blocking socket. All
 * mbedTLS error codes are turned into our words in explain(), the one
 * place that knows them.
 */
#include "core/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "core/gcm.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"

enum mode { M_CERT, M_PSK, M_PIN };

struct ha_tls_ctx {
	enum mode mode;
	mbedtls_ssl_config cli, srv;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;		/* trusted CA */
	mbedtls_x509_crt chain;		/* our certificate, then the CA */
	mbedtls_pk_context key;
	unsigned char psk[64];
	size_t psk_len;
	unsigned char pin[32];
	char *cluster, *self, *identity;
	char **peers;
	size_t n_peers;
};

struct ha_tls {
	struct ha_tls_ctx *ctx;
	mbedtls_ssl_context ssl;
	int fd;
	int server;
	int done;
	char addr[80];
	char *expect;
	char *peer;
	char why[200];		/* set by callbacks when they refuse */
	char version[80];
	/* read ahead in a bulk transfer (bio_recv) */
	uint8_t *rbuf;
	size_t rpos, rlen;
};

/* Enough for a few full TLS records per recv(2). */
#define RBUF_SIZE 65536
/* A record body this large starts the read-ahead. */
#define RBUF_START 8192

static const uint16_t groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

/*
 * Preference order (the client's in TLS 1.3, the server's in 1.2).
 * AES-128-GCM first on CPUs with AES-NI and PCLMULQDQ: GCM is ours there
 * (core/gcm.c, 8 or 16 blocks at a time: 4.3 GB/s on the bench machine
 * against 0.97 GB/s for ChaCha20-Poly1305), and hasync's data goes through
 * it on each side. Elsewhere ChaCha20-Poly1305 first (core/chacha20.c,
 * SSE2 at least), since the portable GCM is slow. Both are always offered,
 * so older peers still agree on one.
 */
static const int cert_suites_aes[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

static const int cert_suites_chacha[] = {
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	0,
};

/* TLS 1.2 ECDHE-PSK has no GCM suite in mbedTLS: ChaCha20-Poly1305. */
static const int psk_suites_aes[] = {
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

static const int psk_suites_chacha[] = {
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

int
ha_tls_check_key_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		ha_log_errno(HA_FAILURE, "%s", path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		ha_log(HA_FAILURE, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & 077) {
		ha_log(HA_FAILURE, "%s is readable or writable by others (mode "
		    "%04o): refusing a secret that others can read; run "
		    "'chmod 600 %s'", path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		ha_log(HA_FAILURE, "%s belongs to uid %u, not to us or root: "
		    "refusing it", path, (unsigned)st.st_uid);
		return -1;
	}
	return 0;
}

/* The PSK file: hex digits (whitespace allowed), at least 32 bytes. */
static int
load_psk(struct ha_tls_ctx *ctx, const char *path)
{
	char text[512];
	size_t n = 0, i;
	ssize_t r;
	int fd;

	if (ha_tls_check_key_file(path) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ha_log_errno(HA_FAILURE, "cannot read %s", path);
		return -1;
	}
	r = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (r < 0) {
		ha_log_errno(HA_FAILURE, "cannot read %s", path);
		return -1;
	}
	for (i = 0; i < (size_t)r; i++) {
		char c = text[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
		    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
			continue;
		if (v < 0 || n / 2 >= sizeof(ctx->psk)) {
			n = 1;
			break;
		}
		ctx->psk[n / 2] = (unsigned char)(n % 2 ? ctx->psk[n / 2] | v :
		    v << 4);
		n++;
	}
	ha_wipe(text, sizeof(text));
	if (n % 2 || n / 2 < 32) {
		ha_wipe(ctx->psk, sizeof(ctx->psk));
		ha_log(HA_FAILURE, "%s: a pre-shared key is at least 32 bytes "
		    "(64 hex digits) and at most 64 bytes, hex only", path);
		return -1;
	}
	ctx->psk_len = n / 2;
	return 0;
}

static int
mbed_fail(int ret, const char *what, const char *path)
{
	char buf[160];

	mbedtls_strerror(ret, buf, sizeof(buf));
	ha_log(HA_FAILURE, "%s %s: %s", what, path, buf);
	return -1;
}

static int
load_certs(struct ha_tls_ctx *ctx, const struct ha_tls_creds *c)
{
	int ret;

	if ((ret = mbedtls_x509_crt_parse_file(&ctx->ca, c->ca)) != 0)
		return mbed_fail(ret, "cannot load the cluster CA", c->ca);
	if ((ret = mbedtls_x509_crt_parse_file(&ctx->chain, c->cert)) != 0)
		return mbed_fail(ret, "cannot load this node's certificate",
		    c->cert);
	/* Send the CA along, so a joining node can check it by its pin. */
	if ((ret = mbedtls_x509_crt_parse_file(&ctx->chain, c->ca)) != 0)
		return mbed_fail(ret, "cannot load the cluster CA", c->ca);
	if (ha_tls_check_key_file(c->key) == -1)
		return -1;
	if ((ret = mbedtls_pk_parse_keyfile(&ctx->key, c->key, NULL,
	    mbedtls_ctr_drbg_random, &ctx->drbg)) != 0)
		return mbed_fail(ret, "cannot load this node's key", c->key);
	if (mbedtls_pk_check_pair(&ctx->chain.pk, &ctx->key,
	    mbedtls_ctr_drbg_random, &ctx->drbg) != 0) {
		ha_log(HA_FAILURE, "%s does not belong to %s", c->key, c->cert);
		return -1;
	}
	return 0;
}

static int psk_lookup(void *p, mbedtls_ssl_context *ssl,
    const unsigned char *id, size_t len);

static void
setup_conf(struct ha_tls_ctx *ctx, mbedtls_ssl_config *conf, int endpoint,
    const struct ha_tls_creds *c)
{
	mbedtls_ssl_config_defaults(conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
	    MBEDTLS_SSL_PRESET_DEFAULT);
	mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &ctx->drbg);
	mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_groups(conf, groups);
	if (ctx->mode == M_PSK) {
		mbedtls_ssl_conf_ciphersuites(conf, ha_gcm_path() != HA_GCM_PORTABLE ?
		    psk_suites_aes : psk_suites_chacha);
		mbedtls_ssl_conf_tls13_key_exchange_modes(conf,
		    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);
		mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
		if (endpoint == MBEDTLS_SSL_IS_CLIENT)
			mbedtls_ssl_conf_psk(conf, ctx->psk, ctx->psk_len,
			    (const unsigned char *)ctx->identity,
			    strlen(ctx->identity));
		else
			mbedtls_ssl_conf_psk_cb(conf, psk_lookup, ctx);
		return;
	}
	mbedtls_ssl_conf_ciphersuites(conf, ha_gcm_path() != HA_GCM_PORTABLE ?
	    cert_suites_aes : cert_suites_chacha);
	mbedtls_ssl_conf_tls13_key_exchange_modes(conf,
	    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
	if (ctx->mode == M_PIN) {
		/* No CA yet: the server's chain is checked against the pin. */
		mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
		return;
	}
	mbedtls_ssl_conf_ca_chain(conf, &ctx->ca, NULL);
	mbedtls_ssl_conf_own_cert(conf, &ctx->chain, &ctx->key);
	mbedtls_ssl_conf_authmode(conf, endpoint == MBEDTLS_SSL_IS_SERVER &&
	    c->allow_anonymous ? MBEDTLS_SSL_VERIFY_OPTIONAL :
	    MBEDTLS_SSL_VERIFY_REQUIRED);
}

struct ha_tls_ctx *
ha_tls_ctx_new(const struct ha_tls_creds *c)
{
	static int psa_ready;
	struct ha_tls_ctx *ctx;
	size_t i;

	if (!psa_ready && psa_crypto_init() != PSA_SUCCESS) {
		ha_log(HA_FAILURE, "cannot start the crypto library (no "
		    "randomness from the kernel?)");
		return NULL;
	}
	psa_ready = 1;
	ctx = ha_xcalloc(1, sizeof(*ctx));
	ctx->mode = c->psk_file ? M_PSK : c->ca_pin ? M_PIN : M_CERT;
	ctx->cluster = ha_xstrdup(c->cluster);
	ctx->self = ha_xstrdup(c->self);
	ctx->identity = ha_xasprintf("%s/%s", c->cluster, c->self);
	for (i = 0; c->peers && c->peers[i]; i++) {
		ctx->peers = ha_xreallocarray(ctx->peers, i + 1, sizeof(char *));
		ctx->peers[i] = ha_xstrdup(c->peers[i]);
		ctx->n_peers = i + 1;
	}
	mbedtls_entropy_init(&ctx->entropy);
	mbedtls_ctr_drbg_init(&ctx->drbg);
	mbedtls_x509_crt_init(&ctx->ca);
	mbedtls_x509_crt_init(&ctx->chain);
	mbedtls_pk_init(&ctx->key);
	mbedtls_ssl_config_init(&ctx->cli);
	mbedtls_ssl_config_init(&ctx->srv);
	if (mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func,
	    &ctx->entropy, (const unsigned char *)"habox", 5) != 0) {
		ha_log(HA_FAILURE, "cannot seed the random generator");
		goto fail;
	}
	if (ctx->mode == M_PSK && load_psk(ctx, c->psk_file) == -1)
		goto fail;
	if (ctx->mode == M_PIN)
		memcpy(ctx->pin, c->ca_pin, sizeof(ctx->pin));
	if (ctx->mode == M_CERT && load_certs(ctx, c) == -1)
		goto fail;
	setup_conf(ctx, &ctx->cli, MBEDTLS_SSL_IS_CLIENT, c);
	setup_conf(ctx, &ctx->srv, MBEDTLS_SSL_IS_SERVER, c);
	return ctx;
fail:
	ha_tls_ctx_free(ctx);
	return NULL;
}

struct ha_tls_ctx *
ha_tls_ctx_from_cfg(const struct ha_cfg *cfg)
{
	const struct ha_cfg_cluster *cl = cfg->cluster;
	struct ha_tls_creds c = { 0 };
	const char **peers = ha_xcalloc(cfg->n_nodes + 1, sizeof(char *));
	struct ha_tls_ctx *ctx;
	size_t i;

	for (i = 0; i < cfg->n_nodes; i++)
		peers[i] = cfg->nodes[i].name;
	c.cluster = cl->name;
	c.self = cl->node;
	c.peers = peers;
	c.ca = cl->ca;
	c.cert = cl->cert;
	c.key = cl->key;
	c.psk_file = cl->psk_file;
	ctx = ha_tls_ctx_new(&c);
	free(peers);
	return ctx;
}

void
ha_tls_ctx_free(struct ha_tls_ctx *ctx)
{
	size_t i;

	if (ctx == NULL)
		return;
	mbedtls_ssl_config_free(&ctx->cli);
	mbedtls_ssl_config_free(&ctx->srv);
	mbedtls_x509_crt_free(&ctx->ca);
	mbedtls_x509_crt_free(&ctx->chain);
	mbedtls_pk_free(&ctx->key);
	mbedtls_ctr_drbg_free(&ctx->drbg);
	mbedtls_entropy_free(&ctx->entropy);
	ha_wipe(ctx->psk, sizeof(ctx->psk));
	for (i = 0; i < ctx->n_peers; i++)
		free(ctx->peers[i]);
	free(ctx->peers);
	free(ctx->cluster);
	free(ctx->self);
	free(ctx->identity);
	free(ctx);
}

void
ha_tls_ctx_after_fork(struct ha_tls_ctx *ctx)
{
	mbedtls_ctr_drbg_reseed(&ctx->drbg, NULL, 0);
}

int
ha_tls_random(struct ha_tls_ctx *ctx, void *p, size_t n)
{
	return mbedtls_ctr_drbg_random(&ctx->drbg, p, n) == 0 ? 0 : -1;
}

static int
is_peer(const struct ha_tls_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->n_peers; i++)
		if (strcmp(ctx->peers[i], name) == 0)
			return 1;
	return 0;
}

/* Server side of PSK mode: "cluster/node" names who is calling. */
static int
psk_lookup(void *p, mbedtls_ssl_context *ssl, const unsigned char *id,
    size_t len)
{
	struct ha_tls_ctx *ctx = p;
	struct ha_tls *t = mbedtls_ssl_get_user_data_p(ssl);
	char name[128];
	const char *slash;

	if (len == 0 || len >= sizeof(name) || memchr(id, '\0', len)) {
		snprintf(t->why, sizeof(t->why), "a malformed pre-shared key "
		    "identity");
		return -1;
	}
	memcpy(name, id, len);
	name[len] = '\0';
	slash = strchr(name, '/');
	if (slash == NULL || (size_t)(slash - name) != strlen(ctx->cluster) ||
	    strncmp(name, ctx->cluster, strlen(ctx->cluster)) != 0) {
		snprintf(t->why, sizeof(t->why), "identity '%.60s' is not of "
		    "cluster '%s'", name, ctx->cluster);
		return -1;
	}
	if (!is_peer(ctx, slash + 1)) {
		snprintf(t->why, sizeof(t->why), "'%.60s' is not a node of "
		    "this cluster", slash + 1);
		return -1;
	}
	free(t->peer);
	t->peer = ha_xstrdup(slash + 1);
	return mbedtls_ssl_set_hs_psk(ssl, ctx->psk, ctx->psk_len);
}

static int
bio_send(void *p, const unsigned char *buf, size_t len)
{
	struct ha_tls *t = p;
	ssize_t n;

	do
		n = send(t->fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return errno == EPIPE || errno == ECONNRESET ?
	    MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

/*
 * mbedTLS asks for a record's header, then its body: two recv(2) calls a
 * record, which costs hasync's receiver tens of thousands of system calls
 * a push. Once the handshake is done and a large record has come (a bulk
 * transfer: hawatch's small messages never start it, and keep their
 * memory), what the socket has (up to RBUF_SIZE) is read at once and
 * handed out from rbuf. Readers call ha_tls_read until it says
 * HA_TLS_WANT_READ before they poll (server.c, peer.c), and only an empty
 * rbuf gives that, so no record waits here unseen.
 */
static ssize_t
recv_once(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	return n;
}

static int
bio_recv(void *p, unsigned char *buf, size_t len)
{
	struct ha_tls *t = p;
	ssize_t n;

	if (t->rpos < t->rlen) {
		size_t k = t->rlen - t->rpos < len ? t->rlen - t->rpos : len;

		memcpy(buf, t->rbuf + t->rpos, k);
		t->rpos += k;
		return (int)k;
	}
	if (t->rbuf != NULL && len < RBUF_SIZE) {
		if ((n = recv_once(t->fd, t->rbuf, RBUF_SIZE)) > 0) {
			t->rlen = (size_t)n;
			t->rpos = (size_t)n < len ? (size_t)n : len;
			memcpy(buf, t->rbuf, t->rpos);
			return (int)t->rpos;
		}
	} else {
		n = recv_once(t->fd, buf, len);
		if (t->done && t->rbuf == NULL && len >= RBUF_START)
			t->rbuf = ha_xmalloc(RBUF_SIZE);
	}
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET :
	    MBEDTLS_ERR_NET_RECV_FAILED;
}

static struct ha_tls *
conn_new(struct ha_tls_ctx *ctx, int fd, int server, const char *expect,
    const char *addr)
{
	struct ha_tls *t = ha_xcalloc(1, sizeof(*t));

	t->ctx = ctx;
	t->fd = fd;
	t->server = server;
	t->expect = expect ? ha_xstrdup(expect) : NULL;
	ha_strlcpy(t->addr, addr ? addr : "?", sizeof(t->addr));
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, server ? &ctx->srv : &ctx->cli) != 0) {
		ha_log(HA_FAILURE, "TLS setup for %s failed (out of memory?)",
		    t->addr);
		mbedtls_ssl_free(&t->ssl);
		close(fd);
		free(t->expect);
		free(t);
		return NULL;
	}
	mbedtls_ssl_set_user_data_p(&t->ssl, t);
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

struct ha_tls *
ha_tls_client(struct ha_tls_ctx *ctx, int fd, const char *expect,
    const char *addr)
{
	struct ha_tls *t = conn_new(ctx, fd, 0, expect, addr);

	/*
	 * The server must present a certificate for the node we want
	 * (mbedTLS checks its CN). With a CA pin we do not know its name
	 * yet: the pin is the authentication, so no name check (NULL).
	 */
	if (t && ctx->mode != M_PSK && mbedtls_ssl_set_hostname(&t->ssl,
	    ctx->mode == M_PIN ? NULL : expect) != 0) {
		ha_tls_free(t);
		return NULL;
	}
	return t;
}

struct ha_tls *
ha_tls_server(struct ha_tls_ctx *ctx, int fd, const char *addr)
{
	return conn_new(ctx, fd, 1, NULL, addr);
}

/* The value of one attribute (by OID) of a certificate's subject. */
static int
subject_attr(const mbedtls_x509_crt *crt, const char *oid, size_t oidlen,
    char *out, size_t n)
{
	const mbedtls_x509_name *nm;

	for (nm = &crt->subject; nm; nm = nm->next)
		if (nm->oid.len == oidlen && memcmp(nm->oid.p, oid, oidlen) == 0) {
			if (nm->val.len >= n || memchr(nm->val.p, 0, nm->val.len))
				return -1;
			memcpy(out, nm->val.p, nm->val.len);
			out[nm->val.len] = '\0';
			return 0;
		}
	return -1;
}

/* Why verification failed, in our words. */
static const char *
verify_words(uint32_t flags)
{
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
		return "its certificate has expired (hactl renew)";
	if (flags & MBEDTLS_X509_BADCERT_FUTURE)
		return "its certificate is not valid yet (clock?)";
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return "its certificate is not signed by this cluster's CA";
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
		return "its certificate is for another node";
	if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE |
	    MBEDTLS_X509_BADCERT_EXT_KEY_USAGE))
		return "its certificate is not for this use";
	return "its certificate is not valid";
}

/*
 * The one place that turns mbedTLS error codes into our messages.
 */
static void
explain(struct ha_tls *t, int ret, char *buf, size_t n)
{
	const struct ha_tls_ctx *ctx = t->ctx;

	if (t->why[0]) {
		snprintf(buf, n, "%s", t->why);
		return;
	}
	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		snprintf(buf, n, "%s", verify_words(
		    mbedtls_ssl_get_verify_result(&t->ssl)));
		return;
	case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
		snprintf(buf, n, "it presented no certificate");
		return;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		snprintf(buf, n, ctx->mode == M_PSK ? "it refused the handshake "
		    "(the pre-shared keys differ? check psk_file on both nodes)" :
		    "it refused the handshake (our certificate? see its log)");
		return;
	case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
		snprintf(buf, n, "unknown pre-shared key identity");
		return;
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_CONN_RESET:
		snprintf(buf, n, "it closed the connection during the handshake"
		    "%s", ctx->mode == M_PSK ? " (the pre-shared keys differ?)" :
		    " (it refused our certificate? see its log)");
		return;
	case MBEDTLS_ERR_SSL_INVALID_RECORD:
	case MBEDTLS_ERR_SSL_DECODE_ERROR:
	case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
	case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
	case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
		snprintf(buf, n, "it does not speak TLS (plaintext, garbage or "
		    "another program)");
		return;
	case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
	case MBEDTLS_ERR_SSL_BAD_CERTIFICATE:
		snprintf(buf, n, "%s", ctx->mode == M_PSK ?
		    "the handshake failed (the pre-shared keys differ? check "
		    "psk_file on both nodes)" : "the handshake failed");
		return;
	}
	mbedtls_strerror(ret, buf, n);
}

/* A pinned CA: one certificate of the server's chain must match the pin
 * and have signed the server's certificate. */
static int
check_pin(struct ha_tls *t)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl), *c;
	unsigned char fp[32];
	uint32_t flags;

	for (c = peer; c; c = c->next) {
		mbedtls_sha256(c->raw.p, c->raw.len, fp, 0);
		if (memcmp(fp, t->ctx->pin, sizeof(fp)) != 0)
			continue;
		if (mbedtls_x509_crt_verify((mbedtls_x509_crt *)peer,
		    (mbedtls_x509_crt *)c, NULL, NULL, &flags, NULL, NULL) != 0) {
			snprintf(t->why, sizeof(t->why), "%s", verify_words(flags));
			return -1;
		}
		return 0;
	}
	snprintf(t->why, sizeof(t->why), "its CA is not the one in the join "
	    "token (wrong address, or a token of another cluster)");
	return -1;
}

/* After the handshake: who is it, and may it talk to us? */
static int
check_peer(struct ha_tls *t)
{
	const struct ha_tls_ctx *ctx = t->ctx;
	const mbedtls_x509_crt *crt;
	char cn[128], ou[128];

	if (ctx->mode == M_PSK)
		return 0;	/* psk_lookup named it; the client knows it */
	if (ctx->mode == M_PIN)
		return check_pin(t);
	crt = mbedtls_ssl_get_peer_cert(&t->ssl);
	if (crt == NULL)
		return 0;	/* an anonymous client (enrolment only) */
	if (mbedtls_ssl_get_verify_result(&t->ssl) != 0) {
		snprintf(t->why, sizeof(t->why), "%s",
		    verify_words(mbedtls_ssl_get_verify_result(&t->ssl)));
		return -1;
	}
	if (subject_attr(crt, MBEDTLS_OID_AT_CN,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), cn, sizeof(cn)) == -1) {
		snprintf(t->why, sizeof(t->why), "its certificate names no node");
		return -1;
	}
	if (subject_attr(crt, MBEDTLS_OID_AT_ORG_UNIT,
	    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORG_UNIT), ou, sizeof(ou)) == -1 ||
	    strcmp(ou, ctx->cluster) != 0) {
		snprintf(t->why, sizeof(t->why), "its certificate (for '%.60s') "
		    "is of cluster '%.60s', not '%s'", cn, ou, ctx->cluster);
		return -1;
	}
	if (!is_peer(ctx, cn)) {
		snprintf(t->why, sizeof(t->why), "its certificate is for '%.60s', "
		    "which is not a node of this cluster", cn);
		return -1;
	}
	if (t->expect && strcmp(cn, t->expect) != 0) {
		snprintf(t->why, sizeof(t->why), "it is '%.60s', not '%s'", cn,
		    t->expect);
		return -1;
	}
	free(t->peer);
	t->peer = ha_xstrdup(cn);
	return 0;
}

static void
refused(struct ha_tls *t, int ret)
{
	char why[256];

	explain(t, ret, why, sizeof(why));
	if (t->server)
		ha_log(HA_WARNING, "refused %s: %s", t->addr, why);
	else
		ha_log(HA_FAILURE, "%s%s%s (%s): %s", "cannot talk to ",
		    t->expect ? t->expect : "peer", "", t->addr, why);
}

int
ha_tls_handshake(struct ha_tls *t)
{
	int ret;

	if (t->done)
		return 0;
	ret = mbedtls_ssl_handshake(&t->ssl);
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return HA_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return HA_TLS_WANT_WRITE;
	if (ret == 0 && check_peer(t) == -1)
		ret = MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
	if (ret != 0) {
		refused(t, ret);
		return -1;
	}
	if (t->ctx->mode == M_PSK && !t->server)
		t->peer = ha_xstrdup(t->expect ? t->expect : "?");
	snprintf(t->version, sizeof(t->version), "%s %s",
	    mbedtls_ssl_get_version(&t->ssl), mbedtls_ssl_get_ciphersuite(&t->ssl));
	t->done = 1;
	return 0;
}

int
ha_tls_handshake_until(struct ha_tls *t, int64_t deadline)
{
	for (;;) {
		int r = ha_tls_handshake(t), w;

		if (r == 0 || r == -1)
			return r;
		w = ha_net_wait(t->fd, r == HA_TLS_WANT_READ ? POLLIN : POLLOUT,
		    deadline);
		if (w == 0) {
			ha_log(t->server ? HA_WARNING : HA_FAILURE, "%s %s: the "
			    "TLS handshake timed out", t->server ? "refused" :
			    "cannot talk to", t->addr);
			return -1;
		}
		if (w == -1) {
			ha_log_errno(HA_FAILURE, "poll %s", t->addr);
			return -1;
		}
	}
}

ssize_t
ha_tls_read(struct ha_tls *t, void *buf, size_t n)
{
	int ret = mbedtls_ssl_read(&t->ssl, buf, n);
	char why[160];

	if (ret >= 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return HA_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return HA_TLS_WANT_WRITE;
	if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    ret == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	explain(t, ret, why, sizeof(why));
	ha_log(HA_WARNING, "read from %s: %s", t->addr, why);
	return -1;
}

ssize_t
ha_tls_write(struct ha_tls *t, const void *buf, size_t n)
{
	int ret = mbedtls_ssl_write(&t->ssl, buf, n);
	char why[160];

	if (ret >= 0)
		return ret;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return HA_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return HA_TLS_WANT_WRITE;
	explain(t, ret, why, sizeof(why));
	ha_log(HA_WARNING, "write to %s: %s", t->addr, why);
	return -1;
}

int
ha_tls_write_all(struct ha_tls *t, const void *buf, size_t n,
    int64_t deadline)
{
	const char *p = buf;

	while (n) {
		ssize_t w = ha_tls_write(t, p, n);

		if (w == -1)
			return -1;
		if (w < 0) {
			int r = ha_net_wait(t->fd, w == HA_TLS_WANT_READ ? POLLIN :
			    POLLOUT, deadline);

			if (r != 1) {
				ha_log(HA_WARNING, "write to %s: %s", t->addr,
				    r == 0 ? "timed out" : "poll failed");
				return -1;
			}
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

size_t
ha_tls_pending(const struct ha_tls *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

const char *
ha_tls_peer(const struct ha_tls *t)
{
	return t->peer;
}

const char *
ha_tls_addr(const struct ha_tls *t)
{
	return t->addr;
}

const char *
ha_tls_version(const struct ha_tls *t)
{
	return t->version;
}

int
ha_tls_fd(const struct ha_tls *t)
{
	return t->fd;
}

void
ha_tls_free(struct ha_tls *t)
{
	if (t == NULL)
		return;
	if (t->done)
		(void)mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	close(t->fd);
	free(t->expect);
	free(t->peer);
	free(t->rbuf);
	free(t);
}
