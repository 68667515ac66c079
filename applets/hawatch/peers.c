/*
 * hawatch's peers: a listening socket for every node that calls us and a
 * dialled connection to every other node, which carries what we send.
 * Election messages travel as HA_MSG_ELECT frames; the sender is the node
 * TLS authenticated, whatever the message says. Lost connections are
 * dialled again with a backoff; the election does not wait for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/hawatch/hawatch.h"
#include "core/elect_msg.h"
#include "core/log.h"
#include "core/net.h"
#include "core/wire.h"

#define BACKOFF_MIN 200
#define BACKOFF_MAX 5000

static int
index_of(const struct hw *h, const char *name)
{
	size_t i;

	for (i = 0; name && i < h->cfg->n_nodes; i++)
		if (strcmp(h->cfg->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void dial(struct hw_peer *p);

static void
retry_cb(struct ha_loop *l, void *arg)
{
	struct hw_peer *p = arg;

	(void)l;
	p->retry = NULL;
	dial(p);
}

static void
dial(struct hw_peer *p)
{
	struct hw *h = p->h;

	if (h->stopping > 1 || p->out)
		return;
	p->out = ha_server_dial(h->srv, &p->node->address, (int)p->node->port,
	    p->node->name, p);
	if (p->out == NULL && p->retry == NULL)
		p->retry = ha_loop_at(h->loop, ha_now_ms() + p->backoff_ms,
		    retry_cb, p);
}

static void
on_state(struct ha_server *s, struct ha_peer *c, int up, void *arg)
{
	struct hw *h = arg;
	struct hw_peer *p = ha_peer_user(c);

	(void)s;
	if (!ha_peer_outbound(c)) {
		/*
		 * Its connection to us carries our messages too until ours
		 * is up (hw_send). A node we cannot reach just called us
		 * (it restarted): call it back now rather than after our
		 * backoff, or it hears nothing from us for seconds and may
		 * stand for election in a term nobody else is in.
		 */
		int i = index_of(h, ha_peer_name(c));

		if (i < 0 || i == h->self)
			return;
		p = &h->peer[i];
		if (!up) {
			if (p->in == c)
				p->in = NULL;
			return;
		}
		p->in = c;
		if (p->out)
			return;
		ha_loop_cancel(h->loop, p->retry);
		p->retry = NULL;
		p->backoff_ms = BACKOFF_MIN;
		dial(p);
		return;
	}
	if (p == NULL)
		return;
	if (up) {
		p->up = 1;
		p->backoff_ms = BACKOFF_MIN;
		if (!p->announced)
			ha_log(HA_INFO, "connected to %s (%s)", p->node->name,
			    ha_peer_tls_version(c));
		p->announced = 1;
		return;
	}
	if (p->up) {
		ha_log(HA_WARNING, "lost the connection to %s", p->node->name);
		p->announced = 0;
	}
	p->up = 0;
	p->out = NULL;
	if (h->stopping > 1)
		return;
	p->retry = ha_loop_at(h->loop, ha_now_ms() + p->backoff_ms, retry_cb, p);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    p->backoff_ms * 2;
}

static void
on_elect(struct hw *h, struct ha_peer *c, const uint8_t *pl, size_t n)
{
	struct ha_elect_msg m;
	struct ha_elect_out o;
	const char *why;
	int from = index_of(h, ha_peer_name(c));

	if (ha_elect_msg_decode(pl, n, &m, &why) == -1) {
		ha_log(HA_WARNING, "%s sent a bad election message: %s",
		    ha_peer_addr(c), why);
		return;
	}
	/* Who sent it is what TLS says, not what it claims. */
	m.from = (uint8_t)from;
	m.to = (uint8_t)h->self;
	h->peer[from].last_in = ha_now_ms();
	memset(&o, 0, sizeof(o));
	ha_elect_recv(&h->e, ha_now_ms(), &m, &o);
	hw_apply(h, &o);
}

static int
on_frame(struct ha_server *s, struct ha_peer *c, uint8_t type,
    const uint8_t *pl, size_t n, void *arg)
{
	struct hw *h = arg;

	(void)s;
	if (ha_peer_name(c) == NULL || index_of(h, ha_peer_name(c)) < 0 ||
	    index_of(h, ha_peer_name(c)) == h->self) {
		ha_peer_refuse(c, 25, "not a node of this cluster");
		return 0;
	}
	switch (type) {
	case HA_MSG_ELECT:
		on_elect(h, c, pl, n);
		return 0;
	case HA_MSG_PING:
		ha_peer_queue(c, HA_MSG_PONG, pl, n);
		return 0;
	}
	ha_peer_refuse(c, 27, "hawatch answers only HELLO, PING and "
	    "election messages");
	return 0;
}

int
hw_peers_start(struct hw *h)
{
	const struct ha_cfg_node *me = &h->cfg->nodes[h->self];
	struct ha_hello hello;
	size_t i;
	int lfd;

	if ((lfd = ha_net_listen(&me->address, (int)me->port)) == -1)
		return -1;
	ha_hello_init(&hello, h->cfg->cluster->name, me->name,
	    ha_cfg_role_name(me->role));
	h->srv = ha_server_new(h->loop, h->ctx, lfd, &hello,
	    h->cfg->cluster->handshake_timeout_ms, on_frame, h);
	ha_server_on_state(h->srv, on_state);
	for (i = 0; i < h->cfg->n_nodes; i++) {
		struct hw_peer *p = &h->peer[i];

		p->h = h;
		p->idx = (int)i;
		p->node = &h->cfg->nodes[i];
		p->backoff_ms = BACKOFF_MIN;
		if ((int)i != h->self)
			dial(p);
	}
	return 0;
}

void
hw_peers_stop(struct hw *h)
{
	size_t i;

	h->stopping = 2;
	for (i = 0; i < h->cfg->n_nodes; i++) {
		ha_loop_cancel(h->loop, h->peer[i].retry);
		h->peer[i].retry = NULL;
	}
	ha_server_free(h->srv);
	h->srv = NULL;
}

void
hw_send(struct hw *h, const struct ha_elect_out *o)
{
	struct ha_buf b = { 0 };
	int k;

	for (k = 0; k < o->n_send; k++) {
		const struct ha_elect_msg *m = &o->send[k];
		struct hw_peer *p;
		struct ha_peer *c;

		if (m->to >= h->cfg->n_nodes || m->to == h->self)
			continue;
		p = &h->peer[m->to];
		/*
		 * Our own connection, or until it is up, the one the peer
		 * dialled: on a loaded machine one direction's handshake
		 * may finish a second before the other's, and the best
		 * member must be heard while the others start.
		 */
		c = p->up && p->out ? p->out : p->in;
		if (c == NULL)
			continue;
		b.len = 0;
		ha_elect_msg_encode(m, &b);
		ha_peer_queue(c, HA_MSG_ELECT, b.s, b.len);
	}
	ha_buf_free(&b);
}
