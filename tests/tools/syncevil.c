/*
 * Test helper: a malicious hasync sender. It authenticates as a node of
 * the cluster (CONF) and pushes set SET to NODE with the protocol of
 * applets/hasync (doc/hasync.8), bent on purpose:
 *
 *   syncevil CONF NODE SET dotdot     a file named ../evil
 *   syncevil CONF NODE SET absolute   a file named /tmp/...-evil
 *   syncevil CONF NODE SET symlink TARGET
 *                                     a symlink "esc" -> TARGET, then a
 *                                     file esc/evil, and its data even
 *                                     though it was not asked for
 *   syncevil CONF NODE SET biglen     a file list entry whose path length
 *                                     runs past the frame
 *   syncevil CONF NODE SET bigrecord  a data record of 4 GB
 *   syncevil CONF NODE SET pastbasis FILE
 *                                     FILE exists (small) on NODE: send a
 *                                     delta whose copies point past it
 *   syncevil CONF NODE SET unordered  the same path twice
 *
 * Prints what the receiver answered; exit 0 when it refused (ERROR or
 * closed), 1 when it accepted what it should not have.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/delta.h"
#include "core/flist.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/tls.h"
#include "core/wire.h"
#include "core/zio.h"

enum {
	BEGIN = 64, BEGIN_OK, FLIST, FLIST_END, WANT, WANT_END, DATA,
	DATA_END, COMMIT,
};

static struct ha_peer *p;
static struct ha_zio *zd;

/*
 * This tool ends from deep inside (exit on the receiver's refusal) on
 * purpose; the sanitizer build is not to count what it did not free.
 */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}

static void
send_frame(uint8_t type, const void *pl, size_t n)
{
	if (ha_peer_send(p, type, pl, n, ha_now_ms() + 5000) == -1) {
		printf("closed by the receiver\n");
		exit(0);
	}
}

/* Wait for one frame: refused (ERROR or closed) ends the program. */
static uint8_t
expect(struct ha_buf *b)
{
	uint8_t type;
	int r = ha_peer_recv(p, &type, b, ha_now_ms() + 10000);

	if (r != 1) {
		printf("refused by the receiver\n");
		exit(0);
	}
	return type;
}

static void
send_list(const struct ha_flist_ent *e, size_t n, int raw_tail)
{
	struct ha_buf b = { 0 }, z = { 0 };
	struct ha_zio *zl = ha_zio_packer(HA_ZIO_ZLIB, 1);
	const char *why;
	size_t i;

	for (i = 0; i < n; i++)
		ha_flist_encode(&e[i], &b);
	if (raw_tail) {
		/* An entry announcing a 60000-byte path, then 10 bytes. */
		static const uint8_t bad[] = { 1, 0, 0xea, 0x60, 'a', 'b', 'c',
		    'd', 'e', 'f', 'g', 'h', 'i', 'j' };
		ha_buf_add(&b, bad, sizeof(bad));
	}
	ha_zio_pack(zl, b.s, b.len, &z, &why);
	send_frame(FLIST, z.s, z.len);
	b.len = 0;
	ha_tlv_u32(&b, 1, (uint32_t)n);
	send_frame(FLIST_END, b.s, b.len);
	ha_zio_free(zl);
	ha_buf_free(&b);
	ha_buf_free(&z);
}

static void
begin(const char *set)
{
	struct ha_buf b = { 0 };

	ha_tlv_str(&b, 1 | HA_TLV_CRIT, set);
	ha_tlv_u32(&b, 3 | HA_TLV_CRIT, 0);
	send_frame(BEGIN, b.s, b.len);
	if (expect(&b) != BEGIN_OK) {
		printf("no BEGIN_OK\n");
		exit(1);
	}
	ha_buf_free(&b);
}

/* Read WANT frames to the end; returns how many file records. */
static int
wants(void)
{
	struct ha_buf b = { 0 };
	int n = 0;

	while (expect(&b) == WANT)
		n++;
	ha_buf_free(&b);
	return n;
}

static void
record(struct ha_buf *plain, uint8_t kind, uint32_t idx, const void *d,
    size_t n)
{
	uint8_t h[9];

	h[0] = kind;
	ha_put_be32(h + 1, idx);
	ha_put_be32(h + 5, (uint32_t)n);
	ha_buf_add(plain, h, 9);
	ha_buf_add(plain, d, n);
}

static void
send_data(struct ha_buf *plain)
{
	struct ha_buf z = { 0 }, b = { 0 };
	const char *why;
	size_t off = 0;

	while (off < plain->len) {
		size_t n = plain->len - off > HA_ZIO_CHUNK ? HA_ZIO_CHUNK :
		    plain->len - off;

		z.len = 0;
		ha_zio_pack(zd, plain->s + off, n, &z, &why);
		send_frame(DATA, z.s, z.len);
		off += n;
	}
	ha_tlv_u32(&b, 1, 1);
	send_frame(DATA_END, b.s, b.len);
	ha_buf_free(&z);
	ha_buf_free(&b);
}

static int
collect(void *arg, const void *d, size_t n)
{
	ha_buf_add(arg, d, n);
	return 0;
}

/* The end: COMMIT with errors counts as refused. */
static int
verdict(void)
{
	struct ha_buf b = { 0 };
	uint8_t type = expect(&b);
	struct { uint32_t errors; } cm = { 0 };
	static const struct ha_tlv_spec spec[] = {
		{ 4, HA_TLV_U32, 1, 0, 0 }, { 0 },
	};
	const char *why;

	if (type == COMMIT && ha_tlv_decode((uint8_t *)b.s, b.len, spec, &cm,
	    NULL, &why) == 0 && cm.errors > 0) {
		printf("committed with errors: refused\n");
		return 0;
	}
	printf("accepted (message %u)\n", type);
	return 1;
}

int
main(int argc, char **argv)
{
	struct ha_flist_ent e[2];
	struct ha_tls_ctx *ctx;
	struct ha_cfg *cfg;
	const struct ha_cfg_node *n;
	struct ha_hello h;
	struct ha_buf plain = { 0 };
	const char *c;
	char evil[256];

	ha_log_init("syncevil", HA_LOG_STDERR);
	if (argc < 5) {
		fprintf(stderr, "usage: syncevil CONF NODE SET CASE [ARG]\n");
		return 2;
	}
	c = argv[4];
	if ((cfg = ha_cfg_load(argv[1], NULL, 0)) == NULL ||
	    (ctx = ha_tls_ctx_from_cfg(cfg)) == NULL ||
	    (n = ha_cfg_node(cfg, argv[2])) == NULL)
		return 2;
	ha_hello_init(&h, cfg->cluster->name, cfg->cluster->node, "tool");
	if ((p = ha_peer_connect(ctx, &n->address, (int)n->port + 1, n->name,
	    &h, ha_now_ms() + 5000)) == NULL)
		return 2;
	zd = ha_zio_packer(HA_ZIO_ZLIB, 1);
	memset(e, 0, sizeof(e));
	e[0].type = e[1].type = HA_FLIST_REG;
	e[0].mode = e[1].mode = 0644;
	e[0].size = e[1].size = 5;
	begin(argv[3]);
	if (strcmp(c, "dotdot") == 0 || strcmp(c, "absolute") == 0 ||
	    strcmp(c, "unordered") == 0) {
		snprintf(evil, sizeof(evil), "%s", c[0] == 'd' ? "../evil" :
		    c[0] == 'a' ? "/tmp/syncevil-absolute" : "same");
		e[0].path = e[1].path = evil;
		send_list(e, c[0] == 'u' ? 2 : 1, 0);
		wants();
		printf("accepted the file list\n");
		return 1;
	}
	if (strcmp(c, "biglen") == 0) {
		send_list(e, 0, 1);
		wants();
		printf("accepted the file list\n");
		return 1;
	}
	if (strcmp(c, "symlink") == 0 && argc == 6) {
		e[0].type = HA_FLIST_LINK;
		e[0].size = 0;
		e[0].path = "esc";
		e[0].link = argv[5];
		e[1].path = "esc/evil";
		send_list(e, 2, 0);
		printf("wanted %d frame(s)\n", wants());
		record(&plain, 1, 1, "\0\0\0\0\0\0\0\5\0\0\0\0\0\0\0\0", 16);
		send_data(&plain);
		return verdict();
	}
	if (strcmp(c, "bigrecord") == 0) {
		e[0].path = "big-record";
		send_list(e, 1, 0);
		wants();
		record(&plain, 2, 0, "", 0);
		ha_put_be32((uint8_t *)plain.s + 5, 0xffffffffu);
		send_data(&plain);
		return verdict();
	}
	if (strcmp(c, "pastbasis") == 0 && argc == 6) {
		/* A large file, its own signature: all copies of blocks the
		 * receiver's small basis does not have. */
		struct ha_buf sig = { 0 }, ops = { 0 };
		struct ha_delta_sig *s;
		uint8_t sha[HA_DELTA_SHA_LEN];
		char tmpl[] = "/tmp/syncevil.XXXXXX";
		const char *why;
		int fd = mkstemp(tmpl);
		uint64_t size = 1 << 20;
		char *buf = calloc(1, size);
		uint8_t h16[16];
		struct ha_delta_stats dst;

		unlink(tmpl);
		for (size_t i = 0; i < size; i++)
			buf[i] = (char)(i * 7 + i / 1000);
		if (fd == -1 || write(fd, buf, size) != (ssize_t)size ||
		    ha_delta_sig_make(fd, size, &sig, &why) == -1 ||
		    (s = ha_delta_sig_load((uint8_t *)sig.s, sig.len, &why)) ==
		    NULL || ha_delta_make(fd, size, s, collect, &ops, sha, &dst,
		    &why) == -1) {
			fprintf(stderr, "syncevil: cannot make the delta\n");
			return 2;
		}
		e[0].path = argv[5];
		e[0].size = size;
		e[0].mtime_ns = 1;
		send_list(e, 1, 0);
		wants();
		ha_put_be64(h16, size);
		ha_put_be64(h16 + 8, 1000000000);
		record(&plain, 1, 0, h16, 16);
		for (size_t off = 0; off < ops.len; off += 65536)
			record(&plain, 2, 0, ops.s + off, ops.len - off > 65536 ?
			    65536 : ops.len - off);
		send_data(&plain);
		return verdict();
	}
	fprintf(stderr, "syncevil: unknown case %s\n", c);
	return 2;
}
