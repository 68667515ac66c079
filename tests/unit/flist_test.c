/*
 * Unit tests for core/flist: path checks (every unsafe form refused),
 * entries of each type round-trip, every truncation of a valid list is
 * refused, bad types, flags and modes refused, sort and find.
 */
#include <string.h>

#include "check.h"
#include "core/flist.h"

TEST(paths)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a",
		"a/./b", "a//b", "a/", "/",
	};
	const char *why;
	char big[5000];
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(bad); i++)
		CHECK(ha_flist_path_check(bad[i], strlen(bad[i]), &why) == -1);
	CHECK(ha_flist_path_check("a\0b", 3, &why) == -1);
	CHECK(ha_flist_path_check("a", 1, &why) == 0);
	CHECK(ha_flist_path_check("..a/b..", 7, &why) == 0);
	CHECK(ha_flist_path_check(".hidden/x y/\xe6\x97\xa5\n", 16, &why) == 0);
	memset(big, 'a', sizeof(big));
	CHECK(ha_flist_path_check(big, 256, &why) == -1);
	CHECK(ha_flist_path_check(big, 255, &why) == 0);
	for (i = 200; i < 4096; i += 201)
		big[i] = '/';
	CHECK(ha_flist_path_check(big, 4095, &why) == 0);
	CHECK(ha_flist_path_check(big, 4096, &why) == -1);
}

static void
sample(struct ha_flist *fl)
{
	struct ha_flist_ent e;

	memset(&e, 0, sizeof(e));
	e.type = HA_FLIST_DIR, e.mode = 0755, e.path = "d";
	ha_flist_add(fl, &e);
	e.type = HA_FLIST_REG, e.mode = 04750, e.uid = 1000, e.gid = 50;
	e.mtime_ns = -5, e.size = 1ull << 40, e.path = "d/f with\nnewline";
	ha_flist_add(fl, &e);
	e.flags = HA_FLIST_HAS_SHA, e.size = 3, e.path = "b";
	memset(e.sha, 0xab, sizeof(e.sha));
	ha_flist_add(fl, &e);
	memset(&e, 0, sizeof(e));
	e.type = HA_FLIST_LINK, e.mode = 0777, e.path = "d/l", e.link = "../b";
	ha_flist_add(fl, &e);
}

TEST(round_trip)
{
	struct ha_flist a = { 0 }, b = { 0 };
	struct ha_buf enc = { 0 };
	const char *why;
	size_t i;

	sample(&a);
	for (i = 0; i < a.n; i++)
		ha_flist_encode(&a.v[i], &enc);
	CHECK(ha_flist_decode_all((uint8_t *)enc.s, enc.len, &b, &why) == 0);
	CHECK(b.n == a.n);
	for (i = 0; i < a.n && i < b.n; i++) {
		CHECK(strcmp(a.v[i].path, b.v[i].path) == 0);
		CHECK(a.v[i].type == b.v[i].type && a.v[i].mode == b.v[i].mode);
		CHECK(a.v[i].uid == b.v[i].uid && a.v[i].gid == b.v[i].gid);
		CHECK(a.v[i].mtime_ns == b.v[i].mtime_ns);
		CHECK(a.v[i].size == b.v[i].size && a.v[i].flags == b.v[i].flags);
		CHECK(memcmp(a.v[i].sha, b.v[i].sha, 32) == 0 || !a.v[i].flags);
		CHECK((a.v[i].link == NULL) == (b.v[i].link == NULL));
	}
	CHECK(strcmp(b.v[3].link, "../b") == 0);
	/* Every truncation inside the last entry is refused. */
	for (i = 1; i < enc.len; i++) {
		struct ha_flist c = { 0 };
		struct ha_flist_ent e;
		long used = 0;
		size_t off = 0;

		while (off < i && (used = ha_flist_decode((uint8_t *)enc.s + off,
		    i - off, &e, &why)) > 0) {
			ha_flist_ent_fini(&e);
			off += (size_t)used;
		}
		CHECK(off == i || used == -1);
		ha_flist_free(&c);
	}
	ha_flist_sort(&a);
	CHECK(strcmp(a.v[0].path, "b") == 0);
	CHECK(ha_flist_find(&a, "d/l") != NULL);
	CHECK(ha_flist_find(&a, "d/x") == NULL);
	ha_flist_free(&a);
	ha_flist_free(&b);
	ha_buf_free(&enc);
}

TEST(refused)
{
	struct ha_flist_ent e;
	struct ha_buf enc = { 0 };
	const char *why;
	uint8_t *p;

	memset(&e, 0, sizeof(e));
	e.type = HA_FLIST_REG, e.path = "x", e.size = 1;
	ha_flist_encode(&e, &enc);
	p = (uint8_t *)enc.s;
	p[0] = 9;
	CHECK(ha_flist_decode(p, enc.len, &e, &why) == -1);
	p[0] = HA_FLIST_REG, p[1] = 0x80;
	CHECK(ha_flist_decode(p, enc.len, &e, &why) == -1);
	p[1] = 0, p[5] = 0x10;		/* mode 0x10000000 */
	CHECK(ha_flist_decode(p, enc.len, &e, &why) == -1);
	p[5] = 0, p[0] = HA_FLIST_DIR;	/* a directory with a size */
	CHECK(ha_flist_decode(p, enc.len, &e, &why) == -1);
	p[0] = HA_FLIST_REG;
	CHECK(ha_flist_decode(p, enc.len, &e, &why) == (long)enc.len);
	ha_flist_ent_fini(&e);
	ha_buf_free(&enc);
}

int
main(void)
{
	t_suite = "flist";
	RUN(paths);
	RUN(round_trip);
	RUN(refused);
	return t_done();
}
