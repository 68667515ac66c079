/*
 * Peers: HELLO, blocking clients and poll-driven servers (see peer.h).
 * Wire format: core/wire.c; DESIGN.md "Wire protocol".
 */
#include "core/peer.h"
#include "core/peer_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/log.h"
#include "core/net.h"
#include "core/wire.h"

struct hello_wire {
	uint32_t proto;
	struct ha_tlv_slice version, cluster, node, role;
};

#define HW(f) offsetof(struct hello_wire, f)

static const struct ha_tlv_spec hello_spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_U32, 1, HW(proto), 0 },
	{ 2, HA_TLV_STR, 0, HW(version), 63 },
	{ 3 | HA_TLV_CRIT, HA_TLV_STR, 1, HW(cluster), 63 },
	{ 4 | HA_TLV_CRIT, HA_TLV_STR, 1, HW(node), 63 },
	{ 5, HA_TLV_STR, 0, HW(role), 15 },
	{ 0 },
};

void
ha_hello_init(struct ha_hello *h, const char *cluster, const char *node,
    const char *role)
{
	memset(h, 0, sizeof(*h));
	h->proto = HA_WIRE_PROTO;
	ha_strlcpy(h->version, ha_cli_version(), sizeof(h->version));
	ha_strlcpy(h->cluster, cluster, sizeof(h->cluster));
	ha_strlcpy(h->node, node, sizeof(h->node));
	ha_strlcpy(h->role, role, sizeof(h->role));
}

void
ha_hello_encode(const struct ha_hello *h, struct ha_buf *out)
{
	ha_tlv_u32(out, 1 | HA_TLV_CRIT, h->proto);
	ha_tlv_str(out, 2, h->version);
	ha_tlv_str(out, 3 | HA_TLV_CRIT, h->cluster);
	ha_tlv_str(out, 4 | HA_TLV_CRIT, h->node);
	ha_tlv_str(out, 5, h->role);
}

static void
copy_slice(char *dst, size_t n, const struct ha_tlv_slice *s)
{
	size_t len = s->n < n - 1 ? s->n : n - 1;

	if (len)
		memcpy(dst, s->p, len);
	dst[len] = '\0';
}

int
ha_hello_decode(const uint8_t *p, size_t n, struct ha_hello *h,
    const char **why)
{
	struct hello_wire w;

	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode(p, n, hello_spec, &w, NULL, why) == -1)
		return -1;
	memset(h, 0, sizeof(*h));
	h->proto = w.proto;
	copy_slice(h->version, sizeof(h->version), &w.version);
	copy_slice(h->cluster, sizeof(h->cluster), &w.cluster);
	copy_slice(h->node, sizeof(h->node), &w.node);
	copy_slice(h->role, sizeof(h->role), &w.role);
	if (!h->cluster[0] || !h->node[0]) {
		*why = "an empty cluster or node name";
		return -1;
	}
	return 0;
}

int
ha_hello_check(const struct ha_hello *mine, const struct ha_hello *theirs,
    const char *tls_peer, char *msg, size_t n)
{
	if (theirs->proto != mine->proto) {
		const struct ha_hello *old = theirs->proto < mine->proto ?
		    theirs : mine;

		snprintf(msg, n, "%s runs protocol %u (habox %s), %s runs "
		    "protocol %u (habox %s): upgrade %s", theirs->node,
		    (unsigned)theirs->proto, theirs->version, mine->node,
		    (unsigned)mine->proto, mine->version, old->node);
		return -E_PROTO;
	}
	if (strcmp(theirs->cluster, mine->cluster) != 0) {
		snprintf(msg, n, "%s is a node of cluster '%s', %s of cluster "
		    "'%s': check [cluster] name on both", theirs->node,
		    theirs->cluster, mine->node, mine->cluster);
		return -E_CLUSTER;
	}
	if (tls_peer && strcmp(tls_peer, theirs->node) != 0) {
		snprintf(msg, n, "it says it is '%s' but its credentials are "
		    "for '%s'", theirs->node, tls_peer);
		return -E_IDENTITY;
	}
	return 0;
}

struct error_wire {
	uint32_t code;
	struct ha_tlv_slice msg;
};

static const struct ha_tlv_spec error_spec[] = {
	{ 1, HA_TLV_U32, 1, offsetof(struct error_wire, code), 0 },
	{ 2, HA_TLV_STR, 1, offsetof(struct error_wire, msg), 1024 },
	{ 0 },
};

void
ha_error_encode(struct ha_buf *out, uint32_t code, const char *msg)
{
	ha_tlv_u32(out, 1, code);
	ha_tlv_str(out, 2, msg);
}

int
ha_error_decode(const uint8_t *p, size_t n, uint32_t *code, char *msg,
    size_t msgsz)
{
	struct error_wire w;
	const char *why;

	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode(p, n, error_spec, &w, NULL, &why) == -1) {
		snprintf(msg, msgsz, "(an undecodable error: %s)", why);
		*code = 0;
		return -1;
	}
	*code = w.code;
	copy_slice(msg, msgsz, &w.msg);
	return 0;
}

struct ha_tls *
ha_peer_tls(struct ha_peer *p)
{
	return p->tls;
}

const struct ha_hello *
ha_peer_hello(const struct ha_peer *p)
{
	return &p->hello;
}

const char *
ha_peer_name(const struct ha_peer *p)
{
	return ha_tls_peer(p->tls);
}

const char *
ha_peer_addr(const struct ha_peer *p)
{
	return ha_tls_addr(p->tls);
}

const char *
ha_peer_tls_version(const struct ha_peer *p)
{
	return ha_tls_version(p->tls);
}

void
ha_peer_free_internal(struct ha_peer *p)
{
	ha_tls_free(p->tls);
	ha_buf_free(&p->in);
	ha_buf_free(&p->out);
	free(p);
}

void
ha_peer_free(struct ha_peer *p)
{
	if (p)
		ha_peer_free_internal(p);
}

/* Take one whole frame from p->in if there is one: 1, 0 (need more), -1. */
int
ha_peer_take_frame(struct ha_peer *p, uint8_t *type, const uint8_t **pl, size_t *n)
{
	size_t used;
	const char *why;
	int r;

	if (p->in.len == p->in_off)
		return 0;
	r = ha_wire_parse((uint8_t *)p->in.s + p->in_off, p->in.len - p->in_off,
	    HA_WIRE_MAX, type, pl, n, &used, &why);
	if (r == -1) {
		ha_log(HA_WARNING, "%s %s: %s (%u bytes announced, at most %d)",
		    p->srv ? "refused" : "dropped", ha_tls_addr(p->tls), why,
		    (unsigned)ha_get_be32((uint8_t *)p->in.s + p->in_off),
		    HA_WIRE_MAX);
		return -1;
	}
	if (r == 1)
		p->in_off += used;
	return r;
}

/* Drop consumed input so the buffer does not grow. */
void
ha_peer_compact(struct ha_peer *p)
{
	if (p->in_off == 0 || p->in.s == NULL)
		return;
	memmove(p->in.s, p->in.s + p->in_off, p->in.len - p->in_off);
	p->in.len -= p->in_off;
	p->in_off = 0;
}

/* --- clients (blocking, with deadlines) -------------------------------- */

/* Read more input; 1 got some, 0 closed, -1 error or timeout (logged). */
static int
fill(struct ha_peer *p, int64_t deadline)
{
	char chunk[16384];

	for (;;) {
		ssize_t r = ha_tls_read(p->tls, chunk, sizeof(chunk));

		if (r > 0) {
			ha_peer_compact(p);
			ha_buf_add(&p->in, chunk, (size_t)r);
			return 1;
		}
		if (r == 0 || r == -1)
			return (int)r;
		r = ha_net_wait(ha_tls_fd(p->tls), r == HA_TLS_WANT_READ ? POLLIN :
		    POLLOUT, deadline);
		if (r != 1) {
			ha_log(HA_FAILURE, "%s: %s", ha_tls_addr(p->tls),
			    r == 0 ? "no answer in time" : "poll failed");
			return -1;
		}
	}
}

int
ha_peer_recv(struct ha_peer *p, uint8_t *type, struct ha_buf *payload,
    int64_t deadline)
{
	const uint8_t *pl;
	size_t n;
	int r;

	while ((r = ha_peer_take_frame(p, type, &pl, &n)) == 0) {
		if ((r = fill(p, deadline)) <= 0)
			return r;
	}
	if (r == -1)
		return -1;
	payload->len = 0;
	ha_buf_add(payload, pl, n);
	if (*type == HA_MSG_ERROR) {
		uint32_t code;
		char msg[1100];

		ha_error_decode(pl, n, &code, msg, sizeof(msg));
		ha_log(HA_FAILURE, "%s refused: %s", ha_tls_addr(p->tls), msg);
		return -1;
	}
	return 1;
}

int
ha_peer_send(struct ha_peer *p, uint8_t type, const void *payload, size_t n,
    int64_t deadline)
{
	struct ha_buf f = { 0 };
	int r;

	ha_wire_frame(&f, type, payload, n);
	r = ha_tls_write_all(p->tls, f.s, f.len, deadline);
	ha_buf_free(&f);
	return r;
}

struct ha_peer *
ha_peer_connect(struct ha_tls_ctx *ctx, const struct ha_addr *addr, int port,
    const char *expect, const struct ha_hello *mine, int64_t deadline)
{
	struct ha_peer *p;
	struct ha_buf b = { 0 };
	char name[HA_ADDRSTRLEN + 8], msg[400];
	const char *why;
	uint8_t type;
	int fd;

	ha_net_fmt(addr, port, name, sizeof(name));
	if ((fd = ha_net_connect(addr, port, deadline)) == -1)
		return NULL;
	p = ha_xcalloc(1, sizeof(*p));
	if ((p->tls = ha_tls_client(ctx, fd, expect, name)) == NULL) {
		free(p);
		return NULL;
	}
	if (ha_tls_handshake_until(p->tls, deadline) == -1)
		goto fail;
	ha_hello_encode(mine, &b);
	if (ha_peer_send(p, HA_MSG_HELLO, b.s, b.len, deadline) == -1 ||
	    ha_peer_recv(p, &type, &b, deadline) != 1)
		goto fail;
	if (type != HA_MSG_HELLO || ha_hello_decode((uint8_t *)b.s, b.len,
	    &p->hello, &why) == -1) {
		ha_log(HA_FAILURE, "%s: a bad HELLO (%s)", name, type !=
		    HA_MSG_HELLO ? "another message first" : why);
		goto fail;
	}
	if (ha_hello_check(mine, &p->hello, expect ? expect :
	    ha_tls_peer(p->tls), msg, sizeof(msg)) != 0) {
		ha_log(HA_FAILURE, "%s: %s", name, msg);
		goto fail;
	}
	ha_buf_free(&b);
	return p;
fail:
	ha_buf_free(&b);
	ha_peer_free_internal(p);
	return NULL;
}


struct ha_peer *
ha_peer_accept(struct ha_tls_ctx *ctx, int fd, const char *addr,
    const struct ha_hello *mine, int64_t deadline)
{
	struct ha_peer *p;
	struct ha_buf b = { 0 };
	char msg[400];
	const char *why = NULL;
	uint8_t type;
	int r;

	p = ha_xcalloc(1, sizeof(*p));
	if ((p->tls = ha_tls_server(ctx, fd, addr)) == NULL) {
		free(p);
		return NULL;
	}
	if (ha_tls_handshake_until(p->tls, deadline) == -1 ||
	    ha_peer_recv(p, &type, &b, deadline) != 1)
		goto fail;
	if (type != HA_MSG_HELLO)
		why = "HELLO must come first";
	else if (ha_hello_decode((uint8_t *)b.s, b.len, &p->hello, &why) == 0)
		why = NULL;
	if (why) {
		snprintf(msg, sizeof(msg), "a bad HELLO: %s", why);
		r = -E_FRAME;
	} else
		r = ha_hello_check(mine, &p->hello, ha_tls_peer(p->tls), msg,
		    sizeof(msg));
	b.len = 0;
	if (r != 0) {
		ha_log(HA_WARNING, "refused %s: %s", addr, msg);
		ha_error_encode(&b, (uint32_t)-r, msg);
		(void)ha_peer_send(p, HA_MSG_ERROR, b.s, b.len, deadline);
		goto fail;
	}
	ha_hello_encode(mine, &b);
	if (ha_peer_send(p, HA_MSG_HELLO, b.s, b.len, deadline) == -1)
		goto fail;
	ha_buf_free(&b);
	return p;
fail:
	ha_buf_free(&b);
	ha_peer_free_internal(p);
	return NULL;
}
