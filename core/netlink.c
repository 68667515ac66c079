/*
 * rtnetlink I/O: one NETLINK_ROUTE socket, requests sent to the kernel
 * and its replies read until every request has ended (an ack or error
 * for a request, NLMSG_DONE for a dump), with the kernel's errors turned
 * into clear text. Messages are built and decoded in core/nlmsg.c.
 * Reference: netlink(7), rtnetlink(7).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "core/netlink.h"
#include "core/util.h"

/* Called for each reply that is neither an ack, an error nor the end. */
typedef int (*reply_fn)(const void *msg, size_t len, void *arg);

static int
fail(struct ha_nl *nl, int err, const char *kernel_says)
{
	const char *hint = "";

	switch (err) {
	case EPERM:
		hint = " (needs root or CAP_NET_ADMIN)";
		break;
	case EPROTO:
		hint = " (malformed reply from the kernel)";
		break;
	case EAGAIN:
		hint = " (no reply from the kernel in 5s)";
		break;
	}
	nl->err = err;
	if (kernel_says && *kernel_says)
		snprintf(nl->why, sizeof(nl->why), "%s%s: %s", strerror(err),
		    hint, kernel_says);
	else
		snprintf(nl->why, sizeof(nl->why), "%s%s", strerror(err), hint);
	return -1;
}

const char *
ha_nl_strerror(const struct ha_nl *nl)
{
	return nl->why[0] ? nl->why : "no error";
}

int
ha_nl_open(struct ha_nl *nl)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);
	struct timeval tv = { 5, 0 };
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd == -1)
		return fail(nl, errno, "");
	/* Best effort: the kernel's own words in errors, errors without a
	 * copy of our request, dumps filtered by the kernel. */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
	    sizeof(one));
	(void)setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &sl) == -1) {
		fail(nl, errno, "");
		close(nl->fd);
		nl->fd = -1;
		return -1;
	}
	nl->portid = sa.nl_pid;
	nl->seq = (uint32_t)time(NULL);
	nl->rbuf = ha_xmalloc(HA_NL_RBUF);
	memset(nl->rbuf, 0, HA_NL_RBUF);
	return 0;
}

void
ha_nl_close(struct ha_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
	free(nl->rbuf);
	nl->rbuf = NULL;
}

static int
send_req(struct ha_nl *nl, const void *req, size_t len)
{
	struct sockaddr_nl sa;
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	do
		n = sendto(nl->fd, req, len, 0, (struct sockaddr *)&sa,
		    sizeof(sa));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return fail(nl, errno, "");
	if ((size_t)n != len)
		return fail(nl, EMSGSIZE, "request cut short");
	return 0;
}

/*
 * One received datagram: handle each message that answers one of our
 * nreq requests (seq first..first+nreq-1). *open counts the requests
 * not ended yet. Returns -1 when the datagram is malformed.
 */
static int
handle(struct ha_nl *nl, const unsigned char *p, size_t left, uint32_t first,
    int nreq, int *open, reply_fn fn, void *arg)
{
	struct nlmsghdr h;
	const unsigned char *m;
	size_t mlen;
	char text[200];
	int err;

	while ((m = ha_nl_next(&p, &left, &mlen)) != NULL) {
		memcpy(&h, m, sizeof(h));
		if (h.nlmsg_pid != nl->portid ||
		    h.nlmsg_seq - first >= (uint32_t)nreq)
			continue;
		if (h.nlmsg_type == NLMSG_DONE) {
			(*open)--;
		} else if (h.nlmsg_type == NLMSG_ERROR) {
			if (ha_nl_parse_error(m, mlen, &err, text,
			    sizeof(text)) != 0)
				return -1;
			if (err && !nl->err)
				fail(nl, err, text);
			(*open)--;
		} else if (h.nlmsg_type >= NLMSG_MIN_TYPE && fn &&
		    fn(m, mlen, arg) == -1) {
			return -1;
		}
	}
	return left ? -1 : 0;
}

/* Send nreq requests in one datagram, read until all of them ended. */
static int
exchange(struct ha_nl *nl, const void *req, size_t len, uint32_t first,
    int nreq, reply_fn fn, void *arg)
{
	unsigned char *buf = nl->rbuf;
	struct sockaddr_nl sa;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int open = nreq, rc = 0;

	nl->err = 0;
	nl->why[0] = '\0';
	if (buf == NULL || nl->fd < 0)
		return fail(nl, EBADF, "netlink socket not open");
	if (send_req(nl, req, len) == -1)
		return -1;
	while (open > 0) {
		iov.iov_base = buf;
		iov.iov_len = HA_NL_RBUF;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &sa;
		mh.msg_namelen = sizeof(sa);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		n = recvmsg(nl->fd, &mh, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = fail(nl, errno == EWOULDBLOCK ? EAGAIN : errno,
			    "");
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			rc = fail(nl, EMSGSIZE, "reply larger than 64 KiB");
			break;
		}
		if (sa.nl_pid != 0)
			continue;
		if (handle(nl, buf, (size_t)n, first, nreq, &open, fn,
		    arg) == -1) {
			rc = fail(nl, EPROTO, "");
			break;
		}
	}
	return rc == -1 || nl->err ? -1 : 0;
}

static int
link_reply(const void *msg, size_t len, void *arg)
{
	struct ha_nl_link *l = arg;

	return ha_nl_parse_link(msg, len, l) == -1 ? -1 : 0;
}

int
ha_nl_link_get(struct ha_nl *nl, const char *name, struct ha_nl_link *l)
{
	unsigned char req[HA_NL_REQ_MAX];
	uint32_t seq = ++nl->seq;
	size_t len = ha_nl_build_getlink(req, sizeof(req), seq, name);

	memset(l, 0, sizeof(*l));
	if (len == 0)
		return 1;	/* no interface has such a name */
	if (exchange(nl, req, len, seq, 1, link_reply, l) == -1)
		return nl->err == ENODEV ? 1 : -1;
	if (l->index <= 0 || strcmp(l->name, name) != 0)
		return fail(nl, EPROTO, "no link in the reply");
	return 0;
}

struct addr_acc {
	int family, ifindex;
	struct ha_nl_addr *v;
	size_t n;
	int intr;
};

static int
addr_reply(const void *msg, size_t len, void *arg)
{
	struct addr_acc *acc = arg;
	struct ha_nl_addr a;
	struct nlmsghdr h;
	int r = ha_nl_parse_addr(msg, len, &a);

	if (r == -1)
		return -1;
	memcpy(&h, msg, sizeof(h));
	if (h.nlmsg_flags & NLM_F_DUMP_INTR)
		acc->intr = 1;
	if (r == 1 || a.cidr.addr.family != acc->family ||
	    (acc->ifindex && a.ifindex != acc->ifindex))
		return 0;
	acc->v = ha_xreallocarray(acc->v, acc->n + 1, sizeof(*acc->v));
	acc->v[acc->n++] = a;
	return 0;
}

int
ha_nl_addr_list(struct ha_nl *nl, int family, int ifindex,
    struct ha_nl_addr **v, size_t *n)
{
	unsigned char req[HA_NL_REQ_MAX];
	struct addr_acc acc;
	int tries;

	*v = NULL;
	*n = 0;
	/* A dump interrupted by a change is inconsistent: do it again. */
	for (tries = 0; tries < 5; tries++) {
		uint32_t seq = ++nl->seq;
		size_t len = ha_nl_build_getaddr(req, sizeof(req), seq, family,
		    ifindex);

		memset(&acc, 0, sizeof(acc));
		acc.family = family;
		acc.ifindex = ifindex;
		if (exchange(nl, req, len, seq, 1, addr_reply, &acc) == -1) {
			free(acc.v);
			return -1;
		}
		if (!acc.intr)
			break;
		free(acc.v);
		acc.v = NULL;
		acc.n = 0;
	}
	if (acc.intr)
		return fail(nl, EAGAIN, "addresses kept changing during the "
		    "dump");
	*v = acc.v;
	*n = acc.n;
	return 0;
}

int
ha_nl_addr_set(struct ha_nl *nl, enum ha_nl_set how, int ifindex,
    const struct ha_cidr *c, const char *label, uint32_t lifetime_s,
    struct ha_nl_addr *out)
{
	unsigned char req[2 * HA_NL_REQ_MAX];
	unsigned flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    (how == HA_NL_CREATE ? NLM_F_EXCL : NLM_F_REPLACE);
	uint32_t seq = nl->seq + 1;
	struct addr_acc acc;
	struct ha_nl_addr *a;
	size_t len, len2 = 0;
	int rc;

	nl->seq += 2;
	len = ha_nl_build_addr(req, HA_NL_REQ_MAX, seq, RTM_NEWADDR, flags,
	    ifindex, c, label, lifetime_s);
	if (len == 0)
		return fail(nl, EINVAL, "cannot build the request");
	/* The address as the kernel has it afterwards: a dump in the same
	 * datagram, so still one round trip. */
	if (out)
		len2 = ha_nl_build_getaddr(req + len, sizeof(req) - len,
		    seq + 1, c->addr.family, ifindex);
	memset(&acc, 0, sizeof(acc));
	acc.family = c->addr.family;
	acc.ifindex = ifindex;
	rc = exchange(nl, req, len + len2, seq, out ? 2 : 1, addr_reply, &acc);
	if (rc == 0 && out) {
		for (a = acc.v; a < acc.v + acc.n; a++)
			if (a->cidr.prefix == c->prefix &&
			    ha_addr_equal(&a->cidr.addr, &c->addr))
				break;
		if (a == acc.v + acc.n)
			rc = fail(nl, ENOENT, "the address is not there after "
			    "adding it");
		else
			*out = *a;
	}
	free(acc.v);
	return rc;
}

int
ha_nl_addr_del(struct ha_nl *nl, int ifindex, const struct ha_cidr *c)
{
	unsigned char req[HA_NL_REQ_MAX];
	uint32_t seq = ++nl->seq;
	size_t len = ha_nl_build_addr(req, sizeof(req), seq, RTM_DELADDR,
	    NLM_F_REQUEST | NLM_F_ACK, ifindex, c, NULL, HA_NL_FOREVER);

	if (len == 0)
		return fail(nl, EINVAL, "cannot build the request");
	return exchange(nl, req, len, seq, 1, NULL, NULL);
}
