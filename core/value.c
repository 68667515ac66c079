/*
 * Typed value parsers for configuration and command lines. Strict: the
 * whole string must be consumed, units are required for durations, and
 * every overflow is an error rather than a wrap.
 */
#include "core/value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/*
 * A non-negative decimal number with up to 6 fraction digits, scaled by
 * 10^6 into *micro. Returns the text after it, or NULL.
 */
static const char *
number(const char *s, uint64_t *micro)
{
	uint64_t whole = 0, frac = 0, scale = 1000000;
	int digits = 0;

	while (isdigit((unsigned char)*s)) {
		if (whole > (UINT64_MAX / 1000000 - 9) / 10)
			return NULL;
		whole = whole * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return NULL;
	*micro = whole * 1000000 + frac;
	return s;
}

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
ha_parse_duration(const char *s, int64_t *ms, const char **why)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	/* Ten years is far beyond any sensible timer; refuse wraps early. */
	const uint64_t max = (uint64_t)10 * 365 * 86400000;
	uint64_t total = 0, micro;
	const char *p = skip_space(s);

	*why = "not a duration (examples: 100ms, 2s, 5m, 1h30m)";
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p) {
		size_t len = 0, i;

		if ((p = number(p, &micro)) == NULL)
			return -1;
		p = skip_space(p);
		while (isalpha((unsigned char)p[len]))
			len++;
		if (len == 0) {
			*why = "a duration needs a unit (ms, s, m, h, d)";
			return -1;
		}
		for (i = 0; i < HA_ARRAY_LEN(units); i++)
			if (strlen(units[i].name) == len &&
			    strncmp(p, units[i].name, len) == 0)
				break;
		if (i == HA_ARRAY_LEN(units)) {
			*why = "unknown duration unit (ms, s, m, h, d)";
			return -1;
		}
		if (micro > max * 1000000 / units[i].ms) {
			*why = "duration too long (at most 10 years)";
			return -1;
		}
		total += micro * units[i].ms / 1000000;
		if (total > max) {
			*why = "duration too long (at most 10 years)";
			return -1;
		}
		p = skip_space(p + len);
	}
	*ms = (int64_t)total;
	return 0;
}

int
ha_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	static const struct {
		const char *name;
		int shift;
	} units[] = {
		{ "", 0 }, { "B", 0 },
		{ "k", 10 }, { "K", 10 }, { "kB", 10 }, { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
		{ "T", 40 }, { "TB", 40 }, { "TiB", 40 },
	};
	uint64_t micro;
	const char *p = skip_space(s);
	size_t i;

	*why = "not a size (examples: 512kB, 1MB, 2GB; 1kB = 1024 bytes)";
	if ((p = number(p, &micro)) == NULL)
		return -1;
	p = skip_space(p);
	for (i = 0; i < HA_ARRAY_LEN(units); i++)
		if (strcmp(p, units[i].name) == 0)
			break;
	if (i == HA_ARRAY_LEN(units))
		return -1;
	if (units[i].shift &&
	    micro / 1000000 > (UINT64_MAX >> units[i].shift)) {
		*why = "size too large";
		return -1;
	}
	*bytes = ((micro / 1000000) << units[i].shift) +
	    ((micro % 1000000) << units[i].shift) / 1000000;
	return 0;
}

int
ha_parse_bool(const char *s, int *b, const char **why)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = 0;
			return 0;
		}
	}
	*why = "not a boolean (on/off, yes/no, true/false)";
	return -1;
}

int
ha_parse_int(const char *s, long min, long max, long *v, const char **why)
{
	char *end;
	long n;

	*why = "not a whole number";
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE || n < min || n > max) {
		*why = "out of range";
		return -1;
	}
	*v = n;
	return 0;
}

int
ha_parse_ppm(const char *s, long *ppm, const char **why)
{
	uint64_t micro;
	const char *p = number(skip_space(s), &micro);

	*why = "not a percentage (examples: 1%, 0.5%, 500ppm)";
	if (p == NULL)
		return -1;
	p = skip_space(p);
	if (strcmp(p, "%") == 0) {
		if (micro > 100000000) {
			*why = "more than 100%";
			return -1;
		}
		*ppm = (long)(micro / 100);
		return 0;
	}
	if (strcmp(p, "ppm") == 0 && micro % 1000000 == 0 &&
	    micro / 1000000 <= 1000000) {
		*ppm = (long)(micro / 1000000);
		return 0;
	}
	return -1;
}

int
ha_parse_addr(const char *s, int allow_v6, struct ha_addr *a,
    const char **why)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		if (!allow_v6) {
			*why = "IPv6 support is not built in (CONFIG_HA_IPV6)";
			return -1;
		}
		a->family = AF_INET6;
		return 0;
	}
	*why = "not an IPv4 or IPv6 address";
	return -1;
}

int
ha_parse_cidr(const char *s, int allow_v6, struct ha_cidr *c,
    const char **why)
{
	char buf[HA_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	long prefix;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf)) {
		*why = "not ADDRESS/PREFIX (examples: 10.0.0.100/24, fd00::100/64)";
		return -1;
	}
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (ha_parse_addr(buf, allow_v6, &c->addr, why) == -1)
		return -1;
	if (ha_parse_int(slash + 1, 0, c->addr.family == AF_INET ? 32 : 128,
	    &prefix, why) == -1) {
		*why = c->addr.family == AF_INET ?
		    "prefix length must be 0-32" : "prefix length must be 0-128";
		return -1;
	}
	c->prefix = (int)prefix;
	return 0;
}

int
ha_parse_hostport(const char *s, char *host, size_t hostsz, int *port,
    const char **why)
{
	const char *colon, *h = s;
	size_t hl;
	long p;

	*why = "not HOST:PORT (examples: 127.0.0.1:8140, [::1]:5432)";
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	if (ha_parse_int(colon + 1, 1, 65535, &p, why) == -1) {
		*why = "port must be 1-65535";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

void
ha_fmt_duration(int64_t ms, char *buf, size_t n)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t i, used = 0;

	if (ms <= 0) {
		snprintf(buf, n, "0");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < HA_ARRAY_LEN(units) && ms > 0; i++) {
		if (ms < units[i].ms)
			continue;
		used += (size_t)snprintf(buf + used, used < n ? n - used : 0,
		    "%lld%s", (long long)(ms / units[i].ms), units[i].name);
		ms %= units[i].ms;
		if (used >= n)
			return;
	}
}

void
ha_fmt_size(uint64_t bytes, char *buf, size_t n)
{
	static const char *const names[] = { "TB", "GB", "MB", "kB" };
	static const int shifts[] = { 40, 30, 20, 10 };
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(names); i++) {
		uint64_t unit = (uint64_t)1 << shifts[i];

		if (bytes && bytes % unit == 0) {
			snprintf(buf, n, "%llu%s",
			    (unsigned long long)(bytes / unit), names[i]);
			return;
		}
	}
	snprintf(buf, n, "%llu", (unsigned long long)bytes);
}

void
ha_fmt_addr(const struct ha_addr *a, char *buf, size_t n)
{
	if (inet_ntop(a->family, &a->u, buf, (socklen_t)n) == NULL)
		snprintf(buf, n, "?");
}

void
ha_fmt_cidr(const struct ha_cidr *c, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	ha_fmt_addr(&c->addr, a, sizeof(a));
	snprintf(buf, n, "%s/%d", a, c->prefix);
}

int
ha_addr_equal(const struct ha_addr *a, const struct ha_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}
