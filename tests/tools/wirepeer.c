/*
 * Test and bench helper that speaks our protocol on purpose badly, or
 * just fast:
 *
 *   wirepeer hello CONF NODE [proto N] [cluster X] [node Y]
 *       handshake with NODE, then a HELLO with these fields changed
 *   wirepeer bigframe CONF NODE      a proper HELLO, then a 4 GB length
 *   wirepeer raw ADDR PORT HEX|random:N   plain TCP bytes, then wait
 *   wirepeer stall ADDR PORT SECONDS  half a TLS record header, then wait
 *   wirepeer handshakes CONF NODE N   N handshakes: median and min-max ms
 *   wirepeer sink CONF ADDR PORT tls|plain   receive and count (server)
 *   wirepeer bulk CONF ADDR PORT tls|plain MB NODE   send MB; print MB/s
 *
 * Exit 0 when the peer accepted what was sent, 1 when it refused.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/net.h"
#include "core/peer.h"
#include "core/tls.h"
#include "core/wire.h"

static struct ha_cfg *cfg;
static struct ha_tls_ctx *ctx;

static const struct ha_cfg_node *
node(const char *name)
{
	const struct ha_cfg_node *n = ha_cfg_node(cfg, name);

	if (n == NULL) {
		fprintf(stderr, "wirepeer: no node %s\n", name);
		exit(2);
	}
	return n;
}

static int
setup(const char *conf)
{
	if ((cfg = ha_cfg_load(conf, NULL, 0)) == NULL ||
	    (ctx = ha_tls_ctx_from_cfg(cfg)) == NULL)
		return -1;
	return 0;
}

static int
hello(int argc, char **argv)
{
	const struct ha_cfg_node *n = node(argv[3]);
	struct ha_hello h;
	struct ha_peer *p;
	int i;

	ha_hello_init(&h, cfg->cluster->name, cfg->cluster->node, "tool");
	for (i = 4; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "proto") == 0)
			h.proto = (uint32_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "cluster") == 0)
			ha_strlcpy(h.cluster, argv[i + 1], sizeof(h.cluster));
		else if (strcmp(argv[i], "node") == 0)
			ha_strlcpy(h.node, argv[i + 1], sizeof(h.node));
	}
	p = ha_peer_connect(ctx, &n->address, (int)n->port, n->name, &h,
	    ha_now_ms() + 5000);
	if (p == NULL)
		return 1;
	printf("accepted by %s\n", ha_peer_hello(p)->node);
	ha_peer_free(p);
	return 0;
}

/* After the HELLOs, a frame header announcing 4 GB: we must be dropped. */
static int
bigframe(char **argv)
{
	const struct ha_cfg_node *n = node(argv[3]);
	struct ha_hello h;
	struct ha_peer *p;
	uint8_t hdr[5] = { 0xff, 0xff, 0xff, 0xff, HA_MSG_PING }, type;
	struct ha_buf b = { 0 };
	int r;

	ha_hello_init(&h, cfg->cluster->name, cfg->cluster->node, "tool");
	if ((p = ha_peer_connect(ctx, &n->address, (int)n->port, n->name, &h,
	    ha_now_ms() + 5000)) == NULL)
		return 2;
	ha_tls_write_all(ha_peer_tls(p), hdr, sizeof(hdr), ha_now_ms() + 2000);
	r = ha_peer_recv(p, &type, &b, ha_now_ms() + 5000);
	printf("%s\n", r == 0 ? "closed by the peer" : r == -1 ?
	    "dropped by the peer" : "answered");
	ha_buf_free(&b);
	ha_peer_free(p);
	return r == 1 ? 0 : 1;
}

static int
raw(char **argv, int stall)
{
	struct ha_addr a;
	const char *why;
	uint8_t buf[8192];
	size_t n = 0, i;
	int fd;

	if (ha_parse_addr(argv[2], 1, &a, &why) == -1)
		return 2;
	if ((fd = ha_net_connect(&a, atoi(argv[3]), ha_now_ms() + 5000)) == -1)
		return 2;
	if (stall) {
		/* A TLS record header promising a ClientHello: then nothing. */
		(void)!write(fd, "\x16\x03\x01", 3);
		sleep((unsigned)atoi(argv[4]));
	} else {
		if (strncmp(argv[4], "random:", 7) == 0) {
			FILE *f = fopen("/dev/urandom", "r");

			n = (size_t)atoi(argv[4] + 7);
			n = n > sizeof(buf) ? sizeof(buf) : n;
			if (f == NULL || fread(buf, 1, n, f) != n)
				return 2;
			fclose(f);
		} else {
			for (i = 0; argv[4][2 * i] && argv[4][2 * i + 1] &&
			    n < sizeof(buf); i++)
				buf[n++] = (uint8_t)strtol((char[]){ argv[4][2 * i],
				    argv[4][2 * i + 1], 0 }, NULL, 16);
		}
		(void)!write(fd, buf, n);
	}
	/* Whatever the server answers, it must then hang up. */
	if (ha_net_wait(fd, POLLIN, ha_now_ms() + 10000) != 1) {
		printf("still open\n");
		return 0;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	printf("closed by the peer\n");
	close(fd);
	return 1;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static int
handshakes(char **argv)
{
	const struct ha_cfg_node *n = node(argv[3]);
	int i, count = atoi(argv[4]);
	double *t = calloc((size_t)count, sizeof(double));
	struct ha_hello h;

	ha_hello_init(&h, cfg->cluster->name, cfg->cluster->node, "tool");
	for (i = 0; i < count; i++) {
		double t0 = now_ms();
		struct ha_peer *p = ha_peer_connect(ctx, &n->address,
		    (int)n->port, n->name, &h, ha_now_ms() + 5000);

		if (p == NULL)
			return 1;
		t[i] = now_ms() - t0;
		ha_peer_free(p);
	}
	qsort(t, (size_t)count, sizeof(double), cmp);
	printf("handshake+HELLO median %.2f ms (min %.2f, max %.2f, n=%d)\n",
	    t[count / 2], t[0], t[count - 1], count);
	free(t);
	return 0;
}

/* A sink: accept one connection, read until EOF, report. */
static int
sink(char **argv)
{
	struct ha_addr a;
	const char *why;
	static char buf[1 << 16];
	char peer[80];
	int tls = strcmp(argv[5], "tls") == 0, lfd, fd;
	struct ha_tls *t = NULL;
	long long total = 0;
	double t0;

	if (ha_parse_addr(argv[3], 1, &a, &why) == -1 ||
	    (lfd = ha_net_listen(&a, atoi(argv[4]))) == -1)
		return 2;
	printf("listening\n");
	fflush(stdout);
	while ((fd = ha_net_accept(lfd, peer, sizeof(peer))) == -1)
		ha_net_wait(lfd, POLLIN, ha_now_ms() + 60000);
	if (tls && ((t = ha_tls_server(ctx, fd, peer)) == NULL ||
	    ha_tls_handshake_until(t, ha_now_ms() + 5000) == -1))
		return 1;
	t0 = now_ms();
	for (;;) {
		ssize_t r = tls ? ha_tls_read(t, buf, sizeof(buf)) :
		    read(fd, buf, sizeof(buf));

		if (r > 0) {
			total += r;
			continue;
		}
		if (r == 0 || (r == -1 && errno != EAGAIN && !tls) ||
		    (tls && r == -1))
			break;
		ha_net_wait(fd, POLLIN, ha_now_ms() + 10000);
	}
	printf("received %lld bytes in %.1f ms\n", total, now_ms() - t0);
	if (t)
		ha_tls_free(t);
	else
		close(fd);
	return 0;
}

static int
bulk(char **argv)
{
	struct ha_addr a;
	const char *why;
	static char buf[1 << 16];
	int tls = strcmp(argv[5], "tls") == 0, fd;
	long long left = atoll(argv[6]) * 1024 * 1024, total = left;
	struct ha_tls *t = NULL;
	double t0;

	if (ha_parse_addr(argv[3], 1, &a, &why) == -1 ||
	    (fd = ha_net_connect(&a, atoi(argv[4]), ha_now_ms() + 5000)) == -1)
		return 2;
	if (tls && ((t = ha_tls_client(ctx, fd, argv[7], argv[3])) == NULL ||
	    ha_tls_handshake_until(t, ha_now_ms() + 5000) == -1))
		return 1;
	memset(buf, 'x', sizeof(buf));
	t0 = now_ms();
	while (left > 0) {
		size_t n = left < (long long)sizeof(buf) ? (size_t)left :
		    sizeof(buf);

		if (tls ? ha_tls_write_all(t, buf, n, ha_now_ms() + 10000) :
		    ha_write_all(fd, buf, n) == 0 ? 0 : -1) {
			if (!tls && errno == EAGAIN) {
				ha_net_wait(fd, POLLOUT, ha_now_ms() + 10000);
				continue;
			}
			return 1;
		}
		left -= (long long)n;
	}
	if (t)
		ha_tls_free(t);
	else
		close(fd);
	printf("%s: sent %lld MB in %.1f ms: %.0f MB/s\n", argv[5],
	    total >> 20, now_ms() - t0, (double)(total >> 20) /
	    ((now_ms() - t0) / 1000));
	return 0;
}

int
main(int argc, char **argv)
{
	ha_log_init("wirepeer", HA_LOG_STDERR);
	if (argc >= 4 && strcmp(argv[1], "hello") == 0)
		return setup(argv[2]) ? 2 : hello(argc, argv);
	if (argc == 4 && strcmp(argv[1], "bigframe") == 0)
		return setup(argv[2]) ? 2 : bigframe(argv);
	if (argc == 5 && strcmp(argv[1], "raw") == 0)
		return raw(argv, 0);
	if (argc == 5 && strcmp(argv[1], "stall") == 0)
		return raw(argv, 1);
	if (argc == 5 && strcmp(argv[1], "handshakes") == 0)
		return setup(argv[2]) ? 2 : handshakes(argv);
	if (argc == 6 && strcmp(argv[1], "sink") == 0)
		return setup(argv[2]) ? 2 : sink(argv);
	if (argc == 8 && strcmp(argv[1], "bulk") == 0)
		return setup(argv[2]) ? 2 : bulk(argv);
	fprintf(stderr, "usage: see tests/tools/wirepeer.c\n");
	return 2;
}
