/* tls_connect [--ca CA --cert CERT --key KEY] N ADDRESS [ADDRESS...]:
 * connection setup, the way a fresh `bpfleet` process pays it: N sequential
 * connections to each ADDRESS, taken in turn (one to each address, then the
 * next round, so that noise hits every address alike). Each one is timed
 * from socket() to the first node.info reply's newline: connect, then for
 * TLS the full handshake (no session resumption), then the call, which
 * includes the server's own end of the handshake (it verifies the client
 * certificate after the client is done) and identifying the peer. Then
 * the connection is closed (untimed). A few untimed connections first warm
 * each address. Prints one line per address:
 *   transport=T connections=N total_p50_ms=.. total_p99_ms=.. total_max_ms=..
 *   connect_p50_ms=.. handshake_p50_ms=.. handshake_p99_ms=.. first_reply_p50_ms=.. first_reply_p99_ms=.. tickets=yes|no|n/a
 * (one line each). Exit status 1 if any connection or call failed. */
#include "transport.h"

enum { WARMUP = 5, MAX_ADDRESSES = 4 };

struct series {
	struct transport transport;
	double *total, *connect, *handshake, *reply;
	int tickets;
};

/* One connection: open, one call, close. 0 on success. */
static int once(struct series *s, long i, char *buf)
{
	struct conn conn = {.fd = -1};
	struct setup_times times;
	double start = now_ms();
	if (conn_open(&s->transport, &conn, &times) < 0)
		return -1;
	double opened = now_ms();
	int rc = conn_call(&conn, 1, "node.info", buf);
	double end = now_ms();
	if (rc != 1) {
		fprintf(stderr, "tls_connect: %s\n", rc < 0 ? "connection lost before the first reply" : buf);
		conn_close(&conn);
		return -1;
	}
	if (conn.ssl)
		s->tickets = SSL_SESSION_is_resumable(SSL_get0_session(conn.ssl));
	conn_close(&conn);
	if (i >= 0) {
		s->total[i] = end - start;
		s->connect[i] = times.connect;
		s->handshake[i] = times.handshake;
		s->reply[i] = end - opened;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *ca = NULL, *cert = NULL, *key = NULL;
	int arg = transport_options(argc, argv, &ca, &cert, &key);
	if (arg < 0 || argc - arg < 2 || argc - arg - 1 > MAX_ADDRESSES) {
		transport_usage(argv[0], "... (here: N ADDRESS [ADDRESS...], up to 4 addresses)");
		return 2;
	}
	long n = atol(argv[arg]);
	if (n < 1 || n > 100000) {
		fprintf(stderr, "tls_connect: N must be 1 to 100000\n");
		return 2;
	}
	int count = argc - arg - 1;
	struct series series[MAX_ADDRESSES];
	for (int a = 0; a < count; a++) {
		struct series *s = &series[a];
		if (transport_init(&s->transport, argv[arg + 1 + a], ca, cert, key) < 0)
			return 2;
		s->total = malloc(n * sizeof(double));
		s->connect = malloc(n * sizeof(double));
		s->handshake = malloc(n * sizeof(double));
		s->reply = malloc(n * sizeof(double));
		s->tickets = 0;
	}
	char *buf = malloc(CALL_BUF);
	for (long i = -WARMUP; i < n; i++)
		for (int a = 0; a < count; a++)
			if (once(&series[a], i, buf) < 0)
				return 1;
	for (int a = 0; a < count; a++) {
		struct series *s = &series[a];
		qsort(s->total, n, sizeof(double), by_value);
		qsort(s->connect, n, sizeof(double), by_value);
		qsort(s->handshake, n, sizeof(double), by_value);
		qsort(s->reply, n, sizeof(double), by_value);
		printf("transport=%s connections=%ld total_p50_ms=%.3f total_p99_ms=%.3f total_max_ms=%.3f "
		       "connect_p50_ms=%.3f handshake_p50_ms=%.3f handshake_p99_ms=%.3f first_reply_p50_ms=%.3f first_reply_p99_ms=%.3f tickets=%s\n",
		       s->transport.tls ? "tls" : "unix", n, percentile(s->total, n, 50), percentile(s->total, n, 99),
		       s->total[n - 1], percentile(s->connect, n, 50), percentile(s->handshake, n, 50),
		       percentile(s->handshake, n, 99), percentile(s->reply, n, 50), percentile(s->reply, n, 99),
		       s->transport.tls ? (s->tickets ? "yes" : "no") : "n/a");
	}
	return 0;
}
