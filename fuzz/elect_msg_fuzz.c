/*
 * libFuzzer target for the election messages' decoder (core/elect_msg):
 * whatever it accepts has a known kind and a node number in range, and
 * re-encodes to a message that decodes to the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/elect_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_elect_msg m, n;
	struct ha_buf b = { 0 };
	const char *why;

	if (ha_elect_msg_decode(data, size, &m, &why) == -1)
		return 0;
	if (m.kind < HA_E_HEARTBEAT || m.kind > HA_E_TRANSFER ||
	    m.to >= HA_ELECT_MAX)
		abort();
	ha_elect_msg_encode(&m, &b);
	memset(&n, 0, sizeof(n));
	if (ha_elect_msg_decode((const uint8_t *)b.s, b.len, &n, &why) == -1 ||
	    n.kind != m.kind || n.to != m.to || n.flags != m.flags ||
	    n.term != m.term || n.seq != m.seq || n.pos.lsn != m.pos.lsn ||
	    n.pos.gen != m.pos.gen || n.best.lsn != m.best.lsn ||
	    n.best.gen != m.best.gen || n.cands != m.cands ||
	    n.sw.term != m.sw.term || n.sw.version != m.sw.version ||
	    n.sw.failover != m.sw.failover ||
	    n.sw.node_failover != m.sw.node_failover ||
	    n.sw.removed != m.sw.removed)
		abort();
	ha_buf_free(&b);
	return 0;
}
