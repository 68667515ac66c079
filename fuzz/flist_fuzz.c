/*
 * libFuzzer target for hasync's file list decoder (core/flist): whatever
 * is accepted must have a checked path, and must re-encode to exactly the
 * bytes it was decoded from.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/flist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_flist fl = { 0 };
	struct ha_buf b = { 0 };
	const char *why;
	size_t i;

	while (size > 0) {
		struct ha_flist_ent e;
		long used = ha_flist_decode(data, size, &e, &why);

		if (used <= 0)
			break;
		if (ha_flist_path_check(e.path, strlen(e.path), &why) == -1)
			__builtin_trap();
		b.len = 0;
		ha_flist_encode(&e, &b);
		if (b.len != (size_t)used || memcmp(b.s, data, b.len) != 0)
			__builtin_trap();
		ha_flist_add(&fl, &e);
		ha_flist_ent_fini(&e);
		data += used;
		size -= (size_t)used;
	}
	ha_flist_sort(&fl);
	for (i = 0; i < fl.n; i++)
		if (ha_flist_find(&fl, fl.v[i].path) == NULL)
			__builtin_trap();
	ha_flist_free(&fl);
	ha_buf_free(&b);
	return 0;
}
