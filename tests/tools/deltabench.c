/*
 * deltabench: throughput of core/delta and core/zio on files of SIZE MB
 * made in DIR (use a tmpfs to leave the disk out), for bench/delta.sh:
 * whole-file SHA-256, signature, delta_make and apply for an identical,
 * a 1% changed and an unrelated target, and zio packing of random and
 * text data. Prints one line per figure, in MB/s (10^6 bytes).
 *
 *   deltabench DIR SIZE_MB [keep]
 *
 * Figures are per CPU second of this process (WALL=1 in the environment
 * for wall-clock time). The files are DIR/a (basis), DIR/b (1% changed
 * in 100 spots) and DIR/c (unrelated); "keep" leaves them for a peer
 * tool to run on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ha_kconfig.h"

/* core/delta and core/zio are only built with hasync. */
#if !CONFIG_HASYNC
int
main(void)
{
	fprintf(stderr, "deltabench: built without CONFIG_HASYNC\n");
	return 2;
}
#else
#include "core/delta.h"
#include "core/sha256.h"
#include "core/util.h"
#include "core/zio.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now(void)
{
	struct timespec ts;

	/* CPU time: the machines we bench on are shared. */
	clock_gettime(getenv("WALL") ? CLOCK_MONOTONIC :
	    CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "deltabench: %s: %s\n", what, why);
	exit(1);
}

/* A file of n bytes: random, or random with 1% changed in 100 spots. */
static int
make_file(const char *dir, const char *name, size_t n, uint64_t seed,
    int changed)
{
	char *path = ha_xasprintf("%s/%s", dir, name);
	uint8_t *buf = ha_xmalloc(1 << 20);
	size_t off, i;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd == -1)
		die(path, "cannot create");
	rng = seed;
	for (off = 0; off < n; off += 1 << 20) {
		size_t k = n - off < (1 << 20) ? n - off : (1 << 20);

		for (i = 0; i + 8 <= k; i += 8) {
			uint64_t v = rnd();

			memcpy(buf + i, &v, 8);
		}
		for (; i < k; i++)
			buf[i] = (uint8_t)rnd();
		if (ha_write_all(fd, buf, k) == -1)
			die(path, "write");
	}
	if (changed) {
		rng = seed ^ 0x1234;
		size_t spot = n / 100 / 100;

		for (i = 0; i < 100 && spot > 0; i++) {
			uint64_t at = rnd() % (n - spot);

			memset(buf, (int)(rnd() & 0xff), spot);
			if (pwrite(fd, buf, spot, (off_t)at) != (ssize_t)spot)
				die(path, "pwrite");
		}
	}
	free(buf);
	free(path);
	return fd;
}

/* Log-like lines: words and numbers, compressible as real text is. */
static void
text(uint8_t *p, size_t n)
{
	static const char *w[] = { "hasync:", "[INFO]", "pushed", "files",
	    "to", "node1", "node2", "node3", "in", "term", "lease", "ms",
	    "delta", "bytes", "matched", "literal" };
	size_t i = 0;

	while (i < n) {
		char line[128];
		int k = snprintf(line, sizeof(line), "2026-12-%02u %s %s %llu "
		    "%s %s %llu\n", (unsigned)(rnd() % 28 + 1), w[rnd() % 16],
		    w[rnd() % 16], (unsigned long long)(rnd() % 100000),
		    w[rnd() % 16], w[rnd() % 16],
		    (unsigned long long)(rnd() % 1000));

		if ((size_t)k > n - i)
			k = (int)(n - i);
		memcpy(p + i, line, (size_t)k);
		i += (size_t)k;
	}
}

/* The op stream goes to a file, as it would go to a socket. */
static int
to_fd(void *arg, const void *p, size_t n)
{
	return ha_write_all(*(int *)arg, p, n);
}

static void
one(const char *dir, const char *label, int basis, size_t n, int target)
{
	struct ha_buf sig = { 0 };
	struct ha_delta_sig *s;
	struct ha_delta_stats st;
	struct ha_delta_apply *a;
	uint8_t sha[HA_DELTA_SHA_LEN];
	const char *why = "";
	char *out = ha_xasprintf("%s/out", dir);
	char *dpath = ha_xasprintf("%s/delta", dir);
	uint8_t *piece = ha_xmalloc(64 * 1024);
	double t0, t1, t2, t3;
	off_t dlen, off;
	int ofd, dfd, r = 0;

	t0 = now();
	if (ha_delta_sig_make(basis, n, &sig, &why) == -1)
		die("sig_make", why);
	t1 = now();
	if ((s = ha_delta_sig_load((uint8_t *)sig.s, sig.len, &why)) == NULL)
		die("sig_load", why);
	t2 = now();
	if ((dfd = open(dpath, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		die(dpath, "cannot create");
	if (ha_delta_make(target, n, s, to_fd, &dfd, sha, &st, &why) == -1)
		die("delta_make", why);
	t3 = now();
	dlen = lseek(dfd, 0, SEEK_END);
	printf("%-10s sig_make %7.0f MB/s  sig_load %6.1f ms  "
	    "delta_make %7.0f MB/s  delta %zu bytes (%.2f%%)\n", label,
	    n / (t1 - t0) / 1e6, (t2 - t1) * 1e3, n / (t3 - t2) / 1e6,
	    (size_t)dlen, 100.0 * dlen / n);
	if ((ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		die(out, "cannot create");
	a = ha_delta_apply_new(basis, n, ofd);
	t0 = now();
	for (off = 0; off < dlen && r == 0; off += 64 * 1024) {
		size_t k = dlen - off < 64 * 1024 ? (size_t)(dlen - off) :
		    64 * 1024;

		if (pread(dfd, piece, k, off) != (ssize_t)k)
			die(dpath, "read");
		r = ha_delta_apply_feed(a, piece, k, &why);
	}
	if (r != 1)
		die("apply", why);
	t1 = now();
	printf("%-10s apply %7.0f MB/s\n", label, n / (t1 - t0) / 1e6);
	ha_delta_apply_free(a);
	close(ofd);
	unlink(out);
	unlink(dpath);
	close(dfd);
	free(out);
	free(dpath);
	free(piece);
	ha_delta_sig_free(s);
	ha_buf_free(&sig);
}

static void
zio(const char *label, int codec, int level, const uint8_t *p, size_t n)
{
	struct ha_zio *z = ha_zio_packer(codec, level), *in = ha_zio_unpacker();
	struct ha_buf out = { 0 }, back = { 0 };
	struct ha_zio_stats st;
	const char *why = "";
	double t0, t1, tu = 0;
	size_t off;

	t0 = now();
	for (off = 0; off < n; off += HA_ZIO_CHUNK) {
		size_t k = n - off < HA_ZIO_CHUNK ? n - off : HA_ZIO_CHUNK;
		double u;

		out.len = 0;
		if (ha_zio_pack(z, p + off, k, &out, &why) == -1)
			die("pack", why);
		u = now();
		back.len = 0;
		if (ha_zio_unpack(in, (uint8_t *)out.s, out.len, &back,
		    &why) == -1)
			die("unpack", why);
		tu += now() - u;
	}
	t1 = now();
	ha_zio_stats(z, &st);
	printf("zio %-6s %-4s %d pack %7.0f MB/s  unpack %7.0f MB/s  "
	    "ratio %.3f (%llu stored, %llu compressed)\n", label,
	    codec == HA_ZIO_ZSTD ? "zstd" : "zlib", level,
	    n / (t1 - t0 - tu) / 1e6, n / tu / 1e6, (double)st.out / st.in,
	    (unsigned long long)st.stored_chunks,
	    (unsigned long long)st.deflated_chunks);
	ha_zio_free(z);
	ha_zio_free(in);
	ha_buf_free(&out);
	ha_buf_free(&back);
}

int
main(int argc, char **argv)
{
	size_t n, i;
	int a, b, c;
	uint8_t sha[HA_DELTA_SHA_LEN], *p;
	const char *why = "";
	double t0;

	if (argc < 3 || argc > 4 ||
	    (n = strtoul(argv[2], NULL, 10) * 1000000) == 0) {
		fprintf(stderr, "usage: deltabench DIR SIZE_MB [keep]\n");
		return 2;
	}
	a = make_file(argv[1], "a", n, 1, 0);
	b = make_file(argv[1], "b", n, 1, 1);
	c = make_file(argv[1], "c", n, 2, 0);
	printf("size %zu MB, block %u, SHA extensions %s\n", n / 1000000,
	    ha_delta_block_len(n), ha_sha256_accel() ? "yes" : "no");
	t0 = now();
	if (ha_delta_file_sha(a, n, sha, &why) == -1)
		die("file_sha", why);
	printf("file_sha %7.0f MB/s\n", n / (now() - t0) / 1e6);
	one(argv[1], "identical", a, n, a);
	one(argv[1], "1% changed", a, n, b);
	one(argv[1], "different", a, n, c);
	p = ha_xmalloc(64 << 20);
	for (i = 0; i < (64 << 20); i++)
		p[i] = (uint8_t)rnd();
	zio("random", HA_ZIO_ZSTD, 1, p, 64 << 20);
	text(p, 64 << 20);
	zio("text", HA_ZIO_ZSTD, 1, p, 64 << 20);
	zio("text", HA_ZIO_ZSTD, 3, p, 64 << 20);
	zio("text", HA_ZIO_ZLIB, 1, p, 64 << 20);
	zio("text", HA_ZIO_ZLIB, 6, p, 64 << 20);
	free(p);
	for (i = 0; i < 3 && argc == 3; i++) {
		static const char *names[] = { "a", "b", "c" };
		char *path = ha_xasprintf("%s/%s", argv[1], names[i]);

		unlink(path);
		free(path);
	}
	return 0;
}
#endif
