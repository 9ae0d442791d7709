/* watch_clients SOCK SERVER_PID PROBE MAP INTERVAL_MS SETTLE_S SECONDS MODE:N [MODE:N]...
 *
 * The map watch benchmark's subscribers: N connections per MODE (full or
 * delta), each with one map.watch {map, intervalMs, mode}, all drained by
 * one thread with epoll. The readers are as cheap as a reader can be: they
 * count bytes, lines and '{' (the params object, the envelope, and one per
 * entry, since big_hash's keys and values are plain numbers) and take each
 * notification's "seq" from its first bytes; they keep nothing.
 *
 * After every subscription is answered it waits SETTLE_S (the first, full,
 * notifications of delta mode fall in it), then measures SECONDS: what each
 * mode's subscribers received, and the server's CPU time (utime + stime
 * from /proc/SERVER_PID/stat) over the same window. Prints one line per
 * mode:
 *   mode=M subscribers=N seconds=S notifications_per_sub_s=R bytes_per_sub_s=B
 *   entries_per_notification=E seq_gaps=G
 * and one line for the server:
 *   server_cpu_ms=C seconds=S cores=F rss_kb=R hwm_kb=H
 * A reader that falls behind gets coalesced snapshots: seq_gaps counts the
 * intervals skipped (by the server's coalescing) within the window. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { MAX_MODES = 4, MAX_CLIENTS = 1024, HEAD = 160 };

struct client {
	int fd, mode;
	int replied;
	char head[HEAD]; /* a line's first bytes, for its method and seq */
	int head_len;    /* -1: this line's head is taken */
	int is_notification;
	long long seq, last_seq;
	long line_bytes, line_braces;
};

struct mode_stats {
	const char *name;
	int subscribers;
	long bytes, notifications, braces, gaps;
};

static struct client clients[MAX_CLIENTS];
static struct mode_stats modes[MAX_MODES];
static int measuring;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long server_cpu_ticks(int pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the command's closing parenthesis: 3 is state, 14 utime, 15 stime. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	long utime = 0, stime = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
		field++;
		if (field == 14)
			utime = atol(tok);
		if (field == 15) {
			stime = atol(tok);
			break;
		}
	}
	return utime + stime;
}

static long status_kb(int pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	size_t k = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, k) == 0 && line[k] == ':')
			v = atol(line + k + 1);
	if (f)
		fclose(f);
	return v;
}

/* A line's first bytes are there: the subscribe reply, or a notification. */
static void head_done(struct client *c)
{
	c->head[c->head_len] = 0;
	c->head_len = -1;
	c->is_notification = 0;
	if (!c->replied) {
		if (strstr(c->head, "\"error\"")) {
			fprintf(stderr, "watch_clients: %s\n", c->head);
			exit(1);
		}
		if (strstr(c->head, "\"result\"")) {
			c->replied = 1;
			return;
		}
	}
	if (!strstr(c->head, "subscription.map")) {
		if (strstr(c->head, "subscription.end")) {
			fprintf(stderr, "watch_clients: %s\n", c->head);
			exit(1);
		}
		return;
	}
	char *s = strstr(c->head, "\"seq\":");
	if (!s)
		return;
	c->is_notification = 1;
	c->seq = atoll(s + 6);
}

/* A whole line is in: counted when it ends inside the window. */
static void line_done(struct client *c)
{
	if (c->head_len >= 0)
		head_done(c);
	if (c->is_notification) {
		if (measuring) {
			struct mode_stats *s = &modes[c->mode];
			s->notifications++;
			s->bytes += c->line_bytes;
			s->braces += c->line_braces;
			if (c->last_seq > 0 && c->seq > c->last_seq + 1)
				s->gaps += c->seq - c->last_seq - 1;
		}
		c->last_seq = c->seq;
	}
	c->head_len = 0;
	c->line_bytes = 0;
	c->line_braces = 0;
}

static void consume(struct client *c, const char *p, size_t n)
{
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *stop = nl ? nl + 1 : end;
		c->line_bytes += stop - p;
		for (const char *q = p; (q = memchr(q, '{', stop - q)); q++)
			c->line_braces++;
		if (c->head_len >= 0) {
			size_t take = (nl ? nl : end) - p;
			if (take > (size_t)(HEAD - 1 - c->head_len))
				take = HEAD - 1 - c->head_len;
			memcpy(c->head + c->head_len, p, take);
			c->head_len += take;
			if (c->head_len == HEAD - 1)
				head_done(c);
		}
		if (!nl)
			break;
		line_done(c);
		p = nl + 1;
	}
}

int main(int argc, char **argv)
{
	if (argc < 9) {
		fprintf(stderr, "usage: %s SOCK SERVER_PID PROBE MAP INTERVAL_MS SETTLE_S SECONDS MODE:N [MODE:N]...\n",
			argv[0]);
		return 2;
	}
	const char *sock = argv[1];
	int server = atoi(argv[2]);
	const char *probe = argv[3], *map = argv[4];
	int interval = atoi(argv[5]);
	double settle = atof(argv[6]), seconds = atof(argv[7]);
	int nmodes = 0, nclients = 0;
	for (int i = 8; i < argc && nmodes < MAX_MODES; i++) {
		char *colon = strchr(argv[i], ':');
		if (!colon) {
			fprintf(stderr, "watch_clients: MODE:N, not %s\n", argv[i]);
			return 2;
		}
		*colon = 0;
		modes[nmodes].name = argv[i];
		modes[nmodes].subscribers = atoi(colon + 1);
		for (int k = 0; k < modes[nmodes].subscribers && nclients < MAX_CLIENTS; k++)
			clients[nclients++].mode = nmodes;
		nmodes++;
	}

	int ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < nclients; i++) {
		struct client *c = &clients[i];
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un addr = {.sun_family = AF_UNIX};
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock);
		if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
			perror("watch_clients: connect");
			return 1;
		}
		char request[512];
		int n = snprintf(request, sizeof(request),
				 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"map.watch\",\"params\":{\"map\":"
				 "{\"probe\":\"%s\",\"name\":\"%s\"},\"intervalMs\":%d,\"mode\":\"%s\"}}\n",
				 probe, map, interval, modes[c->mode].name);
		if (write(c->fd, request, n) != n) {
			perror("watch_clients: write");
			return 1;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}

	static char buf[1 << 18];
	struct epoll_event events[64];
	double t0 = mono(), start = 0, end = 0;
	long cpu0 = 0;
	int answered = 0;
	/* Bounded: 30 s for the answers, then SETTLE_S + SECONDS. */
	for (;;) {
		double now = mono();
		if (!start) {
			answered = 0;
			for (int i = 0; i < nclients; i++)
				answered += clients[i].replied;
			if (answered == nclients) {
				start = now + settle;
				end = start + seconds;
			} else if (now - t0 > 30) {
				fprintf(stderr, "watch_clients: %d of %d subscriptions answered after 30 s\n", answered,
					nclients);
				return 1;
			}
		}
		if (start && !measuring && now >= start) {
			measuring = 1;
			cpu0 = server_cpu_ticks(server);
		}
		if (measuring && now >= end)
			break;
		int n = epoll_wait(ep, events, 64, 10);
		for (int k = 0; k < n; k++) {
			struct client *c = &clients[events[k].data.u32];
			ssize_t got = read(c->fd, buf, sizeof(buf));
			if (got <= 0) {
				if (got < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				fprintf(stderr, "watch_clients: connection %u closed\n", events[k].data.u32);
				return 1;
			}
			consume(c, buf, got);
		}
	}
	long cpu1 = server_cpu_ticks(server);
	double window = mono() - start;
	long tick = sysconf(_SC_CLK_TCK);
	for (int m = 0; m < nmodes; m++) {
		struct mode_stats *s = &modes[m];
		double per = s->subscribers * window;
		printf("mode=%s subscribers=%d seconds=%.2f notifications_per_sub_s=%.2f bytes_per_sub_s=%.0f "
		       "entries_per_notification=%.1f seq_gaps=%ld\n",
		       s->name, s->subscribers, window, s->notifications / per, s->bytes / per,
		       s->notifications ? (double)(s->braces - 2 * s->notifications) / s->notifications : 0.0, s->gaps);
	}
	double cpu_ms = (cpu1 - cpu0) * 1000.0 / tick;
	printf("server_cpu_ms=%.0f seconds=%.2f cores=%.3f rss_kb=%ld hwm_kb=%ld\n", cpu_ms, window,
	       cpu_ms / 1000.0 / window, status_kb(server, "VmRSS"), status_kb(server, "VmHWM"));
	for (int i = 0; i < nclients; i++)
		close(clients[i].fd);
	return 0;
}
