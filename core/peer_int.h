/*
 * Internals shared by core/peer.c (HELLO, blocking clients) and
 * core/server.c (connections driven by the loop: served and dialled).
 */
#ifndef HA_PEER_INT_H
#define HA_PEER_INT_H

#include "core/peer.h"

enum ha_peer_state { S_CONNECTING, S_HANDSHAKE, S_HELLO, S_READY };

enum { E_PROTO = 1, E_CLUSTER, E_IDENTITY, E_FRAME, E_TIMEOUT };

struct ha_peer {
	struct ha_tls *tls;
	struct ha_buf in;
	size_t in_off;
	struct ha_buf out;
	size_t out_off;
	struct ha_hello hello;
	enum ha_peer_state state;
	int closing;
	struct ha_server *srv;		/* NULL for a blocking client */
	struct ha_timer *timer;
	struct ha_peer *next;
	/* dialled from the loop */
	int outbound;
	int fd;				/* until TLS owns it */
	char addr[80];
	char *expect;
	void *user;
};

struct ha_server {
	struct ha_loop *loop;
	struct ha_tls_ctx *ctx;
	int lfd;
	struct ha_hello mine;
	int64_t hs_ms;
	ha_server_frame_cb *cb;
	void *arg;
	ha_server_state_cb *state_cb;
	struct ha_peer *peers;
};

void ha_peer_free_internal(struct ha_peer *p);
int ha_peer_take_frame(struct ha_peer *p, uint8_t *type, const uint8_t **pl,
    size_t *n);
void ha_peer_compact(struct ha_peer *p);

#endif
