/*
 * libFuzzer target for core/delta's decoders. The first byte picks:
 *	0: ha_delta_sig_load, and on success ha_delta_make of a fixed
 *	   target against that (hostile) signature;
 *	1 and up: the rest is an op stream fed to ha_delta_apply_feed
 *	   against a fixed 5000-byte basis, in pieces whose sizes come
 *	   from the first byte. The output must never pass the size the
 *	   stream's header announced.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/delta.h"
#include "core/log.h"

#define BASIS_LEN 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int basis_fd = -1, out_fd = -1;

static void
setup(void)
{
	uint8_t b[BASIS_LEN];
	size_t i;

	if (basis_fd >= 0)
		return;
	ha_log_init("fuzz", 0);
	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)((i * 2654435761u) >> 13);
	basis_fd = memfd_create("basis", 0);
	out_fd = memfd_create("out", 0);
	if (basis_fd < 0 || out_fd < 0 ||
	    ha_write_all(basis_fd, b, sizeof(b)) == -1)
		__builtin_trap();
}

static int
discard(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	if (n > HA_DELTA_OUT_CHUNK)
		__builtin_trap();
	return 0;
}

static void
sig(const uint8_t *data, size_t size)
{
	struct ha_delta_sig *s;
	uint8_t sha[HA_DELTA_SHA_LEN];
	const char *why = NULL;

	if ((s = ha_delta_sig_load(data, size, &why)) == NULL) {
		if (why == NULL)
			__builtin_trap();
		return;
	}
	(void)ha_delta_make(basis_fd, BASIS_LEN, s, discard, NULL, sha, NULL,
	    &why);
	ha_delta_sig_free(s);
}

static void
apply(uint8_t seed, const uint8_t *data, size_t size)
{
	struct ha_delta_apply *a;
	const char *why = NULL;
	uint64_t announced = UINT64_MAX;
	uint32_t lcg = seed;
	size_t off = 0;
	int r = 0;

	if (ftruncate(out_fd, 0) == -1 || lseek(out_fd, 0, SEEK_SET) == -1)
		__builtin_trap();
	if (size >= 20) {
		size_t i;

		for (announced = 0, i = 12; i < 20; i++)
			announced = announced << 8 | data[i];
	}
	a = ha_delta_apply_new(seed & 1 ? basis_fd : -1, BASIS_LEN, out_fd);
	while (off < size && r == 0) {
		size_t n;

		lcg = lcg * 1103515245u + 12345u;
		n = 1 + (lcg >> 16) % (seed & 2 ? 7 : 4096);
		if (n > size - off)
			n = size - off;
		r = ha_delta_apply_feed(a, data + off, n, &why);
		off += n;
		if (ha_delta_apply_written(a) > announced)
			__builtin_trap();
	}
	if (r == -1 && why == NULL)
		__builtin_trap();
	if (r == 1 && ha_delta_apply_sha(a) == NULL)
		__builtin_trap();
	ha_delta_apply_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0)
		return 0;
	if (data[0] == 0)
		sig(data + 1, size - 1);
	else
		apply(data[0], data + 1, size - 1);
	return 0;
}
