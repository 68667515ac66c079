/*
 * hasync internals and the push API that `hasync watch` builds on.
 *
 * A push runs on one connection to the receiver's sync port (cluster
 * port + 1), after the HELLOs, in four pipelined phases, never one round
 * trip per file (doc/hasync.8, PROTOCOL):
 *   BEGIN -> BEGIN_OK     set, term, flags; the receiver checks the term
 *                         and lists the codecs it unpacks (HS_CODEC_*)
 *   FLIST... FLIST_END    the sender's entries, many per frame
 *   WANT... WANT_END      the receiver's answer: wanted files with the
 *                         signature of its copy, and (dry run) changes
 *   DATA... DATA_END      one zio stream of records: per file START, its
 *                         delta op stream in DATA pieces (or ABORT)
 *   COMMIT                the receiver renamed, deleted, ran post_command
 *                         and saved its generation: the push is done
 * A connection carries any number of pushes in turn.
 */
#ifndef HA_HASYNC_H
#define HA_HASYNC_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/flist.h"
#include "core/peer.h"
#include "core/util.h"

/* --- the API for watch ---------------------------------------------------- */

struct hs_conn;

struct hs_push_stats {
	uint64_t entries;	/* in the file list sent */
	uint64_t files;		/* files sent (changed or new) */
	uint64_t deleted;	/* paths removed on the receiver */
	uint64_t changes;	/* dry run: changes the receiver listed */
	uint64_t bytes_sent;	/* bytes on the wire (frames, before TLS) */
	uint64_t bytes_file;	/* bytes of the files sent */
	uint64_t literal;	/* delta: bytes sent as literals */
	uint64_t generation;	/* the receiver's generation after commit */
	uint64_t conflicts;	/* local changes the receiver kept aside */
	int64_t ms;
};

/*
 * Connect to peer_name's sync port (its port + 1), TLS and HELLO.
 * NULL with err set (and logged) on failure.
 */
struct hs_conn *hs_connect(const struct ha_cfg *cfg, const char *peer_name,
    char *err, size_t errlen);
struct ha_tls_ctx;
/*
 * The TLS context hs_connect uses (loaded from the first cfg it is given)
 * replaced by ctx (NULL: load again at the next connect); the old one is
 * returned, for the caller to free once no connection made with it is
 * open. A watch's SIGHUP takes new credentials this way.
 */
struct ha_tls_ctx *hs_tls_swap(struct ha_tls_ctx *ctx);

/*
 * Push set over c. paths: npaths relative paths inside the set that
 * changed, were created or were deleted (0: the whole tree). A directory
 * path means its subtree; a path that no longer exists on the sender is
 * deleted on the receiver only when the set has delete = yes (as for a
 * whole-tree push). term -1: none. dry_run: the receiver lists what
 * would change (printed to stdout when print is set), writes nothing.
 * Returns 0 only when the receiver committed and acknowledged all of it;
 * -1 with err. pre_command is not run here (the caller decides).
 */
int hs_push_set(struct hs_conn *c, const struct ha_cfg *cfg,
    const struct ha_cfg_sync *set, const char *const *paths, size_t npaths,
    long term, int dry_run, struct hs_push_stats *st, char *err,
    size_t errlen);
/* The same with BEGIN flags added (HS_F_*; pull passes a dry run on). */
int hs_push_flags(struct hs_conn *c, const struct ha_cfg *cfg,
    const struct ha_cfg_sync *set, const char *const *paths, size_t npaths,
    long term, unsigned flags, struct hs_push_stats *st, char *err,
    size_t errlen);

void hs_close(struct hs_conn *c);

/* The peer's node name. */
const char *hs_conn_peer(const struct hs_conn *c);

/* --- shared by the applet's files ---------------------------------------- */

enum {
	HS_BEGIN = 64, HS_BEGIN_OK, HS_FLIST, HS_FLIST_END, HS_WANT,
	HS_WANT_END, HS_DATA, HS_DATA_END, HS_COMMIT, HS_PULL,
};

/* BEGIN flags. */
enum {
	HS_F_DRY = 1, HS_F_PARTIAL = 2, HS_F_DELETE = 4, HS_F_CHECKSUM = 8,
};

/* BEGIN_OK: the codecs the receiver unpacks (core/zio), a bit each. */
enum {
	HS_CODEC_ZLIB = 1 << 1, HS_CODEC_ZSTD = 1 << 2,
};

/* Records in the data stream and in WANT frames. */
enum {
	HS_R_START = 1, HS_R_DATA = 2, HS_R_ABORT = 3,	/* data stream */
	HS_R_WANT = 1, HS_R_CHANGE = 2,			/* WANT frames */
};

#define HS_TMP_PREFIX ".hasync-tmp."
#define HS_FRAME_FILL (HA_WIRE_MAX - 4096)	/* fill frames up to this */

struct hs_conn {
	struct ha_peer *peer;
	struct ha_buf out;	/* frames not written yet */
	struct ha_buf in;	/* the last payload received */
	uint64_t sent;		/* bytes written */
	int64_t timeout_ms;
	char name[64];
	const struct ha_cfg *cfg;
	int print;		/* receiver: print dry-run changes (pull) */
};

/* Frames: queue (written when the buffer is large), flush, receive. */
void hs_queue(struct hs_conn *c, uint8_t type, const void *p, size_t n);
int hs_flush(struct hs_conn *c);
/* 1 a frame in c->in, 0 closed, -1 error (ERROR frames are -1, logged). */
int hs_recv(struct hs_conn *c, uint8_t *type);
/* Send an ERROR frame now. */
void hs_refuse(struct hs_conn *c, const char *fmt, ...) HA_PRINTF(2, 3);

/* The sync port of a node. */
int hs_port(const struct ha_cfg *cfg, const struct ha_cfg_node *n);

/* Is rel excluded by the set's patterns? */
int hs_excluded(const struct ha_strv *ex, const char *rel);

/*
 * Scan a tree: every entry below the directory rootfd (not rootfd
 * itself), excluded ones left out, leftover temp files removed when
 * clean is set. With sub (not NULL) only that path and below. Adds SHA
 * when sha is set. 0, or -1 (logged).
 */
int hs_scan(int rootfd, const char *sub, const struct ha_strv *ex, int sha,
    int clean, struct ha_flist *out);

/* Add the entry of path (no recursion) to out: 0, or -1. */
int hs_scan_parent(int rootfd, const char *path, struct ha_flist *out);

/*
 * Persisted state under state_dir/hasync/: a key's update under lock.
 * Files: recv.state (term; gen.SET, time.SET, from.SET of the last push
 * received), push.state (time.SET, result.SET, peer.SET, gen.SET of the
 * last push made) and watch.state, which `hasync status` reads for
 * backlog.SET (a number: paths waiting to be pushed; the watch mode
 * writes it).
 */
int hs_state_set(const struct ha_cfg *cfg, const char *file,
    const char *const *kv, size_t n);
/* The last push of set, for status: push.state's time, result, peer
 * and (when not 0) generation. */
void hs_remember_push(const struct ha_cfg *cfg, const struct ha_cfg_sync *set,
    const char *peer, const char *result, uint64_t gen);
/* Directory state_dir/hasync (created); caller frees. */
char *hs_state_dir(const struct ha_cfg *cfg);

/*
 * Each sync set (generation, last push and its age, last push received,
 * watch backlog): a table into text, a JSON array into json (either may
 * be NULL). `hasync status` and hawatch's status use it.
 */
void hs_status_report(const struct ha_cfg *cfg, struct ha_buf *text,
    struct ha_buf *json);

/* A set's generation and watch backlog in paths (-1: never watched). */
void hs_set_figures(const struct ha_cfg *cfg, const char *set,
    long *backlog_paths, unsigned long long *generation);

/* The receiver: serve pushes and pulls on c until it closes. */
int hs_serve_conn(struct hs_conn *c, const struct ha_cfg *cfg);
/*
 * Receive one push that begins with the BEGIN frame in c->in: 0 done,
 * 1 answered but some files failed, -1 refused (ERROR sent).
 */
int hs_receive(struct hs_conn *c, const struct ha_cfg *cfg);

/* Run a configured command, log its output; 0 when it succeeded. */
int hs_run_cmd(const char *what, const char *cmd, const char *set,
    int64_t timeout_ms, char *err, size_t errlen);

#endif
