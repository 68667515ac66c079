/*
 * hasync receiver internals shared by recv.c (safe directory walking,
 * conflicts, manifest) and recv_push.c (the phases of a push).
 */
#ifndef HA_HASYNC_RECV_H
#define HA_HASYNC_RECV_H

#include <stdint.h>
#include <sys/stat.h>

#include "applets/hasync/hasync.h"

#define RCV_DCACHE 128
#define PEND_FILES_MAX 65536		/* commit a batch at this many files */
#define PEND_BYTES_MAX (1ull << 30)	/* or bytes */

enum { RCV_DONE_NO, RCV_DONE_OK, RCV_DONE_FAIL, RCV_DONE_SKIP };

/* Per entry of the sender's list. */
struct rcv_file {
	uint8_t want;		/* data asked for */
	uint8_t done;		/* RCV_DONE_* */
	uint8_t keep;		/* a local change: keep it before replacing */
	uint8_t has_basis;
	uint64_t basis_size;
	uint64_t size;		/* as sent (START) */
	int64_t mtime;
};

struct rcv_pending {
	uint32_t idx;
	char tmp[48];
};

struct rcv {
	struct hs_conn *c;
	const struct ha_cfg *cfg;
	const struct ha_cfg_sync *set;
	char *sdir;			/* state_dir/hasync */
	char *conflict_dir;		/* state_dir/conflicts/<time>/<set> */
	int rootfd;
	int lockfd;
	unsigned flags;
	int is_root;
	int fsync_each;			/* few files: fsync each, else syncfs */
	char **scopes;
	size_t n_scopes;
	struct ha_flist fl;		/* the sender's, sorted */
	struct rcv_file *fs;
	struct ha_flist local, manifest;
	struct { char *path; int fd; uint64_t used; } dc[RCV_DCACHE];
	size_t nd;
	uint64_t dclock;
	/* the file being received */
	long cur;			/* index, -1 none */
	int cur_tfd, cur_bfd;
	char cur_tmp[48];
	struct ha_delta_apply *apply;
	struct ha_zio *z;
	struct ha_buf plain;
	size_t plain_off;
	struct rcv_pending *pend;
	size_t n_pend, cap_pend;
	uint64_t pend_bytes;
	uint32_t dirs_made;
	uint32_t n_want, files, deleted, errors, conflicts, skipped;
	unsigned tmp_seq;
	long pid;		/* for temporary names, asked once */
	int64_t t0;
	int64_t sync_ms;
};

int rcv_dir(struct rcv *r, const char *dir);
int rcv_parent(struct rcv *r, const char *path, const char **base);
int rcv_changed_here(struct rcv *r, const char *path, const struct stat *st);
int rcv_keep(struct rcv *r, int dfd, const char *base, const char *path);
int rcv_remove(struct rcv *r, int dfd, const char *base, const char *path);
int rcv_manifest_load(struct rcv *r);
int rcv_manifest_save(struct rcv *r);
int rcv_in_scope(const struct rcv *r, const char *path);

#endif
