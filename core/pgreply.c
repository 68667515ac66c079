/*
 * SQL and reply decoders (see pgreply.h). Each decoder first checks the
 * shape of the table, then decodes cell by cell with the cell's length:
 * booleans are exactly "t" or "f", LSNs X/Y, numbers decimal within
 * range, names no longer than their field.
 */
#include "core/pgreply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pgwal.h"
#include "core/util.h"

#define MAX_STANDBYS 1000

const char ha_pgreply_sql_node[] =
	"SELECT pg_is_in_recovery(),"
	" CASE WHEN NOT pg_is_in_recovery() THEN"
	"  substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,"
	" CASE WHEN has_function_privilege('pg_control_checkpoint()',"
	"  'EXECUTE') THEN (SELECT timeline_id FROM pg_control_checkpoint())"
	"  END,"
	" CASE WHEN NOT pg_is_in_recovery() THEN pg_current_wal_lsn() END,"
	" CASE WHEN NOT pg_is_in_recovery() THEN pg_current_wal_flush_lsn()"
	"  END,"
	" pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(),"
	" r.status, r.received_tli, r.latest_end_lsn, r.sender_host,"
	" r.sender_port,"
	" current_setting('default_transaction_read_only'),"
	" CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE') THEN"
	"  current_setting('data_directory') END"
	" FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver r ON true";

const char ha_pgreply_sql_standbys[] =
	"SELECT application_name, COALESCE(host(client_addr), 'local'),"
	" state, sync_state, sent_lsn, write_lsn, flush_lsn, replay_lsn"
	" FROM pg_stat_replication ORDER BY application_name, pid";

const char ha_pgreply_sql_terminate[] =
	"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
	" WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
	/*
	 * Sessions of replication-only roles stay: they cannot write (and
	 * are read-only now anyway), and one may be an old primary's
	 * pg_rewind, which a cut would leave half done.
	 */
	" AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = usesysid"
	" AND r.rolreplication AND NOT r.rolsuper)";

const char *
ha_pg_res_get(const struct ha_pg_res *r, size_t row, size_t col, size_t *len)
{
	size_t i;

	if (row >= r->rows || col >= r->cols) {
		if (len)
			*len = 0;
		return NULL;
	}
	i = row * r->cols + col;
	if (len)
		*len = r->cell[i] ? r->len[i] : 0;
	return r->cell[i];
}

void
ha_pg_res_add_row(struct ha_pg_res *r, size_t cols, const char *const *cells,
    const size_t *lens)
{
	size_t i, at = r->rows * cols;

	/* Every row of a table has the same width. */
	if (r->rows && r->cols != cols)
		return;
	r->cols = cols;
	r->cell = ha_xreallocarray(r->cell, at + cols, sizeof(*r->cell));
	r->len = ha_xreallocarray(r->len, at + cols, sizeof(*r->len));
	for (i = 0; i < cols; i++) {
		r->len[at + i] = cells[i] ? lens[i] : 0;
		r->cell[at + i] = NULL;
		if (cells[i] == NULL)
			continue;
		/* Bytes as they are, NULs included, and one more NUL. */
		r->cell[at + i] = ha_xmalloc(lens[i] + 1);
		memcpy(r->cell[at + i], cells[i], lens[i]);
		r->cell[at + i][lens[i]] = '\0';
	}
	r->rows++;
}

void
ha_pg_res_free(struct ha_pg_res *r)
{
	size_t i;

	for (i = 0; i < r->rows * r->cols; i++)
		free(r->cell[i]);
	free(r->cell);
	free(r->len);
	memset(r, 0, sizeof(*r));
}

static int
shape(const struct ha_pg_res *r, size_t rows, size_t cols, const char **why)
{
	*why = "unexpected reply (wrong number of rows or columns)";
	return r->rows == rows && r->cols == cols ? 0 : -1;
}

/* Decoders of one cell: 0, or -1. SQL NULL is 0 / "" unless required. */
static int
cell_bool(const struct ha_pg_res *r, size_t row, size_t col, int *v)
{
	size_t n;
	const char *s = ha_pg_res_get(r, row, col, &n);

	if (s == NULL || n != 1 || (*s != 't' && *s != 'f'))
		return -1;
	*v = *s == 't';
	return 0;
}

static int
cell_lsn(const struct ha_pg_res *r, size_t row, size_t col, uint64_t *v)
{
	size_t n;
	const char *s = ha_pg_res_get(r, row, col, &n);

	*v = 0;
	return s == NULL ? 0 : ha_pgwal_lsn_parse(s, n, v);
}

static int
cell_num(const struct ha_pg_res *r, size_t row, size_t col, uint64_t max,
    uint64_t *v)
{
	size_t n, i;
	const char *s = ha_pg_res_get(r, row, col, &n);

	*v = 0;
	if (s == NULL)
		return 0;
	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

static int
cell_str(const struct ha_pg_res *r, size_t row, size_t col, char *buf,
    size_t size)
{
	size_t n;
	const char *s = ha_pg_res_get(r, row, col, &n);

	buf[0] = '\0';
	if (s == NULL)
		return 0;
	if (n >= size || memchr(s, '\0', n))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* 8 hex digits of a WAL file name: the timeline. */
static int
cell_hex_tli(const struct ha_pg_res *r, size_t row, size_t col, uint32_t *v)
{
	size_t n, i;
	const char *s = ha_pg_res_get(r, row, col, &n);
	uint32_t x = 0;

	if (s == NULL)
		return 0;
	if (n != 8)
		return -1;
	for (i = 0; i < 8; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

int
ha_pgreply_node(const struct ha_pg_res *r, struct ha_pg_node *n,
    const char **why)
{
	uint64_t ckpt_tli, recv_tli, port;
	char ro[8];

	memset(n, 0, sizeof(*n));
	if (shape(r, 1, 14, why) == -1)
		return -1;
	*why = "unexpected reply (a value is not what the query gives)";
	if (cell_bool(r, 0, 0, &n->in_recovery) == -1 ||
	    cell_hex_tli(r, 0, 1, &n->tli) == -1 ||
	    cell_num(r, 0, 2, UINT32_MAX, &ckpt_tli) == -1 ||
	    cell_lsn(r, 0, 3, &n->current) == -1 ||
	    cell_lsn(r, 0, 4, &n->flush) == -1 ||
	    cell_lsn(r, 0, 5, &n->receive) == -1 ||
	    cell_lsn(r, 0, 6, &n->replay) == -1 ||
	    cell_str(r, 0, 7, n->recv_status, sizeof(n->recv_status)) == -1 ||
	    cell_num(r, 0, 8, UINT32_MAX, &recv_tli) == -1 ||
	    cell_lsn(r, 0, 9, &n->latest_end) == -1 ||
	    cell_str(r, 0, 10, n->sender_host, sizeof(n->sender_host)) == -1 ||
	    cell_num(r, 0, 11, 65535, &port) == -1 ||
	    cell_str(r, 0, 12, ro, sizeof(ro)) == -1 ||
	    cell_str(r, 0, 13, n->data_dir, sizeof(n->data_dir)) == -1)
		return -1;
	n->receiver = n->recv_status[0] != '\0';
	n->sender_port = (long)port;
	n->read_only = strcmp(ro, "on") == 0;
	/* A primary's timeline is that of its insert position. */
	if (n->tli == 0)
		n->tli = (uint32_t)(recv_tli ? recv_tli : ckpt_tli);
	return 0;
}

int
ha_pgreply_standbys(const struct ha_pg_res *r, struct ha_pg_standby **v,
    size_t *n, const char **why)
{
	struct ha_pg_standby *s;
	size_t i;

	*v = NULL;
	*n = 0;
	*why = "unexpected reply (wrong number of columns or too many rows)";
	if ((r->rows && r->cols != 8) || r->rows > MAX_STANDBYS)
		return -1;
	if (r->rows == 0)
		return 0;
	s = ha_xcalloc(r->rows, sizeof(*s));
	*why = "unexpected reply (a value is not what the query gives)";
	for (i = 0; i < r->rows; i++) {
		if (cell_str(r, i, 0, s[i].name, sizeof(s[i].name)) == -1 ||
		    cell_str(r, i, 1, s[i].addr, sizeof(s[i].addr)) == -1 ||
		    cell_str(r, i, 2, s[i].state, sizeof(s[i].state)) == -1 ||
		    cell_str(r, i, 3, s[i].sync_state,
		    sizeof(s[i].sync_state)) == -1 ||
		    cell_lsn(r, i, 4, &s[i].sent) == -1 ||
		    cell_lsn(r, i, 5, &s[i].write) == -1 ||
		    cell_lsn(r, i, 6, &s[i].flush) == -1 ||
		    cell_lsn(r, i, 7, &s[i].replay) == -1) {
			free(s);
			return -1;
		}
	}
	*v = s;
	*n = r->rows;
	return 0;
}

int
ha_pgreply_identify(const struct ha_pg_res *r, uint64_t *sysid,
    uint32_t *tli, uint64_t *pos, const char **why)
{
	uint64_t t;
	size_t n;

	if (shape(r, 1, 4, why) == -1)
		return -1;
	*why = "unexpected IDENTIFY_SYSTEM reply";
	if (ha_pg_res_get(r, 0, 0, &n) == NULL ||
	    ha_pg_res_get(r, 0, 2, &n) == NULL ||
	    cell_num(r, 0, 0, UINT64_MAX, sysid) == -1 ||
	    cell_num(r, 0, 1, UINT32_MAX, &t) == -1 || t == 0 ||
	    cell_lsn(r, 0, 2, pos) == -1)
		return -1;
	*tli = (uint32_t)t;
	return 0;
}

int
ha_pgreply_history(const struct ha_pg_res *r, uint32_t tli,
    const char **buf, size_t *len, const char **why)
{
	char want[32];
	size_t n;
	const char *name;

	if (shape(r, 1, 2, why) == -1)
		return -1;
	snprintf(want, sizeof(want), "%08X.history", (unsigned)tli);
	name = ha_pg_res_get(r, 0, 0, &n);
	*why = "TIMELINE_HISTORY answered for another timeline";
	if (name == NULL || n != strlen(want) || memcmp(name, want, n) != 0)
		return -1;
	*why = "TIMELINE_HISTORY gave no content";
	if ((*buf = ha_pg_res_get(r, 0, 1, len)) == NULL)
		return -1;
	return 0;
}

int
ha_pgreply_count(const struct ha_pg_res *r, long *count, const char **why)
{
	uint64_t v;

	if (shape(r, 1, 1, why) == -1)
		return -1;
	*why = "unexpected reply (not a count)";
	if (ha_pg_res_get(r, 0, 0, NULL) == NULL ||
	    cell_num(r, 0, 0, 1000000000, &v) == -1)
		return -1;
	*count = (long)v;
	return 0;
}
