/*
 * Unit tests for core/peer's HELLO and ERROR codecs and checks, and for
 * core/token and core/pki (tokens round trip, malformed tokens refused,
 * single use, expiry; certificates made, signed and verified).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/peer.h"
#include "core/pki.h"
#include "core/token.h"
#include "core/wire.h"

TEST(hello_round_trip)
{
	struct ha_hello a, b;
	struct ha_buf buf = { 0 };
	const char *why;
	size_t cut;

	ha_hello_init(&a, "cfhub", "node1", "member");
	ha_hello_encode(&a, &buf);
	CHECK(ha_hello_decode((uint8_t *)buf.s, buf.len, &b, &why) == 0);
	CHECK(b.proto == HA_WIRE_PROTO && strcmp(b.cluster, "cfhub") == 0 &&
	    strcmp(b.node, "node1") == 0 && strcmp(b.role, "member") == 0 &&
	    strcmp(b.version, a.version) == 0);
	/* Truncated anywhere: refused (the last field is optional, so stop
	 * before the cluster and node fields end). */
	for (cut = 0; cut < buf.len; cut++) {
		struct ha_hello c;
		int r = ha_hello_decode((uint8_t *)buf.s, cut, &c, &why);

		if (r == 0)
			CHECK(cut >= buf.len - (HA_TLV_HDR + strlen("member")));
	}
	ha_buf_free(&buf);
}

TEST(hello_checks)
{
	struct ha_hello me, them;
	char msg[400];

	ha_hello_init(&me, "cfhub", "node1", "member");
	ha_hello_init(&them, "cfhub", "node2", "member");
	CHECK(ha_hello_check(&me, &them, "node2", msg, sizeof(msg)) == 0);
	CHECK(ha_hello_check(&me, &them, NULL, msg, sizeof(msg)) == 0);
	CHECK(ha_hello_check(&me, &them, "node3", msg, sizeof(msg)) < 0 &&
	    strstr(msg, "it says it is 'node2' but its credentials are for "
	    "'node3'"));
	them.proto = me.proto + 1;
	CHECK(ha_hello_check(&me, &them, "node2", msg, sizeof(msg)) < 0 &&
	    strstr(msg, "node2 runs protocol 2") && strstr(msg, "upgrade node1"));
	them.proto = 0;
	CHECK(ha_hello_check(&me, &them, "node2", msg, sizeof(msg)) < 0 &&
	    strstr(msg, "upgrade node2"));
	them.proto = me.proto;
	strcpy(them.cluster, "other");
	CHECK(ha_hello_check(&me, &them, "node2", msg, sizeof(msg)) < 0 &&
	    strstr(msg, "node2 is a node of cluster 'other', node1 of cluster "
	    "'cfhub'"));
}

TEST(error_codec)
{
	struct ha_buf b = { 0 };
	uint32_t code;
	char msg[64];

	ha_error_encode(&b, 7, "no such thing");
	CHECK(ha_error_decode((uint8_t *)b.s, b.len, &code, msg, sizeof(msg))
	    == 0 && code == 7 && strcmp(msg, "no such thing") == 0);
	CHECK(ha_error_decode((uint8_t *)b.s, b.len - 1, &code, msg,
	    sizeof(msg)) == -1 && strstr(msg, "undecodable"));
	ha_buf_free(&b);
}

TEST(tokens)
{
	uint8_t fp[32], secret[HA_TOKEN_SECRET], fp2[32], s2[HA_TOKEN_SECRET];
	char tok[128], bad[160], dir[] = "/tmp/habox-tok.XXXXXX", path[96];
	const char *why;
	size_t i;

	for (i = 0; i < 32; i++)
		fp[i] = (uint8_t)(i * 7 + 250);
	for (i = 0; i < HA_TOKEN_SECRET; i++)
		secret[i] = (uint8_t)(i * 13 + 1);
	ha_token_format(fp, secret, tok, sizeof(tok));
	CHECK(strncmp(tok, "HBX1.", 5) == 0);
	CHECK(strpbrk(tok + 5, "+/=") == NULL);
	CHECK(ha_token_parse(tok, fp2, s2, &why) == 0);
	CHECK(memcmp(fp, fp2, 32) == 0 && memcmp(secret, s2, sizeof(s2)) == 0);
	snprintf(bad, sizeof(bad), "%s\n", tok);
	CHECK(ha_token_parse(bad, fp2, s2, &why) == 0);
	/* Every truncation and a changed prefix are refused. */
	for (i = 0; i < strlen(tok); i++) {
		snprintf(bad, sizeof(bad), "%.*s", (int)i, tok);
		CHECK(ha_token_parse(bad, fp2, s2, &why) == -1);
	}
	snprintf(bad, sizeof(bad), "HBX2.%s", tok + 5);
	CHECK(ha_token_parse(bad, fp2, s2, &why) == -1 && strstr(why, "not a "));
	snprintf(bad, sizeof(bad), "%s x", tok);
	CHECK(ha_token_parse(bad, fp2, s2, &why) == -1);
	/* Stored, used once, then unknown; an expired one is refused. */
	CHECK(mkdtemp(dir) != NULL);
	CHECK(ha_token_store(dir, secret, time(NULL) + 60) == 0);
	CHECK(ha_token_consume(dir, secret, sizeof(secret), &why) == 0);
	CHECK(ha_token_consume(dir, secret, sizeof(secret), &why) == -1 &&
	    strstr(why, "already used"));
	secret[0] ^= 1;
	CHECK(ha_token_store(dir, secret, time(NULL) - 1) == 0);
	CHECK(ha_token_consume(dir, secret, sizeof(secret), &why) == -1);
	CHECK(ha_token_consume(dir, secret, 5, &why) == -1);
	snprintf(path, sizeof(path), "%s/join-tokens", dir);
	unlink(path);
	rmdir(dir);
}

TEST(pki)
{
	char dir[] = "/tmp/habox-pki.XXXXXX", ca[96], cakey[96], key[96],
	    other[96];
	struct ha_buf csr = { 0 }, crt = { 0 }, info = { 0 };
	time_t now = time(NULL), exp, before, after;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(cakey, sizeof(cakey), "%s/ca.key", dir);
	snprintf(key, sizeof(key), "%s/node.key", dir);
	snprintf(other, sizeof(other), "%s/other.key", dir);
	CHECK(ha_pki_new_key(cakey) == 0);
	CHECK(stat(cakey, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* The CA's clock is read inside: bracket it, a second may tick. */
	before = time(NULL);
	CHECK(ha_pki_new_ca("demo", cakey, ca, 10) == 0);
	after = time(NULL);
	CHECK(ha_pki_new_key(key) == 0 && ha_pki_new_key(other) == 0);
	CHECK(ha_pki_csr(key, "demo", "node2", &csr) == 0);
	/* A CSR is signed only for the name it carries. */
	CHECK(ha_pki_sign(ca, cakey, "demo", "node3", (uint8_t *)csr.s, csr.len,
	    now, now + 100, &crt) == -1 && logged("is for another name"));
	CHECK(ha_pki_sign(ca, cakey, "demo", "node2", (uint8_t *)csr.s, csr.len,
	    now - 60, now + 3600, &crt) == 0);
	CHECK(ha_pki_verify(ca, crt.s, crt.len, key, "demo", "node2") == 0);
	CHECK(ha_pki_verify(ca, crt.s, crt.len, other, "demo", "node2") == -1 &&
	    logged("not for our key"));
	CHECK(ha_pki_verify(ca, crt.s, crt.len, key, "demo", "node1") == -1);
	CHECK(ha_pki_verify(ca, crt.s, crt.len, key, "other", "node2") == -1);
	CHECK(ha_pki_verify(ca, "garbage", 7, key, "demo", "node2") == -1);
	CHECK(ha_pki_sign(ca, cakey, "demo", "node2", (uint8_t *)"junk", 4,
	    now, now + 100, &crt) == -1);
	CHECK(ha_pki_describe(ca, &info, &exp) == 0);
	CHECK(strstr(info.s, "subject:     CN=habox CA, O=habox, OU=demo"));
	CHECK(exp >= before + 10 * 86400 && exp <= after + 10 * 86400);
	ha_buf_free(&csr);
	ha_buf_free(&crt);
	ha_buf_free(&info);
	unlink(ca);
	unlink(cakey);
	unlink(key);
	unlink(other);
	rmdir(dir);
}

int
main(void)
{
	t_suite = "peer";
	RUN(hello_round_trip);
	RUN(hello_checks);
	RUN(error_codec);
	RUN(tokens);
	RUN(pki);
	return t_done();
}
