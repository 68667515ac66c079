/*
 * Internals shared by core/config.c (the engine: reading, overrides,
 * typed values, output) and core/config_schema.c (what the sections and
 * keys are, and the checks across them). Not for applets.
 */
#ifndef HA_CONFIG_INT_H
#define HA_CONFIG_INT_H

#include "core/config.h"

enum ha_vtype {
	T_STR,		/* any text */
	T_NAME,		/* [A-Za-z0-9][A-Za-z0-9_-]*, at most 63 */
	T_PATH,		/* absolute path */
	T_CMD,		/* a shell command */
	T_CONNINFO,	/* libpq conninfo; password masked in output */
	T_IFNAME,	/* network interface name */
	T_INT,		/* long in [min, max] */
	T_BOOL,		/* int */
	T_DUR,		/* int64_t ms, at least min ms */
	T_SIZE,		/* uint64_t bytes */
	T_PPM,		/* long parts per million */
	T_ADDR,		/* struct ha_addr */
	T_CIDR,		/* struct ha_cidr */
	T_ENUM,		/* int index into choices */
	T_LIST,		/* struct ha_strv, space-separated, keys accumulate */
};

enum {
	K_REQ = 1,	/* required */
	K_SECRET = 2,	/* masked in output */
};

struct ha_key {
	const char *name;
	enum ha_vtype type;
	size_t off;
	const char *def;	/* default as text, NULL: none */
	unsigned flags;
	long min, max;
	const char *const *choices;	/* T_ENUM, NULL-terminated */
};

struct ha_secdef {
	const char *kind;
	int named;		/* [kind NAME] */
	const struct ha_key *keys;
	size_t size;		/* of one struct */
	size_t arr_off;		/* in struct ha_cfg: the array pointer */
	size_t cnt_off;		/* in struct ha_cfg: the count */
};

extern const struct ha_secdef ha_cfg_secdefs[];
extern const size_t ha_cfg_n_secdefs;

/* Where a value came from. */
enum ha_origin_kind { O_DEFAULT, O_FILE, O_ENV, O_OPT };

struct ha_origin {
	enum ha_origin_kind kind;
	int line;		/* O_FILE */
	char *what;		/* O_ENV: variable name; O_OPT: the -o text */
};

/* A built section: its typed struct and the origin of each key. */
struct ha_sec {
	const struct ha_secdef *def;
	char *name;		/* NULL for unnamed kinds */
	void *obj;
	int line;		/* of the header; 0 when not from the file */
	struct ha_origin *orig;	/* one per key of def */
};

struct ha_cfg_priv {
	struct ha_sec *secs;
	size_t n_secs;
	size_t n_errors;
	size_t n_warnings;
};

/* Raw values before typing: the file's, then the environment's, then -o. */
struct ha_rkv {
	const struct ha_key *key;
	char *val;
	struct ha_origin o;
};

struct ha_rsec {
	const struct ha_secdef *def;
	char *name;
	int line;
	struct ha_rkv *kv;
	size_t n;
};

struct ha_parse {
	struct ha_cfg *cfg;
	struct ha_rsec *secs;
	size_t n_secs;
	long cur;		/* index in secs; -1 none yet, -2 a bad header */
	/* line reader */
	const char *buf;
	size_t len, pos;
	int line;
};

/*
 * Read the file's text (p->buf) with inih, then the environment and the
 * -o overrides, into p->secs (core/config_read.c).
 */
void ha_cfg_read(struct ha_parse *p, char *const *envp,
    const char *const *overrides, size_t n_overrides);

/* An error at a line of the file. */
void ha_cfg_perr(struct ha_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "[kind name]" or "[kind]" into b. */
void ha_cfg_sec_label(const struct ha_secdef *def, const char *name,
    struct ha_buf *b);

/* Letters, digits, '-', '_', starting with a letter or digit, at most 63. */
int ha_cfg_valid_name(const char *s);

/*
 * Report an error (warn = 0) or a warning about a key of the section that
 * holds obj (key NULL: the section itself; obj NULL: the whole file).
 */
void ha_cfg_report(struct ha_cfg *cfg, int warn, const void *obj,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The checks across sections and keys, after every value was parsed. */
void ha_cfg_crosscheck(struct ha_cfg *cfg);

#endif
