/*
 * Unit tests for core/pgreply: the decoders of the server's replies, on
 * tables as libpq would fill them (primary, standby, unprivileged user)
 * and on hostile ones (wrong shape, bad values, overlong names, NULs).
 */
#include "check.h"
#include "core/pgreply.h"

/* A table of one row from strings ("\x01" stands for SQL NULL). */
static void
row(struct ha_pg_res *r, size_t cols, const char *const *v)
{
	const char *cells[32];
	size_t lens[32], i;

	for (i = 0; i < cols; i++) {
		cells[i] = strcmp(v[i], "\x01") == 0 ? NULL : v[i];
		lens[i] = cells[i] ? strlen(v[i]) : 0;
	}
	ha_pg_res_add_row(r, cols, cells, lens);
}

#define N "\x01"

TEST(node_primary)
{
	const char *v[] = { "f", "00000002", "1", "0/3000148", "0/3000148",
	    N, N, N, N, N, N, N, "off", "/var/lib/postgresql/15/main" };
	struct ha_pg_res r = { 0 };
	struct ha_pg_node n;
	const char *why;

	row(&r, 14, v);
	CHECK(ha_pgreply_node(&r, &n, &why) == 0);
	CHECK(!n.in_recovery && n.tli == 2 && n.current == 0x3000148);
	CHECK(n.receive == 0 && !n.receiver && !n.read_only);
	CHECK(strcmp(n.data_dir, "/var/lib/postgresql/15/main") == 0);
	ha_pg_res_free(&r);
}

TEST(node_standby)
{
	const char *v[] = { "t", N, "1", N, N, "0/5000000", "0/4FFFFF0",
	    "streaming", "3", "0/5000000", "10.0.0.11", "5432", "on", N };
	struct ha_pg_res r = { 0 };
	struct ha_pg_node n;
	const char *why;

	row(&r, 14, v);
	CHECK(ha_pgreply_node(&r, &n, &why) == 0);
	CHECK(n.in_recovery && n.tli == 3 && n.current == 0);
	CHECK(n.receive == 0x5000000 && n.replay == 0x4FFFFF0);
	CHECK(n.receiver && strcmp(n.recv_status, "streaming") == 0);
	CHECK(strcmp(n.sender_host, "10.0.0.11") == 0 && n.sender_port == 5432);
	CHECK(n.read_only && n.data_dir[0] == '\0');
	ha_pg_res_free(&r);
}

TEST(node_bad)
{
	static const struct {
		size_t col;
		const char *val;
	} bad[] = {
		{ 0, "true" }, { 0, N }, { 1, "0000002" }, { 1, "0000000g" },
		{ 2, "-1" }, { 2, "4294967296" }, { 3, "0/" }, { 5, "1/2/3" },
		{ 8, "x" }, { 11, "65536" },
		{ 7, "a status much longer than the field it goes in" },
	};
	const char *good[] = { "t", N, "1", N, N, "0/5000000", "0/4FFFFF0",
	    "streaming", "3", "0/5000000", "h", "5432", "on", N };
	const char *v[14];
	struct ha_pg_res r = { 0 };
	struct ha_pg_node n;
	const char *why;
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(bad); i++) {
		memcpy(v, good, sizeof(v));
		v[bad[i].col] = bad[i].val;
		row(&r, 14, v);
		CHECK(ha_pgreply_node(&r, &n, &why) == -1);
		ha_pg_res_free(&r);
	}
	/* Shape: too few columns, two rows, none. */
	row(&r, 13, good);
	CHECK(ha_pgreply_node(&r, &n, &why) == -1);
	CHECK(strstr(why, "wrong number") != NULL);
	ha_pg_res_free(&r);
	row(&r, 14, good);
	row(&r, 14, good);
	CHECK(ha_pgreply_node(&r, &n, &why) == -1);
	ha_pg_res_free(&r);
	CHECK(ha_pgreply_node(&r, &n, &why) == -1);
	/* A NUL inside a name. */
	{
		const char *cells[14];
		size_t lens[14];

		for (i = 0; i < 14; i++) {
			cells[i] = strcmp(good[i], N) ? good[i] : NULL;
			lens[i] = cells[i] ? strlen(good[i]) : 0;
		}
		cells[10] = "ab\0cd";
		lens[10] = 5;
		ha_pg_res_add_row(&r, 14, cells, lens);
		CHECK(ha_pgreply_node(&r, &n, &why) == -1);
		ha_pg_res_free(&r);
	}
}

TEST(standbys)
{
	const char *a[] = { "node2", "10.0.0.12", "streaming", "async",
	    "0/3000148", "0/3000148", "0/3000148", "0/3000100" };
	const char *b[] = { "", "local", N, N, N, N, N, N };
	const char *c[] = { "x", "y", "z", "async", "0/1", "0/1", "0/1",
	    "1/2/3" };
	struct ha_pg_res r = { 0 };
	struct ha_pg_standby *v;
	size_t n, i;
	const char *why;

	CHECK(ha_pgreply_standbys(&r, &v, &n, &why) == 0 && n == 0 &&
	    v == NULL);
	row(&r, 8, a);
	row(&r, 8, b);
	CHECK(ha_pgreply_standbys(&r, &v, &n, &why) == 0 && n == 2);
	CHECK(strcmp(v[0].name, "node2") == 0 && v[0].replay == 0x3000100);
	CHECK(strcmp(v[1].addr, "local") == 0 && v[1].state[0] == '\0' &&
	    v[1].sent == 0);
	free(v);
	row(&r, 8, c);
	CHECK(ha_pgreply_standbys(&r, &v, &n, &why) == -1 && v == NULL);
	ha_pg_res_free(&r);
	for (i = 0; i < 1001; i++)
		row(&r, 8, a);
	CHECK(ha_pgreply_standbys(&r, &v, &n, &why) == -1);
	ha_pg_res_free(&r);
}

TEST(identify_history_count)
{
	const char *id[] = { "7710858573922939434", "2", "0/3000148", N };
	const char *h[] = { "00000002.history", "1\t0/3000158\tno target\n" };
	const char *h3[] = { "00000003.history", "x" };
	const char *cnt[] = { "3" };
	struct ha_pg_res r = { 0 };
	uint64_t sysid, pos;
	uint32_t tli;
	const char *why, *buf;
	size_t len;
	long count;

	row(&r, 4, id);
	CHECK(ha_pgreply_identify(&r, &sysid, &tli, &pos, &why) == 0);
	CHECK(sysid == 7710858573922939434ULL && tli == 2 && pos == 0x3000148);
	ha_pg_res_free(&r);
	id[1] = "0";
	row(&r, 4, id);
	CHECK(ha_pgreply_identify(&r, &sysid, &tli, &pos, &why) == -1);
	ha_pg_res_free(&r);
	row(&r, 2, h);
	CHECK(ha_pgreply_history(&r, 2, &buf, &len, &why) == 0);
	CHECK(len == strlen(h[1]) && memcmp(buf, h[1], len) == 0);
	ha_pg_res_free(&r);
	row(&r, 2, h3);
	CHECK(ha_pgreply_history(&r, 2, &buf, &len, &why) == -1);
	CHECK(strstr(why, "another timeline") != NULL);
	ha_pg_res_free(&r);
	row(&r, 1, cnt);
	CHECK(ha_pgreply_count(&r, &count, &why) == 0 && count == 3);
	ha_pg_res_free(&r);
	cnt[0] = "3x";
	row(&r, 1, cnt);
	CHECK(ha_pgreply_count(&r, &count, &why) == -1);
	ha_pg_res_free(&r);
}

int
main(void)
{
	t_suite = "pgreply";
	RUN(node_primary);
	RUN(node_standby);
	RUN(node_bad);
	RUN(standbys);
	RUN(identify_history_count);
	return t_done();
}
