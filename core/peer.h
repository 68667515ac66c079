/*
 * A conversation with a peer: TLS (core/tls), frames (core/wire) and the
 * HELLO both sides send first (protocol version, program version, cluster
 * name, node name, role). A mismatch is refused with an ERROR frame that
 * says what to fix. Clients are blocking with deadlines (hactl, hasync);
 * servers are driven by core/loop and serve many peers at once, so one
 * stalled client never holds up the others.
 */
#ifndef HA_PEER_H
#define HA_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/tls.h"
#include "core/util.h"
#include "core/value.h"

struct ha_hello {
	uint32_t proto;
	char version[64];
	char cluster[64];
	char node[64];
	char role[16];		/* member, witness, tool, join */
};

/* Our HELLO: this protocol and program version. */
void ha_hello_init(struct ha_hello *h, const char *cluster, const char *node,
    const char *role);
void ha_hello_encode(const struct ha_hello *h, struct ha_buf *out);
/* 0, or -1 with *why (untrusted input: every length checked). */
int ha_hello_decode(const uint8_t *p, size_t n, struct ha_hello *h,
    const char **why);
/*
 * Is their HELLO acceptable to us? tls_peer: the name TLS authenticated
 * (NULL for an anonymous client). 0, or -1 with msg saying what to fix.
 */
int ha_hello_check(const struct ha_hello *mine, const struct ha_hello *theirs,
    const char *tls_peer, char *msg, size_t n);

/* An ERROR frame's payload: a code and a message for the operator. */
void ha_error_encode(struct ha_buf *out, uint32_t code, const char *msg);
int ha_error_decode(const uint8_t *p, size_t n, uint32_t *code, char *msg,
    size_t msgsz);

struct ha_peer;

/*
 * Connect to addr:port, handshake, exchange HELLOs, all by the deadline.
 * expect: the node we want (NULL: any node of the cluster). NULL (logged)
 * on failure, naming the peer and why.
 */
struct ha_peer *ha_peer_connect(struct ha_tls_ctx *ctx,
    const struct ha_addr *addr, int port, const char *expect,
    const struct ha_hello *mine, int64_t deadline);
/* Send one frame by the deadline: 0 or -1 (logged). */
int ha_peer_send(struct ha_peer *p, uint8_t type, const void *payload,
    size_t n, int64_t deadline);
/*
 * Receive one frame by the deadline into *type and payload (replaced).
 * 1 a frame, 0 the peer closed, -1 error or timeout (logged). An ERROR
 * frame is logged and returned as -1.
 */
int ha_peer_recv(struct ha_peer *p, uint8_t *type, struct ha_buf *payload,
    int64_t deadline);
void ha_peer_free(struct ha_peer *p);

/*
 * The server side of ha_peer_connect, blocking (for a forked child that
 * serves one client): TLS on the accepted socket fd (owned from now on),
 * their HELLO checked (a mismatch gets an ERROR frame saying what to fix),
 * ours sent, all by the deadline. NULL (logged) on failure.
 */
struct ha_peer *ha_peer_accept(struct ha_tls_ctx *ctx, int fd,
    const char *addr, const struct ha_hello *mine, int64_t deadline);

/* The TLS connection under p (for tools that must write raw bytes). */
struct ha_tls *ha_peer_tls(struct ha_peer *p);

/* Their HELLO and the TLS details. */
const struct ha_hello *ha_peer_hello(const struct ha_peer *p);
const char *ha_peer_name(const struct ha_peer *p);	/* authenticated */
const char *ha_peer_addr(const struct ha_peer *p);
const char *ha_peer_tls_version(const struct ha_peer *p);

/* --- serving ------------------------------------------------------------ */

struct ha_server;

/*
 * Called for each frame after the HELLOs. Reply with ha_peer_queue().
 * Return 0 to go on, -1 to close the connection (after what is queued).
 */
typedef int ha_server_frame_cb(struct ha_server *s, struct ha_peer *p,
    uint8_t type, const uint8_t *payload, size_t n, void *arg);

/* A connection is up (after the HELLOs) or gone (up = 0). */
typedef void ha_server_state_cb(struct ha_server *s, struct ha_peer *p,
    int up, void *arg);

/*
 * Serve peers on the listening socket lfd (owned from now on; -1: only
 * dial) in loop l. Handshake and HELLO must finish within hs_ms.
 */
struct ha_server *ha_server_new(struct ha_loop *l, struct ha_tls_ctx *ctx,
    int lfd, const struct ha_hello *mine, int64_t hs_ms,
    ha_server_frame_cb *cb, void *arg);
/* Be told when connections come up and go (dialled ones always). */
void ha_server_on_state(struct ha_server *s, ha_server_state_cb *cb);
/*
 * Dial addr:port from the loop (non-blocking connect, handshake, HELLO).
 * expect: the node it must be. The connection is reported through the
 * state callback; failures are logged at DEBUG level (callers retry).
 */
struct ha_peer *ha_server_dial(struct ha_server *s, const struct ha_addr *addr,
    int port, const char *expect, void *user);
/* Close a connection now (the state callback reports it). */
void ha_peer_close(struct ha_peer *p);
void ha_server_free(struct ha_server *s);

/* The caller's pointer given to ha_server_dial (NULL for served peers). */
void *ha_peer_user(const struct ha_peer *p);
int ha_peer_outbound(const struct ha_peer *p);

/* Queue a frame to a served peer. */
void ha_peer_queue(struct ha_peer *p, uint8_t type, const void *payload,
    size_t n);
/* Queue an ERROR frame, log it, and close once it is sent. */
void ha_peer_refuse(struct ha_peer *p, uint32_t code, const char *msg);

#endif
