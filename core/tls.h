/*
 * Mutually authenticated TLS between nodes, on mbedTLS 3.6: TLS 1.3
 * (1.2 where 1.3 is not possible), no renegotiation, non-blocking I/O for
 * poll loops. Certificate mode: the peer's certificate must chain to the
 * cluster CA, be for this cluster (OU) and name a configured node (CN).
 * PSK mode: a shared key from psk_file (hex, >= 32 bytes, mode 0600),
 * TLS 1.3 PSK with ECDHE; the identity "cluster/node" names the peer.
 * Refusals are logged once, naming the peer address and the reason.
 */
#ifndef HA_TLS_H
#define HA_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"

enum {
	HA_TLS_WANT_READ = -2,
	HA_TLS_WANT_WRITE = -3,
};

/* What a context authenticates with (all borrowed during _new only). */
struct ha_tls_creds {
	const char *cluster;		/* this cluster's name */
	const char *self;		/* this node's name */
	const char *const *peers;	/* names allowed as peers, NULL-ended */
	const char *ca, *cert, *key;	/* certificate mode */
	const char *psk_file;		/* PSK mode when set */
	const uint8_t *ca_pin;		/* join: trust the CA with this
					 * SHA-256, present no certificate */
	int allow_anonymous;		/* server: clients without a
					 * certificate may connect (enrolment) */
};

struct ha_tls_ctx;
struct ha_tls;

/* NULL (logged) when a file is missing, unreadable, loose or invalid. */
struct ha_tls_ctx *ha_tls_ctx_new(const struct ha_tls_creds *c);
/* The same from the configuration: peers are every [node]. */
struct ha_tls_ctx *ha_tls_ctx_from_cfg(const struct ha_cfg *cfg);
void ha_tls_ctx_free(struct ha_tls_ctx *ctx);
/* Reseed the random generator (call in a child after fork). */
void ha_tls_ctx_after_fork(struct ha_tls_ctx *ctx);

/*
 * Start TLS on a connected non-blocking socket, which the connection now
 * owns. expect: the node we want to reach (NULL: any of the cluster, or
 * unchecked with a CA pin). addr: the peer's address, for messages.
 */
struct ha_tls *ha_tls_client(struct ha_tls_ctx *ctx, int fd,
    const char *expect, const char *addr);
struct ha_tls *ha_tls_server(struct ha_tls_ctx *ctx, int fd,
    const char *addr);

/* 0 done, HA_TLS_WANT_READ/WRITE, or -1 refused (logged). */
int ha_tls_handshake(struct ha_tls *t);
/* Blocking until the deadline (ha_now_ms clock): 0 or -1 (logged). */
int ha_tls_handshake_until(struct ha_tls *t, int64_t deadline);

/* >0 bytes, 0 closed by the peer, HA_TLS_WANT_*, -1 error (logged). */
ssize_t ha_tls_read(struct ha_tls *t, void *buf, size_t n);
ssize_t ha_tls_write(struct ha_tls *t, const void *buf, size_t n);
/* All of buf by the deadline: 0 or -1 (logged). */
int ha_tls_write_all(struct ha_tls *t, const void *buf, size_t n,
    int64_t deadline);
/* Decrypted bytes waiting to be read without touching the socket. */
size_t ha_tls_pending(const struct ha_tls *t);

/* The authenticated peer's node name (NULL: an anonymous client). */
const char *ha_tls_peer(const struct ha_tls *t);
const char *ha_tls_addr(const struct ha_tls *t);
/* "TLSv1.3 TLS1-3-AES-128-GCM-SHA256" */
const char *ha_tls_version(const struct ha_tls *t);
int ha_tls_fd(const struct ha_tls *t);
/* Send close_notify if possible, close the socket, free. NULL: no-op. */
void ha_tls_free(struct ha_tls *t);

/* Random bytes from the context's generator. 0 or -1. */
int ha_tls_random(struct ha_tls_ctx *ctx, void *p, size_t n);

/* Read a secret file that must be ours and not readable by others. */
int ha_tls_check_key_file(const char *path);

#endif
