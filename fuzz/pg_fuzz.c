/*
 * libFuzzer target for the decoders of what PostgreSQL gives habox:
 * LSNs, timeline history files, WAL segment names, pg_controldata output
 * (core/pgwal), postgresql.auto.conf text (core/pgconf), the server's
 * replies as result tables (core/pgreply) and JSON strings (core/json).
 * The first byte picks the decoder; the rest is its input. Result tables
 * are rows split at '\n', cells at '\t', "\N" for SQL NULL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/pgconf.h"
#include "core/pgreply.h"
#include "core/pgwal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
history(const char *s, size_t n)
{
	struct ha_pgwal_history h, one;
	const char *why;
	uint32_t tli, ft;
	uint64_t at;

	if (n < 1)
		return;
	tli = (uint8_t)s[0];
	if (ha_pgwal_history_parse(s + 1, n - 1, tli, &h, &why) == -1)
		return;
	if (ha_pgwal_history_parse("", 0, 1, &one, &why) == 0) {
		(void)ha_pgwal_fork(&h, &one, &ft, &at);
		(void)ha_pgwal_fork(&one, &h, &ft, &at);
		ha_pgwal_history_free(&one);
	}
	(void)ha_pgwal_fork(&h, &h, &ft, &at);
	ha_pgwal_history_free(&h);
}

static void
names(const char *s, size_t n)
{
	char buf[HA_PGWAL_SEGNAME_LEN];
	uint32_t tli;
	uint64_t seg, segsz;

	if (n < 1)
		return;
	segsz = (uint64_t)1 << (20 + (uint8_t)s[0] % 12);
	if (ha_pgwal_segname_parse(s + 1, n - 1, segsz, &tli, &seg) == 0 &&
	    ha_pgwal_segsz_ok(segsz)) {
		ha_pgwal_segname(tli, seg, segsz, buf);
		if (memcmp(buf, s + 1, 24) != 0)
			abort();
	}
}

static void
conf(const char *s, size_t n)
{
	const char *drop[] = { "default_transaction_read_only", NULL };
	const char *set[] = { "primary_conninfo", "host='x' port=1", NULL };
	struct ha_buf out, v;
	const char *why;

	if (ha_pgconf_edit(s, n, drop, set, &out, &why) == 0) {
		/* What we set reads back as we set it. */
		if (ha_pgconf_get(out.s, out.len, "primary_conninfo", &v,
		    &why) != 1 || strcmp(v.s, set[1]) != 0)
			abort();
		ha_buf_free(&v);
		ha_buf_free(&out);
	}
	(void)ha_pgconf_get(s, n, "default_transaction_read_only", &v, &why);
	ha_buf_free(&v);
}

static void
table(const char *s, size_t n, struct ha_pg_res *r)
{
	const char *cells[32], *end = s + n, *nl, *p, *tab;
	size_t lens[32], cols;

	memset(r, 0, sizeof(*r));
	while (s < end && r->rows < 2000) {
		nl = memchr(s, '\n', (size_t)(end - s));
		nl = nl ? nl : end;
		for (cols = 0, p = s; cols < 32 && p <= nl; cols++) {
			tab = memchr(p, '\t', (size_t)(nl - p));
			tab = tab ? tab : nl;
			lens[cols] = (size_t)(tab - p);
			cells[cols] = lens[cols] == 2 && !memcmp(p, "\\N", 2) ?
			    NULL : p;
			p = tab + 1;
		}
		ha_pg_res_add_row(r, cols, cells, lens);
		s = nl + 1;
	}
}

static void
replies(const char *s, size_t n)
{
	struct ha_pg_res r;
	struct ha_pg_node node;
	struct ha_pg_standby *sb;
	const char *why, *buf;
	uint64_t sysid, pos;
	uint32_t tli;
	size_t nsb, len;
	long count;

	table(s, n, &r);
	(void)ha_pgreply_node(&r, &node, &why);
	if (ha_pgreply_standbys(&r, &sb, &nsb, &why) == 0)
		free(sb);
	(void)ha_pgreply_identify(&r, &sysid, &tli, &pos, &why);
	(void)ha_pgreply_history(&r, 2, &buf, &len, &why);
	(void)ha_pgreply_count(&r, &count, &why);
	ha_pg_res_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct ha_pgwal_control c;
	struct ha_buf b = { 0 };
	const char *why;
	uint64_t lsn;
	char *z;

	ha_log_init("fuzz", 0);
	if (size == 0)
		return 0;
	switch (data[0] % 7) {
	case 0:
		(void)ha_pgwal_lsn_parse(s, n, &lsn);
		break;
	case 1:
		history(s, n);
		break;
	case 2:
		(void)ha_pgwal_control_parse(s, n, &c, &why);
		break;
	case 3:
		names(s, n);
		break;
	case 4:
		conf(s, n);
		break;
	case 5:
		replies(s, n);
		break;
	case 6:
		z = strndup(s, n);
		ha_json_str(&b, z);
		ha_buf_free(&b);
		free(z);
		break;
	}
	return 0;
}
