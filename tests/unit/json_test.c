/*
 * Unit tests for core/json: escaping, and invalid UTF-8 replaced so the
 * output is always valid JSON.
 */
#include "check.h"
#include "core/json.h"

static int
is(const char *in, const char *want)
{
	struct ha_buf b = { 0 };
	int ok;

	ha_json_str(&b, in);
	ok = b.s && strcmp(b.s, want) == 0;
	if (!ok)
		printf("  got %s\n", b.s ? b.s : "(nothing)");
	ha_buf_free(&b);
	return ok;
}

TEST(escapes)
{
	CHECK(is(NULL, "null"));
	CHECK(is("", "\"\""));
	CHECK(is("a\"b\\c", "\"a\\\"b\\\\c\""));
	CHECK(is("l1\nl2\tx\r\x01\x7f",
	    "\"l1\\nl2\\tx\\u000d\\u0001\\u007f\""));
}

TEST(utf8)
{
	CHECK(is("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\""));
	/* Stray continuation, overlong, surrogate, above U+10FFFF, cut. */
	CHECK(is("a\x80z", "\"a\\ufffdz\""));
	CHECK(is("\xc0\xaf", "\"\\ufffd\\ufffd\""));
	CHECK(is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""));
	CHECK(is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""));
	CHECK(is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""));
	CHECK(is("\xe2\x82", "\"\\ufffd\\ufffd\""));
}

int
main(void)
{
	t_suite = "json";
	RUN(escapes);
	RUN(utf8);
	return t_done();
}
