/* tls_hold [--ca CA --cert CERT --key KEY] ADDRESS N SERVER_PID [SETTLE_S]:
 * the server's memory with N connections open and idle. In order:
 *   1. reads SERVER_PID's VmRSS and VmHWM (/proc/PID/status) and its CPU
 *      time over a 5 s window, with none of this tool's connections open;
 *   2. opens N connections one after another, each connected, handshaken
 *      and having made one node.info call, and keeps them all open;
 *   3. waits SETTLE_S seconds (default 3), then reads the memory and the
 *      CPU time over a 5 s window again, the N connections idle;
 *   4. makes one more call on every connection (all must still answer);
 *   5. closes them all, waits SETTLE_S seconds, and reads the memory again.
 * Prints one line:
 *   transport=T held=N open_s=.. rss_none_kb=.. hwm_none_kb=.. cpu_none_ms_per_s=..
 *   rss_held_kb=.. hwm_held_kb=.. cpu_held_ms_per_s=.. alive=N rss_closed_kb=.. hwm_closed_kb=..
 * Exit status 1 if a connection or call failed. */
#include <sys/resource.h>
#include "transport.h"

enum { CPU_WINDOW_S = 5 };

static long status_kb(int pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long value = -1;
	size_t len = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			value = atol(line + len + 1);
	if (f)
		fclose(f);
	return value;
}

/* utime + stime of PID, in ms. */
static double cpu_ms(int pid)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	char *p = strrchr(text, ')'); /* the command name may hold spaces */
	unsigned long utime = 0, stime = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return -1;
	return (utime + stime) * 1000.0 / sysconf(_SC_CLK_TCK);
}

/* The server's CPU use over a window, in ms of CPU per second. */
static double cpu_rate(int pid)
{
	double cpu0 = cpu_ms(pid), t0 = now_ms();
	sleep(CPU_WINDOW_S);
	return (cpu_ms(pid) - cpu0) / ((now_ms() - t0) / 1e3);
}

int main(int argc, char **argv)
{
	const char *ca = NULL, *cert = NULL, *key = NULL;
	int arg = transport_options(argc, argv, &ca, &cert, &key);
	if (arg < 0 || argc - arg < 3) {
		transport_usage(argv[0], "N SERVER_PID [SETTLE_S]");
		return 2;
	}
	struct transport transport;
	if (transport_init(&transport, argv[arg], ca, cert, key) < 0)
		return 2;
	long n = atol(argv[arg + 1]);
	int pid = atoi(argv[arg + 2]);
	int settle = argc - arg > 3 ? atoi(argv[arg + 3]) : 3;
	if (n < 1 || n > 10000 || pid < 1 || settle < 0 || settle > 60 || status_kb(pid, "VmRSS") < 0) {
		fprintf(stderr, "tls_hold: need 1 <= N <= 10000, a live SERVER_PID, 0 <= SETTLE_S <= 60\n");
		return 2;
	}
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t)n + 64) {
		limit.rlim_cur = limit.rlim_max < (rlim_t)n + 64 ? limit.rlim_max : (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &limit);
	}

	long rss_none = status_kb(pid, "VmRSS"), hwm_none = status_kb(pid, "VmHWM");
	double cpu_none = cpu_rate(pid);

	struct conn *conns = calloc(n, sizeof(*conns));
	char *buf = malloc(CALL_BUF);
	double start = now_ms();
	long opened = 0;
	int failed = 0;
	for (; opened < n; opened++) {
		if (conn_open(&transport, &conns[opened], NULL) < 0) {
			failed = 1;
			break;
		}
		if (conn_call(&conns[opened], 1, "node.info", buf) != 1) {
			fprintf(stderr, "tls_hold: connection %ld: no result: %s\n", opened, buf);
			conn_close(&conns[opened]);
			failed = 1;
			break;
		}
	}
	double open_s = (now_ms() - start) / 1e3;
	long rss_held = -1, hwm_held = -1, alive = 0;
	double cpu_held = -1;
	if (!failed) {
		sleep(settle);
		rss_held = status_kb(pid, "VmRSS");
		hwm_held = status_kb(pid, "VmHWM");
		cpu_held = cpu_rate(pid);
		for (long i = 0; i < n; i++)
			alive += conn_call(&conns[i], 2, "node.info", buf) == 1;
	}
	for (long i = 0; i < opened; i++)
		conn_close(&conns[i]);
	sleep(settle);
	if (failed) {
		fprintf(stderr, "tls_hold: failed after %ld connections\n", opened);
		return 1;
	}
	printf("transport=%s held=%ld open_s=%.2f rss_none_kb=%ld hwm_none_kb=%ld cpu_none_ms_per_s=%.1f "
	       "rss_held_kb=%ld hwm_held_kb=%ld cpu_held_ms_per_s=%.1f alive=%ld rss_closed_kb=%ld hwm_closed_kb=%ld\n",
	       transport.tls ? "tls" : "unix", n, open_s, rss_none, hwm_none, cpu_none, rss_held, hwm_held, cpu_held, alive,
	       status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM"));
	return alive == n ? 0 : 1;
}
