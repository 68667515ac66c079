/*
 * Command-line parsing and help from one option table (see cli.h).
 * GNU conventions: -abc bundles flags, -cFILE and --config=FILE attach
 * arguments, options may follow positional arguments, `--` ends options.
 */
#include "core/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/value.h"
#include "ha_version.h"

enum common_id { C_CONF = 1, C_SET, C_VERBOSE, C_QUIET, C_HELP, C_VERSION };

static const struct ha_opt common_opts[] = {
	{ 'c', "config", "FILE", "config file (default " HA_CONF_DEFAULT ")",
	  HA_OPT_STR, C_CONF, 0, 0 },
	{ 'o', "set", "SECTION.KEY=VALUE",
	  "set a configuration value, over the file and the environment "
	  "(repeatable)", HA_OPT_STR, C_SET, 0, 0 },
	{ 'v', "verbose", NULL, "more detail on stderr (repeat for debug)",
	  HA_OPT_FLAG, C_VERBOSE, 0, 0 },
	{ 'q', "quiet", NULL, "only warnings and failures on stderr",
	  HA_OPT_FLAG, C_QUIET, 0, 0 },
	{ 'h', "help", NULL, "print this help and exit", HA_OPT_FLAG,
	  C_HELP, 0, 0 },
	{ 'V', "version", NULL, "print the version and exit", HA_OPT_FLAG,
	  C_VERSION, 0, 0 },
	{ 0 },
};

const char *
ha_cli_version(void)
{
	return HA_VERSION;
}

static int
is_common_usable(const struct ha_opt *o, const struct ha_cmd *cmd)
{
	if (o->off == C_CONF || o->off == C_SET)
		return cmd != NULL && (cmd->flags & HA_CMD_CONFIG);
	return 1;
}

/* Options of cmd and the common ones that apply, sorted for help. */
static size_t
collect(const struct ha_cmd *cmd, const struct ha_opt **out, size_t max)
{
	size_t n = 0, i, j;
	const struct ha_opt *o;

	for (o = common_opts; o->help && n < max; o++)
		if (is_common_usable(o, cmd))
			out[n++] = o;
	for (o = cmd && cmd->opts ? cmd->opts : NULL; o && o->help && n < max;
	    o++)
		out[n++] = o;
	/* Insertion sort by the letter or long name, case-blind. */
	for (i = 1; i < n; i++) {
		const struct ha_opt *k = out[i];
		char ka[2] = { k->shortname, 0 };
		const char *kn = k->shortname ? ka : k->longname;

		for (j = i; j > 0; j--) {
			char pa[2] = { out[j - 1]->shortname, 0 };
			const char *pn = out[j - 1]->shortname ? pa :
			    out[j - 1]->longname;
			int c = strcasecmp(pn, kn);

			if (c < 0 || (c == 0 && strcmp(pn, kn) <= 0))
				break;
			out[j] = out[j - 1];
		}
		out[j] = k;
	}
	return n;
}

/* Append one word of a usage line, wrapping at 79 columns. */
static void
usage_word(struct ha_buf *b, size_t *col, const char *w)
{
	if (*col + 1 + strlen(w) > 79) {
		ha_buf_puts(b, "\n      ");
		*col = 6;
	}
	ha_buf_printf(b, " %s", w);
	*col += 1 + strlen(w);
}

static void
usage_line(struct ha_buf *b, const struct ha_applet *app,
    const struct ha_cmd *cmd)
{
	const struct ha_opt *list[64];
	char w[96];
	size_t n, i, col;
	int pass;

	ha_buf_printf(b, "usage: %s", app->name);
	col = 6 + strlen(app->name);
	if (cmd == NULL) {
		ha_buf_puts(b, " COMMAND [OPTIONS] [ARGS]\n");
		return;
	}
	if (cmd->name)
		usage_word(b, &col, cmd->name);
	/* The command's own options, flags first, each group sorted. */
	n = collect(cmd, list, HA_ARRAY_LEN(list));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const struct ha_opt *o = list[i];
			int own = o < common_opts ||
			    o >= common_opts + HA_ARRAY_LEN(common_opts);

			if ((o->arg == NULL) != (pass == 0))
				continue;
			if (!own && o->off != C_CONF)
				continue;
			if (o->shortname)
				snprintf(w, sizeof(w), "[-%c%s%s]", o->shortname,
				    o->arg ? " " : "", o->arg ? o->arg : "");
			else
				snprintf(w, sizeof(w), "[--%s%s%s]", o->longname,
				    o->arg ? " " : "", o->arg ? o->arg : "");
			usage_word(b, &col, w);
		}
	}
	if (cmd->args && *cmd->args)
		usage_word(b, &col, cmd->args);
	ha_buf_puts(b, "\n");
}

static void
opt_name(const struct ha_opt *o, char *buf, size_t n)
{
	if (o->shortname && o->longname)
		snprintf(buf, n, "-%c, --%s%s%s", o->shortname, o->longname,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	else if (o->shortname)
		snprintf(buf, n, "-%c%s%s", o->shortname, o->arg ? " " : "",
		    o->arg ? o->arg : "");
	else
		snprintf(buf, n, "    --%s%s%s", o->longname, o->arg ? " " : "",
		    o->arg ? o->arg : "");
}

static void
put(int fd, const struct ha_buf *b)
{
	(void)ha_write_all(fd, b->s, b->len);
}

/*
 * Add text at column col, wrapping at 79 columns with continuation lines
 * indented to col.
 */
static void
wrap(struct ha_buf *b, const char *text, size_t col)
{
	size_t at = col;

	while (*text) {
		size_t w = strcspn(text, " ");

		if (at > col && at + 1 + w > 79) {
			ha_buf_printf(b, "\n%*s", (int)col, "");
			at = col;
		} else if (at > col) {
			ha_buf_puts(b, " ");
			at++;
		}
		ha_buf_add(b, text, w);
		at += w;
		text += w;
		text += strspn(text, " ");
	}
	ha_buf_puts(b, "\n");
}

void
ha_cli_help(const struct ha_applet *app, const struct ha_cmd *cmd, int fd)
{
	struct ha_buf b = { 0 };
	const struct ha_opt *list[64];
	char name[64];
	size_t n, i, w = 0;

	usage_line(&b, app, cmd);
	if (cmd == NULL) {
		size_t cw = 0;

		ha_buf_printf(&b, "\n%s.\n\ncommands:\n", app->summary);
		for (i = 0; i < app->n_cmds; i++)
			if (strlen(app->cmds[i].name) > cw)
				cw = strlen(app->cmds[i].name);
		for (i = 0; i < app->n_cmds; i++) {
			ha_buf_printf(&b, "  %-*s  ", (int)cw, app->cmds[i].name);
			wrap(&b, app->cmds[i].summary, cw + 4);
		}
		ha_buf_printf(&b, "\nRun '%s COMMAND --help' for the options "
		    "of a command.\n", app->name);
		cmd = NULL;
	} else {
		ha_buf_puts(&b, "\n");
		wrap(&b, cmd->summary, 0);
		ha_buf_puts(&b, "\n");
	}
	n = collect(cmd, list, HA_ARRAY_LEN(list));
	for (i = 0; i < n; i++) {
		opt_name(list[i], name, sizeof(name));
		if (strlen(name) > w)
			w = strlen(name);
	}
	if (cmd == NULL)
		ha_buf_puts(&b, "\n");
	for (i = 0; i < n; i++) {
		opt_name(list[i], name, sizeof(name));
		ha_buf_printf(&b, "  %-*s  ", (int)w, name);
		wrap(&b, list[i]->help, w + 4);
	}
	put(fd, &b);
	ha_buf_free(&b);
}

static void
try_help(const struct ha_applet *app, const struct ha_cmd *cmd)
{
	struct ha_buf b = { 0 };

	usage_line(&b, app, cmd);
	if (cmd && cmd->name)
		ha_buf_printf(&b, "try '%s %s --help'\n", app->name, cmd->name);
	else
		ha_buf_printf(&b, "try '%s --help'\n", app->name);
	put(STDERR_FILENO, &b);
	ha_buf_free(&b);
}

static int
usage_err(const struct ha_applet *app, const struct ha_cmd *cmd,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
usage_err(const struct ha_applet *app, const struct ha_cmd *cmd,
    const char *fmt, ...)
{
	struct ha_buf b = { 0 };
	va_list ap;

	ha_buf_printf(&b, "%s: ", app->name);
	va_start(ap, fmt);
	ha_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ha_buf_puts(&b, "\n");
	put(STDERR_FILENO, &b);
	ha_buf_free(&b);
	try_help(app, cmd);
	return -1;
}

int
ha_cli_usage_error(const struct ha_args *a, const char *fmt, ...)
{
	struct ha_buf b = { 0 };
	va_list ap;

	ha_buf_printf(&b, "%s: ", a->applet->name);
	va_start(ap, fmt);
	ha_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ha_buf_puts(&b, "\n");
	put(STDERR_FILENO, &b);
	ha_buf_free(&b);
	try_help(a->applet, a->cmd);
	return HA_EXIT_USAGE;
}

static const struct ha_opt *
find_short(const struct ha_cmd *cmd, char c, int *common)
{
	const struct ha_opt *o;

	for (o = cmd && cmd->opts ? cmd->opts : NULL; o && o->help; o++)
		if (o->shortname == c) {
			*common = 0;
			return o;
		}
	for (o = common_opts; o->help; o++)
		if (o->shortname == c && is_common_usable(o, cmd)) {
			*common = 1;
			return o;
		}
	return NULL;
}

static const struct ha_opt *
find_long(const struct ha_cmd *cmd, const char *name, size_t len, int *common)
{
	const struct ha_opt *o;

	for (o = cmd && cmd->opts ? cmd->opts : NULL; o && o->help; o++)
		if (o->longname && strlen(o->longname) == len &&
		    strncmp(o->longname, name, len) == 0) {
			*common = 0;
			return o;
		}
	for (o = common_opts; o->help; o++)
		if (o->longname && strlen(o->longname) == len &&
		    strncmp(o->longname, name, len) == 0 &&
		    is_common_usable(o, cmd)) {
			*common = 1;
			return o;
		}
	return NULL;
}

/* Store one option. Returns 0, 1 (help/version printed) or -1. */
static int
apply(const struct ha_applet *app, const struct ha_cmd *cmd,
    const struct ha_opt *o, int common, const char *val, void *opts,
    struct ha_args *a, const char *spelled)
{
	char *base = opts;
	const char *why;

	if (common) {
		switch ((enum common_id)o->off) {
		case C_CONF:
			a->conf = val;
			return 0;
		case C_SET:
			if (strchr(val, '=') == NULL || strchr(val, '.') == NULL ||
			    strchr(val, '.') > strchr(val, '='))
				return usage_err(app, cmd, "-o %s: expected "
				    "SECTION.KEY=VALUE (e.g. cluster.node=node2)",
				    val);
			a->overrides = ha_xreallocarray(a->overrides,
			    a->n_overrides + 1, sizeof(*a->overrides));
			a->overrides[a->n_overrides++] = val;
			return 0;
		case C_VERBOSE:
			a->verbose++;
			return 0;
		case C_QUIET:
			a->verbose = -1;
			return 0;
		case C_HELP:
			ha_cli_help(app, cmd, STDOUT_FILENO);
			return 1;
		case C_VERSION: {
			struct ha_buf b = { 0 };

			ha_buf_printf(&b, "%s (habox) %s\n", app->name,
			    HA_VERSION);
			put(STDOUT_FILENO, &b);
			ha_buf_free(&b);
			return 1;
		}
		}
		return -1;
	}
	switch (o->type) {
	case HA_OPT_FLAG:
		*(int *)(base + o->off) = 1;
		return 0;
	case HA_OPT_STR:
		*(const char **)(base + o->off) = val;
		return 0;
	case HA_OPT_INT: {
		long v;

		if (ha_parse_int(val, o->min, o->max, &v, &why) == -1)
			return usage_err(app, cmd, "%s %s: %s (%ld-%ld)",
			    spelled, val, why, o->min, o->max);
		*(long *)(base + o->off) = v;
		return 0;
	}
	case HA_OPT_DURATION: {
		int64_t ms;

		if (ha_parse_duration(val, &ms, &why) == -1)
			return usage_err(app, cmd, "%s %s: %s", spelled, val, why);
		*(int64_t *)(base + o->off) = ms;
		return 0;
	}
	}
	return -1;
}

/* Parse one option word at argv[*i]; returns 0, 1 or -1. */
static int
option(const struct ha_applet *app, const struct ha_cmd *cmd, int argc,
    char **argv, int *i, void *opts, struct ha_args *a)
{
	const char *w = argv[*i];
	const struct ha_opt *o;
	int common, r;
	char spelled[64];

	if (w[1] == '-') {
		const char *name = w + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		o = find_long(cmd, name, len, &common);
		if (o == NULL)
			return usage_err(app, cmd, "unknown option '--%.*s'",
			    (int)len, name);
		snprintf(spelled, sizeof(spelled), "--%s", o->longname);
		if (o->arg == NULL) {
			if (eq)
				return usage_err(app, cmd, "option '%s' takes "
				    "no value", spelled);
			return apply(app, cmd, o, common, NULL, opts, a, spelled);
		}
		if (eq)
			return apply(app, cmd, o, common, eq + 1, opts, a,
			    spelled);
		if (*i + 1 >= argc)
			return usage_err(app, cmd, "option '%s' needs %s",
			    spelled, o->arg);
		return apply(app, cmd, o, common, argv[++*i], opts, a, spelled);
	}
	for (w++; *w; w++) {
		o = find_short(cmd, *w, &common);
		if (o == NULL)
			return usage_err(app, cmd, "unknown option '-%c'", *w);
		snprintf(spelled, sizeof(spelled), "-%c", *w);
		if (o->arg == NULL) {
			if ((r = apply(app, cmd, o, common, NULL, opts, a,
			    spelled)) != 0)
				return r;
			continue;
		}
		if (w[1])
			return apply(app, cmd, o, common, w + 1, opts, a,
			    spelled);
		if (*i + 1 >= argc)
			return usage_err(app, cmd, "option '%s' needs %s",
			    spelled, o->arg);
		return apply(app, cmd, o, common, argv[++*i], opts, a, spelled);
	}
	return 0;
}

static const struct ha_cmd *
find_cmd(const struct ha_applet *app, const char *name)
{
	size_t i;

	for (i = 0; i < app->n_cmds; i++)
		if (strcmp(app->cmds[i].name, name) == 0)
			return &app->cmds[i];
	return NULL;
}

int
ha_cli_parse(const struct ha_applet *app, int argc, char **argv, void *opts,
    struct ha_args *a)
{
	const struct ha_cmd *cmd = NULL;
	int i = 1, r, dashdash = 0;
	int has_sub = app->cmds[0].name != NULL;

	memset(a, 0, sizeof(*a));
	a->applet = app;
	a->conf = HA_CONF_DEFAULT;
	a->argv = ha_xcalloc((size_t)argc + 1, sizeof(char *));
	if (!has_sub)
		cmd = &app->cmds[0];
	/* Before the command word only the common options are known. */
	for (; has_sub && i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			if ((r = option(app, NULL, argc, argv, &i, opts, a)) != 0)
				return r;
			continue;
		}
		if ((cmd = find_cmd(app, argv[i])) == NULL)
			return usage_err(app, NULL, "unknown command '%s'",
			    argv[i]);
		i++;
		break;
	}
	if (cmd == NULL)
		return usage_err(app, NULL, "missing command");
	for (; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			if ((r = option(app, cmd, argc, argv, &i, opts, a)) != 0)
				return r;
			continue;
		}
		a->argv[a->argc++] = argv[i];
	}
	a->cmd = cmd;
	if (a->argc < cmd->min_args)
		return usage_err(app, cmd, "missing argument%s%s",
		    cmd->args ? ": " : "", cmd->args ? cmd->args : "");
	if (cmd->max_args >= 0 && a->argc > cmd->max_args)
		return usage_err(app, cmd, "unexpected argument '%s'",
		    a->argv[cmd->max_args]);
	return 0;
}

void
ha_cli_args_free(struct ha_args *a)
{
	free(a->argv);
	free(a->overrides);
	a->argv = NULL;
	a->overrides = NULL;
}

int
ha_cli_main(const struct ha_applet *app, int argc, char **argv, void *opts)
{
	struct ha_args a;
	int r;

	r = ha_cli_parse(app, argc, argv, opts, &a);
	if (r != 0) {
		ha_cli_args_free(&a);
		return r == 1 ? HA_EXIT_OK : HA_EXIT_USAGE;
	}
	ha_log_verbosity(a.verbose);
	r = a.cmd->run(&a, opts);
	ha_cli_args_free(&a);
	return r;
}
