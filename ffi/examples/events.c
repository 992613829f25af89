/* Event notification between processes: the parent forks workers; each works through its
 * jobs, firing a PROGRESS event per job, sends its result on an MPMC queue and fires its
 * own "done" event. The last worker dies half-way (it exits without closing anything).
 * The parent waits on its listener and the result queue in one wait set, and learns of
 * every worker's exit as a departure: so it knows which worker never finished.
 *
 *     events [WORKERS [JOBS]]
 *
 * The segment and the queue are named events-c-<pid>-* and removed at the end. Exits 0
 * if every worker but the last finished and sent its result, and all of them left. */
#define _GNU_SOURCE
#include "ipcring.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define TIMEOUT_NS (INT64_C(10) * 1000 * 1000 * 1000)

/* The event ids: worker w's "done" is id w; PROGRESS is the id after the last worker's. */
static uint32_t progress_id(int workers) { return (uint32_t)workers; }

/* A worker's result, on the queue. */
typedef struct {
    uint32_t worker;
    uint64_t sum; /* of 1..jobs */
} result_t;

static int fail(const char *what, int rc) {
    fprintf(stderr, "events: %s: %s\n", what, ipcring_strerror(rc));
    return 1;
}

static void sleep_us(long us) {
    struct timespec t = {0, us * 1000L};
    nanosleep(&t, NULL);
}

/* Worker w: attaches in its own process, as a notifier and a producer of the queue. */
static int worker(const char *events, const char *results, int w, int workers, int jobs,
                  int dies) {
    ipcring_notifier_t *n = NULL;
    ipcring_mpmc_producer_t *tx = NULL;
    int rc = ipcring_notifier_open(events, NULL, &n);
    if (rc == IPCRING_OK) rc = ipcring_mpmc_producer_open(results, NULL, &tx);
    if (rc != IPCRING_OK) return fail("worker: attach", rc);
    result_t r = {(uint32_t)w, 0};
    for (int j = 1; j <= jobs && rc == IPCRING_OK; j++) {
        sleep_us(200); /* the work */
        r.sum += (uint64_t)j;
        rc = ipcring_notify(n, progress_id(workers));
        if (dies && j == jobs / 2) _exit(3); /* a crash: nothing is closed */
    }
    if (rc == IPCRING_OK) rc = ipcring_mpmc_producer_send(tx, &r, sizeof r);
    /* After the result: once the parent sees "done", the result is in the queue. */
    if (rc == IPCRING_OK) rc = ipcring_notify(n, (uint32_t)w);
    ipcring_mpmc_producer_close(&tx);
    ipcring_notifier_close(&n); /* a departure too, at once */
    return rc == IPCRING_OK ? 0 : fail("worker", rc);
}

/* What the parent learnt from its listener. */
typedef struct {
    int workers;
    int done[MAX_WORKERS];
    uint64_t progress;
    int departed;
} seen_t;

/* Takes what fired (and who left) since the last wait, the whole report in as many parts
 * as it takes: small arrays on purpose, so that a larger report comes in parts (`more`). */
static int take_events(ipcring_listener_t *l, seen_t *s) {
    uint32_t ids[4];
    uint64_t counts[4];
    ipcring_departure_t deps[2];
    ipcring_fired_t report = {.ids = ids, .counts = counts, .cap = 4,
                              .departures = deps, .dcap = 2};
    do {
        int rc = ipcring_listener_try_wait(l, &report);
        if (rc == IPCRING_ERR_EMPTY) return IPCRING_OK;
        if (rc != IPCRING_OK) return rc;
        for (size_t i = 0; i < report.len; i++) {
            if (ids[i] == progress_id(s->workers)) {
                s->progress += counts[i];
            } else {
                s->done[ids[i]] += (int)counts[i];
                printf("events: worker %" PRIu32 " done\n", ids[i]);
            }
        }
        for (size_t i = 0; i < report.dlen; i++) {
            if (deps[i].role == IPCRING_PARTY_NOTIFIER) s->departed++;
            printf("events: a notifier left (slot %zu)\n", deps[i].slot);
        }
    } while (report.more > 0);
    return IPCRING_OK;
}

int main(int argc, char **argv) {
    int workers = argc > 1 ? atoi(argv[1]) : 4;
    int jobs = argc > 2 ? atoi(argv[2]) : 50;
    if (workers < 2 || workers > MAX_WORKERS || jobs < 2) {
        fprintf(stderr, "usage: events [WORKERS (2 to %d) [JOBS (2 or more)]]\n", MAX_WORKERS);
        return 2;
    }
    char events[64], results[64];
    snprintf(events, sizeof events, "events-c-%ld-events", (long)getpid());
    snprintf(results, sizeof results, "events-c-%ld-results", (long)getpid());

    /* The parent creates both before forking, so that no notification is missed: a
     * listener sees what fires from its attach on. */
    ipcring_event_options_t eo;
    ipcring_event_options_init(&eo);
    eo.ids = (size_t)workers + 1;
    eo.notifiers = (size_t)workers;
    eo.listeners = 1;
    ipcring_mpmc_options_t qo;
    ipcring_mpmc_options_init(&qo);
    qo.capacity = 64;
    qo.slot_size = sizeof(result_t);
    qo.producers = (size_t)workers;
    qo.consumers = 1;
    ipcring_listener_t *l = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    ipcring_waitset_t *set = NULL;
    int rc = ipcring_listener_create(events, &eo, &l);
    if (rc == IPCRING_OK) rc = ipcring_mpmc_consumer_create(results, &qo, &rx);
    if (rc == IPCRING_OK) rc = ipcring_waitset_new(&set);
    if (rc != IPCRING_OK) return fail("create", rc);

    pid_t pids[MAX_WORKERS];
    fflush(NULL);
    for (int w = 0; w < workers; w++) {
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("fork");
            return 1;
        }
        if (pids[w] == 0) {
            int status = worker(events, results, w, workers, jobs, w == workers - 1);
            fflush(NULL);
            _exit(status);
        }
    }

    seen_t seen = {.workers = workers};
    int got_result[MAX_WORKERS] = {0};
    int bad = 0;
    ipcring_member_t m[2] = {{IPCRING_MEMBER_EVENT_LISTENER, l, 0, 0},
                             {IPCRING_MEMBER_MPMC_CONSUMER, rx, 0, 0}};
    size_t members = 2; /* the queue leaves the set once it says every worker is gone */
    while (rc == IPCRING_OK && seen.departed < workers) {
        uint8_t ready[2] = {0, 0};
        size_t count = 0;
        rc = ipcring_waitset_wait(set, m, members, TIMEOUT_NS, ready, &count);
        if (rc == IPCRING_OK && count == 0) rc = IPCRING_ERR_TIMEOUT;
        /* Results: every one waiting, until the queue is empty or every producer gone. */
        while (rc == IPCRING_OK && members == 2 && ready[1]) {
            result_t r;
            size_t len = 0;
            int q = ipcring_mpmc_consumer_try_recv(rx, &r, sizeof r, &len);
            if (q == IPCRING_ERR_EMPTY) break;
            if (q == IPCRING_ERR_DISCONNECTED) {
                members = 1;
                break;
            }
            rc = q;
            if (rc == IPCRING_OK && (r.worker >= (uint32_t)workers || len != sizeof r ||
                                     r.sum != (uint64_t)jobs * (uint64_t)(jobs + 1) / 2)) {
                bad++;
            } else if (rc == IPCRING_OK) {
                got_result[r.worker] = 1;
            }
        }
        if (rc == IPCRING_OK && ready[0]) rc = take_events(l, &seen);
    }
    /* Every worker is gone. What one fired just before it left may come after its
     * departure: it is there to take now. And what they sent is in the queue. */
    if (rc == IPCRING_OK) rc = take_events(l, &seen);
    while (rc == IPCRING_OK) {
        result_t r;
        size_t len = 0;
        int q = ipcring_mpmc_consumer_try_recv(rx, &r, sizeof r, &len);
        if (q == IPCRING_ERR_EMPTY || q == IPCRING_ERR_DISCONNECTED) break;
        rc = q;
        if (rc == IPCRING_OK && r.worker < (uint32_t)workers) got_result[r.worker] = 1;
    }
    if (rc != IPCRING_OK) fail("parent", rc);

    int finished = 0, ok = rc == IPCRING_OK && bad == 0;
    for (int w = 0; w < workers; w++) {
        int status = -1;
        waitpid(pids[w], &status, 0);
        int dies = w == workers - 1;
        if (seen.done[w] && got_result[w]) finished++;
        if (!seen.done[w]) printf("events: worker %d left without finishing\n", w);
        /* Every worker but the last finishes once, with its result; the last dies. */
        ok = ok && seen.done[w] == !dies && got_result[w] == !dies && WIFEXITED(status) &&
             WEXITSTATUS(status) == (dies ? 3 : 0);
    }
    uint64_t most = (uint64_t)jobs * (uint64_t)workers;
    ok = ok && seen.departed == workers && seen.progress >= most - (uint64_t)jobs &&
         seen.progress < most;
    printf("events: %d of %d workers finished, %d left, %" PRIu64 " jobs done\n", finished,
           workers, seen.departed, seen.progress);

    ipcring_waitset_close(&set);
    ipcring_listener_close(&l);
    ipcring_mpmc_consumer_close(&rx);
    ipcring_unlink(events);
    ipcring_unlink(results);
    printf("events: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
