/* A work queue across processes with two MPMC queues: the parent forks WORKERS worker
 * processes, hands out JOBS jobs on the "jobs" queue and collects the workers' answers on
 * the "results" queue, checking each.
 *
 *     workers [JOBS [WORKERS]]        (10000 jobs, 4 workers by default; at most 16)
 *
 * A job is a block of BLOCK numbers; its answer is the length of the longest Collatz
 * sequence that starts in the block (the parent checks it by doing the job again: this
 * is a demo). Each job goes to exactly one worker, whichever is free. A worker reads a job in place and
 * releases it only after it has posted the answer: had it died in between, the job would
 * go to another worker. The parent sends with try_send and, when the jobs queue is full,
 * collects an answer meanwhile if one is due (else it waits for room), so neither side
 * waits for the other in a circle.
 *
 * The workers are forked before anybody attaches, and each process attaches by itself
 * (a handle must not be used in two processes); whoever comes first creates a queue,
 * with the same options. Both queues are named after the parent's process id and
 * removed when the run ends. */
#define _GNU_SOURCE
#include "ipcring.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 16
/* Numbers per job. */
#define BLOCK 32
/* Waits at most this long for any one job or answer. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

typedef struct job {
    uint64_t id;
    uint64_t first; /* the block is first .. first + BLOCK - 1 */
} job_t;

typedef struct answer {
    uint64_t id;
    uint64_t steps;
    uint64_t worker;
} answer_t;

/* The queues, named and shaped before the fork: every process attaches with these. */
static char jobs_name[64], answers_name[64];
static ipcring_mpmc_options_t jobs_opts, answers_opts;

static uint64_t first_of(uint64_t id) {
    return id * UINT64_C(2654435761) % 1000000 + 1;
}

/* The job: the most steps that a Collatz sequence starting in the block takes to 1. */
static uint64_t longest_collatz(uint64_t first) {
    uint64_t most = 0;
    for (uint64_t start = first; start < first + BLOCK; start++) {
        uint64_t steps = 0;
        for (uint64_t n = start; n != 1; steps++) n = n % 2 ? 3 * n + 1 : n / 2;
        if (steps > most) most = steps;
    }
    return most;
}

static int fail(const char *who, const char *what, int rc) {
    if (rc != IPCRING_OK) fprintf(stderr, "workers: %s: %s: %s\n", who, what, ipcring_strerror(rc));
    return rc;
}

/* A worker: takes jobs until the parent has left the jobs queue and it is drained. */
static int work(uint64_t me) {
    ipcring_mpmc_consumer_t *jobs = NULL;
    ipcring_mpmc_producer_t *answers = NULL;
    int rc = fail("worker", "open jobs", ipcring_mpmc_consumer_open_or_create(jobs_name, &jobs_opts, &jobs));
    if (rc == IPCRING_OK)
        rc = fail("worker", "open answers",
                  ipcring_mpmc_producer_open_or_create(answers_name, &answers_opts, &answers));
    while (rc == IPCRING_OK) {
        /* Zero-copy: the job stays ours (and would go to another worker if we died)
         * until we release it. */
        const void *data;
        size_t len;
        rc = ipcring_mpmc_consumer_read_timeout(jobs, &data, &len, TIMEOUT_NS);
        if (rc != IPCRING_OK) break;
        job_t job;
        if (len != sizeof job) {
            fprintf(stderr, "workers: worker %" PRIu64 ": a job of %zu bytes\n", me, len);
            rc = IPCRING_ERR_CORRUPTED;
            break;
        }
        memcpy(&job, data, sizeof job);
        answer_t a = {job.id, longest_collatz(job.first), me};
        /* Zero-copy on the way back too: write the answer in its slot, then publish it. */
        void *slot;
        rc = fail("worker", "reserve", ipcring_mpmc_producer_reserve(answers, sizeof a, &slot));
        if (rc != IPCRING_OK) break;
        memcpy(slot, &a, sizeof a);
        rc = fail("worker", "commit", ipcring_mpmc_producer_commit(answers, sizeof a));
        if (rc == IPCRING_OK) rc = fail("worker", "release", ipcring_mpmc_consumer_release(jobs));
    }
    /* Disconnected: the parent has left the jobs queue and every job was taken. */
    if (rc == IPCRING_ERR_DISCONNECTED) rc = IPCRING_OK;
    fail("worker", "read a job", rc);
    ipcring_mpmc_consumer_close(&jobs);
    ipcring_mpmc_producer_close(&answers);
    return rc == IPCRING_OK ? 0 : 1;
}

/* What the parent has collected. */
typedef struct tally {
    uint64_t jobs, got, bad;
    unsigned char *seen; /* one per job */
    uint64_t per_worker[MAX_WORKERS];
} tally_t;

/* Collects one answer (waiting for it) and checks it. */
static int collect(ipcring_mpmc_consumer_t *answers, tally_t *t) {
    const void *data;
    size_t len;
    int rc = ipcring_mpmc_consumer_read_timeout(answers, &data, &len, TIMEOUT_NS);
    if (rc != IPCRING_OK) return rc;
    answer_t a = {0, 0, MAX_WORKERS};
    if (len == sizeof a) memcpy(&a, data, sizeof a);
    rc = ipcring_mpmc_consumer_release(answers);
    if (a.id >= t->jobs || t->seen[a.id] || a.worker >= MAX_WORKERS ||
        a.steps != longest_collatz(first_of(a.id))) {
        fprintf(stderr, "workers: a wrong answer (%zu bytes, job %" PRIu64 ")\n", len, a.id);
        t->bad++;
    } else {
        t->seen[a.id] = 1;
        t->per_worker[a.worker]++;
    }
    t->got++;
    return rc;
}

/* The parent: hands out the jobs and collects every answer. */
static int boss(tally_t *t, ipcring_mpmc_stats_t *stats) {
    ipcring_mpmc_producer_t *jobs = NULL;
    ipcring_mpmc_consumer_t *answers = NULL;
    int rc = fail("parent", "open jobs", ipcring_mpmc_producer_open_or_create(jobs_name, &jobs_opts, &jobs));
    if (rc == IPCRING_OK)
        rc = fail("parent", "open answers",
                  ipcring_mpmc_consumer_open_or_create(answers_name, &answers_opts, &answers));
    for (uint64_t next = 0; next < t->jobs && rc == IPCRING_OK;) {
        job_t job = {next, first_of(next)};
        rc = ipcring_mpmc_producer_try_send(jobs, &job, sizeof job);
        if (rc == IPCRING_OK) {
            next++;
        } else if (rc == IPCRING_ERR_FULL && t->got < next) {
            /* The workers are busy: collect an answer meanwhile (one is on its way). */
            rc = fail("parent", "collect", collect(answers, t));
        } else if (rc == IPCRING_ERR_FULL) {
            /* Every job is answered, but a worker has yet to release its job (it does
             * so after answering): its slot is free in a moment. */
            rc = fail("parent", "send a job", ipcring_mpmc_producer_send_timeout(jobs, &job, sizeof job, TIMEOUT_NS));
            next += rc == IPCRING_OK;
        } else {
            fail("parent", "send a job", rc);
        }
    }
    if (jobs != NULL) fail("parent", "jobs stats", ipcring_mpmc_producer_stats(jobs, stats));
    /* Leaving the jobs queue tells the workers that no more jobs come. */
    ipcring_mpmc_producer_close(&jobs);
    while (rc == IPCRING_OK && t->got < t->jobs) rc = fail("parent", "collect", collect(answers, t));
    /* Then every worker leaves: nothing more may come. */
    if (rc == IPCRING_OK) {
        size_t len;
        rc = ipcring_mpmc_consumer_recv_timeout(answers, NULL, 0, &len, TIMEOUT_NS);
        rc = rc == IPCRING_ERR_DISCONNECTED ? IPCRING_OK : fail("parent", "after the last answer", rc);
    }
    ipcring_mpmc_consumer_close(&answers);
    return rc;
}

int main(int argc, char **argv) {
    uint64_t njobs = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000;
    unsigned nworkers = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4;
    if (nworkers < 1 || nworkers > MAX_WORKERS || njobs < 1) {
        fprintf(stderr, "usage: workers [JOBS [WORKERS]]   (JOBS >= 1, 1 <= WORKERS <= %d)\n",
                MAX_WORKERS);
        return 2;
    }
    snprintf(jobs_name, sizeof jobs_name, "workers-c-%d-jobs", (int)getpid());
    snprintf(answers_name, sizeof answers_name, "workers-c-%d-answers", (int)getpid());
    /* Jobs: one producer (the parent), a consumer per worker; answers the other way. */
    ipcring_mpmc_options_init(&jobs_opts);
    jobs_opts.capacity = 64;
    jobs_opts.slot_size = sizeof(job_t);
    jobs_opts.producers = 1;
    jobs_opts.consumers = nworkers;
    answers_opts = jobs_opts;
    answers_opts.slot_size = sizeof(answer_t);
    answers_opts.producers = nworkers;
    answers_opts.consumers = 1;

    pid_t pids[MAX_WORKERS];
    unsigned started = 0;
    fflush(stdout);
    for (; started < nworkers; started++) {
        pid_t pid = fork();
        if (pid == 0) exit(work(started));
        if (pid < 0) {
            perror("workers: fork");
            break;
        }
        pids[started] = pid;
    }

    tally_t t = {njobs, 0, 0, calloc(njobs, 1), {0}};
    ipcring_mpmc_stats_t stats = {0};
    int rc = t.seen == NULL ? IPCRING_ERR_NO_SPACE : IPCRING_OK;
    if (rc == IPCRING_OK && started > 0) rc = boss(&t, &stats);
    int workers_ok = 1;
    for (unsigned i = 0; i < started; i++) {
        int status;
        if (rc != IPCRING_OK) kill(pids[i], SIGTERM);
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            workers_ok = 0;
    }
    ipcring_unlink(jobs_name);
    ipcring_unlink(answers_name);
    free(t.seen);

    printf("workers: %u worker%s took %" PRIu64 " jobs:", started, started == 1 ? "" : "s", t.got);
    for (unsigned i = 0; i < started; i++) printf(" %" PRIu64, t.per_worker[i]);
    printf("\nworkers: answers checked: %" PRIu64 " right, %" PRIu64 " bad\n", t.got - t.bad, t.bad);
    printf("workers: jobs queue: %" PRIu64 " sent, %" PRIu64 " refused while full, high water %" PRIu64
           " of %" PRIu64 "\n",
           stats.sent, stats.rejected, stats.high_water, stats.capacity);
    int ok = rc == IPCRING_OK && started == nworkers && workers_ok && t.bad == 0 && t.got == njobs;
    return ok ? 0 : 1;
}
