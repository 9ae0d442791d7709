/* The connection the issue 3 tools share: a Unix socket (`unix:/PATH`) or
 * TLS on TCP (`tls://127.0.0.1:PORT`, loopback IPv4 only), with the same
 * call loop on both so that the two are measured alike. TLS is what a
 * bpfleet client does: TLS 1.3 only, the client certificate and key given,
 * the server's certificate verified against the CA and its IP SAN checked
 * against the address. Link with -lssl -lcrypto. */
#ifndef BENCH_TRANSPORT_H
#define BENCH_TRANSPORT_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

enum { CALL_BUF = 1 << 16 };

struct transport {
	int tls;
	struct sockaddr_un unix_addr;
	struct sockaddr_in tcp_addr;
	char host[INET_ADDRSTRLEN];
	SSL_CTX *ctx;
};

struct conn {
	int fd;
	SSL *ssl;
};

/* Where the time of one connection's setup went, in ms. */
struct setup_times {
	double connect, handshake;
};

static inline void transport_usage(const char *tool, const char *rest)
{
	fprintf(stderr, "usage: %s [--ca CA --cert CERT --key KEY] unix:/PATH|tls://127.0.0.1:PORT %s\n", tool, rest);
}

/* Options --ca, --cert, --key (anywhere on the line; GNU getopt moves
 * them first). Returns optind, the first positional argument. */
static inline int transport_options(int argc, char **argv, const char **ca, const char **cert, const char **key)
{
	static const struct option options[] = {
		{"ca", required_argument, 0, 'a'}, {"cert", required_argument, 0, 'c'}, {"key", required_argument, 0, 'k'}, {0}};
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'a': *ca = optarg; break;
		case 'c': *cert = optarg; break;
		case 'k': *key = optarg; break;
		default: return -1;
		}
	}
	return optind;
}

static inline void tls_errors(const char *what)
{
	fprintf(stderr, "%s\n", what);
	ERR_print_errors_fp(stderr);
}

/* Parses ADDRESS and, for TLS, builds the context. 0 on success. */
static inline int transport_init(struct transport *t, const char *address, const char *ca, const char *cert, const char *key)
{
	memset(t, 0, sizeof(*t));
	if (strncmp(address, "unix:", 5) == 0) {
		t->unix_addr.sun_family = AF_UNIX;
		strncpy(t->unix_addr.sun_path, address + 5, sizeof(t->unix_addr.sun_path) - 1);
		return 0;
	}
	if (strncmp(address, "tls://", 6) != 0) {
		fprintf(stderr, "transport: address must be unix:/PATH or tls://127.0.0.1:PORT, not %s\n", address);
		return -1;
	}
	const char *colon = strrchr(address + 6, ':');
	size_t host_len = colon ? (size_t)(colon - (address + 6)) : 0;
	if (!colon || host_len == 0 || host_len >= sizeof(t->host)) {
		fprintf(stderr, "transport: no host:port in %s\n", address);
		return -1;
	}
	memcpy(t->host, address + 6, host_len);
	t->tcp_addr.sin_family = AF_INET;
	t->tcp_addr.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, t->host, &t->tcp_addr.sin_addr) != 1 || strncmp(t->host, "127.", 4) != 0) {
		fprintf(stderr, "transport: %s is not a loopback IPv4 address\n", t->host);
		return -1;
	}
	if (!ca || !cert || !key) {
		fprintf(stderr, "transport: tls:// needs --ca, --cert and --key\n");
		return -1;
	}
	t->tls = 1;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx || !SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(t->ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
		tls_errors("transport: TLS setup (CA, certificate or key) failed");
		return -1;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	/* Every connection is a full handshake, as a fresh `bpfleet` process
	 * makes: no session cache on the client. */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

/* Connects (and for TLS, handshakes). 0 on success; times in *times if given. */
static inline int conn_open(struct transport *t, struct conn *c, struct setup_times *times)
{
	c->ssl = NULL;
	double start = now_ms();
	if (!t->tls) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&t->unix_addr, sizeof(t->unix_addr)) < 0) {
			perror("transport: connect");
			if (c->fd >= 0)
				close(c->fd);
			return -1;
		}
		if (times)
			times->connect = now_ms() - start, times->handshake = 0;
		return 0;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&t->tcp_addr, sizeof(t->tcp_addr)) < 0) {
		perror("transport: connect");
		if (c->fd >= 0)
			close(c->fd);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double connected = now_ms();
	c->ssl = SSL_new(t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), t->host) != 1 || SSL_connect(c->ssl) != 1) {
		tls_errors("transport: TLS handshake failed");
		if (c->ssl)
			SSL_free(c->ssl);
		close(c->fd);
		c->ssl = NULL;
		return -1;
	}
	if (times)
		times->connect = connected - start, times->handshake = now_ms() - connected;
	return 0;
}

static inline void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl); /* sends close_notify; does not wait for the peer's */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static inline int conn_write(struct conn *c, const char *data, int len)
{
	for (int off = 0; off < len;) {
		int n;
		if (c->ssl) {
			n = SSL_write(c->ssl, data + off, len - off);
		} else {
			n = write(c->fd, data + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

static inline int conn_read(struct conn *c, char *buf, int cap)
{
	for (;;) {
		if (c->ssl)
			return SSL_read(c->ssl, buf, cap); /* auto-retry: session tickets are read through */
		int n = read(c->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* One call, as rpc_load makes it: the request out, then bytes in up to the
 * reply's newline (buf holds CALL_BUF bytes). Returns 1 for a result, 0 for
 * an error reply, -1 if the connection failed. */
static inline int conn_call(struct conn *c, long id, const char *method, char *buf)
{
	char request[256];
	int len = snprintf(request, sizeof(request), "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\"}\n", id, method);
	if (conn_write(c, request, len) < 0)
		return -1;
	int used = 0;
	for (;;) {
		int n = conn_read(c, buf + used, CALL_BUF - 1 - used);
		if (n <= 0)
			return -1;
		used += n;
		if (buf[used - 1] == '\n')
			break; /* closed loop: nothing can follow the one reply */
		if (used >= CALL_BUF - 1)
			return -1;
	}
	buf[used] = 0;
	return strstr(buf, "\"result\":") != NULL;
}

static inline int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The p-th percentile of n sorted values (nearest rank below, as rpc_load). */
static inline double percentile(const double *sorted, long n, double p)
{
	return sorted[(long)(p / 100.0 * (n - 1))];
}
#endif
