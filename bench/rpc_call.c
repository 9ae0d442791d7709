/* rpc_call SOCKET REPS METHOD PARAMS_JSON [OUT]: one connection, REPS calls of
 * METHOD, each timed from the request's first byte out to the reply's newline
 * in, the reply read into memory and dropped (no parsing, no output): the
 * server's side of a call with the thinnest possible client. The last reply
 * is written to OUT if given. Prints "ms=T bytes=B" per call. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s SOCKET REPS METHOD PARAMS_JSON [OUT]\n", argv[0]);
		return 2;
	}
	int reps = atoi(argv[2]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strncpy(addr.sun_path, argv[1], sizeof(addr.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("rpc_call: connect");
		return 1;
	}
	size_t cap = 1 << 20, used = 0;
	char *buf = malloc(cap);
	char *request = NULL;
	for (int rep = 0; rep < reps; rep++) {
		int len = asprintf(&request, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}\n", rep + 1, argv[3], argv[4]);
		double start = now_ms();
		for (int off = 0; off < len;) {
			ssize_t n = write(fd, request + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				perror("rpc_call: write");
				return 1;
			}
			off += n;
		}
		free(request);
		used = 0;
		for (;;) {
			if (cap - used < (1 << 20)) {
				cap *= 2;
				buf = realloc(buf, cap);
			}
			ssize_t n = read(fd, buf + used, cap - used);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(stderr, "rpc_call: connection closed after %zu bytes\n", used);
				return 1;
			}
			used += n;
			if (buf[used - 1] == '\n')
				break;
		}
		printf("ms=%.3f bytes=%zu\n", now_ms() - start, used);
		fflush(stdout);
	}
	if (argc > 5) {
		FILE *out = fopen(argv[5], "w");
		if (!out || fwrite(buf, 1, used, out) != used || fclose(out)) {
			perror("rpc_call: writing the reply");
			return 1;
		}
	}
	return 0;
}
