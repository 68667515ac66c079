/*
 * Reading habox.conf: inih does the INI syntax; our line reader in front
 * of it checks bytes (NUL, control characters, UTF-8), line lengths and
 * section headers so that every problem gets its line number and inih's
 * build options cannot change the meaning. Then the environment
 * (HABOX_<SECTION>_<KEY>) and the -o overrides, in that order.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/config_int.h"
#include "core/log.h"

#define MAX_LINE 4000

static const struct ha_secdef *
find_def(const char *kind, size_t len)
{
	size_t i;

	for (i = 0; i < ha_cfg_n_secdefs; i++)
		if (strlen(ha_cfg_secdefs[i].kind) == len &&
		    strncmp(ha_cfg_secdefs[i].kind, kind, len) == 0)
			return &ha_cfg_secdefs[i];
	return NULL;
}

static long
find_rsec(const struct ha_parse *p, const struct ha_secdef *def,
    const char *name)
{
	size_t i;

	for (i = 0; i < p->n_secs; i++)
		if (p->secs[i].def == def && (def->named ?
		    strcmp(p->secs[i].name, name) == 0 : 1))
			return (long)i;
	return -1;
}

static long
add_rsec(struct ha_parse *p, const struct ha_secdef *def, const char *name,
    int line)
{
	struct ha_rsec *s;

	p->secs = ha_xreallocarray(p->secs, p->n_secs + 1, sizeof(*p->secs));
	s = &p->secs[p->n_secs];
	memset(s, 0, sizeof(*s));
	s->def = def;
	s->name = name ? ha_xstrdup(name) : NULL;
	s->line = line;
	return (long)p->n_secs++;
}

/* "[kind]" or "[kind name]": sets p->cur. */
static void
section_header(struct ha_parse *p, char *s)
{
	char *end = strchr(s, ']'), *kind, *name, *rest;
	const struct ha_secdef *def;
	size_t klen;
	long prev;

	p->cur = -2;
	if (end == NULL) {
		ha_cfg_perr(p, p->line, "section header without ']'");
		return;
	}
	for (rest = end + 1; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (*rest && *rest != ';' && *rest != '#') {
		ha_cfg_perr(p, p->line, "text after the section header: '%s'", rest);
		return;
	}
	*end = '\0';
	for (kind = s + 1; *kind == ' ' || *kind == '\t'; kind++)
		;
	for (klen = 0; kind[klen] && kind[klen] != ' ' && kind[klen] != '\t';)
		klen++;
	for (name = kind + klen; *name == ' ' || *name == '\t'; name++)
		;
	for (end = name + strlen(name); end > name &&
	    (end[-1] == ' ' || end[-1] == '\t'); end--)
		*(end - 1) = '\0';
	if ((def = find_def(kind, klen)) == NULL) {
		ha_cfg_perr(p, p->line, "unknown section [%.*s] (cluster, node, vip, "
		    "postgres, sync, check, service)", (int)klen, kind);
		return;
	}
	if (def->named && *name == '\0') {
		ha_cfg_perr(p, p->line, "[%s] needs a name: [%s NAME]", def->kind,
		    def->kind);
		return;
	}
	if (!def->named && *name) {
		ha_cfg_perr(p, p->line, "[%s] takes no name", def->kind);
		return;
	}
	if (def->named && !ha_cfg_valid_name(name)) {
		ha_cfg_perr(p, p->line, "[%s %s]: a name is letters, digits, '-' and "
		    "'_', starting with a letter or digit, at most 63", def->kind,
		    name);
		return;
	}
	if ((prev = find_rsec(p, def, name)) >= 0) {
		ha_cfg_perr(p, p->line, "duplicate section [%s%s%s] (first at line %d)",
		    def->kind, def->named ? " " : "", name, p->secs[prev].line);
		return;
	}
	p->cur = add_rsec(p, def, def->named ? name : NULL, p->line);
}

/*
 * Check one line's bytes: no NUL, no control characters but tab, valid
 * UTF-8. Returns 0 or -1 (reported).
 */
static int
check_bytes(struct ha_parse *p, const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;

	while (i < n) {
		unsigned char c = s[i];

		if (c == 0) {
			ha_cfg_perr(p, p->line, "NUL byte at column %zu", i + 1);
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			ha_cfg_perr(p, p->line, "control character 0x%02x at column %zu",
			    c, i + 1);
			return -1;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		need = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 :
		    c >= 0xc2 && c <= 0xdf ? 1 : 0;
		if (c >= 0xf5)
			need = 0;
		for (k = 1; need && k <= need; k++)
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				need = 0;
		if (need == 0) {
			ha_cfg_perr(p, p->line, "invalid UTF-8 (byte 0x%02x at column "
			    "%zu)", c, i + 1);
			return -1;
		}
		i += need + 1;
	}
	return 0;
}

/*
 * inih's line reader: hands inih one checked line at a time, leading
 * blanks and inline comments removed, so that inih's build options
 * (multi-line values, comment prefixes) cannot change the meaning.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct ha_parse *p = stream;
	const char *s, *nl;
	size_t n, max = (size_t)num - 2;
	char *c;

	if (p->pos >= p->len)
		return NULL;
	s = p->buf + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->line++;
	if (p->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	if (n && s[n - 1] == '\r')
		n--;
	str[0] = '\n';
	str[1] = '\0';
	if (n > MAX_LINE || n > max) {
		ha_cfg_perr(p, p->line, "line longer than %zu bytes",
		    max < MAX_LINE ? max : (size_t)MAX_LINE);
		return str;
	}
	if (check_bytes(p, (const unsigned char *)s, n) == -1)
		return str;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	if (str[0] == ';' || str[0] == '#' || str[0] == '\0') {
		str[0] = '\0';
	} else if (str[0] == '[') {
		section_header(p, str);
		str[0] = '\0';
	} else {
		/* An inline comment starts with blank + ';'. */
		for (c = str + 1; *c; c++)
			if (*c == ';' && (c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				break;
			}
		if (strchr(str, '=') == NULL || str[0] == '=') {
			ha_cfg_perr(p, p->line, "expected 'key = value' or '[section]'");
			str[0] = '\0';
		} else if (p->cur == -1) {
			ha_cfg_perr(p, p->line, "key outside a section (start with "
			    "[cluster])");
			str[0] = '\0';
		} else if (p->cur == -2) {
			/* Keys of a bad section: its header was reported. */
			str[0] = '\0';
		}
	}
	n = strlen(str);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[32];

	if (la >= 31 || lb >= 31)
		return 99;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = d[0];

		d[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			diag = up;
		}
	}
	return d[lb];
}

static const struct ha_key *
find_key(const struct ha_secdef *def, const char *name,
    const char **suggest)
{
	const struct ha_key *k;
	size_t best = 3;

	*suggest = NULL;
	for (k = def->keys; k->name; k++) {
		size_t d = distance(name, k->name);

		if (d == 0)
			return k;
		if (d < best) {
			best = d;
			*suggest = k->name;
		}
	}
	return NULL;
}

static void
add_kv(struct ha_rsec *s, const struct ha_key *k, const char *val,
    enum ha_origin_kind kind, int line, const char *what)
{
	struct ha_rkv *kv;

	s->kv = ha_xreallocarray(s->kv, s->n + 1, sizeof(*s->kv));
	kv = &s->kv[s->n++];
	kv->key = k;
	kv->val = ha_xstrdup(val);
	kv->o.kind = kind;
	kv->o.line = line;
	kv->o.what = what ? ha_xstrdup(what) : NULL;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct ha_parse *p = user;
	struct ha_rsec *s;
	const struct ha_key *k;
	const char *hint;
	size_t i;

	(void)section;
	if (p->cur < 0)
		return 1;
	s = &p->secs[p->cur];
	if ((k = find_key(s->def, name, &hint)) == NULL) {
		ha_cfg_perr(p, p->line, "[%s%s%s] %s: unknown key%s%s%s", s->def->kind,
		    s->name ? " " : "", s->name ? s->name : "", name,
		    hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
		return 1;
	}
	for (i = 0; k->type != T_LIST && i < s->n; i++)
		if (s->kv[i].key == k) {
			ha_cfg_perr(p, p->line, "[%s%s%s] %s: duplicate key (first at "
			    "line %d)", s->def->kind, s->name ? " " : "",
			    s->name ? s->name : "", name, s->kv[i].o.line);
			return 1;
		}
	add_kv(s, k, value, O_FILE, p->line, NULL);
	return 1;
}

static void
env_name(const struct ha_secdef *def, const char *sec, const char *key,
    struct ha_buf *b)
{
	const char *parts[3] = { def->kind, sec, key };
	const char *c;
	size_t i;

	ha_buf_puts(b, "HABOX");
	for (i = 0; i < 3; i++) {
		if (parts[i] == NULL)
			continue;
		ha_buf_puts(b, "_");
		for (c = parts[i]; *c; c++) {
			char u = isalnum((unsigned char)*c) ?
			    (char)toupper((unsigned char)*c) : '_';

			ha_buf_add(b, &u, 1);
		}
	}
}

static const char *
env_get(char *const *envp, const char *name, size_t *idx)
{
	size_t n = strlen(name), i;

	for (i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') {
			*idx = i;
			return envp[i] + n + 1;
		}
	return NULL;
}

static void
apply_env(struct ha_parse *p, char *const *envp)
{
	size_t d, i, n_env = 0, idx;
	unsigned char *used;
	const struct ha_key *k;
	struct ha_buf b = { 0 };

	while (envp && envp[n_env])
		n_env++;
	used = ha_xcalloc(n_env + 1, 1);
	for (d = 0; d < ha_cfg_n_secdefs; d++) {
		const struct ha_secdef *def = &ha_cfg_secdefs[d];
		size_t n_secs = p->n_secs;

		for (i = 0; i < (def->named ? n_secs : 1); i++) {
			long si = def->named ? (long)i : find_rsec(p, def, NULL);

			if (def->named && p->secs[i].def != def)
				continue;
			for (k = def->keys; k->name; k++) {
				const char *v;

				b.len = 0;
				env_name(def, def->named ? p->secs[si].name :
				    NULL, k->name, &b);
				if ((v = env_get(envp, b.s, &idx)) == NULL)
					continue;
				used[idx] = 1;
				if (si < 0)
					si = add_rsec(p, def, NULL, 0);
				add_kv(&p->secs[si], k, v, O_ENV, 0, b.s);
			}
		}
	}
	/* A HABOX_<KIND>_ variable that set nothing is probably a typo. */
	for (i = 0; i < n_env; i++) {
		for (d = 0; !used[i] && d < ha_cfg_n_secdefs; d++) {
			b.len = 0;
			env_name(&ha_cfg_secdefs[d], NULL, NULL, &b);
			ha_buf_puts(&b, "_");
			if (!ha_startswith(envp[i], b.s))
				continue;
			ha_cfg_report(p->cfg, 1, NULL, NULL, "environment %.*s "
			    "matches no configured section and key: ignored",
			    (int)strcspn(envp[i], "="), envp[i]);
			break;
		}
	}
	free(used);
	ha_buf_free(&b);
}

/* "kind.key=value" or "kind.name.key=value". */
static void
apply_opt(struct ha_parse *p, const char *o)
{
	const char *eq = strchr(o, '='), *dot1 = strchr(o, '.'), *dotk;
	const struct ha_secdef *def;
	const struct ha_key *k;
	const char *hint;
	char *name = NULL, *key;
	long si;

	if (eq == NULL || dot1 == NULL || dot1 > eq) {
		ha_cfg_report(p->cfg, 0, NULL, NULL, "-o %s: expected "
		    "SECTION.KEY=VALUE", o);
		return;
	}
	for (dotk = eq; dotk > o && dotk[-1] != '.'; dotk--)
		;
	if ((def = find_def(o, (size_t)(dot1 - o))) == NULL) {
		ha_cfg_report(p->cfg, 0, NULL, NULL, "-o %s: unknown section "
		    "'%.*s'", o, (int)(dot1 - o), o);
		return;
	}
	if (def->named != (dotk - 1 > dot1)) {
		ha_cfg_report(p->cfg, 0, NULL, NULL, "-o %s: %s", o, def->named ?
		    "expected KIND.NAME.KEY=VALUE" : "expected KIND.KEY=VALUE");
		return;
	}
	key = ha_xstrndup(dotk, (size_t)(eq - dotk));
	if (def->named)
		name = ha_xstrndup(dot1 + 1, (size_t)(dotk - 1 - dot1 - 1));
	if ((k = find_key(def, key, &hint)) == NULL) {
		ha_cfg_report(p->cfg, 0, NULL, NULL, "-o %s: [%s] has no key "
		    "'%s'%s%s%s", o, def->kind, key, hint ? " (did you mean '" :
		    "", hint ? hint : "", hint ? "'?)" : "");
	} else if (def->named && !ha_cfg_valid_name(name)) {
		ha_cfg_report(p->cfg, 0, NULL, NULL, "-o %s: bad section name "
		    "'%s'", o, name);
	} else {
		if ((si = find_rsec(p, def, name)) < 0)
			si = add_rsec(p, def, name, 0);
		/* Named by its key only: the value may be a secret. */
		char *lhs = ha_xstrndup(o, (size_t)(eq - o));

		add_kv(&p->secs[si], k, eq + 1, O_OPT, 0, lhs);
		free(lhs);
	}
	free(key);
	free(name);
}


void
ha_cfg_read(struct ha_parse *p, char *const *envp,
    const char *const *overrides, size_t n_overrides)
{
	size_t i;
	int r;

	r = ini_parse_stream(reader, p, handler, p);
	if (r > 0 && p->cfg->priv->n_errors == 0)
		ha_cfg_perr(p, r, "syntax error");
	else if (r < 0)
		ha_cfg_report(p->cfg, 0, NULL, NULL, "cannot parse (error %d)", r);
	apply_env(p, envp);
	for (i = 0; i < n_overrides; i++)
		apply_opt(p, overrides[i]);
}
