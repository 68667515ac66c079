/*
 * habox, the multicall binary: dispatch on the basename of argv[0] (a
 * symlink named after an applet) or on the first argument
 * (`habox hasync push ...`); `habox --list`, `habox --install [-f] [DIR]`.
 * The applets are listed once, in applets.def.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/applets.h"
#include "core/log.h"
#include "core/util.h"
#include "core/version.h"
#include "ha_kconfig.h"

struct applet {
	const char *name;
	int (*main)(int, char **);	/* NULL: not built in */
	const char *help;
	const char *symbol;
};

static const struct applet applets[] = {
#define APPLET(name, cfg, help) { #name, cfg ? name##_main : NULL, help, #cfg },
#include "applets/applets.def"
#undef APPLET
};

static const struct applet *
find(const char *name)
{
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(applets); i++)
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	return NULL;
}

static int
run_applet(const struct applet *ap, int argc, char **argv)
{
	if (ap->main == NULL) {
		fprintf(stderr, "habox: applet '%s' is not built in (%s=n); "
		    "'habox --list' names those that are\n", ap->name,
		    ap->symbol);
		return HA_EXIT_USAGE;
	}
	ha_log_init(ap->name, HA_LOG_STDERR | HA_LOG_SYSLOG);
	argv[0] = (char *)ap->name;
	return ap->main(argc, argv);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: habox APPLET [ARGS]\n"
	    "       habox --list | --install [-f] [DIR] | --version | --help\n\n"
	    "One static binary for high availability: a virtual IP, file "
	    "trees in sync,\nPostgreSQL promoted on the right node, and the "
	    "daemon that moves them.\n\napplets:\n");
	for (i = 0; i < HA_ARRAY_LEN(applets); i++)
		if (applets[i].main)
			fprintf(f, "  %-8s %s\n", applets[i].name,
			    applets[i].help);
	fprintf(f, "\n  --install [-f] [DIR]  make a symlink for each applet "
	    "in DIR (default: where\n                        habox is); -f "
	    "replaces existing files\n  --list                name the applets "
	    "built in\n\nRun 'habox APPLET --help' (or 'APPLET --help') for "
	    "an applet's commands.\n");
}

/* Where this binary is, for symlinks that survive a changed cwd. */
static char *
self_path(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		return ha_xstrdup(buf);
	}
	if (strchr(argv0, '/') && realpath(argv0, buf))
		return ha_xstrdup(buf);
	return NULL;
}

static int
install_one(const char *dir, const char *name, const char *target, int force)
{
	char *link = ha_xasprintf("%s/%s", dir, name);
	char *tmp = ha_xasprintf("%s/.%s.habox-tmp", dir, name);
	char cur[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rc = -1;

	if (lstat(link, &st) == 0) {
		n = readlink(link, cur, sizeof(cur) - 1);
		if (n > 0 && (cur[n] = '\0', strcmp(cur, target) == 0)) {
			ha_log(HA_INFO, "%s already links to %s", link, target);
			rc = 0;
			goto out;
		}
		if (!force) {
			ha_log(HA_FAILURE, "%s exists: not replacing it "
			    "(use --install -f)", link);
			goto out;
		}
	}
	unlink(tmp);
	if (symlink(target, tmp) == -1) {
		ha_log_errno(HA_FAILURE, "symlink %s -> %s", tmp, target);
		goto out;
	}
	if (rename(tmp, link) == -1) {
		ha_log_errno(HA_FAILURE, "rename %s -> %s", tmp, link);
		unlink(tmp);
		goto out;
	}
	ha_log(HA_INFO, "%s -> %s", link, target);
	rc = 0;
out:
	free(link);
	free(tmp);
	return rc;
}

static int
install(int argc, char **argv)
{
	int force = 0, i, fails = 0;
	const char *dir = NULL;
	char *target, *dcopy = NULL;
	struct stat st;
	size_t k;

	ha_log_init("habox", HA_LOG_STDERR);
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (argv[i][0] == '-' || dir) {
			fprintf(stderr, "habox: --install: unexpected '%s'\n"
			    "usage: habox --install [-f] [DIR]\n", argv[i]);
			return HA_EXIT_USAGE;
		} else
			dir = argv[i];
	}
	if ((target = self_path(argv[0])) == NULL) {
		ha_log(HA_FAILURE, "cannot find this binary's path "
		    "(/proc not mounted?): run it by its full path");
		return HA_EXIT_FAIL;
	}
	if (dir == NULL) {
		dcopy = ha_xstrdup(target);
		*strrchr(dcopy, '/') = '\0';
		dir = *dcopy ? dcopy : "/";
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		errno = errno ? errno : ENOTDIR;
		ha_log(HA_FAILURE, "--install %s: not a directory", dir);
		free(target);
		free(dcopy);
		return HA_EXIT_FAIL;
	}
	for (k = 0; k < HA_ARRAY_LEN(applets); k++)
		if (applets[k].main &&
		    install_one(dir, applets[k].name, target, force) == -1)
			fails++;
	free(target);
	free(dcopy);
	return fails ? HA_EXIT_FAIL : HA_EXIT_OK;
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	const struct applet *ap;
	size_t i;

	base = base ? base + 1 : argv[0];
	if ((ap = find(base)) != NULL)
		return run_applet(ap, argc, argv);
	if (argc < 2) {
		usage(stderr);
		return HA_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--list") == 0 || strcmp(argv[1], "-l") == 0) {
		for (i = 0; i < HA_ARRAY_LEN(applets); i++)
			if (applets[i].main)
				printf("%s\n", applets[i].name);
		return HA_EXIT_OK;
	}
	if (strcmp(argv[1], "--install") == 0)
		return install(argc, argv);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		struct ha_buf b = { 0 };

		ha_version_info(&b);
		fputs(b.s, stdout);
		ha_buf_free(&b);
		return HA_EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return HA_EXIT_OK;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "habox: unknown option '%s'\n"
		    "try 'habox --help'\n", argv[1]);
		return HA_EXIT_USAGE;
	}
	if ((ap = find(argv[1])) == NULL) {
		fprintf(stderr, "habox: unknown applet '%s' ('habox --list' "
		    "names the applets)\n", argv[1]);
		return HA_EXIT_USAGE;
	}
	return run_applet(ap, argc - 1, argv + 1);
}
