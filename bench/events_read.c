/* events_read SOCK PROBE MAP EXPECTED READY_FILE [IDLE_MS]: the event
 * benchmark's bare subscriber. One connection, events.subscribe with
 * recordType "struct flood_record", then it reads the raw
 * subscription.events lines and only counts: records, the notifications'
 * `lost`, and gaps in the records' `seq` (the server's losses; the kernel's
 * never take a seq, see programs/event_rate.bpf.c). It writes nothing per
 * record, so the time is the server's and the socket's, not a client's.
 *
 * On its first record it writes READY_FILE (syscall_gen waits for it). It
 * stops once records + lost reach EXPECTED, after IDLE_MS (3000) with
 * nothing new once records have come, or after 120 s in all. Prints
 * "records=R lost=L gaps=G reordered=O first_seq=F last_seq=S
 *  notifications=N bytes=B t_first=T t_last=T cpu_ms=C" with CLOCK_REALTIME
 * seconds for the arrival of the first and last record. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct {
	long records, lost, gaps, reordered, notifications, bytes;
	long long first_seq, next_seq, last_seq;
	double t_first, t_last;
	int replied;
} st = {.first_seq = -1, .next_seq = -1, .last_seq = -1};

static const char *ready_path;

static long long number_at(const char *p, const char *end, const char **after)
{
	long long v = 0;
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	*after = p;
	return v;
}

static void line(const char *p, const char *end)
{
	if (!st.replied) {
		if (memmem(p, end - p, "\"error\"", 7)) {
			fprintf(stderr, "events_read: %.*s\n", (int)(end - p), p);
			exit(1);
		}
		if (memmem(p, end - p, "\"result\"", 8)) {
			st.replied = 1;
			return;
		}
	}
	if (!memmem(p, end - p < 80 ? end - p : 80, "subscription.events", 19)) {
		if (memmem(p, end - p, "subscription.end", 16))
			fprintf(stderr, "events_read: %.*s\n", (int)(end - p), p);
		return;
	}
	st.notifications++;
	const char *r = memmem(p, end - p, "\"records\":[", 11);
	if (!r)
		return;
	r += 11;
	long before = st.records;
	/* Records are {"seq":N,"nr":M}; the list ends at "],"lost":N}}". */
	for (;;) {
		const char *s = memmem(r, end - r, "{\"seq\":", 7);
		const char *close = memchr(r, ']', end - r);
		if (!s || (close && close < s))
			break;
		long long seq = number_at(s + 7, end, &r);
		st.records++;
		if (st.first_seq < 0)
			st.first_seq = seq;
		else if (seq > st.next_seq)
			st.gaps += seq - st.next_seq;
		else if (seq < st.next_seq)
			st.reordered++;
		if (seq + 1 > st.next_seq)
			st.next_seq = seq + 1;
		st.last_seq = seq;
	}
	const char *l = memmem(r, end - r, "\"lost\":", 7);
	if (l)
		st.lost += number_at(l + 7, end, &l);
	if (st.records > before) {
		st.t_last = real();
		if (before == 0) {
			st.t_first = st.t_last;
			FILE *f = fopen(ready_path, "w");
			if (f) {
				fputs("1\n", f);
				fclose(f);
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s SOCK PROBE MAP EXPECTED READY_FILE [IDLE_MS]\n", argv[0]);
		return 2;
	}
	long expected = strtol(argv[4], NULL, 10);
	ready_path = argv[5];
	int idle_ms = argc > 6 ? atoi(argv[6]) : 3000;

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("events_read: connect");
		return 1;
	}
	/* 1 MiB of socket buffer, as a reader that means to keep up would ask. */
	int rcv = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	char request[512];
	int n = snprintf(request, sizeof(request),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.subscribe\",\"params\":{\"map\":"
			 "{\"probe\":\"%s\",\"name\":\"%s\"},\"recordType\":\"struct flood_record\"}}\n",
			 argv[2], argv[3]);
	if (write(fd, request, n) != n) {
		perror("events_read: write");
		return 1;
	}

	size_t cap = 8 << 20, len = 0;
	char *buf = malloc(cap);
	double give_up = mono() + 120, last_data = mono();
	while (st.records + st.lost < expected) {
		double now = mono();
		if (now > give_up || (st.records > 0 && (now - last_data) * 1000 > idle_ms))
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got <= 0) {
			if (got < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "events_read: connection closed\n");
			break;
		}
		st.bytes += got;
		last_data = mono();
		size_t scanned = len;
		len += got;
		char *start = buf, *from = buf + scanned, *nl;
		while ((nl = memchr(from, '\n', buf + len - from))) {
			line(start, nl);
			start = from = nl + 1;
		}
		len = buf + len - start;
		memmove(buf, start, len);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	printf("records=%ld lost=%ld gaps=%ld reordered=%ld first_seq=%lld last_seq=%lld notifications=%ld bytes=%ld "
	       "t_first=%.6f t_last=%.6f cpu_ms=%.0f\n",
	       st.records, st.lost, st.gaps, st.reordered, st.first_seq, st.last_seq, st.notifications, st.bytes,
	       st.t_first, st.t_last, cpu_ms);
	close(fd);
	return 0;
}
