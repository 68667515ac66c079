/*
 * inolat SRCDIR DSTDIR N [GAP_MS]: the latency of a near-real-time sync.
 * Writes N small files one after another into SRCDIR (each closed, then
 * the clock read) and waits, with inotify on DSTDIR, until the file of
 * the same name is renamed or written into place there; prints one
 * latency in microseconds a line ("lost NAME" after 5 s without it),
 * GAP_MS (default 20) between files. Both directories on one host, so
 * one clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wait until name shows up in the events of fd; its time, or -1. */
static long long
wait_for(int fd, const char *name, long long deadline)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		long long left = deadline - now_us();
		ssize_t n;
		char *q;

		if (left <= 0 || poll(&p, 1, (int)(left / 1000) + 1) <= 0)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const void *)q;

			if (ev->len && strcmp(ev->name, name) == 0)
				return now_us();
			q += sizeof(*ev) + ev->len;
		}
	}
}

int
main(int argc, char **argv)
{
	int n, gap, i, fd, in;
	char path[4096], name[64], body[128];

	if (argc < 4) {
		fprintf(stderr, "usage: inolat SRCDIR DSTDIR N [GAP_MS]\n");
		return 2;
	}
	n = atoi(argv[3]);
	gap = argc > 4 ? atoi(argv[4]) : 20;
	if ((in = inotify_init1(IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(in, argv[2], IN_MOVED_TO | IN_CLOSE_WRITE) ==
	    -1) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		long long t0, t1;
		int len;

		snprintf(name, sizeof(name), "lat-%d-%d", (int)getpid(), i);
		snprintf(path, sizeof(path), "%s/%s", argv[1], name);
		len = snprintf(body, sizeof(body), "latency probe %d\n", i);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) ==
		    -1 || write(fd, body, (size_t)len) != len) {
			perror(path);
			return 1;
		}
		close(fd);
		t0 = now_us();
		t1 = wait_for(in, name, t0 + 5000000);
		if (t1 < 0)
			printf("lost %s\n", name);
		else
			printf("%lld\n", t1 - t0);
		fflush(stdout);
		usleep((useconds_t)gap * 1000);
	}
	return 0;
}
