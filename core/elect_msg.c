/*
 * TLV codec of election messages (see elect_msg.h; core/wire.h).
 */
#include "core/elect_msg.h"

#include <string.h>

#include "core/wire.h"

struct w {
	uint8_t kind, to, flags, cfo;
	uint64_t term, seq, lsn, gen, blsn, bgen, swterm;
	uint32_t cands, ver, nfo, removed;
};

#define F(x) offsetof(struct w, x)

static const struct ha_tlv_spec spec[] = {
	{ 1 | HA_TLV_CRIT, HA_TLV_U8, 1, F(kind), 0 },
	{ 2, HA_TLV_U8, 1, F(to), 0 },
	{ 3, HA_TLV_U8, 1, F(flags), 0 },
	{ 4 | HA_TLV_CRIT, HA_TLV_U64, 1, F(term), 0 },
	{ 5, HA_TLV_U64, 0, F(seq), 0 },
	{ 6, HA_TLV_U64, 0, F(lsn), 0 },
	{ 7, HA_TLV_U64, 0, F(gen), 0 },
	{ 8, HA_TLV_U64, 0, F(blsn), 0 },
	{ 9, HA_TLV_U64, 0, F(bgen), 0 },
	{ 10, HA_TLV_U32, 0, F(cands), 0 },
	{ 11, HA_TLV_U32, 0, F(ver), 0 },
	{ 12, HA_TLV_U8, 0, F(cfo), 0 },
	{ 13, HA_TLV_U32, 0, F(nfo), 0 },
	{ 14, HA_TLV_U32, 0, F(removed), 0 },
	{ 15, HA_TLV_U64, 0, F(swterm), 0 },
	{ 0 },
};

void
ha_elect_msg_encode(const struct ha_elect_msg *m, struct ha_buf *out)
{
	ha_tlv_u8(out, 1 | HA_TLV_CRIT, m->kind);
	ha_tlv_u8(out, 2, m->to);
	ha_tlv_u8(out, 3, m->flags);
	ha_tlv_u64(out, 4 | HA_TLV_CRIT, m->term);
	ha_tlv_u64(out, 5, m->seq);
	ha_tlv_u64(out, 6, m->pos.lsn);
	ha_tlv_u64(out, 7, m->pos.gen);
	ha_tlv_u64(out, 8, m->best.lsn);
	ha_tlv_u64(out, 9, m->best.gen);
	ha_tlv_u32(out, 10, m->cands);
	ha_tlv_u32(out, 11, m->sw.version);
	ha_tlv_u8(out, 12, m->sw.failover);
	ha_tlv_u32(out, 13, m->sw.node_failover);
	ha_tlv_u32(out, 14, m->sw.removed);
	ha_tlv_u64(out, 15, m->sw.term);
}

int
ha_elect_msg_decode(const uint8_t *p, size_t n, struct ha_elect_msg *m,
    const char **why)
{
	struct w w;

	memset(&w, 0, sizeof(w));
	if (ha_tlv_decode(p, n, spec, &w, NULL, why) == -1)
		return -1;
	if (w.kind < HA_E_HEARTBEAT || w.kind > HA_E_TRANSFER) {
		*why = "an unknown election message";
		return -1;
	}
	if (w.to >= HA_ELECT_MAX) {
		*why = "a node number out of range";
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->kind = w.kind;
	m->to = w.to;
	m->flags = w.flags;
	m->term = w.term;
	m->seq = w.seq;
	m->pos.lsn = w.lsn;
	m->pos.gen = w.gen;
	m->best.lsn = w.blsn;
	m->best.gen = w.bgen;
	m->cands = w.cands;
	m->sw.version = w.ver;
	m->sw.failover = w.cfo ? 1 : 0;
	m->sw.node_failover = w.nfo;
	m->sw.removed = w.removed;
	m->sw.term = w.swterm;
	return 0;
}
