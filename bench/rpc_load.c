/* rpc_load SOCKET CLIENTS CALLS [METHOD]: closed-loop JSON-RPC load on a Unix
 * socket. CLIENTS threads, one connection each, share CALLS calls (bounded):
 * each writes one request line, reads one reply line, repeats. After a short
 * warm-up (not timed) all threads start together. Prints one line:
 *   clients=C calls=N errors=E seconds=S calls_per_s=R p50_us=.. p90_us=.. p99_us=.. max_us=..
 * A reply without "result" counts as an error; any error makes the exit status 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

enum { WARMUP = 200, BUF = 1 << 16 };

static const char *socket_path, *method = "node.info";
static pthread_barrier_t barrier;

struct client {
	pthread_t thread;
	long calls;
	double *latency_us;
	long errors;
	int failed;
};

static int connect_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("rpc_load: connect");
		return -1;
	}
	return fd;
}

/* One call: the request out, then bytes in up to the reply's newline.
 * Returns 1 for a result, 0 for an error reply, -1 if the connection failed. */
static int call(int fd, long id, char *buf)
{
	char request[256];
	int len = snprintf(request, sizeof(request), "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"}\n", id, method);
	for (int off = 0; off < len;) {
		ssize_t n = write(fd, request + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	size_t used = 0;
	for (;;) {
		ssize_t n = read(fd, buf + used, BUF - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		used += n;
		if (buf[used - 1] == '\n')
			break; /* closed loop: nothing can follow the one reply */
		if (used >= BUF - 1)
			return -1;
	}
	buf[used] = 0;
	return strstr(buf, "\"result\":") != NULL;
}

static void *run(void *arg)
{
	struct client *c = arg;
	char *buf = malloc(BUF);
	int fd = connect_unix(socket_path);
	if (fd < 0)
		c->failed = 1;
	for (long i = 0; !c->failed && i < WARMUP; i++)
		if (call(fd, i, buf) < 0)
			c->failed = 1;
	pthread_barrier_wait(&barrier);
	for (long i = 0; !c->failed && i < c->calls; i++) {
		double start = now_ms();
		int rc = call(fd, WARMUP + i, buf);
		c->latency_us[i] = (now_ms() - start) * 1e3;
		if (rc < 0)
			c->failed = 1;
		else if (rc == 0 && c->errors++ == 0)
			fprintf(stderr, "rpc_load: error reply: %s", buf);
	}
	pthread_barrier_wait(&barrier);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s SOCKET CLIENTS CALLS [METHOD]\n", argv[0]);
		return 2;
	}
	socket_path = argv[1];
	int clients = atoi(argv[2]);
	long total = atol(argv[3]);
	if (argc > 4)
		method = argv[4];
	if (clients < 1 || total < clients) {
		fprintf(stderr, "rpc_load: need CLIENTS >= 1 and CALLS >= CLIENTS\n");
		return 2;
	}
	struct client *cs = calloc(clients, sizeof(*cs));
	double *all = malloc(total * sizeof(*all));
	pthread_barrier_init(&barrier, NULL, clients + 1);
	long given = 0;
	for (int i = 0; i < clients; i++) {
		cs[i].calls = total / clients + (i < total % clients);
		cs[i].latency_us = all + given;
		given += cs[i].calls;
		pthread_create(&cs[i].thread, NULL, run, &cs[i]);
	}
	pthread_barrier_wait(&barrier); /* every client connected and warm */
	double start = now_ms();
	pthread_barrier_wait(&barrier); /* every client done */
	double seconds = (now_ms() - start) / 1e3;
	long errors = 0;
	int failed = 0;
	for (int i = 0; i < clients; i++) {
		pthread_join(cs[i].thread, NULL);
		errors += cs[i].errors;
		failed |= cs[i].failed;
	}
	if (failed) {
		fprintf(stderr, "rpc_load: a connection failed\n");
		return 1;
	}
	qsort(all, total, sizeof(*all), by_value);
#define PCT(p) all[(long)((p) / 100.0 * (total - 1))]
	printf("clients=%d calls=%ld errors=%ld seconds=%.3f calls_per_s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       clients, total, errors, seconds, total / seconds, PCT(50), PCT(90), PCT(99), all[total - 1]);
	return errors ? 1 : 0;
}
