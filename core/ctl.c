/*
 * The control socket (see ctl.h): frames of core/wire over a unix stream
 * socket. Requests and replies are small; the server reads a request
 * without blocking and answers at once.
 */
#include "core/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net.h"
#include "core/wire.h"

enum { CTL_REQ = 1, CTL_REPLY = 2, CTL_MORE = 3 };
#define CTL_MAX (256 * 1024)

struct req_wire {
	struct ha_tlv_slice cmd, arg[HA_CTL_ARGS];
};

static const struct ha_tlv_spec req_spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_STR, 1, offsetof(struct req_wire, cmd), 31 },
	{ 2, HA_TLV_STR, 0, offsetof(struct req_wire, arg[0]), 127 },
	{ 3, HA_TLV_STR, 0, offsetof(struct req_wire, arg[1]), 127 },
	{ 4, HA_TLV_STR, 0, offsetof(struct req_wire, arg[2]), 127 },
	{ 5, HA_TLV_STR, 0, offsetof(struct req_wire, arg[3]), 127 },
	{ 0 },
};

struct rep_wire {
	uint32_t code;
	struct ha_tlv_slice text, json;
};

static const struct ha_tlv_spec rep_spec[] = {
	{ 1, HA_TLV_U32, 1, offsetof(struct rep_wire, code), 0 },
	{ 2, HA_TLV_STR, 0, offsetof(struct rep_wire, text), CTL_MAX },
	{ 3, HA_TLV_STR, 0, offsetof(struct rep_wire, json), CTL_MAX },
	{ 0 },
};

void
ha_ctl_reply_free(struct ha_ctl_reply *r)
{
	ha_buf_free(&r->text);
	ha_buf_free(&r->json);
}

static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		ha_log(HA_FAILURE, "%s: socket path too long", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Read one whole frame by the deadline: 1, 0 (closed), -1. */
static int
read_frame(int fd, struct ha_buf *in, uint8_t *type, struct ha_buf *pl,
    int64_t deadline)
{
	for (;;) {
		const uint8_t *p;
		const char *why;
		size_t n, used;
		char chunk[8192];
		ssize_t r;
		int f = in->len ? ha_wire_parse((uint8_t *)in->s, in->len, CTL_MAX,
		    type, &p, &n, &used, &why) : 0;

		if (f == -1) {
			ha_log(HA_FAILURE, "control socket: %s", why);
			return -1;
		}
		if (f == 1) {
			pl->len = 0;
			ha_buf_add(pl, p, n);
			memmove(in->s, in->s + used, in->len - used);
			in->len -= used;
			return 1;
		}
		if (deadline && ha_net_wait(fd, POLLIN, deadline) != 1) {
			ha_log(HA_FAILURE, "control socket: no answer in time");
			return -1;
		}
		if ((r = read(fd, chunk, sizeof(chunk))) == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ha_log_errno(HA_FAILURE, "control socket");
			return -1;
		}
		ha_buf_add(in, chunk, (size_t)r);
	}
}

static int
dial(const char *sock, const char *cmd, const char *const *args, int n_args)
{
	struct sockaddr_un sa;
	struct ha_buf b = { 0 }, f = { 0 };
	int fd, i;

	if (sock_addr(sock, &sa) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		ha_log_errno(HA_FAILURE, "no hawatch answers on %s (is it "
		    "running? 'hawatch' or the init script starts it)", sock);
		if (fd != -1)
			close(fd);
		return -1;
	}
	ha_tlv_str(&b, 1 | HA_TLV_CRIT, cmd);
	for (i = 0; i < n_args && i < HA_CTL_ARGS; i++)
		ha_tlv_str(&b, (uint16_t)(2 + i), args[i]);
	ha_wire_frame(&f, CTL_REQ, b.s, b.len);
	if (ha_write_all(fd, f.s, f.len) == -1) {
		ha_log_errno(HA_FAILURE, "control socket %s", sock);
		close(fd);
		fd = -1;
	}
	ha_buf_free(&b);
	ha_buf_free(&f);
	return fd;
}

static int
decode_reply(const struct ha_buf *pl, struct ha_ctl_reply *r)
{
	struct rep_wire w;
	const char *why;

	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode((uint8_t *)pl->s, pl->len, rep_spec, &w, NULL,
	    &why) == -1) {
		ha_log(HA_FAILURE, "control socket: a bad reply (%s)", why);
		return -1;
	}
	r->code = w.code;
	ha_buf_add(&r->text, w.text.p, w.text.n);
	ha_buf_add(&r->json, w.json.p, w.json.n);
	return 0;
}

int
ha_ctl_call(const char *sock, const char *cmd, const char *const *args,
    int n_args, struct ha_ctl_reply *r, int64_t timeout_ms)
{
	struct ha_buf in = { 0 }, pl = { 0 };
	uint8_t type;
	int fd, rc = -1;

	memset(r, 0, sizeof(*r));
	if ((fd = dial(sock, cmd, args, n_args)) == -1)
		return -1;
	if (read_frame(fd, &in, &type, &pl, ha_now_ms() + timeout_ms) == 1 &&
	    type == CTL_REPLY)
		rc = decode_reply(&pl, r);
	else
		ha_log(HA_FAILURE, "hawatch closed the control socket without "
		    "an answer");
	close(fd);
	ha_buf_free(&in);
	ha_buf_free(&pl);
	return rc;
}

int
ha_ctl_follow(const char *sock, const char *cmd, const char *const *args,
    int n_args, int (*cb)(const char *text, void *arg), void *arg)
{
	struct ha_buf in = { 0 }, pl = { 0 };
	uint8_t type;
	int fd, rc = -1;

	if ((fd = dial(sock, cmd, args, n_args)) == -1)
		return -1;
	while (read_frame(fd, &in, &type, &pl, 0) == 1) {
		struct ha_ctl_reply r;

		memset(&r, 0, sizeof(r));
		if (decode_reply(&pl, &r) == -1)
			break;
		rc = cb(r.text.s ? r.text.s : "", arg);
		ha_ctl_reply_free(&r);
		if (rc)
			break;
	}
	close(fd);
	ha_buf_free(&in);
	ha_buf_free(&pl);
	return 0;
}

/* --- the daemon's side ----------------------------------------------------- */

struct ha_ctl_conn {
	struct ha_ctl_server *srv;
	int fd;
	int streaming;
	struct ha_buf in;
	struct ha_ctl_conn *next;
};

struct ha_ctl_server {
	struct ha_loop *loop;
	int fd;
	char *path;
	ha_ctl_handler *h;
	void *arg;
	struct ha_ctl_conn *conns;
};

static void
send_reply(int fd, uint8_t type, const struct ha_ctl_reply *r)
{
	struct ha_buf b = { 0 }, f = { 0 };

	ha_tlv_u32(&b, 1, r->code);
	if (r->text.len)
		ha_tlv_bytes(&b, 2, r->text.s, r->text.len);
	if (r->json.len)
		ha_tlv_bytes(&b, 3, r->json.s, r->json.len);
	ha_wire_frame(&f, type, b.s, b.len);
	/*
	 * Replies fit in a socket buffer; a client that does not read loses
	 * them rather than stall the daemon.
	 */
	(void)ha_write_all(fd, f.s, f.len);
	ha_buf_free(&b);
	ha_buf_free(&f);
}

static void
conn_drop(struct ha_ctl_server *s, struct ha_ctl_conn *c)
{
	struct ha_ctl_conn **pp;

	for (pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ha_loop_del(s->loop, c->fd);
	close(c->fd);
	ha_buf_free(&c->in);
	free(c);
}

static int
parse_request(const uint8_t *p, size_t n, struct ha_ctl_request *q)
{
	struct req_wire w;
	const char *why;
	int i;

	memset(&w, 0, sizeof(w));
	memset(q, 0, sizeof(*q));
	if (ha_tlv_decode(p, n, req_spec, &w, NULL, &why) == -1)
		return -1;
	memcpy(q->cmd, w.cmd.p, w.cmd.n);
	for (i = 0; i < HA_CTL_ARGS && w.arg[i].p; i++) {
		memcpy(q->arg[i], w.arg[i].p, w.arg[i].n);
		q->n_args = i + 1;
	}
	return 0;
}

static void
on_conn(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct ha_ctl_conn *c = arg;
	struct ha_ctl_server *s = c->srv;
	struct ha_ctl_request q;
	struct ha_ctl_reply r;
	const uint8_t *p;
	const char *why;
	char chunk[4096];
	size_t n, used;
	ssize_t got;
	uint8_t type;
	int f;

	(void)revents;
	(void)l;
	got = read(fd, chunk, sizeof(chunk));
	if (got <= 0 && !(got == -1 && (errno == EAGAIN || errno == EINTR))) {
		conn_drop(s, c);
		return;
	}
	if (got > 0)
		ha_buf_add(&c->in, chunk, (size_t)got);
	if (c->streaming || c->in.len == 0)
		return;
	f = ha_wire_parse((uint8_t *)c->in.s, c->in.len, 4096, &type, &p, &n,
	    &used, &why);
	if (f == 0)
		return;
	memset(&r, 0, sizeof(r));
	if (f == -1 || type != CTL_REQ || parse_request(p, n, &q) == -1) {
		r.code = HA_EXIT_USAGE;
		ha_buf_puts(&r.text, "a bad request on the control socket\n");
		send_reply(fd, CTL_REPLY, &r);
		ha_ctl_reply_free(&r);
		conn_drop(s, c);
		return;
	}
	if (s->h(&q, &r, c, s->arg) == 1) {
		c->streaming = 1;
		if (r.text.len || r.json.len)
			send_reply(fd, CTL_MORE, &r);
	} else {
		send_reply(fd, CTL_REPLY, &r);
		conn_drop(s, c);
	}
	ha_ctl_reply_free(&r);
}

/* Only root and the daemon's own user may steer it. */
static int
allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return 0;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void
on_accept(struct ha_loop *l, int fd, short revents, void *arg)
{
	struct ha_ctl_server *s = arg;
	int cfd;

	(void)revents;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		struct ha_ctl_conn *c;

		if (!allowed(cfd)) {
			ha_log(HA_WARNING, "control socket: refused a client of "
			    "another user");
			close(cfd);
			continue;
		}
		c = ha_xcalloc(1, sizeof(*c));
		c->srv = s;
		c->fd = cfd;
		c->next = s->conns;
		s->conns = c;
		ha_loop_add(l, cfd, POLLIN, on_conn, c);
	}
}

struct ha_ctl_server *
ha_ctl_server_new(struct ha_loop *l, const char *path, ha_ctl_handler *h,
    void *arg)
{
	struct ha_ctl_server *s;
	struct sockaddr_un sa;
	mode_t old;
	int fd;

	if (sock_addr(path, &sa) == -1)
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		ha_log_errno(HA_FAILURE, "control socket %s", path);
		return NULL;
	}
	unlink(path);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 16) == -1) {
		umask(old);
		ha_log_errno(HA_FAILURE, "control socket %s", path);
		close(fd);
		return NULL;
	}
	umask(old);
	s = ha_xcalloc(1, sizeof(*s));
	s->loop = l;
	s->fd = fd;
	s->path = ha_xstrdup(path);
	s->h = h;
	s->arg = arg;
	ha_loop_add(l, fd, POLLIN, on_accept, s);
	return s;
}

void
ha_ctl_push(struct ha_ctl_server *s, const char *text)
{
	struct ha_ctl_conn *c;
	struct ha_ctl_reply r;

	memset(&r, 0, sizeof(r));
	ha_buf_puts(&r.text, text);
	for (c = s->conns; c; c = c->next)
		if (c->streaming)
			send_reply(c->fd, CTL_MORE, &r);
	ha_ctl_reply_free(&r);
}

void
ha_ctl_server_free(struct ha_ctl_server *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		conn_drop(s, s->conns);
	ha_loop_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
