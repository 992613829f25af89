/* A gateway: one process serves two SPSC rings from an event loop, beside other
 * descriptors. It forks two producers, which send MESSAGES messages each into their own
 * ring at a random pace (now and then a pause), and waits on both rings with poll(2) on
 * a wait set's descriptor, together with a pipe on which the producers report when they
 * are done. Each time the descriptor is readable it calls ipcring_waitset_arm, drains
 * the rings that it reports ready with try_recv (a bounded batch each, so that one busy
 * ring does not starve the other), and arms again, until both producers have left and
 * their rings are drained. Every message is checked (its length, every byte, and its
 * place in its producer's sequence).
 *
 *     gateway [MESSAGES]        (20000 by default)
 *
 * The producers are forked before anybody attaches, and each process attaches by itself
 * (a handle must not be used in two processes; nor a wait set). Both rings are named
 * after the parent's process id and removed when the run ends. */
#define _GNU_SOURCE
#include "ipcring.h"
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RINGS 2
/* Small rings, so that a producer often finds its ring full and waits for the gateway. */
#define CAPACITY 4096
/* Messages taken from one ring before the gateway looks at the other again. */
#define BATCH 64
/* Waits at most this long for anything to happen (a producer's send, poll(2)). */
#define TIMEOUT_MS 30000

static char names[RINGS][64];
static ipcring_options_t opts;

/* Message i of producer p: the checked stream of stream.h, at an index of its own. */
static uint64_t key(unsigned p, uint64_t i) {
    return (uint64_t)p << 40 | i;
}

/* A producer: sends its messages into its ring, pausing up to 2 ms before one message in
 * 200, then reports on `report` and leaves. */
static int produce(unsigned p, uint64_t count, int report) {
    ipcring_producer_t *tx = NULL;
    int rc = ipcring_producer_open_or_create(names[p], &opts, &tx);
    ipcring_stats_t stats = {0};
    if (rc == IPCRING_OK) rc = ipcring_producer_stats(tx, &stats);
    size_t max = (size_t)stats.max_message;
    uint8_t *buf = malloc(max > 0 ? max : 1);
    if (rc == IPCRING_OK && buf == NULL) rc = IPCRING_ERR_NO_SPACE;
    uint64_t i = 0;
    for (; i < count && rc == IPCRING_OK; i++) {
        uint64_t dice = stream_hash(key(p, i) ^ UINT64_C(0x5eed));
        if (dice % 200 == 0) {
            struct timespec pause = {0, (long)(dice >> 32) % 2000000L};
            nanosleep(&pause, NULL);
        }
        size_t len = stream_len(key(p, i), max);
        stream_fill(key(p, i), buf, len);
        rc = ipcring_producer_send_timeout(tx, buf, len, (uint64_t)TIMEOUT_MS * 1000000);
    }
    free(buf);
    char line[128];
    int n = rc == IPCRING_OK
                ? snprintf(line, sizeof line, "producer %u: sent %" PRIu64 " messages\n", p, count)
                : snprintf(line, sizeof line, "producer %u: message %" PRIu64 ": %s\n", p, i - 1,
                           ipcring_strerror(rc));
    /* One write of less than PIPE_BUF bytes: the two producers' lines do not mix. */
    if (write(report, line, (size_t)n) != n) rc = rc == IPCRING_OK ? IPCRING_ERR_IO : rc;
    /* Leaving tells the gateway: it drains the ring, then its receive says DISCONNECTED. */
    ipcring_producer_close(&tx);
    return rc == IPCRING_OK ? 0 : 1;
}

/* What the gateway keeps of each ring. */
typedef struct ring {
    ipcring_consumer_t *rx;
    size_t max;
    uint64_t next; /* the index of the next message expected */
    uint64_t bad;
    int open;      /* 0 once its producer left and it is drained */
} ring_t;

/* Takes up to BATCH messages from `r` and checks each. */
static int drain(unsigned p, ring_t *r, uint8_t *buf) {
    for (int n = 0; n < BATCH; n++) {
        size_t len;
        int rc = ipcring_consumer_try_recv(r->rx, buf, r->max, &len);
        if (rc == IPCRING_ERR_EMPTY) return IPCRING_OK; /* all taken (or a spurious wake) */
        if (rc == IPCRING_ERR_DISCONNECTED) {
            r->open = 0;
            return IPCRING_OK;
        }
        if (rc != IPCRING_OK) return rc;
        uint64_t k = key(p, r->next++);
        if (len != stream_len(k, r->max) || stream_check(k, buf, len) != len) {
            if (r->bad++ < 5)
                fprintf(stderr, "gateway: ring %u: message %" PRIu64 " is wrong\n", p, r->next - 1);
        }
    }
    return IPCRING_OK;
}

/* Copies what the producers said on the pipe to stdout; 0 at the end of the pipe. */
static int relay(int fd) {
    char text[512];
    ssize_t n = read(fd, text, sizeof text);
    if (n > 0) fwrite(text, 1, (size_t)n, stdout);
    return n != 0 && !(n < 0 && errno != EINTR && errno != EAGAIN);
}

typedef struct tally {
    uint64_t wakes, arms, idle_arms;
} tally_t;

/* The event loop: until every ring is closed, serve what arm reports ready, then sleep
 * in poll(2) on the set's descriptor and the report pipe. */
static int serve(ring_t rings[RINGS], int report, tally_t *t) {
    ipcring_waitset_t *set = NULL;
    int rc = ipcring_waitset_new(&set);
    int set_fd = -1;
    if (rc == IPCRING_OK) rc = ipcring_waitset_fd(set, &set_fd);
    uint8_t *buf = malloc(CAPACITY);
    if (rc == IPCRING_OK && buf == NULL) rc = IPCRING_ERR_NO_SPACE;
    struct pollfd fds[2] = {{set_fd, POLLIN, 0}, {report, POLLIN, 0}};
    nfds_t nfds = 2;
    while (rc == IPCRING_OK) {
        /* The members: the rings still open; which[] maps a member back to its ring. */
        ipcring_member_t members[RINGS];
        unsigned which[RINGS];
        size_t n = 0;
        for (unsigned p = 0; p < RINGS; p++) {
            if (!rings[p].open) continue;
            members[n] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, rings[p].rx, 0, 0};
            which[n++] = p;
        }
        if (n == 0) break;
        /* Ready ones are served at once; none ready: the descriptor is armed. */
        uint8_t ready[RINGS];
        size_t count;
        rc = ipcring_waitset_arm(set, members, n, ready, &count);
        t->arms++;
        if (rc != IPCRING_OK) break;
        for (size_t i = 0; i < n && rc == IPCRING_OK; i++) {
            if (ready[i]) rc = drain(which[i], &rings[which[i]], buf);
        }
        if (count > 0) continue;
        t->idle_arms++;
        int got = poll(fds, nfds, TIMEOUT_MS);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            fprintf(stderr, "gateway: %s\n", got == 0 ? "nothing happened for 30 s" : strerror(errno));
            rc = IPCRING_ERR_TIMEOUT;
            break;
        }
        if (fds[0].revents & POLLIN) t->wakes++;
        if (nfds == 2 && fds[1].revents) {
            if (!relay(report)) nfds = 1; /* both producers have closed the pipe */
        }
    }
    /* What is left on the pipe: the producers write their line before they leave. */
    if (nfds == 2 && rc == IPCRING_OK) {
        while (relay(report)) {
        }
    }
    free(buf);
    ipcring_waitset_close(&set);
    return rc;
}

int main(int argc, char **argv) {
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
    if (count < 1) {
        fprintf(stderr, "usage: gateway [MESSAGES]   (MESSAGES >= 1)\n");
        return 2;
    }
    for (unsigned p = 0; p < RINGS; p++)
        snprintf(names[p], sizeof names[p], "gateway-c-%d-%u", (int)getpid(), p);
    ipcring_options_init(&opts);
    opts.capacity = CAPACITY;

    int pipefd[2];
    if (pipe(pipefd) != 0) {
        perror("gateway: pipe");
        return 1;
    }
    pid_t pids[RINGS];
    unsigned started = 0;
    fflush(stdout);
    for (; started < RINGS; started++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            exit(produce(started, count, pipefd[1]));
        }
        if (pid < 0) {
            perror("gateway: fork");
            break;
        }
        pids[started] = pid;
    }
    /* Only the producers write: the pipe ends when both have exited. */
    close(pipefd[1]);

    ring_t rings[RINGS] = {{0}};
    int rc = started == RINGS ? IPCRING_OK : IPCRING_ERR_IO;
    for (unsigned p = 0; p < RINGS && rc == IPCRING_OK; p++) {
        rc = ipcring_consumer_open_or_create(names[p], &opts, &rings[p].rx);
        ipcring_stats_t stats = {0};
        if (rc == IPCRING_OK) rc = ipcring_consumer_stats(rings[p].rx, &stats);
        rings[p].max = (size_t)stats.max_message;
        rings[p].open = 1;
        if (rc != IPCRING_OK) fprintf(stderr, "gateway: open %s: %s\n", names[p], ipcring_strerror(rc));
    }
    tally_t t = {0, 0, 0};
    if (rc == IPCRING_OK) {
        rc = serve(rings, pipefd[0], &t);
        if (rc != IPCRING_OK) fprintf(stderr, "gateway: %s\n", ipcring_strerror(rc));
    }
    close(pipefd[0]);

    int producers_ok = started == RINGS;
    for (unsigned i = 0; i < started; i++) {
        int status;
        if (rc != IPCRING_OK) kill(pids[i], SIGTERM);
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            producers_ok = 0;
    }
    int ok = rc == IPCRING_OK && producers_ok;
    for (unsigned p = 0; p < RINGS; p++) {
        printf("gateway: ring %u: %" PRIu64 " messages, %" PRIu64 " bad\n", p, rings[p].next,
               rings[p].bad);
        ok = ok && rings[p].next == count && rings[p].bad == 0;
        ipcring_consumer_close(&rings[p].rx);
        ipcring_unlink(names[p]);
    }
    printf("gateway: %" PRIu64 " arms, %" PRIu64 " of them with nothing ready; the descriptor woke poll %" PRIu64
           " times\n",
           t.arms, t.idle_arms, t.wakes);
    return ok ? 0 : 1;
}
