/*
 * hactl's enrolment and peer tools: bootstrap (cluster CA, this node's
 * key and certificate, or a pre-shared key), token, join, enroll-serve,
 * renew, cert-info and ping. See DESIGN.md "Wire protocol" and hactl(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "applets/applets.h"
#include "applets/hactl/hactl.h"
#include "core/config.h"
#include "core/log.h"
#include "core/net.h"
#include "core/peer.h"
#include "core/pki.h"
#include "core/rand.h"
#include "core/state.h"
#include "core/tls.h"
#include "core/token.h"
#include "core/wire.h"

#define CA_DAYS 3650
#define NODE_DAYS 365

/* Where the credentials live: the configured paths, or DIR/their names. */
struct paths {
	char *ca, *ca_key, *cert, *key;
};

struct cert_wire {
	struct ha_tlv_slice cert, ca;
};

static const struct ha_tlv_spec cert_spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_BYTES, 1, offsetof(struct cert_wire, cert),
	  8192 },
	{ 2 | HA_TLV_CRIT, HA_TLV_BYTES, 1, offsetof(struct cert_wire, ca),
	  8192 },
	{ 0 },
};

struct enroll_wire {
	struct ha_tlv_slice secret, csr;
};

static const struct ha_tlv_spec enroll_spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_BYTES, 0, offsetof(struct enroll_wire,
	  secret), 64 },
	{ 2 | HA_TLV_CRIT, HA_TLV_BYTES, 1, offsetof(struct enroll_wire, csr),
	  8192 },
	{ 0 },
};

static char *
in_dir(const char *dir, const char *path)
{
	char *copy = ha_xstrdup(path), *r;

	r = dir ? ha_xasprintf("%s/%s", dir, basename(copy)) : ha_xstrdup(path);
	free(copy);
	return r;
}

static void
paths_init(struct paths *p, const struct ha_cfg *cfg, const char *dir)
{
	char *copy = ha_xstrdup(cfg->cluster->ca), *d = dirname(copy);

	p->ca = in_dir(dir, cfg->cluster->ca);
	p->cert = in_dir(dir, cfg->cluster->cert);
	p->key = in_dir(dir, cfg->cluster->key);
	p->ca_key = dir ? ha_xasprintf("%s/ca.key", dir) :
	    ha_xasprintf("%s/ca.key", d);
	free(copy);
}

static void
paths_fini(struct paths *p)
{
	free(p->ca);
	free(p->ca_key);
	free(p->cert);
	free(p->key);
}

/* mkdir -p dir. */
static int
make_dirs(const char *dir, mode_t mode)
{
	char *d = ha_xstrdup(dir), *s;
	int rc = 0;

	for (s = d + 1; rc == 0; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(d, mode) == -1 && errno != EEXIST) {
			ha_log_errno(HA_FAILURE, "mkdir %s", d);
			rc = -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(d);
	return rc;
}

/* mkdir -p for the directory holding path. */
static int
make_dir_of(const char *path, mode_t mode)
{
	char *copy = ha_xstrdup(path);
	int rc = make_dirs(dirname(copy), mode);

	free(copy);
	return rc;
}

static int
refuse_existing(const char *const *files, int force)
{
	int i, n = 0;

	for (i = 0; files[i]; i++)
		if (!force && access(files[i], F_OK) == 0) {
			ha_log(HA_FAILURE, "%s exists: not replacing it (--force "
			    "replaces it)", files[i]);
			n++;
		}
	return n ? -1 : 0;
}

static struct ha_cfg *
load(const struct ha_args *a)
{
	return ha_cfg_load(a->conf, a->overrides, a->n_overrides);
}

static int
write_psk(const char *path, int force)
{
	const char *files[] = { path, NULL };
	unsigned char key[32];
	char hex[65];
	int i, rc;

	if (refuse_existing(files, force) == -1 || make_dir_of(path, 0755) == -1
	    || ha_rand_bytes(key, sizeof(key)) == -1)
		return HA_EXIT_FAIL;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	hex[64] = '\n';
	rc = ha_file_write_atomic(path, hex, 65, 0600);
	ha_wipe(key, sizeof(key));
	ha_wipe(hex, sizeof(hex));
	if (rc == -1)
		return HA_EXIT_FAIL;
	ha_log(HA_SUCCESS, "made the pre-shared key %s: copy it to every "
	    "node (same path, mode 0600, owned by root)", path);
	return HA_EXIT_OK;
}

/* A fresh token for joining through this node; printed on stdout. */
static int
new_token(const struct ha_cfg *cfg, const struct paths *p, int64_t ttl_ms)
{
	uint8_t fp[32], secret[HA_TOKEN_SECRET];
	char tok[128], until[32];
	time_t exp = time(NULL) + (time_t)(ttl_ms / 1000);
	struct tm tm;

	if (access(p->ca_key, R_OK) == -1) {
		ha_log_errno(HA_FAILURE, "%s: only the node that holds the CA "
		    "key can make join tokens", p->ca_key);
		return -1;
	}
	if (ha_pki_fingerprint(p->ca, fp) == -1 ||
	    make_dirs(cfg->cluster->state_dir, 0700) == -1 ||
	    ha_rand_bytes(secret, sizeof(secret)) == -1 ||
	    ha_token_store(cfg->cluster->state_dir, secret, exp) == -1)
		return -1;
	ha_token_format(fp, secret, tok, sizeof(tok));
	ha_wipe(secret, sizeof(secret));
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC",
	    gmtime_r(&exp, &tm));
	printf("%s\n", tok);
	fflush(stdout);
	ha_wipe(tok, sizeof(tok));
	ha_log(HA_INFO, "a one-time join token, valid until %s: on the new "
	    "node, save it to a file and run 'hactl join %s --token-file FILE' "
	    "while 'hactl enroll-serve' (or hawatch) runs here", until,
	    cfg->self ? "THIS-NODE-ADDRESS" : "ADDR");
	return 0;
}

int
hactl_bootstrap(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	struct paths p;
	struct ha_buf csr = { 0 }, crt = { 0 };
	time_t now = time(NULL);
	int rc = HA_EXIT_FAIL;

	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	if (cfg->cluster->psk_file) {
		rc = write_psk(cfg->cluster->psk_file, o->force);
		ha_cfg_free(cfg);
		return rc;
	}
	paths_init(&p, cfg, o->dir);
	{
		const char *files[] = { p.ca, p.ca_key, p.cert, p.key, NULL };

		if (refuse_existing(files, o->force) == -1)
			goto out;
	}
	if (make_dir_of(p.ca, 0755) == -1 || make_dir_of(p.cert, 0755) == -1 ||
	    make_dir_of(p.key, 0755) == -1 ||
	    ha_pki_new_key(p.ca_key) == -1 ||
	    ha_pki_new_ca(cfg->cluster->name, p.ca_key, p.ca, CA_DAYS) == -1 ||
	    ha_pki_new_key(p.key) == -1 ||
	    ha_pki_csr(p.key, cfg->cluster->name, cfg->cluster->node, &csr) == -1
	    || ha_pki_sign(p.ca, p.ca_key, cfg->cluster->name, cfg->cluster->node,
	    (uint8_t *)csr.s, csr.len, now - 3600, now + NODE_DAYS * HA_DAY,
	    &crt) == -1 ||
	    ha_file_write_atomic(p.cert, crt.s, crt.len, 0644) == -1)
		goto out;
	ha_log(HA_SUCCESS, "made the CA of cluster %s (%s, key %s) and the "
	    "certificate of %s (%s, key %s)", cfg->cluster->name, p.ca, p.ca_key,
	    cfg->cluster->node, p.cert, p.key);
	if (new_token(cfg, &p, o->ttl_ms) == -1)
		goto out;
	rc = HA_EXIT_OK;
out:
	ha_buf_free(&csr);
	ha_buf_free(&crt);
	paths_fini(&p);
	ha_cfg_free(cfg);
	return rc;
}

int
hactl_token(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	struct paths p;
	int rc;

	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	paths_init(&p, cfg, o->dir);
	rc = new_token(cfg, &p, o->ttl_ms) == 0 ? HA_EXIT_OK : HA_EXIT_FAIL;
	paths_fini(&p);
	ha_cfg_free(cfg);
	return rc;
}

int
hactl_cert_info(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	struct paths p;
	struct ha_buf out = { 0 };
	time_t exp, ca_exp, now = time(NULL);
	int rc = HA_EXIT_FAIL;

	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	if (cfg->cluster->psk_file) {
		ha_log(HA_INFO, "this cluster authenticates with the pre-shared "
		    "key %s, not certificates", cfg->cluster->psk_file);
		ha_cfg_free(cfg);
		return HA_EXIT_OK;
	}
	paths_init(&p, cfg, o->dir);
	if (ha_pki_describe(p.cert, &out, &exp) == -1)
		goto out;
	ha_buf_puts(&out, "\n");
	if (ha_pki_describe(p.ca, &out, &ca_exp) == -1)
		goto out;
	fputs(out.s, stdout);
	if (exp < now || ca_exp < now) {
		ha_log(HA_FAILURE, "%s has expired: run 'hactl renew'",
		    exp < now ? p.cert : p.ca);
		goto out;
	}
	if (exp < now + 30 * HA_DAY)
		ha_log(HA_WARNING, "%s expires in %lld days: run 'hactl renew'",
		    p.cert, (long long)((exp - now) / HA_DAY));
	rc = HA_EXIT_OK;
out:
	ha_buf_free(&out);
	paths_fini(&p);
	ha_cfg_free(cfg);
	return rc;
}

/* The join token from --token (then wiped from argv), a file, or stdin. */
static int
read_token(struct hactl_opts *o, char *buf, size_t n)
{
	const char *src = o->token_file;
	FILE *f;

	if (o->token && strcmp(o->token, "-") != 0) {
		ha_strlcpy(buf, o->token, n);
		/* Gone from /proc/PID/cmdline, so from ps, from here on. */
		memset((char *)o->token, 'x', strlen(o->token));
		return 0;
	}
	if (src == NULL && o->token == NULL) {
		ha_log(HA_FAILURE, "join needs the token: --token-file FILE, "
		    "--token - (stdin) or --token TOKEN");
		return -1;
	}
	f = src ? fopen(src, "re") : stdin;
	if (f == NULL || fgets(buf, (int)n, f) == NULL) {
		ha_log_errno(HA_FAILURE, "cannot read the join token from %s",
		    src ? src : "stdin");
		if (f && f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* "ADDR" or "ADDR:PORT" / "[v6]:PORT"; the port defaults to ours. */
static int
parse_target(const char *s, int def_port, struct ha_addr *addr, int *port)
{
	char host[HA_ADDRSTRLEN];
	const char *why;

	*port = def_port;
	if (ha_parse_addr(s, 1, addr, &why) == 0)
		return 0;
	if (ha_parse_hostport(s, host, sizeof(host), port, &why) == 0 &&
	    ha_parse_addr(host, 1, addr, &why) == 0)
		return 0;
	ha_log(HA_FAILURE, "%s: %s", s, why);
	return -1;
}

/* Check what the CA holder sent: the pinned CA, our key, a valid chain. */
static int
check_received(const struct cert_wire *w, const uint8_t fp[32],
    const char *ca_path, const char *key_tmp, const struct ha_cfg *cfg)
{
	uint8_t got[32];
	int rc;

	if (ha_file_write_atomic(ca_path, w->ca.p, w->ca.n, 0644) == -1 ||
	    ha_pki_fingerprint(ca_path, got) == -1)
		return -1;
	if (memcmp(got, fp, 32) != 0) {
		ha_log(HA_FAILURE, "the CA sent is not the one in the token: "
		    "refusing it");
		unlink(ca_path);
		return -1;
	}
	rc = ha_pki_verify(ca_path, (const char *)w->cert.p, w->cert.n, key_tmp,
	    cfg->cluster->name, cfg->cluster->node);
	return rc;
}

int
hactl_join(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	struct paths p;
	struct ha_tls_creds cr = { 0 };
	struct ha_tls_ctx *ctx = NULL;
	struct ha_peer *peer = NULL;
	struct ha_hello mine;
	struct ha_buf csr = { 0 }, msg = { 0 };
	struct cert_wire w;
	struct ha_addr addr;
	uint8_t fp[32], secret[HA_TOKEN_SECRET], type;
	char tok[160], *key_tmp = NULL;
	const char *why;
	int port, rc = HA_EXIT_FAIL;
	int64_t deadline;

	if (read_token(o, tok, sizeof(tok)) == -1)
		return HA_EXIT_USAGE;
	if (ha_token_parse(tok, fp, secret, &why) == -1) {
		ha_wipe(tok, sizeof(tok));
		ha_log(HA_FAILURE, "%s", why);
		return HA_EXIT_USAGE;
	}
	ha_wipe(tok, sizeof(tok));
	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	paths_init(&p, cfg, o->dir);
	if (cfg->cluster->psk_file) {
		ha_log(HA_FAILURE, "this cluster uses the pre-shared key %s: copy "
		    "it from another node instead of joining",
		    cfg->cluster->psk_file);
		goto out;
	}
	{
		const char *files[] = { p.cert, p.key, NULL };

		if (refuse_existing(files, o->force) == -1)
			goto out;
	}
	if (parse_target(a->argv[0], (int)cfg->cluster->port, &addr,
	    &port) == -1)
		goto out;
	key_tmp = ha_xasprintf("%s.joining", p.key);
	if (make_dir_of(p.key, 0755) == -1 || make_dir_of(p.cert, 0755) == -1 ||
	    make_dir_of(p.ca, 0755) == -1 || ha_pki_new_key(key_tmp) == -1 ||
	    ha_pki_csr(key_tmp, cfg->cluster->name, cfg->cluster->node,
	    &csr) == -1)
		goto out;
	cr.cluster = cfg->cluster->name;
	cr.self = cfg->cluster->node;
	cr.ca_pin = fp;
	if ((ctx = ha_tls_ctx_new(&cr)) == NULL)
		goto out;
	ha_hello_init(&mine, cfg->cluster->name, cfg->cluster->node, "join");
	deadline = ha_now_ms() + cfg->cluster->handshake_timeout_ms + 10000;
	if ((peer = ha_peer_connect(ctx, &addr, port, NULL, &mine,
	    deadline)) == NULL)
		goto out;
	ha_tlv_bytes(&msg, 1 | HA_TLV_CRIT, secret, sizeof(secret));
	ha_tlv_bytes(&msg, 2 | HA_TLV_CRIT, csr.s, csr.len);
	if (ha_peer_send(peer, HA_MSG_ENROLL, msg.s, msg.len, deadline) == -1 ||
	    ha_peer_recv(peer, &type, &msg, deadline) != 1)
		goto out;
	memset(&w, 0, sizeof(w));
	if (type != HA_MSG_CERT || ha_tlv_decode((uint8_t *)msg.s, msg.len,
	    cert_spec, &w, NULL, &why) == -1) {
		ha_log(HA_FAILURE, "%s sent no certificate", a->argv[0]);
		goto out;
	}
	if (check_received(&w, fp, p.ca, key_tmp, cfg) == -1 ||
	    ha_file_write_atomic(p.cert, w.cert.p, w.cert.n, 0644) == -1)
		goto out;
	if (rename(key_tmp, p.key) == -1) {
		ha_log_errno(HA_FAILURE, "rename %s -> %s", key_tmp, p.key);
		goto out;
	}
	ha_log(HA_SUCCESS, "%s joined cluster %s through %s: certificate %s, "
	    "key %s, CA %s", cfg->cluster->node, cfg->cluster->name,
	    ha_peer_addr(peer), p.cert, p.key, p.ca);
	rc = HA_EXIT_OK;
out:
	ha_wipe(secret, sizeof(secret));
	if (msg.s)
		ha_wipe(msg.s, msg.len);
	if (key_tmp && rc != HA_EXIT_OK)
		unlink(key_tmp);
	free(key_tmp);
	ha_buf_free(&csr);
	ha_buf_free(&msg);
	ha_peer_free(peer);
	ha_tls_ctx_free(ctx);
	paths_fini(&p);
	ha_cfg_free(cfg);
	return rc;
}

/* --- serving joins, renewals and pings ----------------------------------- */

struct serve {
	struct ha_cfg *cfg;
	struct paths p;
	struct ha_loop *loop;
	long want, done;
};

static void
stop_cb(struct ha_loop *l, void *arg)
{
	(void)arg;
	ha_loop_stop(l);
}

/* Sign a CSR for node and queue the CERT answer. */
static int
answer_cert(struct serve *sv, struct ha_peer *peer, const char *node,
    const struct ha_tlv_slice *csr)
{
	struct ha_buf crt = { 0 }, ca = { 0 }, out = { 0 };
	time_t now = time(NULL);
	FILE *f;
	char chunk[4096];
	size_t n;
	int rc = -1;

	if (ha_pki_sign(sv->p.ca, sv->p.ca_key, sv->cfg->cluster->name, node,
	    csr->p, csr->n, now - 3600, now + NODE_DAYS * HA_DAY, &crt) == -1) {
		ha_peer_refuse(peer, 20, "the certificate request was refused "
		    "(see the CA holder's log)");
		goto out;
	}
	if ((f = fopen(sv->p.ca, "re")) == NULL) {
		ha_log_errno(HA_FAILURE, "cannot read %s", sv->p.ca);
		ha_peer_refuse(peer, 21, "the CA holder cannot read its CA");
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ha_buf_add(&ca, chunk, n);
	fclose(f);
	ha_tlv_bytes(&out, 1 | HA_TLV_CRIT, crt.s, crt.len);
	ha_tlv_bytes(&out, 2 | HA_TLV_CRIT, ca.s, ca.len);
	ha_peer_queue(peer, HA_MSG_CERT, out.s, out.len);
	rc = 0;
out:
	ha_buf_free(&crt);
	ha_buf_free(&ca);
	ha_buf_free(&out);
	return rc;
}

static void
on_enroll(struct serve *sv, struct ha_peer *peer, const uint8_t *pl,
    size_t n)
{
	const char *node = ha_peer_hello(peer)->node, *why;
	struct enroll_wire w;

	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode(pl, n, enroll_spec, &w, NULL, &why) == -1) {
		ha_peer_refuse(peer, 22, why);
		return;
	}
	if (ha_cfg_node(sv->cfg, node) == NULL) {
		char msg[160];

		snprintf(msg, sizeof(msg), "'%s' is not a node of cluster %s: add "
		    "its [node] section on every node first", node,
		    sv->cfg->cluster->name);
		ha_peer_refuse(peer, 23, msg);
		return;
	}
	if (ha_token_consume(sv->cfg->cluster->state_dir, w.secret.p, w.secret.n,
	    &why) == -1) {
		ha_peer_refuse(peer, 24, why);
		return;
	}
	if (answer_cert(sv, peer, node, &w.csr) == -1)
		return;
	ha_log(HA_SUCCESS, "enrolled %s (%s)", node, ha_peer_addr(peer));
	if (sv->want && ++sv->done >= sv->want)
		ha_loop_at(sv->loop, ha_now_ms() + 300, stop_cb, NULL);
}

static int
on_frame(struct ha_server *s, struct ha_peer *peer, uint8_t type,
    const uint8_t *pl, size_t n, void *arg)
{
	struct serve *sv = arg;
	struct enroll_wire w;
	const char *why;

	(void)s;
	if (ha_peer_name(peer) == NULL && type != HA_MSG_ENROLL) {
		ha_peer_refuse(peer, 25, "a node without a certificate may only "
		    "join");
		return 0;
	}
	switch (type) {
	case HA_MSG_PING:
		ha_peer_queue(peer, HA_MSG_PONG, pl, n);
		return 0;
	case HA_MSG_ENROLL:
		on_enroll(sv, peer, pl, n);
		return 0;
	case HA_MSG_RENEW:
		memset(&w, 0, sizeof(w));
		if (access(sv->p.ca_key, R_OK) == -1) {
			ha_peer_refuse(peer, 26, "this node does not hold the CA "
			    "key");
		} else if (ha_tlv_decode(pl, n, enroll_spec, &w, NULL,
		    &why) == -1) {
			ha_peer_refuse(peer, 22, why);
		} else if (answer_cert(sv, peer, ha_peer_name(peer),
		    &w.csr) == 0) {
			ha_log(HA_SUCCESS, "renewed the certificate of %s",
			    ha_peer_name(peer));
		}
		return 0;
	}
	ha_peer_refuse(peer, 27, "this server answers only HELLO, PING, "
	    "ENROLL and RENEW");
	return 0;
}

static int
listen_on(const struct serve *sv, const char *spec)
{
	const struct ha_cfg_node *self = sv->cfg->self;
	struct ha_addr addr = self->address;
	int port = (int)self->port;

	if (spec && parse_target(spec, port, &addr, &port) == -1)
		return -1;
	return ha_net_listen(&addr, port);
}

int
hactl_enroll_serve(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct serve sv = { 0 };
	struct ha_tls_creds cr = { 0 };
	struct ha_tls_ctx *ctx = NULL;
	struct ha_server *srv = NULL;
	struct ha_hello mine;
	const char **peers = NULL;
	size_t i;
	int lfd, rc = HA_EXIT_FAIL;

	if ((sv.cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	paths_init(&sv.p, sv.cfg, o->dir);
	sv.want = o->count;
	peers = ha_xcalloc(sv.cfg->n_nodes + 1, sizeof(char *));
	for (i = 0; i < sv.cfg->n_nodes; i++)
		peers[i] = sv.cfg->nodes[i].name;
	cr.cluster = sv.cfg->cluster->name;
	cr.self = sv.cfg->cluster->node;
	cr.peers = peers;
	cr.ca = sv.p.ca;
	cr.cert = sv.p.cert;
	cr.key = sv.p.key;
	cr.psk_file = sv.cfg->cluster->psk_file;
	cr.allow_anonymous = 1;
	if ((ctx = ha_tls_ctx_new(&cr)) == NULL ||
	    (lfd = listen_on(&sv, o->listen)) == -1)
		goto out;
	sv.loop = ha_loop_new();
	ha_hello_init(&mine, sv.cfg->cluster->name, sv.cfg->cluster->node,
	    ha_cfg_role_name(sv.cfg->self->role));
	srv = ha_server_new(sv.loop, ctx, lfd, &mine,
	    sv.cfg->cluster->handshake_timeout_ms, on_frame, &sv);
	if (o->timeout_ms)
		ha_loop_at(sv.loop, ha_now_ms() + o->timeout_ms, stop_cb, NULL);
	ha_log(HA_INFO, "serving %s on port %ld%s", sv.want == 1 ? "one join" :
	    "joins and pings", sv.cfg->self->port, o->timeout_ms ?
	    " until the timeout" : "");
	ha_loop_run(sv.loop);
	if (sv.want && sv.done < sv.want) {
		ha_log(HA_FAILURE, "timed out after %ld of %ld enrolments",
		    sv.done, sv.want);
		goto out;
	}
	rc = HA_EXIT_OK;
out:
	ha_server_free(srv);
	ha_loop_free(sv.loop);
	ha_tls_ctx_free(ctx);
	free(peers);
	paths_fini(&sv.p);
	ha_cfg_free(sv.cfg);
	return rc;
}

/* --- clients of other nodes --------------------------------------------- */

static struct ha_peer *
connect_node(struct ha_tls_ctx *ctx, const struct ha_cfg *cfg,
    const struct ha_cfg_node *n, int64_t deadline)
{
	struct ha_hello mine;

	ha_hello_init(&mine, cfg->cluster->name, cfg->cluster->node, "tool");
	return ha_peer_connect(ctx, &n->address, (int)n->port, n->name, &mine,
	    deadline);
}

/* Ask one node to sign csr; write the certificate if it did. */
static int
renew_from(struct ha_tls_ctx *ctx, const struct ha_cfg *cfg,
    const struct paths *p, const struct ha_cfg_node *n, const struct ha_buf *csr)
{
	int64_t deadline = ha_now_ms() + cfg->cluster->handshake_timeout_ms +
	    5000;
	struct ha_peer *peer = connect_node(ctx, cfg, n, deadline);
	struct ha_buf msg = { 0 };
	struct cert_wire w;
	const char *why;
	uint8_t type;
	int rc = -1;

	if (peer == NULL)
		return -1;
	ha_tlv_bytes(&msg, 2 | HA_TLV_CRIT, csr->s, csr->len);
	memset(&w, 0, sizeof(w));
	if (ha_peer_send(peer, HA_MSG_RENEW, msg.s, msg.len, deadline) == 0 &&
	    ha_peer_recv(peer, &type, &msg, deadline) == 1 &&
	    type == HA_MSG_CERT && ha_tlv_decode((uint8_t *)msg.s, msg.len,
	    cert_spec, &w, NULL, &why) == 0 &&
	    ha_pki_verify(p->ca, (const char *)w.cert.p, w.cert.n, p->key,
	    cfg->cluster->name, cfg->cluster->node) == 0 &&
	    ha_file_write_atomic(p->cert, w.cert.p, w.cert.n, 0644) == 0)
		rc = 0;
	ha_buf_free(&msg);
	ha_peer_free(peer);
	return rc;
}

int
hactl_renew(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	struct paths p;
	struct ha_buf csr = { 0 }, crt = { 0 };
	struct ha_tls_ctx *ctx = NULL;
	time_t now = time(NULL);
	size_t i;
	int rc = HA_EXIT_FAIL;

	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	paths_init(&p, cfg, o->dir);
	if (ha_pki_csr(p.key, cfg->cluster->name, cfg->cluster->node, &csr) == -1)
		goto out;
	if (o->from == NULL && access(p.ca_key, R_OK) == 0) {
		/* We hold the CA: sign here. */
		if (ha_pki_sign(p.ca, p.ca_key, cfg->cluster->name,
		    cfg->cluster->node, (uint8_t *)csr.s, csr.len, now - 3600,
		    now + NODE_DAYS * HA_DAY, &crt) == 0 &&
		    ha_file_write_atomic(p.cert, crt.s, crt.len, 0644) == 0)
			rc = HA_EXIT_OK;
		goto done;
	}
	if ((ctx = ha_tls_ctx_from_cfg(cfg)) == NULL)
		goto out;
	for (i = 0; i < cfg->n_nodes && rc != HA_EXIT_OK; i++) {
		const struct ha_cfg_node *n = &cfg->nodes[i];

		if (n == cfg->self || (o->from && strcmp(o->from, n->name)))
			continue;
		if (renew_from(ctx, cfg, &p, n, &csr) == 0)
			rc = HA_EXIT_OK;
	}
done:
	if (rc == HA_EXIT_OK)
		ha_log(HA_SUCCESS, "renewed %s for %d days", p.cert, NODE_DAYS);
	else
		ha_log(HA_FAILURE, "could not renew %s: no node that holds the "
		    "CA key answered", p.cert);
out:
	ha_buf_free(&csr);
	ha_buf_free(&crt);
	ha_tls_ctx_free(ctx);
	paths_fini(&p);
	ha_cfg_free(cfg);
	return rc;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
hactl_ping(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	const struct ha_cfg_node *n;
	struct ha_tls_ctx *ctx = NULL;
	struct ha_peer *peer = NULL;
	struct ha_buf msg = { 0 };
	int64_t *rtt = NULL, t0, hs, deadline;
	uint8_t type;
	long i;
	int rc = HA_EXIT_FAIL;

	if ((cfg = load(a)) == NULL)
		return HA_EXIT_USAGE;
	if ((n = ha_cfg_node(cfg, a->argv[0])) == NULL) {
		ha_log(HA_FAILURE, "no [node %s] in %s", a->argv[0], cfg->path);
		ha_cfg_free(cfg);
		return HA_EXIT_USAGE;
	}
	if ((ctx = ha_tls_ctx_from_cfg(cfg)) == NULL)
		goto out;
	deadline = ha_now_ms() + (o->timeout_ms ? o->timeout_ms :
	    cfg->cluster->handshake_timeout_ms);
	t0 = now_us();
	if ((peer = connect_node(ctx, cfg, n, deadline)) == NULL)
		goto out;
	hs = now_us() - t0;
	rtt = ha_xcalloc((size_t)o->count, sizeof(*rtt));
	for (i = 0; i < o->count; i++) {
		msg.len = 0;
		ha_tlv_u64(&msg, 1, (uint64_t)i);
		t0 = now_us();
		if (ha_peer_send(peer, HA_MSG_PING, msg.s, msg.len, deadline) == -1
		    || ha_peer_recv(peer, &type, &msg, deadline) != 1 ||
		    type != HA_MSG_PONG) {
			ha_log(HA_FAILURE, "%s: no answer to ping %ld", n->name, i);
			goto out;
		}
		rtt[i] = now_us() - t0;
	}
	qsort(rtt, (size_t)o->count, sizeof(*rtt), cmp_i64);
	printf("%s %s %s: handshake+HELLO %.2f ms, rtt min %.3f median %.3f "
	    "max %.3f ms (%ld)\n", n->name, ha_peer_addr(peer),
	    ha_peer_tls_version(peer), (double)hs / 1000, (double)rtt[0] / 1000,
	    (double)rtt[o->count / 2] / 1000, (double)rtt[o->count - 1] / 1000,
	    o->count);
	rc = HA_EXIT_OK;
out:
	free(rtt);
	ha_buf_free(&msg);
	ha_peer_free(peer);
	ha_tls_ctx_free(ctx);
	ha_cfg_free(cfg);
	return rc;
}
