/*
 * Typed values as they appear in habox.conf and on command lines:
 * durations (100ms, 2s, 1h30m), sizes (1MB = 1024 KiB, as PostgreSQL
 * counts), booleans (on/off/yes/no/true/false/1/0), integers in a range,
 * IPv4/IPv6 addresses, CIDR prefixes, host:port, percentages.
 * Parsers return 0, or -1 and point *why at a short static reason; they
 * never log, so callers can say where the value came from.
 */
#ifndef HA_VALUE_H
#define HA_VALUE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ha_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

struct ha_cidr {
	struct ha_addr addr;
	int prefix;
};

/* Longest text of an address, a CIDR or host:port. */
#define HA_ADDRSTRLEN 64

int ha_parse_duration(const char *s, int64_t *ms, const char **why);
int ha_parse_size(const char *s, uint64_t *bytes, const char **why);
int ha_parse_bool(const char *s, int *b, const char **why);
int ha_parse_int(const char *s, long min, long max, long *v, const char **why);
/* A percentage "1%", "0.25%" or "500ppm", as parts per million. */
int ha_parse_ppm(const char *s, long *ppm, const char **why);
/* allow_v6 = 0 refuses IPv6 ("IPv6 support not built in"). */
int ha_parse_addr(const char *s, int allow_v6, struct ha_addr *a,
    const char **why);
int ha_parse_cidr(const char *s, int allow_v6, struct ha_cidr *c,
    const char **why);
/* "host:port" or "[v6]:port"; host is copied (at most hostsz-1 bytes). */
int ha_parse_hostport(const char *s, char *host, size_t hostsz, int *port,
    const char **why);

/* Canonical text: "100ms", "2s", "1h30m"; "0" for zero. */
void ha_fmt_duration(int64_t ms, char *buf, size_t n);
/* "1MB" when exact, else bytes. */
void ha_fmt_size(uint64_t bytes, char *buf, size_t n);
/* "10.0.0.1" / "fd00::1". */
void ha_fmt_addr(const struct ha_addr *a, char *buf, size_t n);
void ha_fmt_cidr(const struct ha_cidr *c, char *buf, size_t n);
/* 1 when equal (same family and bytes). */
int ha_addr_equal(const struct ha_addr *a, const struct ha_addr *b);

#endif
