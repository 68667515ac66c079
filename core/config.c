/*
 * The configuration engine: load the file, have core/config_read.c turn
 * it (and the environment and -o) into raw values, type them by the
 * tables of core/config_schema.c, run the cross-checks, and report every
 * error with where the value came from. Printing: core/config_print.c.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_int.h"
#include "core/log.h"
#include "ha_kconfig.h"

#define MAX_FILE (1024 * 1024)
#define MAX_SHOWN_ERRORS 100

extern char **environ;

static void
emit(struct ha_cfg *cfg, int warn, const char *msg)
{
	if (warn) {
		cfg->priv->n_warnings++;
		ha_log(HA_WARNING, "%s", msg);
		return;
	}
	if (++cfg->priv->n_errors <= MAX_SHOWN_ERRORS)
		ha_log(HA_FAILURE, "%s", msg);
	else if (cfg->priv->n_errors == MAX_SHOWN_ERRORS + 1)
		ha_log(HA_FAILURE, "%s: too many errors, not showing more",
		    cfg->path);
}

void
ha_cfg_perr(struct ha_parse *p, int line, const char *fmt, ...)
{
	struct ha_buf b = { 0 };
	va_list ap;

	ha_buf_printf(&b, "%s:%d: ", p->cfg->path, line);
	va_start(ap, fmt);
	ha_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit(p->cfg, 0, b.s);
	ha_buf_free(&b);
}

static void
where(const struct ha_cfg *cfg, const struct ha_origin *o, int secline,
    struct ha_buf *b)
{
	switch (o ? o->kind : O_DEFAULT) {
	case O_FILE:
		ha_buf_printf(b, "%s:%d: ", cfg->path, o->line);
		return;
	case O_ENV:
		ha_buf_printf(b, "environment %s: ", o->what);
		return;
	case O_OPT:
		ha_buf_printf(b, "-o %s: ", o->what);
		return;
	case O_DEFAULT:
		if (secline)
			ha_buf_printf(b, "%s:%d: ", cfg->path, secline);
		else
			ha_buf_printf(b, "%s: ", cfg->path);
		return;
	}
}

void
ha_cfg_sec_label(const struct ha_secdef *def, const char *name, struct ha_buf *b)
{
	if (name)
		ha_buf_printf(b, "[%s %s]", def->kind, name);
	else
		ha_buf_printf(b, "[%s]", def->kind);
}

void
ha_cfg_report(struct ha_cfg *cfg, int warn, const void *obj, const char *key,
    const char *fmt, ...)
{
	struct ha_buf b = { 0 };
	const struct ha_sec *s = NULL;
	const struct ha_origin *o = NULL;
	size_t i;
	va_list ap;

	for (i = 0; obj && i < cfg->priv->n_secs; i++)
		if (cfg->priv->secs[i].obj == obj)
			s = &cfg->priv->secs[i];
	for (i = 0; s && key && s->def->keys[i].name; i++)
		if (strcmp(s->def->keys[i].name, key) == 0)
			o = &s->orig[i];
	where(cfg, o, s ? s->line : 0, &b);
	if (s) {
		ha_cfg_sec_label(s->def, s->name, &b);
		ha_buf_puts(&b, key ? " " : ": ");
	}
	if (key)
		ha_buf_printf(&b, "%s: ", key);
	va_start(ap, fmt);
	ha_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit(cfg, warn, b.s);
	ha_buf_free(&b);
}

int
ha_cfg_valid_name(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return i <= 63;
}

/* --- typed values ------------------------------------------------------ */

static void
list_add(struct ha_strv *l, const char *text)
{
	const char *s = text;

	while (*s) {
		size_t n;

		s += strspn(s, " \t");
		if ((n = strcspn(s, " \t")) == 0)
			break;
		l->v = ha_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = ha_xstrndup(s, n);
		s += n;
	}
}

static void
list_clear(struct ha_strv *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
valid_ifname(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.:@-", s[i]))
			return 0;
	return i > 0 && i < 16;
}

/* Parse text into the key's field of obj. Returns 0 or -1 with *why. */
static int
typed(const struct ha_key *k, const char *v, void *obj, const char **why)
{
	char *f = (char *)obj + k->off;
	size_t i;

	switch (k->type) {
	case T_NAME:
		*why = "a name is letters, digits, '-' and '_', at most 63";
		if (!ha_cfg_valid_name(v))
			return -1;
		break;
	case T_PATH:
		*why = "must be an absolute path";
		if (v[0] != '/' || strlen(v) >= 4096)
			return -1;
		break;
	case T_CMD:
	case T_CONNINFO:
		*why = "must not be empty";
		if (*v == '\0')
			return -1;
		break;
	case T_IFNAME:
		*why = "not an interface name (1-15 of letters, digits, _.:@-)";
		if (!valid_ifname(v))
			return -1;
		break;
	case T_STR:
		break;
	case T_INT:
		return ha_parse_int(v, k->min, k->max, (long *)f, why);
	case T_BOOL:
		return ha_parse_bool(v, (int *)f, why);
	case T_DUR:
		if (ha_parse_duration(v, (int64_t *)f, why) == -1)
			return -1;
		*why = "too short";
		return *(int64_t *)f < k->min ? -1 : 0;
	case T_SIZE:
		return ha_parse_size(v, (uint64_t *)f, why);
	case T_PPM:
		if (ha_parse_ppm(v, (long *)f, why) == -1)
			return -1;
		*why = "too large";
		return *(long *)f > k->max ? -1 : 0;
	case T_ADDR:
		return ha_parse_addr(v, CONFIG_HA_IPV6, (struct ha_addr *)f, why);
	case T_CIDR:
		return ha_parse_cidr(v, CONFIG_HA_IPV6, (struct ha_cidr *)f, why);
	case T_ENUM:
		for (i = 0; k->choices[i]; i++)
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)f = (int)i;
				return 0;
			}
		*why = "not one of the allowed values";
		return -1;
	case T_LIST:
		list_add((struct ha_strv *)f, v);
		return 0;
	}
	free(*(char **)f);
	*(char **)f = ha_xstrdup(v);
	return 0;
}

static void
bad_value(struct ha_cfg *cfg, const struct ha_sec *s, const struct ha_key *k,
    const struct ha_origin *o, const char *v, const char *why)
{
	struct ha_buf b = { 0 };
	size_t i;

	where(cfg, o, s->line, &b);
	ha_cfg_sec_label(s->def, s->name, &b);
	ha_buf_printf(&b, " %s: '%s': %s", k->name, k->flags & K_SECRET ?
	    "********" : v, why);
	if (k->type == T_ENUM) {
		for (i = 0; k->choices[i]; i++)
			ha_buf_printf(&b, "%s%s", i ? ", " : " (", k->choices[i]);
		ha_buf_puts(&b, ")");
	} else if (k->type == T_INT) {
		ha_buf_printf(&b, " (%ld-%ld)", k->min, k->max);
	}
	emit(cfg, 0, b.s);
	ha_buf_free(&b);
}

/* Give every key of one section its value: default, file, env, -o. */
static void
build_sec(struct ha_cfg *cfg, struct ha_sec *s, const struct ha_rsec *r)
{
	const struct ha_key *k;
	const char *why;
	size_t ki, i;

	for (ki = 0, k = s->def->keys; k->name; k++, ki++) {
		const struct ha_rkv *win = NULL;

		for (i = 0; i < r->n; i++)
			if (r->kv[i].key == k)
				win = &r->kv[i];
		if (win == NULL) {
			s->orig[ki].kind = O_DEFAULT;
			if (k->def && typed(k, k->def, s->obj, &why) == -1)
				ha_log(HA_FAILURE, "bad default %s", k->name);
			if (k->flags & K_REQ)
				ha_cfg_report(cfg, 0, s->obj, NULL, "%s: missing "
				    "(required)", k->name);
			continue;
		}
		s->orig[ki].kind = win->o.kind;
		s->orig[ki].line = win->o.line;
		s->orig[ki].what = win->o.what ? ha_xstrdup(win->o.what) : NULL;
		if (k->type == T_LIST) {
			/* The file's lines add up; env or -o replace them. */
			for (i = 0; i < r->n; i++)
				if (r->kv[i].key == k &&
				    r->kv[i].o.kind != win->o.kind)
					continue;
				else if (r->kv[i].key == k)
					list_add((struct ha_strv *)((char *)s->obj +
					    k->off), r->kv[i].val);
			continue;
		}
		if (typed(k, win->val, s->obj, &why) == -1)
			bad_value(cfg, s, k, &win->o, win->val, why);
	}
}

static size_t
n_keys(const struct ha_secdef *def)
{
	size_t n = 0;

	while (def->keys[n].name)
		n++;
	return n;
}

static void
build(struct ha_parse *p)
{
	struct ha_cfg *cfg = p->cfg;
	struct ha_cfg_priv *pv = cfg->priv;
	size_t d, i, n;

	pv->secs = ha_xcalloc(p->n_secs, sizeof(*pv->secs));
	for (d = 0; d < ha_cfg_n_secdefs; d++) {
		const struct ha_secdef *def = &ha_cfg_secdefs[d];
		char *arr;

		for (n = 0, i = 0; i < p->n_secs; i++)
			n += p->secs[i].def == def;
		if (n == 0)
			continue;
		arr = ha_xcalloc(n, def->size);
		*(char **)((char *)cfg + def->arr_off) = arr;
		if (def->named)
			*(size_t *)((char *)cfg + def->cnt_off) = n;
		for (n = 0, i = 0; i < p->n_secs; i++) {
			struct ha_sec *s;

			if (p->secs[i].def != def)
				continue;
			s = &pv->secs[pv->n_secs++];
			s->def = def;
			s->line = p->secs[i].line;
			s->obj = arr + n++ * def->size;
			s->orig = ha_xcalloc(n_keys(def), sizeof(*s->orig));
			if (def->named) {
				s->name = ha_xstrdup(p->secs[i].name);
				/* Named structs start with their name. */
				*(char **)s->obj = ha_xstrdup(s->name);
			}
			build_sec(cfg, s, &p->secs[i]);
		}
	}
	if (cfg->cluster == NULL)
		ha_cfg_report(cfg, 0, NULL, NULL, "no [cluster] section (it "
		    "names the cluster and this node)");
}

static void
free_parse(struct ha_parse *p)
{
	size_t i, j;

	for (i = 0; i < p->n_secs; i++) {
		for (j = 0; j < p->secs[i].n; j++) {
			free(p->secs[i].kv[j].val);
			free(p->secs[i].kv[j].o.what);
		}
		free(p->secs[i].kv);
		free(p->secs[i].name);
	}
	free(p->secs);
}

struct ha_cfg *
ha_cfg_parse(const char *name, const char *buf, size_t len, char *const *envp,
    const char *const *overrides, size_t n_overrides, size_t *n_errors)
{
	struct ha_parse p = { 0 };
	struct ha_cfg *cfg;

	cfg = ha_xcalloc(1, sizeof(*cfg));
	cfg->path = ha_xstrdup(name);
	cfg->priv = ha_xcalloc(1, sizeof(*cfg->priv));
	p.cfg = cfg;
	p.cur = -1;
	p.buf = buf;
	p.len = len;
	ha_cfg_read(&p, envp, overrides, n_overrides);
	build(&p);
	free_parse(&p);
	if (cfg->priv->n_errors == 0)
		ha_cfg_crosscheck(cfg);
	if (n_errors)
		*n_errors = cfg->priv->n_errors;
	if (cfg->priv->n_errors) {
		ha_cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Read the whole file, refusing what cannot be a configuration file. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	struct ha_buf b = { 0 };
	char chunk[16384];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		ha_log_errno(HA_FAILURE, "cannot read config file %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode) ||
	    !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		ha_log(HA_FAILURE, "config file %s: %s", path,
		    S_ISDIR(st.st_mode) ? "is a directory" :
		    "not a regular file");
		close(fd);
		return NULL;
	}
	ha_buf_add(&b, "", 0);
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			ha_log_errno(HA_FAILURE, "cannot read config file %s",
			    path);
			goto fail;
		}
		if (b.len + (size_t)r > MAX_FILE) {
			ha_log(HA_FAILURE, "config file %s: larger than %d KiB, "
			    "not a habox configuration", path, MAX_FILE / 1024);
			goto fail;
		}
		ha_buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	*len = b.len;
	return b.s;
fail:
	close(fd);
	ha_buf_free(&b);
	return NULL;
}

struct ha_cfg *
ha_cfg_load(const char *path, const char *const *overrides,
    size_t n_overrides)
{
	struct ha_cfg *cfg;
	size_t len, n_err;
	char *buf;

	if ((buf = slurp(path, &len)) == NULL)
		return NULL;
	cfg = ha_cfg_parse(path, buf, len, environ, overrides, n_overrides,
	    &n_err);
	free(buf);
	if (cfg == NULL)
		ha_log(HA_FAILURE, "%s: %zu error%s: configuration not used", path,
		    n_err, n_err == 1 ? "" : "s");
	return cfg;
}

static void
free_field(const struct ha_key *k, void *obj)
{
	char *f = (char *)obj + k->off;

	switch (k->type) {
	case T_STR: case T_NAME: case T_PATH: case T_CMD: case T_CONNINFO:
	case T_IFNAME:
		free(*(char **)f);
		break;
	case T_LIST:
		list_clear((struct ha_strv *)f);
		break;
	default:
		break;
	}
}

void
ha_cfg_free(struct ha_cfg *cfg)
{
	struct ha_cfg_priv *pv;
	size_t i, k;

	if (cfg == NULL)
		return;
	pv = cfg->priv;
	for (i = 0; i < pv->n_secs; i++) {
		struct ha_sec *s = &pv->secs[i];

		for (k = 0; s->def->keys[k].name; k++) {
			free_field(&s->def->keys[k], s->obj);
			free(s->orig[k].what);
		}
		if (s->def->named)
			free(*(char **)s->obj);
		free(s->orig);
		free(s->name);
	}
	for (i = 0; i < ha_cfg_n_secdefs; i++)
		free(*(char **)((char *)cfg + ha_cfg_secdefs[i].arr_off));
	free(pv->secs);
	free(pv);
	free(cfg->path);
	free(cfg);
}


#define LOOKUP(fn, type, arr, cnt) \
	const type * \
	fn(const struct ha_cfg *cfg, const char *name) \
	{ \
		size_t i; \
		for (i = 0; i < cfg->cnt; i++) \
			if (strcmp(cfg->arr[i].name, name) == 0) \
				return &cfg->arr[i]; \
		return NULL; \
	}

LOOKUP(ha_cfg_node, struct ha_cfg_node, nodes, n_nodes)
LOOKUP(ha_cfg_vip, struct ha_cfg_vip, vips, n_vips)
LOOKUP(ha_cfg_sync, struct ha_cfg_sync, syncs, n_syncs)

size_t
ha_cfg_n_members(const struct ha_cfg *cfg)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->n_nodes; i++)
		n += cfg->nodes[i].role == HA_ROLE_MEMBER;
	return n;
}

size_t
ha_cfg_n_witnesses(const struct ha_cfg *cfg)
{
	return cfg->n_nodes - ha_cfg_n_members(cfg);
}
