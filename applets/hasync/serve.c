/*
 * hasync serve: the receiver daemon on this node's sync port (cluster
 * port + 1). Each connection is served by a forked child, so a bad or
 * stalled client never holds up the others and a crash costs one
 * connection; the parent only accepts. Only configured nodes get past
 * TLS (core/tls checks the certificate against the cluster CA and the
 * [node] names).
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "applets/hasync/hasync.h"
#include "core/cli.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/net.h"
#include "core/tls.h"
#include "core/wire.h"

int hs_serve(struct ha_cfg *cfg, const struct ha_args *a, int foreground);

static volatile sig_atomic_t stop, hup;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

/* cmd_serve held SIGHUP while starting: one sent meanwhile lands now. */
static void
unhold_hup(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/*
 * SIGHUP: load the configuration and the TLS credentials again; they
 * serve the next connections (those being served keep theirs: each is a
 * child with its own copy). A bad file is logged and the old ones kept.
 * The address and port of the listening socket stay as they were started.
 */
static struct ha_cfg *
reload(struct ha_cfg *cfg, struct ha_tls_ctx **ctx, const struct ha_args *a)
{
	struct ha_cfg *n = ha_cfg_load(a->conf, a->overrides, a->n_overrides);
	struct ha_tls_ctx *nctx = NULL;

	hup = 0;
	if (n == NULL || n->self == NULL ||
	    (nctx = ha_tls_ctx_from_cfg(n)) == NULL) {
		ha_log(HA_FAILURE, "SIGHUP: %s is not usable; keeping the "
		    "configuration in use", a->conf);
		ha_cfg_free(n);
		return cfg;
	}
	ha_log(HA_INFO, "SIGHUP: configuration reloaded (%zu sync sets)",
	    n->n_syncs);
	ha_tls_ctx_free(*ctx);
	*ctx = nctx;
	ha_cfg_free(cfg);
	return n;
}

/* A pull: we are the sender of the set they name. */
static int
serve_pull(struct hs_conn *c, const struct ha_cfg *cfg)
{
	struct pull_wire { struct ha_tlv_slice set; uint32_t flags; } pw;
	static const struct ha_tlv_spec spec[] = {
		{ 1 | HA_TLV_CRIT, HA_TLV_STR, 1, 0, 64 },
		{ 2, HA_TLV_U32, 0, offsetof(struct pull_wire, flags), 0 },
		{ 0 },
	};
	const struct ha_cfg_sync *set;
	struct hs_push_stats st;
	char err[400], *name;
	const char *why;

	memset(&pw, 0, sizeof(pw));
	if (ha_tlv_decode((uint8_t *)c->in.s, c->in.len, spec, &pw, NULL,
	    &why) == -1) {
		hs_refuse(c, "a bad PULL: %s", why);
		return -1;
	}
	name = ha_tlv_strdup(&pw.set);
	set = ha_cfg_sync(cfg, name);
	free(name);
	if (set == NULL) {
		hs_refuse(c, "no such [sync] set on %s", cfg->cluster->node);
		return -1;
	}
	if (hs_push_flags(c, cfg, set, NULL, 0, -1, pw.flags & HS_F_DRY, &st,
	    err, sizeof(err)) == -1) {
		ha_log(HA_FAILURE, "pull of %s by %s: %s", set->name, c->name,
		    err);
		return -1;
	}
	ha_log(HA_SUCCESS, "pull of %s by %s: %llu files sent", set->name,
	    c->name, (unsigned long long)st.files);
	return 0;
}

int
hs_serve_conn(struct hs_conn *c, const struct ha_cfg *cfg)
{
	uint8_t type;
	int r;

	for (;;) {
		/* Between pushes a connection may idle (watch keeps it). */
		c->timeout_ms = 24 * 3600 * 1000;
		if ((r = hs_recv(c, &type)) != 1)
			return r == 0 ? 0 : -1;
		if (type == HS_BEGIN)
			r = hs_receive(c, cfg);
		else if (type == HS_PULL)
			r = serve_pull(c, cfg);
		else {
			hs_refuse(c, "unexpected message %u", type);
			return -1;
		}
		/* After a refusal the rest of their push is noise: hang up. */
		if (r == -1)
			return -1;
	}
}

static void
child(const struct ha_cfg *cfg, struct ha_tls_ctx *ctx, int fd,
    const char *addr)
{
	struct ha_hello mine;
	struct hs_conn c;
	int rc;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	ha_tls_ctx_after_fork(ctx);
	memset(&c, 0, sizeof(c));
	ha_hello_init(&mine, cfg->cluster->name, cfg->cluster->node, "member");
	c.peer = ha_peer_accept(ctx, fd, addr, &mine, ha_now_ms() +
	    cfg->cluster->handshake_timeout_ms);
	if (c.peer == NULL)
		_exit(1);
	c.cfg = cfg;
	c.timeout_ms = 30000;
	ha_strlcpy(c.name, ha_peer_name(c.peer) ? ha_peer_name(c.peer) : addr,
	    sizeof(c.name));
	rc = hs_serve_conn(&c, cfg);
	(void)hs_flush(&c);
	ha_peer_free(c.peer);
	ha_buf_free(&c.out);
	ha_buf_free(&c.in);
	_exit(rc == 0 ? 0 : 1);
}

int
hs_serve(struct ha_cfg *cfg, const struct ha_args *a, int foreground)
{
	const struct ha_cfg_node *self = cfg->self;
	int64_t port = self ? hs_port(cfg, self) : 0;
	struct ha_tls_ctx *ctx = NULL;
	char *pidfile = ha_xasprintf("%s/hasync.pid", cfg->cluster->run_dir);
	int lfd = -1, rc = HA_EXIT_FAIL, pid;

	if (self == NULL) {
		ha_log(HA_FAILURE, "this node (%s) has no [node] section",
		    cfg->cluster->node);
		goto out;
	}
	if ((mkdir(cfg->cluster->run_dir, 0755) == -1 && errno != EEXIST)) {
		ha_log_errno(HA_FAILURE, "mkdir %s", cfg->cluster->run_dir);
		goto out;
	}
	if ((pid = ha_daemon_running(pidfile)) != 0) {
		ha_log(HA_FAILURE, "already running (pid %d, %s)", pid, pidfile);
		goto out;
	}
	if (ha_daemon_start("hasync", foreground) == -1)
		goto out;
	if ((ctx = ha_tls_ctx_from_cfg(cfg)) == NULL ||
	    (lfd = ha_net_listen(&self->address, hs_port(cfg, self))) == -1) {
		ha_daemon_failed("cannot load the TLS credentials or listen "
		    "(see the log)");
		goto out;
	}
	signal(SIGCHLD, SIG_IGN);	/* children reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGHUP, on_hup);
	unhold_hup();
	free(hs_state_dir(cfg));
	if (ha_daemon_ready(pidfile) == -1)
		goto out;
	ha_log(HA_INFO, "serving sync on port %lld", (long long)port);
	while (!stop) {
		char addr[80];
		int fd;

		if (hup)
			cfg = reload(cfg, &ctx, a);
		if (ha_net_wait(lfd, POLLIN, ha_now_ms() + 1000) != 1)
			continue;
		if ((fd = ha_net_accept(lfd, addr, sizeof(addr))) == -1)
			continue;
		if ((pid = fork()) == 0) {
			close(lfd);
			child(cfg, ctx, fd, addr);
		}
		if (pid == -1)
			ha_log_errno(HA_WARNING, "fork for %s", addr);
		close(fd);
	}
	ha_log(HA_INFO, "stopped");
	rc = HA_EXIT_OK;
out:
	ha_daemon_stop(pidfile);
	if (lfd != -1)
		close(lfd);
	ha_tls_ctx_free(ctx);
	ha_cfg_free(cfg);
	free(pidfile);
	return rc;
}
