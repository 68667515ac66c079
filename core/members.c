/*
 * Nodes taken out of the cluster, as hawatch persists them (members.h).
 */
#include "core/members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/state.h"
#include "core/util.h"

char *
ha_members_state_path(const struct ha_cfg *cfg)
{
	return ha_xasprintf("%s/hawatch.state", cfg->cluster->state_dir);
}

void
ha_members_key(char *buf, size_t n, const char *node)
{
	snprintf(buf, n, "removed.%s", node);
}

uint32_t
ha_members_removed(const struct ha_cfg *cfg)
{
	char *path = ha_members_state_path(cfg), key[96];
	struct ha_state *st;
	uint32_t out = 0;
	size_t i;
	const char *v;

	if (ha_state_load(path, &st) == -1) {
		free(path);
		return 0;
	}
	free(path);
	for (i = 0; i < cfg->n_nodes && i < 32; i++) {
		ha_members_key(key, sizeof(key), cfg->nodes[i].name);
		if ((v = ha_state_get(st, key)) && strcmp(v, "yes") == 0)
			out |= 1u << i;
	}
	ha_state_free(st);
	return out;
}
