/*
 * hactl's commands that steer the local hawatch through its control
 * socket (<run_dir>/hawatch.sock, core/ctl): status, switchover, promote,
 * demote, failover, force-leader, remove-node, add-node, events, metrics.
 * The daemon decides and refuses; hactl prints what it says and exits
 * with the code it gives. No daemon: exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/applets.h"
#include "applets/hactl/hactl.h"
#include "core/config.h"
#include "core/ctl.h"
#include "core/log.h"

#define CALL_MS 15000

static char *
sock_path(const struct ha_args *a, struct ha_cfg **cfg)
{
	char *s;

	if ((*cfg = ha_cfg_load(a->conf, a->overrides, a->n_overrides)) == NULL)
		return NULL;
	s = ha_xasprintf("%s/hawatch.sock", (*cfg)->cluster->run_dir);
	return s;
}

/* Ask, print the answer, return its code (2 when no daemon answers). */
static int
ask(const struct ha_args *a, const char *cmd, const char *const *args,
    int n, int json)
{
	struct ha_cfg *cfg;
	struct ha_ctl_reply r;
	char *sock = sock_path(a, &cfg);
	int rc;

	if (sock == NULL)
		return HA_EXIT_USAGE;
	if (ha_ctl_call(sock, cmd, args, n, &r, CALL_MS) == -1) {
		free(sock);
		ha_cfg_free(cfg);
		return HA_EXIT_USAGE;
	}
	if (json && r.json.len)
		fputs(r.json.s, stdout);
	else if (r.text.len)
		/* A refusal goes to stderr; a report (status: exit 1 when
		 * degraded) is the answer, on stdout. */
		fputs(r.text.s, r.code && !json && strcmp(cmd, "status") != 0 ?
		    stderr : stdout);
	rc = (int)r.code;
	ha_ctl_reply_free(&r);
	free(sock);
	ha_cfg_free(cfg);
	return rc;
}

int
hactl_status(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	int rc;

	if (!o->watch)
		return ask(a, "status", NULL, 0, o->json);
	for (;;) {
		printf("\033[H\033[2J");
		rc = ask(a, "status", NULL, 0, o->json);
		fflush(stdout);
		if (rc == HA_EXIT_USAGE)
			return rc;
		sleep(1);
	}
}

int
hactl_switchover(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	const char *args[] = { o->to };

	return ask(a, "switchover", args, o->to ? 1 : 0, 0);
}

int
hactl_promote(const struct ha_args *a, void *opts)
{
	(void)opts;
	return ask(a, "promote", NULL, 0, 0);
}

int
hactl_demote(const struct ha_args *a, void *opts)
{
	(void)opts;
	return ask(a, "demote", NULL, 0, 0);
}

int
hactl_failover(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	const char *args[] = { a->argv[0], o->node };

	if (strcmp(a->argv[0], "on") && strcmp(a->argv[0], "off"))
		return ha_cli_usage_error(a, "failover takes on or off, not '%s'",
		    a->argv[0]);
	return ask(a, "failover", args, o->node ? 2 : 1, 0);
}

/* Membership, on the leader: the daemon checks and refuses. */
int
hactl_remove_node(const struct ha_args *a, void *opts)
{
	(void)opts;
	return ask(a, "remove-node", (const char *const *)a->argv, 1, 0);
}

int
hactl_add_node(const struct ha_args *a, void *opts)
{
	(void)opts;
	return ask(a, "add-node", (const char *const *)a->argv, 1, 0);
}

static int
print_event(const char *text, void *arg)
{
	(void)arg;
	printf("%s%s", text, text[0] && text[strlen(text) - 1] == '\n' ?
	    "" : "\n");
	fflush(stdout);
	return 0;
}

int
hactl_events(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	struct ha_cfg *cfg;
	const char *args[] = { "follow" };
	char *sock;
	int rc;

	if (!o->follow)
		return ask(a, "events", NULL, 0, 0);
	if ((sock = sock_path(a, &cfg)) == NULL)
		return HA_EXIT_USAGE;
	rc = ha_ctl_follow(sock, "events", args, 1, print_event, NULL);
	free(sock);
	ha_cfg_free(cfg);
	return rc == 0 ? HA_EXIT_OK : HA_EXIT_USAGE;
}

/*
 * Leader without a majority: the operator confirms (a line "yes" on
 * stdin) unless --yes; the daemon refuses while a majority is within
 * reach or a leader is heard.
 */
int
hactl_force_leader(const struct ha_args *a, void *opts)
{
	struct hactl_opts *o = opts;
	char line[64];

	if (!o->yes) {
		fprintf(stderr, "hactl: force-leader makes this node leader "
		    "WITHOUT a majority. If the other nodes are alive and "
		    "still have a leader (a partition, not a failure), the "
		    "cluster gets two: two primaries, two VIP holders, "
		    "diverging data. Do it only when the others are known to "
		    "be down.\nType 'yes' to go on: ");
		if (fgets(line, sizeof(line), stdin) == NULL)
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "yes") != 0) {
			fprintf(stderr, "\nhactl: not confirmed: nothing "
			    "changed\n");
			return HA_EXIT_FAIL;
		}
	}
	return ask(a, "force-leader", NULL, 0, 0);
}

int
hactl_metrics(const struct ha_args *a, void *opts)
{
	(void)opts;
	return ask(a, "metrics", NULL, 0, 0);
}
