/*
 * Unit tests for core/pgwal: LSN text both ways and its strictness,
 * timeline history files (good, bad, hostile), where two histories part,
 * WAL segment names, pg_controldata output.
 */
#include "check.h"
#include "core/pgwal.h"

static int
lsn(const char *s, uint64_t *v)
{
	return ha_pgwal_lsn_parse(s, strlen(s), v);
}

TEST(lsn_parse_format)
{
	uint64_t v = 1;
	char buf[HA_PGWAL_LSN_STRLEN];

	CHECK(lsn("0/0", &v) == 0 && v == 0);
	CHECK(lsn("16/B374D848", &v) == 0 && v == 0x16B374D848ULL);
	CHECK(lsn("ffffffff/ffffffff", &v) == 0 && v == UINT64_MAX);
	ha_pgwal_lsn_fmt(0x16B374D848ULL, buf, sizeof(buf));
	CHECK(strcmp(buf, "16/B374D848") == 0);
	ha_pgwal_lsn_fmt(UINT64_MAX, buf, sizeof(buf));
	CHECK(strcmp(buf, "FFFFFFFF/FFFFFFFF") == 0);
	ha_pgwal_lsn_fmt(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "0/0") == 0);
	/* Strict: nothing missing, nothing extra, no sign, no spaces. */
	CHECK(lsn("", &v) == -1);
	CHECK(lsn("/", &v) == -1);
	CHECK(lsn("0/", &v) == -1);
	CHECK(lsn("/0", &v) == -1);
	CHECK(lsn("123456789/0", &v) == -1);
	CHECK(lsn("0/123456789", &v) == -1);
	CHECK(lsn("0/1/2", &v) == -1);
	CHECK(lsn("0/1 ", &v) == -1);
	CHECK(lsn(" 0/1", &v) == -1);
	CHECK(lsn("-1/0", &v) == -1);
	CHECK(lsn("0x1/0", &v) == -1);
	CHECK(lsn("g/0", &v) == -1);
	/* The length counts, not a NUL. */
	CHECK(ha_pgwal_lsn_parse("1/2345", 3, &v) == 0 && v == 0x100000002ULL);
	CHECK(ha_pgwal_lsn_parse("1/2\0" "3", 5, &v) == -1);
}

static int
hist(const char *s, uint32_t tli, struct ha_pgwal_history *h,
    const char **why)
{
	return ha_pgwal_history_parse(s, strlen(s), tli, h, why);
}

TEST(history_good)
{
	struct ha_pgwal_history h;
	const char *why = NULL;

	CHECK(hist("", 1, &h, &why) == 0 && h.n == 1);
	CHECK(h.v[0].tli == 1 && h.v[0].begin == 0 &&
	    h.v[0].end == HA_PGWAL_NO_END);
	ha_pgwal_history_free(&h);
	CHECK(hist("1\t0/3000158\tno recovery target specified\n", 2, &h,
	    &why) == 0);
	CHECK(h.n == 2 && h.v[0].tli == 1 && h.v[0].end == 0x3000158);
	CHECK(h.v[1].tli == 2 && h.v[1].begin == 0x3000158 &&
	    h.v[1].end == HA_PGWAL_NO_END);
	ha_pgwal_history_free(&h);
	/* Comments, blank lines, a skipped timeline, no final newline. */
	CHECK(hist("# comment\n\n1\t0/3000158\tr\n  3 0/5000000 at lsn\n"
	    "4\t0/5000000", 7, &h, &why) == 0);
	CHECK(h.n == 4 && h.v[1].tli == 3 && h.v[1].begin == 0x3000158 &&
	    h.v[2].tli == 4 && h.v[2].begin == 0x5000000 &&
	    h.v[2].end == 0x5000000 && h.v[3].tli == 7);
	ha_pgwal_history_free(&h);
}

TEST(history_bad)
{
	static const struct {
		const char *text;
		uint32_t tli;
		const char *why;
	} bad[] = {
		{ "", 0, "timeline 0" },
		{ "", 2, "without ancestors" },
		{ "1\t0/3000158\tr\n", 1, "below the timeline" },
		{ "2\t0/1\tr\n1\t0/2\tr\n", 3, "must increase" },
		{ "1\t0/1\tr\n1\t0/2\tr\n", 3, "must increase" },
		{ "1\t0/5\tr\n2\t0/4\tr\n", 3, "must not decrease" },
		{ "0\t0/5\tr\n", 3, "parent timeline" },
		{ "x\t0/5\tr\n", 3, "parent timeline" },
		{ "4294967296\t0/5\tr\n", 5, "parent timeline" },
		{ "-1\t0/5\tr\n", 3, "parent timeline" },
		{ "1\t0x5\tr\n", 3, "switch point" },
		{ "1\n", 3, "switch point" },
		{ "1\t0/0\tr\n", 3, "switch point" },
		{ "1\t0/5/6\tr\n", 3, "switch point" },
	};
	struct ha_pgwal_history h;
	const char *why;
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(bad); i++) {
		why = "";
		CHECK(hist(bad[i].text, bad[i].tli, &h, &why) == -1);
		CHECK(h.v == NULL && h.n == 0);
		CHECK(strstr(why, bad[i].why) != NULL);
	}
	CHECK(ha_pgwal_history_parse("1\t0/5\0\n", 7, 2, &h, &why) == -1);
	CHECK(strcmp(why, "NUL byte") == 0);
	{
		size_t big = 1024 * 1024 + 1;
		char *s = ha_xmalloc(big);

		memset(s, '\n', big);
		CHECK(ha_pgwal_history_parse(s, big, 2, &h, &why) == -1);
		free(s);
	}
}

/* A history from text, for the fork cases. */
static struct ha_pgwal_history
mk(const char *text, uint32_t tli)
{
	struct ha_pgwal_history h;
	const char *why;

	if (hist(text, tli, &h, &why) == -1)
		memset(&h, 0, sizeof(h));
	return h;
}

TEST(fork_point)
{
	struct ha_pgwal_history a = mk("", 1);
	struct ha_pgwal_history b = mk("1\t0/3000158\tpromoted\n", 2);
	struct ha_pgwal_history c = mk("1\t0/3000158\tp\n2\t0/4000000\tp\n", 3);
	struct ha_pgwal_history d = mk("1\t0/3000200\tp\n", 2);
	struct ha_pgwal_history e = mk("1\t0/3000158\tp\n", 3);
	struct ha_pgwal_history z = { 0 };
	uint32_t tli = 0;
	uint64_t at = 0;

	/* An old primary still on 1, the new one on 2 from 0/3000158. */
	CHECK(ha_pgwal_fork(&a, &b, &tli, &at) == 0);
	CHECK(tli == 1 && at == 0x3000158);
	CHECK(ha_pgwal_fork(&b, &a, &tli, &at) == 0 && at == 0x3000158);
	/* Same history: no fork. */
	CHECK(ha_pgwal_fork(&b, &b, &tli, &at) == 0);
	CHECK(tli == 2 && at == HA_PGWAL_NO_END);
	/* A node on 2 and the primary on 3 which went through 2. */
	CHECK(ha_pgwal_fork(&b, &c, &tli, &at) == 0);
	CHECK(tli == 2 && at == 0x4000000);
	/* Two promotions of different standbys, both to 2: they share 1. */
	CHECK(ha_pgwal_fork(&b, &d, &tli, &at) == 0);
	CHECK(tli == 1 && at == 0x3000158);
	/* Timeline 2 and 3 both forked from 1 at the same point. */
	CHECK(ha_pgwal_fork(&b, &e, &tli, &at) == 0);
	CHECK(tli == 1 && at == 0x3000158);
	CHECK(ha_pgwal_fork(&a, &z, &tli, &at) == -1);
	ha_pgwal_history_free(&a);
	ha_pgwal_history_free(&b);
	ha_pgwal_history_free(&c);
	ha_pgwal_history_free(&d);
	ha_pgwal_history_free(&e);
}

TEST(segment_names)
{
	char name[HA_PGWAL_SEGNAME_LEN];
	uint32_t tli = 0;
	uint64_t seg = 0, mb16 = 16 << 20;

	CHECK(ha_pgwal_segsz_ok(mb16) && ha_pgwal_segsz_ok(1 << 20) &&
	    ha_pgwal_segsz_ok(1 << 30));
	CHECK(!ha_pgwal_segsz_ok(0) && !ha_pgwal_segsz_ok(3 << 20) &&
	    !ha_pgwal_segsz_ok(1 << 19) && !ha_pgwal_segsz_ok(1ULL << 31));
	ha_pgwal_segname(1, 3, mb16, name);
	CHECK(strcmp(name, "000000010000000000000003") == 0);
	/* 256 segments of 16 MiB per "xlogid". */
	ha_pgwal_segname(0x2A, 0x1FF, mb16, name);
	CHECK(strcmp(name, "0000002A00000001000000FF") == 0);
	CHECK(ha_pgwal_segname_parse(name, 24, mb16, &tli, &seg) == 0);
	CHECK(tli == 0x2A && seg == 0x1FF);
	CHECK(ha_pgwal_segname_parse("000000010000000000000003.partial", 32,
	    mb16, &tli, &seg) == 0 && tli == 1 && seg == 3);
	/* Beyond the segments of an xlogid, lower case, short, timeline 0. */
	CHECK(ha_pgwal_segname_parse("000000010000000000000100", 24, mb16,
	    &tli, &seg) == -1);
	CHECK(ha_pgwal_segname_parse("0000000100000000000000ff", 24, mb16,
	    &tli, &seg) == -1);
	CHECK(ha_pgwal_segname_parse("00000001000000000000000", 23, mb16,
	    &tli, &seg) == -1);
	CHECK(ha_pgwal_segname_parse("000000000000000000000001", 24, mb16,
	    &tli, &seg) == -1);
	CHECK(ha_pgwal_segname_parse("00000001.history.........", 24, mb16,
	    &tli, &seg) == -1);
	CHECK(ha_pgwal_segname_parse("000000010000000000000001", 24, 3,
	    &tli, &seg) == -1);
}

static const char control[] =
	"pg_control version number:            1300\n"
	"Database system identifier:           7710858573922939434\n"
	"Database cluster state:               shut down in recovery\n"
	"Latest checkpoint location:           0/1500718\n"
	"Latest checkpoint's REDO location:    0/15006E0\n"
	"Latest checkpoint's TimeLineID:       2\n"
	"Latest checkpoint's NextXID:          0:724\n"
	"Latest checkpoint's oldestCommitTsXid:0\n"
	"Minimum recovery ending location:     0/3000060\n"
	"Min recovery ending loc's timeline:   2\n"
	"wal_log_hints setting:                on\n"
	"Bytes per WAL segment:                16777216\n"
	"Data page checksum version:           0\n";

TEST(controldata)
{
	struct ha_pgwal_control c;
	const char *why = NULL;
	char *s;

	CHECK(ha_pgwal_control_parse(control, strlen(control), &c, &why) == 0);
	CHECK(c.sysid == 7710858573922939434ULL);
	CHECK(strcmp(c.state, "shut down in recovery") == 0);
	CHECK(ha_pgwal_control_clean(&c));
	CHECK(c.checkpoint == 0x1500718 && c.redo == 0x15006E0 && c.tli == 2);
	CHECK(c.min_recovery == 0x3000060 && c.min_recovery_tli == 2);
	CHECK(c.segsz == 16 << 20 && c.wal_log_hints && !c.checksums);
	/* A missing required line, a bad value, a NUL: refused. */
	s = ha_xstrdup(control);
	memcpy(strstr(s, "Bytes per WAL"), "Bytes per XXX", 13);
	CHECK(ha_pgwal_control_parse(s, strlen(s), &c, &why) == -1);
	CHECK(strstr(why, "segment size") != NULL);
	free(s);
	s = ha_xstrdup(control);
	memcpy(strstr(s, "0/1500718"), "0/15007Z8", 9);
	CHECK(ha_pgwal_control_parse(s, strlen(s), &c, &why) == -1);
	CHECK(strcmp(why, "bad checkpoint location") == 0);
	free(s);
	s = ha_xstrdup(control);
	memcpy(strstr(s, "16777216"), "16777215", 8);
	CHECK(ha_pgwal_control_parse(s, strlen(s), &c, &why) == -1);
	free(s);
	CHECK(ha_pgwal_control_parse(control, sizeof(control), &c, &why) == -1);
	CHECK(strcmp(why, "NUL byte") == 0);
	CHECK(ha_pgwal_control_parse("", 0, &c, &why) == -1);
	/* The state is bounded by its field. */
	s = ha_xasprintf("Database cluster state: %0100d\n", 0);
	CHECK(ha_pgwal_control_parse(s, strlen(s), &c, &why) == -1);
	free(s);
	CHECK(ha_pgwal_control_parse("Database cluster state: in production\n",
	    38, &c, &why) == -1);
	strcpy(c.state, "in production");
	CHECK(!ha_pgwal_control_clean(&c));
}

int
main(void)
{
	t_suite = "pgwal";
	RUN(lsn_parse_format);
	RUN(history_good);
	RUN(history_bad);
	RUN(fork_point);
	RUN(segment_names);
	RUN(controldata);
	return t_done();
}
