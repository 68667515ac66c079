/*
 * LSNs, timeline histories, WAL segment names and pg_controldata output
 * (see pgwal.h). A history file has one line per ancestor timeline,
 *
 *   parentTLI <whitespace> switchpoint <whitespace> reason
 *
 * meaning that timeline parentTLI ended at switchpoint, where the next
 * one began; '#' comments and blank lines are allowed.
 */
#include "core/pgwal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_HISTORY (1024 * 1024)
#define MAX_CONTROL (64 * 1024)

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 1-8 hex digits, exactly len bytes. */
static int
hex32(const char *s, size_t len, uint32_t *v)
{
	size_t i;
	uint32_t x = 0;

	if (len == 0 || len > 8)
		return -1;
	for (i = 0; i < len; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* Decimal digits, exactly len bytes, at most max. */
static int
dec64(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	size_t i;
	uint64_t x = 0;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

int
ha_pgwal_lsn_parse(const char *s, size_t len, uint64_t *lsn)
{
	const char *slash = memchr(s, '/', len);
	uint32_t hi, lo;

	if (slash == NULL || hex32(s, (size_t)(slash - s), &hi) == -1 ||
	    hex32(slash + 1, len - (size_t)(slash - s) - 1, &lo) == -1)
		return -1;
	*lsn = (uint64_t)hi << 32 | lo;
	return 0;
}

void
ha_pgwal_lsn_fmt(uint64_t lsn, char *buf, size_t n)
{
	snprintf(buf, n, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

void
ha_pgwal_history_free(struct ha_pgwal_history *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static void
add_tl(struct ha_pgwal_history *h, uint32_t tli, uint64_t end)
{
	uint64_t begin = h->n ? h->v[h->n - 1].end : 0;

	h->v = ha_xreallocarray(h->v, h->n + 1, sizeof(*h->v));
	h->v[h->n].tli = tli;
	h->v[h->n].begin = begin;
	h->v[h->n].end = end;
	h->n++;
}

/* The next whitespace-separated field of [*p, end), or length 0. */
static size_t
field(const char **p, const char *end, const char **start)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*start = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

/* One line of a history file; 0 (entry added, or nothing), -1. */
static int
history_line(const char *p, const char *end, uint32_t tli,
    struct ha_pgwal_history *h, const char **why)
{
	const char *f;
	size_t n;
	uint64_t parent, sw;

	if ((n = field(&p, end, &f)) == 0 || *f == '#')
		return 0;
	*why = "a parent timeline is not a number from 1 to 4294967295";
	if (dec64(f, n, UINT32_MAX, &parent) == -1 || parent == 0)
		return -1;
	*why = "parent timelines must increase and stay below the timeline";
	if (parent >= tli || (h->n && parent <= h->v[h->n - 1].tli))
		return -1;
	n = field(&p, end, &f);
	*why = "a switch point is not an LSN (X/Y)";
	if (ha_pgwal_lsn_parse(f, n, &sw) == -1 || sw == 0)
		return -1;
	*why = "switch points must not decrease";
	if (h->n && sw < h->v[h->n - 1].end)
		return -1;
	add_tl(h, (uint32_t)parent, sw);
	return 0;
}

int
ha_pgwal_history_parse(const char *buf, size_t len, uint32_t tli,
    struct ha_pgwal_history *h, const char **why)
{
	const char *p = buf, *end = buf + len, *nl;

	memset(h, 0, sizeof(*h));
	*why = "timeline 0 does not exist";
	if (tli == 0)
		return -1;
	*why = "longer than 1 MiB";
	if (len > MAX_HISTORY)
		return -1;
	*why = "NUL byte";
	if (len && memchr(buf, '\0', len))
		return -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (history_line(p, nl ? nl : end, tli, h, why) == -1) {
			ha_pgwal_history_free(h);
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	*why = "a timeline after 1 without ancestors";
	if (tli > 1 && h->n == 0)
		return -1;
	add_tl(h, tli, HA_PGWAL_NO_END);
	return 0;
}

int
ha_pgwal_fork(const struct ha_pgwal_history *a,
    const struct ha_pgwal_history *b, uint32_t *tli, uint64_t *point)
{
	size_t i = 0;
	const struct ha_pgwal_tl *x, *y;

	while (i < a->n && i < b->n && a->v[i].tli == b->v[i].tli &&
	    a->v[i].begin == b->v[i].begin)
		i++;
	if (i == 0)
		return -1;
	x = &a->v[i - 1];
	y = &b->v[i - 1];
	*tli = x->tli;
	*point = x->end < y->end ? x->end : y->end;
	return 0;
}

int
ha_pgwal_segsz_ok(uint64_t segsz)
{
	return segsz >= (1u << 20) && segsz <= (1u << 30) &&
	    (segsz & (segsz - 1)) == 0;
}

void
ha_pgwal_segname(uint32_t tli, uint64_t segno, uint64_t segsz,
    char buf[HA_PGWAL_SEGNAME_LEN])
{
	uint64_t per = (UINT64_C(1) << 32) / segsz;

	snprintf(buf, HA_PGWAL_SEGNAME_LEN, "%08X%08X%08X", (unsigned)tli,
	    (unsigned)(segno / per), (unsigned)(segno % per));
}

int
ha_pgwal_segname_parse(const char *name, size_t len, uint64_t segsz,
    uint32_t *tli, uint64_t *segno)
{
	uint32_t t, hi, lo;
	uint64_t per;
	size_t i;

	if (len < 24 || !ha_pgwal_segsz_ok(segsz))
		return -1;
	/* The server writes upper case only. */
	for (i = 0; i < 24; i++)
		if (hexval(name[i]) < 0 || (name[i] >= 'a' && name[i] <= 'f'))
			return -1;
	hex32(name, 8, &t);
	hex32(name + 8, 8, &hi);
	hex32(name + 16, 8, &lo);
	per = (UINT64_C(1) << 32) / segsz;
	if (t == 0 || lo >= per)
		return -1;
	*tli = t;
	*segno = (uint64_t)hi * per + lo;
	return 0;
}

/* Trim spaces and tabs from both ends of [*s, *s + *n). */
static void
trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
	    (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* The lines of pg_controldata we read, and how. */
enum ctl_type { C_U64, C_TLI, C_LSN, C_STATE, C_SEGSZ, C_ON, C_NONZERO };
enum { F_SYSID = 1, F_STATE = 2, F_CKPT = 4, F_TLI = 8, F_SEGSZ = 16 };

static const struct {
	const char *label;
	enum ctl_type type;
	size_t off;
	unsigned flag;		/* required lines */
	const char *why;
} ctl_lines[] = {
#define CO(f) offsetof(struct ha_pgwal_control, f)
	{ "Database system identifier", C_U64, CO(sysid), F_SYSID,
	  "bad system identifier" },
	{ "Database cluster state", C_STATE, CO(state), F_STATE,
	  "bad cluster state" },
	{ "Latest checkpoint location", C_LSN, CO(checkpoint), F_CKPT,
	  "bad checkpoint location" },
	{ "Latest checkpoint's REDO location", C_LSN, CO(redo), 0,
	  "bad REDO location" },
	{ "Latest checkpoint's TimeLineID", C_TLI, CO(tli), F_TLI,
	  "bad checkpoint timeline" },
	{ "Minimum recovery ending location", C_LSN, CO(min_recovery), 0,
	  "bad minimum recovery location" },
	{ "Min recovery ending loc's timeline", C_TLI, CO(min_recovery_tli), 0,
	  "bad minimum recovery timeline" },
	{ "Bytes per WAL segment", C_SEGSZ, CO(segsz), F_SEGSZ,
	  "bad WAL segment size" },
	{ "wal_log_hints setting", C_ON, CO(wal_log_hints), 0, "" },
	{ "Data page checksum version", C_NONZERO, CO(checksums), 0, "" },
#undef CO
};

/* Store value v (vn bytes) as line i says; 0 or -1. */
static int
control_value(size_t i, const char *v, size_t vn, struct ha_pgwal_control *c)
{
	char *f = (char *)c + ctl_lines[i].off;
	uint64_t x;

	switch (ctl_lines[i].type) {
	case C_U64:
		return dec64(v, vn, UINT64_MAX, (uint64_t *)(void *)f);
	case C_TLI:
		if (dec64(v, vn, UINT32_MAX, &x) == -1)
			return -1;
		*(uint32_t *)(void *)f = (uint32_t)x;
		return 0;
	case C_LSN:
		return ha_pgwal_lsn_parse(v, vn, (uint64_t *)(void *)f);
	case C_STATE:
		if (vn == 0 || vn >= sizeof(c->state))
			return -1;
		memcpy(c->state, v, vn);
		c->state[vn] = '\0';
		return 0;
	case C_SEGSZ:
		return dec64(v, vn, UINT64_MAX, &c->segsz) == -1 ||
		    !ha_pgwal_segsz_ok(c->segsz) ? -1 : 0;
	case C_ON:
		*(int *)(void *)f = vn == 2 && memcmp(v, "on", 2) == 0;
		return 0;
	case C_NONZERO:
		*(int *)(void *)f = !(vn == 1 && *v == '0');
		return 0;
	}
	return -1;
}

/* One "Label: value" line; sets bits in *seen. 0, or -1 with *why. */
static int
control_line(const char *l, size_t len, struct ha_pgwal_control *c,
    unsigned *seen, const char **why)
{
	const char *colon = memchr(l, ':', len), *v;
	size_t ln, vn, i;

	if (colon == NULL)
		return 0;
	ln = (size_t)(colon - l);
	v = colon + 1;
	vn = len - ln - 1;
	trim(&v, &vn);
	for (i = 0; i < HA_ARRAY_LEN(ctl_lines); i++) {
		if (strlen(ctl_lines[i].label) != ln ||
		    memcmp(l, ctl_lines[i].label, ln) != 0)
			continue;
		*why = ctl_lines[i].why;
		if (control_value(i, v, vn, c) == -1)
			return -1;
		/* A timeline of 0 only as "no minimum recovery point". */
		if (ctl_lines[i].flag == F_TLI && c->tli == 0)
			return -1;
		*seen |= ctl_lines[i].flag;
	}
	return 0;
}

int
ha_pgwal_control_parse(const char *text, size_t len,
    struct ha_pgwal_control *c, const char **why)
{
	const char *p = text, *end = text + len, *nl;
	unsigned seen = 0;

	memset(c, 0, sizeof(*c));
	*why = "longer than 64 KiB";
	if (len > MAX_CONTROL)
		return -1;
	*why = "NUL byte";
	if (len && memchr(text, '\0', len))
		return -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (control_line(p, (size_t)((nl ? nl : end) - p), c, &seen,
		    why) == -1)
			return -1;
		p = nl ? nl + 1 : end;
	}
	*why = "no system identifier, state, checkpoint, timeline or "
	    "segment size (is this pg_controldata output?)";
	if (seen != (F_SYSID | F_STATE | F_CKPT | F_TLI | F_SEGSZ))
		return -1;
	return 0;
}

int
ha_pgwal_control_clean(const struct ha_pgwal_control *c)
{
	return strcmp(c->state, "shut down") == 0 ||
	    strcmp(c->state, "shut down in recovery") == 0;
}
