/*
 * The effective configuration as INI text for `hactl check-config`:
 * every key with its typed value in canonical form, defaults included,
 * where a value came from when not from the file, secrets masked.
 */
#include <stdio.h>
#include <string.h>

#include "core/config_int.h"

/* Mask password=... (and user:password@ in URIs) in a conninfo. */
static void
mask_conninfo(const char *v, struct ha_buf *b)
{
	const char *p = v, *at, *colon;

	if (ha_startswith(v, "postgres://") || ha_startswith(v,
	    "postgresql://")) {
		p = strstr(v, "//") + 2;
		at = strchr(p, '@');
		colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
		if (colon) {
			ha_buf_add(b, v, (size_t)(colon + 1 - v));
			ha_buf_puts(b, "********");
			v = at;
		}
		ha_buf_puts(b, v);
		return;
	}
	while (*p) {
		const char *w = p;
		size_t n;

		p += strspn(p, " \t");
		ha_buf_add(b, w, (size_t)(p - w));
		n = strcspn(p, " \t");
		if (ha_startswith(p, "password=") || ha_startswith(p, "password ="))
			ha_buf_puts(b, "password=********");
		else
			ha_buf_add(b, p, n);
		p += n;
	}
}

static void
fmt_value(const struct ha_key *k, const void *obj, struct ha_buf *b)
{
	const char *f = (const char *)obj + k->off;
	char t[HA_ADDRSTRLEN];
	size_t i;

	switch (k->type) {
	case T_STR: case T_NAME: case T_PATH: case T_CMD: case T_IFNAME:
		ha_buf_puts(b, k->flags & K_SECRET ? "********" :
		    *(char *const *)f);
		return;
	case T_CONNINFO:
		mask_conninfo(*(char *const *)f, b);
		return;
	case T_INT:
		ha_buf_printf(b, "%ld", *(const long *)f);
		return;
	case T_BOOL:
		ha_buf_puts(b, *(const int *)f ? "yes" : "no");
		return;
	case T_DUR:
		ha_fmt_duration(*(const int64_t *)f, t, sizeof(t));
		break;
	case T_SIZE:
		ha_fmt_size(*(const uint64_t *)f, t, sizeof(t));
		break;
	case T_PPM:
		if (*(const long *)f % 100 == 0)
			ha_buf_printf(b, "%ld.%02ld%%", *(const long *)f / 10000,
			    *(const long *)f / 100 % 100);
		else
			ha_buf_printf(b, "%ldppm", *(const long *)f);
		return;
	case T_ADDR:
		ha_fmt_addr((const struct ha_addr *)f, t, sizeof(t));
		break;
	case T_CIDR:
		ha_fmt_cidr((const struct ha_cidr *)f, t, sizeof(t));
		break;
	case T_ENUM:
		ha_buf_puts(b, k->choices[*(const int *)f]);
		return;
	case T_LIST:
		for (i = 0; i < ((const struct ha_strv *)f)->n; i++)
			ha_buf_printf(b, "%s%s", i ? " " : "",
			    ((const struct ha_strv *)f)->v[i]);
		return;
	}
	ha_buf_puts(b, t);
}

static int
is_set(const struct ha_key *k, const void *obj)
{
	const char *f = (const char *)obj + k->off;

	switch (k->type) {
	case T_STR: case T_NAME: case T_PATH: case T_CMD: case T_CONNINFO:
	case T_IFNAME:
		return *(char *const *)f != NULL;
	case T_ADDR:
		return ((const struct ha_addr *)f)->family != 0;
	case T_LIST:
		return ((const struct ha_strv *)f)->n != 0;
	default:
		return 1;
	}
}

void
ha_cfg_format(const struct ha_cfg *cfg, struct ha_buf *out)
{
	const struct ha_cfg_priv *pv = cfg->priv;
	size_t i, k;

	ha_buf_printf(out, "; effective configuration of %s\n", cfg->path);
	for (i = 0; i < pv->n_secs; i++) {
		const struct ha_sec *s = &pv->secs[i];

		ha_buf_puts(out, "\n");
		ha_cfg_sec_label(s->def, s->name, out);
		ha_buf_puts(out, "\n");
		for (k = 0; s->def->keys[k].name; k++) {
			const struct ha_key *key = &s->def->keys[k];
			const struct ha_origin *o = &s->orig[k];
			size_t start = out->len;

			if (!is_set(key, s->obj) && !(s->def == &ha_cfg_secdefs[1]
			    && strcmp(key->name, "port") == 0))
				continue;
			ha_buf_printf(out, "%s = ", key->name);
			fmt_value(key, s->obj, out);
			if (o->kind == O_FILE)
				;
			else if (o->kind == O_DEFAULT)
				ha_buf_printf(out, "%*s; default",
				    out->len - start < 40 ?
				    (int)(40 - (out->len - start)) : 1, "");
			else
				ha_buf_printf(out, "%*s; from %s%s",
				    out->len - start < 40 ?
				    (int)(40 - (out->len - start)) : 1, "",
				    o->kind == O_OPT ? "-o " : "", o->what);
			ha_buf_puts(out, "\n");
		}
	}
}
