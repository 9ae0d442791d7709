/* syscall_gen COUNT RATE READY_FILE: the event benchmark's producer.
 * programs/event_rate.bpf.c, loaded with target_tgid = this process and
 * target_nr = getppid, turns each getppid() it makes into one ring buffer
 * record.
 *
 * It prints "pid=P nr=N waiting" and waits (at most 30 s) for SIGUSR1: the
 * probe is then loaded, attached and a subscriber is on its way. It makes
 * one getppid() and waits (at most 30 s) until READY_FILE is non-empty: the
 * subscriber has that first record, so the stream is live end to end. Then
 * it makes COUNT - 1 more, RATE per second (0: as fast as it can), and
 * prints "made=COUNT start=T end=T rate=R" with CLOCK_REALTIME seconds for
 * the start and end of that burst.
 *
 * `syscall_gen --nr` prints the getppid system call number and exits.
 *
 * Pacing: the number due at time t is RATE * (t - start); when ahead, it
 * sleeps (clock_nanosleep, absolute) until the next chunk of about 100 µs
 * worth is due. clock_gettime is the vDSO's and makes no system call, and
 * nanosleep is another system call number, so only the getppid calls make
 * records. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = {.tv_sec = (time_t)t, .tv_nsec = (long)((t - (time_t)t) * 1e9)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--nr") == 0) {
		printf("%d\n", (int)SYS_getppid);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: %s COUNT RATE READY_FILE | %s --nr\n", argv[0], argv[0]);
		return 2;
	}
	long count = strtol(argv[1], NULL, 10);
	double rate = strtod(argv[2], NULL);
	const char *ready = argv[3];
	if (count < 1 || rate < 0) {
		fprintf(stderr, "syscall_gen: COUNT >= 1, RATE >= 0\n");
		return 2;
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("pid=%d nr=%d waiting\n", (int)getpid(), (int)SYS_getppid);
	fflush(stdout);
	struct timespec wait = {.tv_sec = 30};
	if (sigtimedwait(&set, NULL, &wait) != SIGUSR1) {
		fprintf(stderr, "syscall_gen: no SIGUSR1 within 30 s\n");
		return 1;
	}

	/* The first record, then wait until the subscriber shows it. */
	syscall(SYS_getppid);
	double deadline = mono() + 30;
	struct stat st;
	while (stat(ready, &st) != 0 || st.st_size == 0) {
		if (mono() > deadline) {
			fprintf(stderr, "syscall_gen: %s still empty after 30 s\n", ready);
			return 1;
		}
		usleep(1000);
	}

	long total = count - 1, done = 0;
	long chunk = rate > 0 ? (long)(rate / 10000) : 0; /* about 100 µs worth */
	if (chunk < 1)
		chunk = 1;
	double start_real = real(), start = mono();
	if (rate == 0) {
		for (; done < total; done++)
			syscall(SYS_getppid);
	} else {
		while (done < total) {
			long due = (long)(rate * (mono() - start));
			if (due > total)
				due = total;
			while (done < due) {
				syscall(SYS_getppid);
				done++;
			}
			if (done < total && (long)(rate * (mono() - start)) < done + chunk)
				sleep_until(start + (done + chunk) / rate);
		}
	}
	double end = mono();
	double end_real = start_real + (end - start);
	printf("made=%ld start=%.6f end=%.6f rate=%.0f\n", count, start_real, end_real,
	       total / (end - start > 0 ? end - start : 1e-9));
	return 0;
}
