/*
 * Reading JSON (RFC 8259): a strict parser into a flat array of tokens,
 * for the machine output of our own applets (hawatch reads
 * `haprom status --json`) and nothing bigger. Depth and size are bounded;
 * anything malformed is refused, never guessed.
 */
#ifndef HA_JSONREAD_H
#define HA_JSONREAD_H

#include <stddef.h>
#include <stdint.h>

enum ha_jt { HA_JT_OBJ = 1, HA_JT_ARR, HA_JT_STR, HA_JT_NUM, HA_JT_TRUE,
	HA_JT_FALSE, HA_JT_NULL };

struct ha_jtok {
	enum ha_jt type;
	int parent;		/* token index, -1 for the root */
	size_t start, len;	/* the text (strings: inside the quotes) */
	int next;		/* the next sibling, or -1 */
	int child;		/* the first child (or member key), or -1 */
};

struct ha_json {
	const char *text;
	struct ha_jtok *t;
	int n;
};

/* Parse text[0..len). 0, or -1 with *why. ha_json_free releases. */
int ha_json_parse(const char *text, size_t len, struct ha_json *j,
    const char **why);
void ha_json_free(struct ha_json *j);

/* The value of member key in object obj, or -1. */
int ha_json_get(const struct ha_json *j, int obj, const char *key);
/* A string value unescaped into buf (at most n-1 bytes): 0, or -1. */
int ha_json_str_val(const struct ha_json *j, int tok, char *buf, size_t n);
/* A non-negative integer value: 0, or -1. */
int ha_json_u64_val(const struct ha_json *j, int tok, uint64_t *v);
/* 1 for true, 0 for false, -1 otherwise. */
int ha_json_bool_val(const struct ha_json *j, int tok);

#endif
