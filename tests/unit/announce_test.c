/*
 * Unit tests for core/announce over a socketpair instead of a link: a
 * burst sends the right frames in the right order and keeps its absolute
 * schedule; a probe sends its probes, takes answers only from other
 * hosts, ignores malformed frames, and stops soon after an answer.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/announce.h"

static const unsigned char mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const unsigned char mac2[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };
static const unsigned char mac3[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x03 };

static struct ha_addr
addr(int family, const char *s)
{
	struct ha_addr a = { .family = family };

	inet_pton(family, s, &a.u);
	return a;
}

/*
 * Run a burst in a child on one end of a socketpair; read the frames on
 * the other with their arrival times (ms after the start). Returns how
 * many arrived.
 */
static int
burst_in_child(const struct ha_addr *a, long count, int64_t gap_ms,
    struct ha_neigh_pkt *got, int64_t *at, int max)
{
	unsigned char buf[256];
	struct ha_announce an;
	int sv[2], n = 0, status;
	int64_t t0;
	ssize_t r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return -1;
	t0 = ha_announce_now_ns();
	if ((pid = fork()) == 0) {
		close(sv[0]);
		ha_announce_init(&an, sv[1], mac, a);
		_exit(ha_announce_burst(&an, count, gap_ms) == 0 ? 0 : 1);
	}
	close(sv[1]);
	while (n < max && (r = recv(sv[0], buf, sizeof(buf), 0)) > 0) {
		at[n] = (ha_announce_now_ns() - t0) / 1000000;
		CHECK(ha_neigh_parse(buf, (size_t)r, &got[n]) == 0);
		n++;
	}
	close(sv[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return n;
}

TEST(burst_ipv4)
{
	struct ha_addr a = addr(AF_INET, "10.0.0.100");
	struct ha_neigh_pkt p[16];
	int64_t at[16];
	int i, n = burst_in_child(&a, 4, 60, p, at, 16);

	CHECK(n == 8);
	for (i = 0; i < n; i++) {
		CHECK(p[i].kind == (i % 2 ? HA_NEIGH_ARP_REPLY :
		    HA_NEIGH_ARP_REQUEST));
		CHECK(ha_addr_equal(&p[i].sender, &a));
		CHECK(ha_addr_equal(&p[i].target, &a));
		CHECK(memcmp(p[i].lladdr, mac, 6) == 0);
	}
	/* Request and reply together; announcements 60 ms apart. */
	for (i = 2; i < n; i += 2) {
		CHECK(at[i] - at[i - 1] >= 40 && at[i] - at[i - 1] <= 100);
		CHECK(at[i + 1] - at[i] <= 20);
	}
	CHECK(at[0] < 50);
	CHECK(at[n - 1] >= 170 && at[n - 1] <= 260);
}

TEST(burst_ipv6)
{
	struct ha_addr a = addr(AF_INET6, "fd00::100");
	struct ha_neigh_pkt p[8];
	int64_t at[8];
	int i, n = burst_in_child(&a, 3, 0, p, at, 8);

	CHECK(n == 3);
	for (i = 0; i < n; i++) {
		CHECK(p[i].kind == HA_NEIGH_NA);
		CHECK(p[i].na_flags == HA_NEIGH_NA_OVERRIDE);
		CHECK(ha_addr_equal(&p[i].target, &a));
	}
	CHECK(burst_in_child(&a, 0, 10, p, at, 8) == 0);
}

TEST(burst_to_nowhere_fails)
{
	struct ha_addr a = addr(AF_INET, "10.0.0.100");
	struct ha_announce an;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	close(sv[0]);
	ha_announce_init(&an, sv[1], mac, &a);
	CHECK(ha_announce_burst(&an, 2, 10) == -1);
	CHECK(logged("[FAILURE] sending on -"));
	ha_announce_close(&an);
}

/*
 * The other end of a probe: count the probes; after the first, answer
 * with what a link might carry. Exits with the number of probes seen.
 */
static void
responder(int fd, const struct ha_addr *a, int answer)
{
	unsigned char buf[256], f[HA_NEIGH_FRAME_MAX];
	struct ha_neigh_pkt p;
	struct pollfd pfd = { fd, POLLIN, 0 };
	int probes = 0;
	size_t n;

	while (poll(&pfd, 1, 2000) > 0) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		if (ha_neigh_parse(buf, (size_t)r, &p) == 0 &&
		    (p.kind == HA_NEIGH_ARP_REQUEST || p.kind == HA_NEIGH_NS))
			probes++;
		if (!answer || probes != 1)
			continue;
		/* Our own announcement, garbage, then two other holders. */
		n = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REPLY, mac,
		    a->u.v4);
		(void)send(fd, f, n, 0);
		(void)send(fd, "\x01\x02\x03", 3, 0);
		n = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REPLY, mac2,
		    a->u.v4);
		(void)send(fd, f, n, 0);
		(void)send(fd, f, n, 0);
		n = ha_neigh_garp(f, sizeof(f), HA_NEIGH_ARP_REQUEST, mac3,
		    a->u.v4);
		(void)send(fd, f, n, 0);
	}
	_exit(probes);
}

static int
run_probe(const struct ha_addr *a, int answer, int64_t timeout_ms,
    unsigned char (*macs)[6], int64_t *took_ms, int *probes)
{
	struct ha_announce an;
	int sv[2], n, status;
	int64_t t0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		return -2;
	if ((pid = fork()) == 0) {
		close(sv[0]);
		responder(sv[1], a, answer);
	}
	close(sv[1]);
	ha_announce_init(&an, sv[0], mac, a);
	t0 = ha_announce_now_ns();
	n = ha_announce_probe(&an, timeout_ms, macs, 4);
	*took_ms = (ha_announce_now_ns() - t0) / 1000000;
	ha_announce_close(&an);
	waitpid(pid, &status, 0);
	*probes = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return n;
}

TEST(probe_finds_other_holders)
{
	struct ha_addr a = addr(AF_INET, "10.0.0.100");
	unsigned char macs[4][6];
	int64_t took;
	int probes, n = run_probe(&a, 1, 900, macs, &took, &probes);

	CHECK(n == 2);
	CHECK(memcmp(macs[0], mac2, 6) == 0 && memcmp(macs[1], mac3, 6) == 0);
	/* Done 100 ms after the first answer, not after 900 ms. */
	CHECK(took >= 90 && took < 400);
	CHECK(probes == 1);
}

TEST(probe_without_answers)
{
	struct ha_addr a = addr(AF_INET, "10.0.0.100");
	unsigned char macs[4][6];
	int64_t took;
	int probes, n = run_probe(&a, 0, 300, macs, &took, &probes);

	CHECK(n == 0);
	CHECK(took >= 295 && took < 600);
	CHECK(probes == 3);
}

int
main(void)
{
	t_suite = "announce";
	signal(SIGPIPE, SIG_IGN);
	RUN(burst_ipv4);
	RUN(burst_ipv6);
	RUN(burst_to_nowhere_fails);
	RUN(probe_finds_other_holders);
	RUN(probe_without_answers);
	return t_done();
}
