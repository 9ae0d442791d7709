/* tls_load [--ca CA --cert CERT --key KEY] ADDRESS CLIENTS CALLS [METHOD]:
 * rpc_load's closed loop on either transport (transport.h), so that TLS and
 * the Unix socket are measured by the same code. CLIENTS threads, one
 * connection each, share CALLS calls (bounded). Every client connects (and
 * handshakes) and makes a short warm-up first, untimed; then all start
 * together and only the calls are timed. Prints one line:
 *   transport=T clients=C calls=N errors=E seconds=S calls_per_s=R p50_us=.. p90_us=.. p99_us=.. max_us=..
 * A reply without "result" counts as an error; any error makes the exit status 1. */
#include <pthread.h>
#include "transport.h"

enum { WARMUP = 200 };

static struct transport transport;
static const char *method = "node.info";
static pthread_barrier_t barrier;

struct client {
	pthread_t thread;
	long calls;
	double *latency_us;
	long errors;
	int failed;
};

static void *run(void *arg)
{
	struct client *c = arg;
	char *buf = malloc(CALL_BUF);
	struct conn conn = {.fd = -1};
	if (conn_open(&transport, &conn, NULL) < 0)
		c->failed = 1;
	for (long i = 0; !c->failed && i < WARMUP; i++)
		if (conn_call(&conn, i, method, buf) < 0)
			c->failed = 1;
	pthread_barrier_wait(&barrier);
	for (long i = 0; !c->failed && i < c->calls; i++) {
		double start = now_ms();
		int rc = conn_call(&conn, WARMUP + i, method, buf);
		c->latency_us[i] = (now_ms() - start) * 1e3;
		if (rc < 0)
			c->failed = 1;
		else if (rc == 0 && c->errors++ == 0)
			fprintf(stderr, "tls_load: error reply: %s", buf);
	}
	pthread_barrier_wait(&barrier);
	conn_close(&conn);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *ca = NULL, *cert = NULL, *key = NULL;
	int arg = transport_options(argc, argv, &ca, &cert, &key);
	if (arg < 0 || argc - arg < 3) {
		transport_usage(argv[0], "CLIENTS CALLS [METHOD]");
		return 2;
	}
	if (transport_init(&transport, argv[arg], ca, cert, key) < 0)
		return 2;
	int clients = atoi(argv[arg + 1]);
	long total = atol(argv[arg + 2]);
	if (argc - arg > 3)
		method = argv[arg + 3];
	if (clients < 1 || clients > 1024 || total < clients) {
		fprintf(stderr, "tls_load: need 1 <= CLIENTS <= 1024 and CALLS >= CLIENTS\n");
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
		fprintf(stderr, "tls_load: a connection failed\n");
		return 1;
	}
	qsort(all, total, sizeof(*all), by_value);
	printf("transport=%s clients=%d calls=%ld errors=%ld seconds=%.3f calls_per_s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       transport.tls ? "tls" : "unix", clients, total, errors, seconds, total / seconds, percentile(all, total, 50),
	       percentile(all, total, 90), percentile(all, total, 99), all[total - 1]);
	return errors ? 1 : 0;
}
