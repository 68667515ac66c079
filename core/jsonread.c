/*
 * A strict JSON parser into tokens (see jsonread.h). Recursive descent
 * with an explicit depth bound; every read checks the end of the text.
 */
#include "core/jsonread.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MAX_DEPTH 32
#define MAX_TOKENS 100000

struct p {
	struct ha_json *j;
	const char *s;
	size_t n, i;
	const char *why;
	int cap;
};

static void
ws(struct p *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
tok(struct p *p, enum ha_jt type, int parent, size_t start)
{
	struct ha_json *j = p->j;
	struct ha_jtok *t;

	if (j->n >= MAX_TOKENS) {
		p->why = "too many values";
		return -1;
	}
	if (j->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		j->t = ha_xreallocarray(j->t, (size_t)p->cap, sizeof(*j->t));
	}
	t = &j->t[j->n];
	t->type = type;
	t->parent = parent;
	t->start = start;
	t->len = 0;
	t->next = t->child = -1;
	return j->n++;
}

static int value(struct p *p, int parent, int depth);

static int
string(struct p *p, int parent)
{
	size_t start = ++p->i;
	int t;

	while (p->i < p->n && p->s[p->i] != '"') {
		unsigned char c = (unsigned char)p->s[p->i];

		if (c < 0x20) {
			p->why = "a control character in a string";
			return -1;
		}
		if (c == '\\') {
			if (++p->i >= p->n || !strchr("\"\\/bfnrtu", p->s[p->i])) {
				p->why = "a bad escape";
				return -1;
			}
			if (p->s[p->i] == 'u') {
				size_t k;

				for (k = 1; k <= 4; k++)
					if (p->i + k >= p->n ||
					    !strchr("0123456789abcdefABCDEF",
					    p->s[p->i + k]) || !p->s[p->i + k]) {
						p->why = "a bad \\u escape";
						return -1;
					}
				p->i += 4;
			}
		}
		p->i++;
	}
	if (p->i >= p->n) {
		p->why = "an unterminated string";
		return -1;
	}
	if ((t = tok(p, HA_JT_STR, parent, start)) == -1)
		return -1;
	p->j->t[t].len = p->i - start;
	p->i++;
	return t;
}

static int
number(struct p *p, int parent)
{
	size_t start = p->i, d = 0;
	int t;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
		p->i++;
		d++;
	}
	if (d == 0 || (d > 1 && p->s[start + (p->s[start] == '-')] == '0')) {
		p->why = "a bad number";
		return -1;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		for (p->i++, d = 0; p->i < p->n && p->s[p->i] >= '0' &&
		    p->s[p->i] <= '9'; p->i++)
			d++;
		if (d == 0) {
			p->why = "a bad number";
			return -1;
		}
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		for (d = 0; p->i < p->n && p->s[p->i] >= '0' &&
		    p->s[p->i] <= '9'; p->i++)
			d++;
		if (d == 0) {
			p->why = "a bad number";
			return -1;
		}
	}
	if ((t = tok(p, HA_JT_NUM, parent, start)) == -1)
		return -1;
	p->j->t[t].len = p->i - start;
	return t;
}

static int
word(struct p *p, int parent, const char *w, enum ha_jt type)
{
	size_t l = strlen(w);
	int t;

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0) {
		p->why = "an unexpected word";
		return -1;
	}
	if ((t = tok(p, type, parent, p->i)) == -1)
		return -1;
	p->j->t[t].len = l;
	p->i += l;
	return t;
}

/* Members of an object or elements of an array, linked as siblings. */
static int
container(struct p *p, int parent, int depth, int obj)
{
	int t = tok(p, obj ? HA_JT_OBJ : HA_JT_ARR, parent, p->i), last = -1;
	char close = obj ? '}' : ']';

	if (t == -1)
		return -1;
	p->i++;
	ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return t;
	}
	for (;;) {
		int k = -1, v;

		ws(p);
		if (obj) {
			if (p->i >= p->n || p->s[p->i] != '"') {
				p->why = "a member name must be a string";
				return -1;
			}
			if ((k = string(p, t)) == -1)
				return -1;
			ws(p);
			if (p->i >= p->n || p->s[p->i++] != ':') {
				p->why = "':' missing";
				return -1;
			}
		}
		if ((v = value(p, obj ? k : t, depth + 1)) == -1)
			return -1;
		if (obj)
			p->j->t[k].child = v;
		if (last == -1)
			p->j->t[t].child = obj ? k : v;
		else
			p->j->t[last].next = obj ? k : v;
		last = obj ? k : v;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return t;
		}
		p->why = obj ? "',' or '}' missing" : "',' or ']' missing";
		return -1;
	}
}

static int
value(struct p *p, int parent, int depth)
{
	ws(p);
	if (depth > MAX_DEPTH) {
		p->why = "nested too deeply";
		return -1;
	}
	if (p->i >= p->n) {
		p->why = "a value missing";
		return -1;
	}
	switch (p->s[p->i]) {
	case '{':
		return container(p, parent, depth, 1);
	case '[':
		return container(p, parent, depth, 0);
	case '"':
		return string(p, parent);
	case 't':
		return word(p, parent, "true", HA_JT_TRUE);
	case 'f':
		return word(p, parent, "false", HA_JT_FALSE);
	case 'n':
		return word(p, parent, "null", HA_JT_NULL);
	}
	return number(p, parent);
}

int
ha_json_parse(const char *text, size_t len, struct ha_json *j,
    const char **why)
{
	struct p p = { 0 };

	memset(j, 0, sizeof(*j));
	j->text = text;
	p.j = j;
	p.s = text;
	p.n = len;
	if (value(&p, -1, 0) == -1)
		goto fail;
	ws(&p);
	if (p.i != p.n) {
		p.why = "text after the value";
		goto fail;
	}
	return 0;
fail:
	*why = p.why;
	ha_json_free(j);
	return -1;
}

void
ha_json_free(struct ha_json *j)
{
	free(j->t);
	j->t = NULL;
	j->n = 0;
}

int
ha_json_get(const struct ha_json *j, int obj, const char *key)
{
	int k;
	size_t l = strlen(key);

	if (obj < 0 || obj >= j->n || j->t[obj].type != HA_JT_OBJ)
		return -1;
	for (k = j->t[obj].child; k >= 0; k = j->t[k].next)
		if (j->t[k].len == l && memcmp(j->text + j->t[k].start, key, l) == 0)
			return j->t[k].child;
	return -1;
}

int
ha_json_str_val(const struct ha_json *j, int tok, char *buf, size_t n)
{
	const char *s;
	size_t i, o = 0;

	if (tok < 0 || tok >= j->n || j->t[tok].type != HA_JT_STR || n == 0)
		return -1;
	s = j->text + j->t[tok].start;
	for (i = 0; i < j->t[tok].len; i++) {
		char c = s[i];

		if (c == '\\') {
			c = s[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' :
			    c == 'b' ? '\b' : c == 'f' ? '\f' : c;
			if (s[i] == 'u') {
				/* Only ASCII escapes matter to us; others: '?' */
				long v = strtol((char[]){ s[i + 1], s[i + 2],
				    s[i + 3], s[i + 4], 0 }, NULL, 16);

				c = v > 0 && v < 0x80 ? (char)v : '?';
				i += 4;
			}
		}
		if (o + 1 >= n)
			return -1;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return 0;
}

int
ha_json_u64_val(const struct ha_json *j, int tok, uint64_t *v)
{
	const char *s;
	uint64_t x = 0;
	size_t i;

	if (tok < 0 || tok >= j->n || j->t[tok].type != HA_JT_NUM)
		return -1;
	s = j->text + j->t[tok].start;
	for (i = 0; i < j->t[tok].len; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

int
ha_json_bool_val(const struct ha_json *j, int tok)
{
	if (tok < 0 || tok >= j->n)
		return -1;
	return j->t[tok].type == HA_JT_TRUE ? 1 :
	    j->t[tok].type == HA_JT_FALSE ? 0 : -1;
}
