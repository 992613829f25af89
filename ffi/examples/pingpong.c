/* Round-trip latency of 8-byte messages between two processes through two ipcring
 * rings, like the Rust example `cargo run --release --example pingpong`.
 *
 *     pingpong [ROUND_TRIPS [busy|default|park]]     (100000, busy by default)
 *
 * The parent forks a child; where there are two CPUs, each process is pinned to its
 * own. The parent sends its round-trip number on the ping ring, the child echoes it on
 * the pong ring, and the parent times each round trip and prints min / p50 / p99 /
 * p99.9 / max. Both rings are unlinked as soon as both processes have them, so nothing
 * is left in /dev/shm even if the run is interrupted. */
#define _GNU_SOURCE
#include "ipcring.h"

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Round trips run before measuring, to warm caches and branch predictors. */
#define WARMUP 10000
/* Sent instead of a round-trip number: the child exits. */
#define STOP UINT64_MAX

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Pins the calling process to the `nth` CPU it may run on, if there is one. */
static void pin_to(int nth) {
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed) && seen++ == nth) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            return;
        }
    }
}

static int check(const char *who, const char *what, int rc) {
    if (rc != IPCRING_OK) fprintf(stderr, "pingpong %s: %s: %s\n", who, what, ipcring_strerror(rc));
    return rc;
}

/* The child: echoes every message from `ping` on `pong` until STOP. */
static int echo(const char *ping_name, const char *pong_name, const ipcring_options_t *opts) {
    pin_to(1);
    ipcring_consumer_t *ping = NULL;
    ipcring_producer_t *pong = NULL;
    int rc = check("child", "open ping", ipcring_consumer_open_or_create(ping_name, opts, &ping));
    if (rc == IPCRING_OK)
        rc = check("child", "open pong", ipcring_producer_open_or_create(pong_name, opts, &pong));
    uint64_t n = 0;
    /* The first message tells the parent that both rings are attached (or that we failed). */
    uint64_t hello = rc;
    if (pong != NULL) check("child", "hello", ipcring_producer_send(pong, &hello, sizeof hello));
    while (rc == IPCRING_OK) {
        size_t len;
        rc = check("child", "recv", ipcring_consumer_recv(ping, &n, sizeof n, &len));
        if (rc != IPCRING_OK || n == STOP) break;
        rc = check("child", "send", ipcring_producer_send(pong, &n, sizeof n));
    }
    ipcring_consumer_close(&ping);
    ipcring_producer_close(&pong);
    return rc == IPCRING_OK ? 0 : 1;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The parent: times `rounds` round trips after the warm-up. */
static int measure(ipcring_producer_t *ping, ipcring_consumer_t *pong, uint64_t *rtt, size_t rounds) {
    for (uint64_t i = 0; i < WARMUP + rounds; i++) {
        uint64_t back;
        size_t len;
        uint64_t t0 = now_ns();
        if (check("parent", "send", ipcring_producer_send(ping, &i, sizeof i)) != IPCRING_OK ||
            check("parent", "recv", ipcring_consumer_recv(pong, &back, sizeof back, &len)) != IPCRING_OK)
            return 1;
        uint64_t t1 = now_ns();
        if (len != sizeof back || back != i) {
            fprintf(stderr, "pingpong: round trip %" PRIu64 " came back as %" PRIu64 "\n", i, back);
            return 1;
        }
        if (i >= WARMUP) rtt[i - WARMUP] = t1 - t0;
    }
    return 0;
}

int main(int argc, char **argv) {
    size_t rounds = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    const char *mode = argc > 2 ? argv[2] : "busy";
    if (rounds == 0) rounds = 1;

    ipcring_options_t opts;
    ipcring_options_init(&opts);
    opts.capacity = 1 << 16; /* as the Rust pingpong */
    if (strcmp(mode, "busy") == 0) {
        opts.wait.kind = IPCRING_WAIT_BUSY_SPIN;
    } else if (strcmp(mode, "park") == 0) {
        opts.wait.kind = IPCRING_WAIT_PARK;
    } else if (strcmp(mode, "default") != 0) {
        fprintf(stderr, "usage: pingpong [ROUND_TRIPS [busy|default|park]]\n");
        return 2;
    }
    char ping_name[64], pong_name[64];
    snprintf(ping_name, sizeof ping_name, "pingpong-c-%ld-ping", (long)getpid());
    snprintf(pong_name, sizeof pong_name, "pingpong-c-%ld-pong", (long)getpid());

    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) _exit(echo(ping_name, pong_name, &opts));

    pin_to(0);
    uint64_t *rtt = malloc(rounds * sizeof *rtt);
    ipcring_producer_t *ping = NULL;
    ipcring_consumer_t *pong = NULL;
    int failed = rtt == NULL;
    failed = failed || check("parent", "open ping", ipcring_producer_open_or_create(ping_name, &opts, &ping));
    failed = failed || check("parent", "open pong", ipcring_consumer_open_or_create(pong_name, &opts, &pong));
    if (!failed) {
        uint64_t hello;
        size_t len;
        /* Bounded, in case the child died before it could say anything. */
        failed = check("parent", "hello", ipcring_consumer_recv_timeout(pong, &hello, sizeof hello, &len,
                                                                       UINT64_C(10000000000))) ||
                 hello != IPCRING_OK;
    }
    /* Both processes have both rings (or never will): remove the names. */
    ipcring_unlink(ping_name);
    ipcring_unlink(pong_name);
    failed = failed || measure(ping, pong, rtt, rounds);
    if (ping != NULL) {
        uint64_t stop = STOP;
        ipcring_producer_send_timeout(ping, &stop, sizeof stop, UINT64_C(1000000000));
    }
    ipcring_producer_close(&ping);
    ipcring_consumer_close(&pong);
    /* A child that never got its rings would wait for ever: end it. */
    if (failed) kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;

    if (!failed) {
        qsort(rtt, rounds, sizeof *rtt, by_value);
        size_t last = rounds - 1;
        printf("C pingpong, %s wait, %zu round trips of 8 bytes (ns):\n", mode, rounds);
        printf("  min %" PRIu64 "  p50 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64 "  max %" PRIu64 "\n",
               rtt[0], rtt[last * 50 / 100], rtt[last * 99 / 100], rtt[last * 999 / 1000], rtt[last]);
    }
    free(rtt);
    return failed ? 1 : 0;
}
