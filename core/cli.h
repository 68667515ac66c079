/*
 * Command lines from one table: each applet declares its commands and
 * options once; ha_cli_parse() parses argv with it (options may follow
 * arguments, `--` ends options) and prints --help and usage errors from
 * the same table, so help cannot drift from the code. Common options
 * (-c, -o, -v, -q, -h, -V) come from here for every applet.
 */
#ifndef HA_CLI_H
#define HA_CLI_H

#include <stddef.h>
#include <stdint.h>

#define HA_CONF_DEFAULT "/etc/habox/habox.conf"

enum ha_opt_type {
	HA_OPT_FLAG,		/* int, set to 1 */
	HA_OPT_STR,		/* const char *, points into argv */
	HA_OPT_INT,		/* long, within [min, max] */
	HA_OPT_DURATION,	/* int64_t milliseconds */
};

struct ha_opt {
	char shortname;		/* 0: long only */
	const char *longname;	/* NULL: short only */
	const char *arg;	/* argument name in help; NULL for a flag */
	const char *help;	/* one line, default in parentheses */
	enum ha_opt_type type;
	size_t off;		/* offsetof() in the applet's option struct */
	long min, max;		/* HA_OPT_INT range */
};

/* Command flags. */
enum {
	HA_CMD_CONFIG = 1,	/* takes -c FILE and -o SECTION.KEY=VALUE */
};

struct ha_args;

struct ha_cmd {
	const char *name;	/* subcommand; NULL when the applet has none */
	const char *args;	/* positional synopsis, e.g. "ADDR/PREFIX dev IFACE" */
	const char *summary;	/* one sentence */
	const struct ha_opt *opts;	/* ends with { 0 }; may be NULL */
	int min_args, max_args;	/* positional count; max -1: no limit */
	unsigned flags;
	int (*run)(const struct ha_args *a, void *opts);
};

struct ha_applet {
	const char *name;
	const char *summary;
	const struct ha_cmd *cmds;
	size_t n_cmds;
};

/* The result of parsing. */
struct ha_args {
	const struct ha_applet *applet;
	const struct ha_cmd *cmd;
	int argc;		/* positional arguments */
	char **argv;
	const char *conf;	/* -c, else HA_CONF_DEFAULT */
	const char **overrides;	/* -o values, in order */
	size_t n_overrides;
	int verbose;		/* -v count, minus one for -q */
};

/*
 * Parse argv (argv[0] is the applet name) into *a and the applet's option
 * struct. Returns 0 to run a->cmd, 1 when --help or --version was printed
 * (exit 0), -1 after printing a usage error to stderr (exit 2).
 * ha_cli_args_free() releases *a.
 */
int ha_cli_parse(const struct ha_applet *app, int argc, char **argv,
    void *opts, struct ha_args *a);
void ha_cli_args_free(struct ha_args *a);

/*
 * The usual applet main: parse, set verbosity, run the command, map
 * results to exit codes. Returns the exit code.
 */
int ha_cli_main(const struct ha_applet *app, int argc, char **argv,
    void *opts);

/* Print a command's help (or the applet's overview when cmd is NULL). */
void ha_cli_help(const struct ha_applet *app, const struct ha_cmd *cmd,
    int fd);

/* The program version, e.g. "0.1.0 (abc1234)". */
const char *ha_cli_version(void);

/*
 * A usage error from a command's run function: prints
 * "applet: message", the usage line and the try-help line to stderr.
 * Returns HA_EXIT_USAGE.
 */
int ha_cli_usage_error(const struct ha_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
