/* Unit tests for core/value: durations, sizes, booleans, addresses. */
#include <arpa/inet.h>

#include "check.h"
#include "core/value.h"

static int64_t
dur(const char *s)
{
	int64_t ms;
	const char *why;

	return ha_parse_duration(s, &ms, &why) == 0 ? ms : -1;
}

static int64_t
size(const char *s)
{
	uint64_t b;
	const char *why;

	return ha_parse_size(s, &b, &why) == 0 ? (int64_t)b : -1;
}

TEST(durations)
{
	CHECK(dur("100ms") == 100);
	CHECK(dur("2s") == 2000);
	CHECK(dur("1h") == 3600000);
	CHECK(dur("5m") == 300000);
	CHECK(dur("5min") == 300000);
	CHECK(dur("1d") == 86400000);
	CHECK(dur("1h30m") == 5400000);
	CHECK(dur("1.5s") == 1500);
	CHECK(dur("0.1s") == 100);
	CHECK(dur("2 s") == 2000);
	CHECK(dur("0") == 0);
	CHECK(dur("0s") == 0);
	CHECK(dur("3650d") == (int64_t)3650 * 86400000);
}

TEST(bad_durations)
{
	int64_t ms;
	const char *why = NULL;

	CHECK(dur("") == -1);
	CHECK(dur("5") == -1);
	CHECK(ha_parse_duration("5", &ms, &why) == -1 && strstr(why, "unit"));
	CHECK(dur("5x") == -1);
	CHECK(ha_parse_duration("5x", &ms, &why) == -1 &&
	    strstr(why, "unknown duration unit"));
	CHECK(dur("-1s") == -1);
	CHECK(dur("s") == -1);
	CHECK(dur("1e3s") == -1);
	CHECK(dur("1s ms") == -1);
	CHECK(dur("3651d") == -1);
	CHECK(dur("99999999999999999999s") == -1);
	CHECK(dur("18446744073709551616ms") == -1);
}

TEST(sizes)
{
	CHECK(size("0") == 0);
	CHECK(size("123") == 123);
	CHECK(size("123B") == 123);
	CHECK(size("1kB") == 1024);
	CHECK(size("1KiB") == 1024);
	CHECK(size("1MB") == 1048576);
	CHECK(size("1.5MB") == 1572864);
	CHECK(size("2GB") == (int64_t)2 << 30);
	CHECK(size("100TB") == (int64_t)100 << 40);
	CHECK(size("") == -1);
	CHECK(size("MB") == -1);
	CHECK(size("1XB") == -1);
	CHECK(size("-1MB") == -1);
	CHECK(size("99999999999TB") == -1);
}

TEST(booleans)
{
	int b = -1;
	const char *why;
	const char *yes[] = { "on", "yes", "true", "1", "ON", "Yes" };
	const char *no[] = { "off", "no", "false", "0", "OFF" };
	size_t i;

	for (i = 0; i < HA_ARRAY_LEN(yes); i++)
		CHECK(ha_parse_bool(yes[i], &b, &why) == 0 && b == 1);
	for (i = 0; i < HA_ARRAY_LEN(no); i++)
		CHECK(ha_parse_bool(no[i], &b, &why) == 0 && b == 0);
	CHECK(ha_parse_bool("maybe", &b, &why) == -1);
	CHECK(ha_parse_bool("", &b, &why) == -1);
}

TEST(integers)
{
	long v;
	const char *why;

	CHECK(ha_parse_int("42", 0, 100, &v, &why) == 0 && v == 42);
	CHECK(ha_parse_int("-5", -10, 10, &v, &why) == 0 && v == -5);
	CHECK(ha_parse_int("101", 0, 100, &v, &why) == -1 &&
	    strstr(why, "range"));
	CHECK(ha_parse_int("4x", 0, 100, &v, &why) == -1);
	CHECK(ha_parse_int(" 4", 0, 100, &v, &why) == -1);
	CHECK(ha_parse_int("", 0, 100, &v, &why) == -1);
	CHECK(ha_parse_int("99999999999999999999", 0, 100, &v, &why) == -1);
}

TEST(percentages)
{
	long ppm;
	const char *why;

	CHECK(ha_parse_ppm("1%", &ppm, &why) == 0 && ppm == 10000);
	CHECK(ha_parse_ppm("0.5%", &ppm, &why) == 0 && ppm == 5000);
	CHECK(ha_parse_ppm("500ppm", &ppm, &why) == 0 && ppm == 500);
	CHECK(ha_parse_ppm("101%", &ppm, &why) == -1);
	CHECK(ha_parse_ppm("1", &ppm, &why) == -1);
}

TEST(addresses)
{
	struct ha_addr a;
	struct ha_cidr c;
	char buf[HA_ADDRSTRLEN], host[64];
	const char *why;
	int port;

	CHECK(ha_parse_addr("10.0.0.1", 1, &a, &why) == 0 &&
	    a.family == AF_INET);
	CHECK(ha_parse_addr("fd00::1", 1, &a, &why) == 0 &&
	    a.family == AF_INET6);
	CHECK(ha_parse_addr("fd00::1", 0, &a, &why) == -1 &&
	    strstr(why, "IPv6"));
	CHECK(ha_parse_addr("10.0.0.256", 1, &a, &why) == -1);
	CHECK(ha_parse_addr("host.example", 1, &a, &why) == -1);
	CHECK(ha_parse_cidr("10.0.0.100/24", 1, &c, &why) == 0 &&
	    c.prefix == 24);
	ha_fmt_cidr(&c, buf, sizeof(buf));
	CHECK(strcmp(buf, "10.0.0.100/24") == 0);
	CHECK(ha_parse_cidr("fd00::100/64", 1, &c, &why) == 0 &&
	    c.prefix == 64);
	CHECK(ha_parse_cidr("10.0.0.1/33", 1, &c, &why) == -1);
	CHECK(ha_parse_cidr("fd00::1/129", 1, &c, &why) == -1);
	CHECK(ha_parse_cidr("10.0.0.1", 1, &c, &why) == -1);
	CHECK(ha_parse_cidr("10.0.0.1/", 1, &c, &why) == -1);
	CHECK(ha_parse_hostport("127.0.0.1:8140", host, sizeof(host), &port,
	    &why) == 0 && port == 8140 && strcmp(host, "127.0.0.1") == 0);
	CHECK(ha_parse_hostport("[::1]:5432", host, sizeof(host), &port,
	    &why) == 0 && port == 5432 && strcmp(host, "::1") == 0);
	CHECK(ha_parse_hostport("::1:5432", host, sizeof(host), &port,
	    &why) == -1);
	CHECK(ha_parse_hostport("h:0", host, sizeof(host), &port, &why) == -1);
	CHECK(ha_parse_hostport(":80", host, sizeof(host), &port, &why) == -1);
}

TEST(formatting)
{
	char buf[64];

	ha_fmt_duration(100, buf, sizeof(buf));
	CHECK(strcmp(buf, "100ms") == 0);
	ha_fmt_duration(5400000, buf, sizeof(buf));
	CHECK(strcmp(buf, "1h30m") == 0);
	ha_fmt_duration(1500, buf, sizeof(buf));
	CHECK(strcmp(buf, "1s500ms") == 0);
	CHECK(dur(buf) == 1500);
	ha_fmt_duration(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "0") == 0);
	ha_fmt_size(1048576, buf, sizeof(buf));
	CHECK(strcmp(buf, "1MB") == 0);
	ha_fmt_size(1000, buf, sizeof(buf));
	CHECK(strcmp(buf, "1000") == 0);
}

int
main(void)
{
	t_suite = "value";
	RUN(durations);
	RUN(bad_durations);
	RUN(sizes);
	RUN(booleans);
	RUN(integers);
	RUN(percentages);
	RUN(addresses);
	RUN(formatting);
	return t_done();
}
