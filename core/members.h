/*
 * The cluster's membership beyond the configuration: the nodes taken out
 * with hactl remove-node. hawatch keeps them with its term and vote in
 * state_dir/hawatch.state ("removed.NODE = yes", spread to every node by
 * the election's switches); hasync reads them there, so that it neither
 * pushes to a node that is out nor counts what such a node has not got.
 */
#ifndef HA_MEMBERS_H
#define HA_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

struct ha_cfg;

/* state_dir/hawatch.state (caller frees). */
char *ha_members_state_path(const struct ha_cfg *cfg);
/* The state key that marks node as out: "removed.NODE". */
void ha_members_key(char *buf, size_t n, const char *node);
/*
 * Bit i set: cfg->nodes[i] is out. 0 when hawatch never ran here; when
 * the state cannot be read, 0 too (logged): pushing to a node that is
 * out only fails, while skipping one that is in would lose its updates.
 */
uint32_t ha_members_removed(const struct ha_cfg *cfg);

#endif
