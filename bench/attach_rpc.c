/* attach_rpc SOCKET LOAD_PARAMS ATTACH_PARAMS UNLOAD_PARAMS: the bpfleetd
 * side of the attach benchmark, with the thinnest client: one connection
 * (made untimed), then probe.load and probe.attach in sequence, timed from
 * the load request's first byte out to the attach reply's newline in (the
 * replies are checked for "result", not parsed), then probe.unload,
 * untimed. Before them, one node.info call is timed the same way: the
 * round trip of a request that does nothing, under the same load.
 * Prints "noop_ms=N load_ms=L attach_ms=A total_ms=T"; exits 1 on an error
 * reply, with the reply on stderr.
 *
 * attach_rpc --one SOCKET LOAD_PARAMS UNLOAD_PARAMS: the same in one request,
 * a probe.load whose params carry `attach` (the links made with the load);
 * timed from its first byte out to its reply's newline in. Prints the same
 * line, with load_ms = total_ms and attach_ms=0. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

static char buf[1 << 20];

static void call(int fd, int id, const char *method, const char *params)
{
	char *request;
	int len = asprintf(&request, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}\n", id, method, params);
	for (int off = 0; off < len;) {
		ssize_t n = write(fd, request + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("attach_rpc: write");
			exit(1);
		}
		off += n;
	}
	free(request);
	size_t used = 0;
	for (;;) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "attach_rpc: %s: connection closed after %zu bytes\n", method, used);
			exit(1);
		}
		used += n;
		if (buf[used - 1] == '\n' || used == sizeof(buf) - 1)
			break;
	}
	buf[used] = 0;
	if (!strstr(buf, "\"result\":")) {
		fprintf(stderr, "attach_rpc: %s %s: %s", method, params, buf);
		exit(1);
	}
}

static int connect_to(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("attach_rpc: connect");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--one") == 0) {
		int fd = connect_to(argv[2]);
		double noop = now_ms();
		call(fd, 4, "node.info", "{}");
		double start = now_ms();
		call(fd, 1, "probe.load", argv[3]);
		double end = now_ms();
		printf("noop_ms=%.3f load_ms=%.3f attach_ms=0 total_ms=%.3f\n", start - noop, end - start, end - start);
		fflush(stdout);
		call(fd, 3, "probe.unload", argv[4]);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: %s SOCKET LOAD_PARAMS ATTACH_PARAMS UNLOAD_PARAMS\n"
				"       %s --one SOCKET LOAD_WITH_ATTACH_PARAMS UNLOAD_PARAMS\n", argv[0], argv[0]);
		return 2;
	}
	int fd = connect_to(argv[1]);
	double noop = now_ms();
	call(fd, 4, "node.info", "{}");
	double start = now_ms();
	call(fd, 1, "probe.load", argv[2]);
	double loaded = now_ms();
	call(fd, 2, "probe.attach", argv[3]);
	double end = now_ms();
	printf("noop_ms=%.3f load_ms=%.3f attach_ms=%.3f total_ms=%.3f\n", start - noop, loaded - start, end - loaded, end - start);
	fflush(stdout);
	call(fd, 3, "probe.unload", argv[4]);
	return 0;
}
