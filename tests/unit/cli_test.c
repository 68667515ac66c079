/*
 * Unit tests for core/cli: parsing with an option table (bundles,
 * attached values, options after arguments, --), errors, and help that is
 * generated from the same table.
 */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "core/cli.h"

struct opts {
	int dry;
	int force;
	const char *label;
	long count;
	int64_t wait_ms;
};

#define O(f) offsetof(struct opts, f)

static const struct ha_opt push_opts[] = {
	{ 'n', "dry-run", NULL, "write nothing", HA_OPT_FLAG, O(dry), 0, 0 },
	{ 'F', "force", NULL, "replace", HA_OPT_FLAG, O(force), 0, 0 },
	{ 'l', "label", "L", "a label", HA_OPT_STR, O(label), 0, 0 },
	{ 0, "count", "N", "how many (default 5)", HA_OPT_INT, O(count), 1, 10 },
	{ 0, "wait", "T", "how long", HA_OPT_DURATION, O(wait_ms), 0, 0 },
	{ 0 },
};

static int
run_ok(const struct ha_args *a, void *o)
{
	(void)a;
	(void)o;
	return 0;
}

static const struct ha_cmd cmds[] = {
	{ "push", "NAME...", "Send things.", push_opts, 1, -1, HA_CMD_CONFIG,
	  run_ok },
	{ "status", "", "Show things.", NULL, 0, 0, 0, run_ok },
};

static const struct ha_applet app = { "tapp", "A test applet", cmds, 2 };

/* Parse a NULL-terminated argument list; fills o and a. */
static int
parse(struct opts *o, struct ha_args *a, const char **args)
{
	char *argv[32];
	int argc = 0;

	memset(o, 0, sizeof(*o));
	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return ha_cli_parse(&app, argc, argv, o, a);
}

/* Run fn with stdout and stderr captured into out. */
static int
captured(struct ha_buf *out, struct opts *o, struct ha_args *a,
    const char **args)
{
	char path[] = "/tmp/habox-cli.XXXXXX";
	int fd = mkstemp(path), save1 = dup(1), save2 = dup(2), r;
	char buf[4096];
	ssize_t n;

	fflush(stdout);
	dup2(fd, 1);
	dup2(fd, 2);
	r = parse(o, a, args);
	fflush(stdout);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	lseek(fd, 0, SEEK_SET);
	out->len = 0;
	ha_buf_add(out, "", 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		ha_buf_add(out, buf, (size_t)n);
	close(fd);
	unlink(path);
	return r;
}

TEST(parsing)
{
	struct opts o;
	struct ha_args a;
	const char *t1[] = { "tapp", "push", "-nF", "one", "--count=3", "two",
	    "-lfoo", "--wait", "2s", "-c", "/x.conf", "-o", "cluster.port=1",
	    "-v", "-v", NULL };
	const char *t2[] = { "tapp", "-v", "push", "--", "-n", "--count", NULL };
	const char *t3[] = { "tapp", "push", "--label", "x", "a", "-q", NULL };

	CHECK(parse(&o, &a, t1) == 0);
	CHECK(o.dry == 1 && o.force == 1 && o.count == 3 && o.wait_ms == 2000);
	CHECK(o.label && strcmp(o.label, "foo") == 0);
	CHECK(a.cmd == &cmds[0] && a.argc == 2);
	CHECK(strcmp(a.argv[0], "one") == 0 && strcmp(a.argv[1], "two") == 0);
	CHECK(strcmp(a.conf, "/x.conf") == 0 && a.verbose == 2);
	CHECK(a.n_overrides == 1 &&
	    strcmp(a.overrides[0], "cluster.port=1") == 0);
	ha_cli_args_free(&a);
	CHECK(parse(&o, &a, t2) == 0);
	CHECK(o.dry == 0 && a.argc == 2 && strcmp(a.argv[0], "-n") == 0);
	CHECK(a.verbose == 1 && strcmp(a.conf, HA_CONF_DEFAULT) == 0);
	ha_cli_args_free(&a);
	CHECK(parse(&o, &a, t3) == 0 && a.verbose == -1 && a.argc == 1);
	ha_cli_args_free(&a);
}

TEST(errors)
{
	struct opts o;
	struct ha_args a;
	struct ha_buf out = { 0 };
	const char *bad[][6] = {
		{ "tapp", "push", "--bogus", "x", NULL },
		{ "tapp", "push", "-z", "x", NULL },
		{ "tapp", "push", "--count", "11", "x", NULL },
		{ "tapp", "push", "--wait", "5", "x", NULL },
		{ "tapp", "push", "x", "--label", NULL },
		{ "tapp", "push", NULL },
		{ "tapp", "status", "extra", NULL },
		{ "tapp", "nosuch", NULL },
		{ "tapp", NULL },
		{ "tapp", "status", "-c", "f", NULL },
		{ "tapp", "push", "-o", "noequals", "x", NULL },
		{ "tapp", "push", "--force=yes", "x", NULL },
	};
	const char *want[] = {
		"tapp: unknown option '--bogus'",
		"tapp: unknown option '-z'",
		"tapp: --count 11: out of range (1-10)",
		"tapp: --wait 5: a duration needs a unit",
		"tapp: option '--label' needs L",
		"tapp: missing argument: NAME...",
		"tapp: unexpected argument 'extra'",
		"tapp: unknown command 'nosuch'",
		"tapp: missing command",
		"tapp: unknown option '-c'",
		"tapp: -o noequals: expected SECTION.KEY=VALUE",
		"tapp: option '--force' takes no value",
	};
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(want); i++) {
		CHECK(captured(&out, &o, &a, bad[i]) == -1);
		CHECK(strstr(out.s, want[i]) != NULL);
		CHECK(strstr(out.s, "usage: tapp") != NULL);
		CHECK(strstr(out.s, "try 'tapp") != NULL);
		if (strstr(out.s, want[i]) == NULL)
			fprintf(stderr, "wanted '%s' in:\n%s", want[i], out.s);
		ha_cli_args_free(&a);
	}
	ha_buf_free(&out);
}

TEST(help_from_table)
{
	struct opts o;
	struct ha_args a;
	struct ha_buf out = { 0 };
	const char *h1[] = { "tapp", "push", "--help", NULL };
	const char *h2[] = { "tapp", "--help", NULL };
	const char *h3[] = { "tapp", "status", "-V", NULL };
	const char *list;
	const char *usage = "usage: tapp push [-F] [-n] [-c FILE] [--count N] "
	    "[-l L] [--wait T] NAME...\n\nSend things.\n\n";

	CHECK(captured(&out, &o, &a, h1) == 1);
	CHECK(strncmp(out.s, usage, strlen(usage)) == 0);
	if (strncmp(out.s, usage, strlen(usage)))
		fprintf(stderr, "got:\n%s", out.s);
	/* every option of the table, sorted, with its help */
	list = strstr(out.s, "Send things.");
	CHECK(list != NULL);
	if (list == NULL)
		list = out.s;
	CHECK(strstr(list, "  -c, --config FILE"));
	CHECK(strstr(list, "      --count N") && strstr(list,
	    "how many (default 5)"));
	CHECK(strstr(list, "-c, --config") < strstr(list, "--count N"));
	CHECK(strstr(list, "--count N") < strstr(list, "-F, --force"));
	CHECK(strstr(list, "-F, --force") < strstr(list, "-h, --help"));
	CHECK(strstr(list, "-n, --dry-run") < strstr(list, "-o, --set"));
	ha_cli_args_free(&a);
	CHECK(captured(&out, &o, &a, h2) == 1);
	CHECK(ha_startswith(out.s, "usage: tapp COMMAND"));
	CHECK(strstr(out.s, "  push    Send things.\n"));
	CHECK(strstr(out.s, "  status  Show things.\n"));
	ha_cli_args_free(&a);
	CHECK(captured(&out, &o, &a, h3) == 1);
	CHECK(ha_startswith(out.s, "tapp (habox) "));
	ha_cli_args_free(&a);
	ha_buf_free(&out);
}

int
main(void)
{
	t_suite = "cli";
	RUN(parsing);
	RUN(errors);
	RUN(help_from_table);
	return t_done();
}
