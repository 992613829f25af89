/* Bad input to the event API from C gets a status code, never a crash; and the statuses
 * of event segments hold: reports with counts, reports given in parts when the caller's
 * arrays are small, waits that time out, role slots, departures (a closed notifier, and a
 * forked notifier killed with SIGKILL), wait set members. Run by ffi/tests/c.rs (and
 * `make -C ffi test asan`):
 *
 *     event_input PREFIX
 *
 * Every segment this program makes is named PREFIX-something and removed before it
 * exits; the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECOND_NS (INT64_C(1000) * 1000 * 1000)
/* The longest a departure of a killed process may take to be reported, in ms (the library
 * promises about 20 ms; this leaves room for a loaded machine). */
#define DEPARTURE_BOUND_MS 3000.0

/* A report and its arrays: room for up to 8 ids and 4 departures. */
typedef struct {
    uint32_t ids[8];
    uint64_t counts[8];
    ipcring_departure_t deps[4];
    ipcring_fired_t r;
} report_t;

/* The report of `b` with room for `cap` ids and `dcap` departures; its outputs are set to
 * garbage, to see each call set them. */
static ipcring_fired_t *fresh(report_t *b, size_t cap, size_t dcap) {
    memset(b->ids, 0xee, sizeof b->ids);
    memset(b->counts, 0xee, sizeof b->counts);
    b->r = (ipcring_fired_t){.ids = b->ids, .counts = b->counts, .cap = cap, .len = 99,
                             .departures = b->deps, .dcap = dcap, .dlen = 99, .more = 99};
    return &b->r;
}

static ipcring_event_options_t event_options(size_t ids, size_t notifiers, size_t listeners) {
    ipcring_event_options_t o;
    ipcring_event_options_init(&o);
    o.ids = ids;
    o.notifiers = notifiers;
    o.listeners = listeners;
    return o;
}

static void null_pointers_and_handles(void) {
    ipcring_event_options_t o = event_options(8, 1, 1);
    ipcring_notifier_t *n = (ipcring_notifier_t *)&o; /* garbage, to see it reset */
    ipcring_listener_t *l = (ipcring_listener_t *)&o;
    EXPECT(ipcring_event_options_init(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_notifier_create(NULL, &o, &n), IPCRING_ERR_NULL_POINTER);
    CHECK(n == NULL);
    EXPECT(ipcring_listener_open(NULL, NULL, &l), IPCRING_ERR_NULL_POINTER);
    CHECK(l == NULL);
    EXPECT(ipcring_notifier_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_notifier_open(ring("null"), NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_notifier_open_or_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_listener_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_listener_open(ring("null"), NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_listener_open_or_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_notifier_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_listener_close(NULL), IPCRING_ERR_NULL_POINTER);
    /* Closing a NULL handle is a no-op, like free(NULL). */
    EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
    EXPECT(ipcring_listener_close(&l), IPCRING_OK);

    /* A NULL handle is a bad handle in every call. */
    report_t b;
    size_t ids;
    ipcring_event_stats_t stats;
    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};
    EXPECT(ipcring_notify(NULL, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_try_wait(NULL, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_wait(NULL, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_wait_timeout(NULL, 0, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_set_wait(NULL, &w), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_event_ids(NULL, &ids), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_event_stats(NULL, &stats), IPCRING_ERR_BAD_HANDLE);
}

static void options_out_of_range(void) {
    ipcring_notifier_t *n = NULL;
    ipcring_listener_t *l = NULL;
    ipcring_event_options_t o = event_options(8, 1, 1);
    EXPECT(ipcring_notifier_create("", &o, &n), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_listener_create("no-such-dir/events", &o, &l), IPCRING_ERR_NOT_FOUND);
    o.ids = 0;
    EXPECT(ipcring_notifier_create(ring("opts"), &o, &n), IPCRING_ERR_INVALID_GEOMETRY);
    o.ids = IPCRING_EVENT_MAX_IDS + 1;
    EXPECT(ipcring_listener_create(ring("opts"), &o, &l), IPCRING_ERR_INVALID_GEOMETRY);
    o = event_options(8, 0, 1);
    EXPECT(ipcring_notifier_create(ring("opts"), &o, &n), IPCRING_ERR_INVALID_GEOMETRY);
    o = event_options(8, 1, IPCRING_MPMC_MAX_ROLE_SLOTS + 1);
    EXPECT(ipcring_listener_open_or_create(ring("opts"), &o, &l), IPCRING_ERR_INVALID_GEOMETRY);
    o = event_options(8, 1, 1);
    o.wait.kind = 9;
    EXPECT(ipcring_notifier_create(ring("opts"), &o, &n), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_listener_create(ring("opts"), &o, &l), IPCRING_ERR_INVALID_ARGUMENT);
    o.wait.kind = IPCRING_WAIT_PARK;
    o.mode = 0666;
    EXPECT(ipcring_notifier_open_or_create(ring("opts"), &o, &n), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(n == NULL && l == NULL);

    /* Nothing was made: there is nothing to open or remove. */
    EXPECT(ipcring_notifier_open(ring("opts"), NULL, &n), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_listener_open(ring("opts"), NULL, &l), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_unlink(ring("opts")), IPCRING_ERR_NOT_FOUND);

    /* The largest geometry, right at last: the last id fires, the one after is none. */
    o = event_options(IPCRING_EVENT_MAX_IDS, IPCRING_MPMC_MAX_ROLE_SLOTS,
                      IPCRING_MPMC_MAX_ROLE_SLOTS);
    EXPECT(ipcring_notifier_create(ring("opts"), &o, &n), IPCRING_OK);
    EXPECT(ipcring_listener_open(ring("opts"), NULL, &l), IPCRING_OK);
    size_t ids = 0;
    EXPECT(ipcring_event_ids(l, &ids), IPCRING_OK);
    CHECK(ids == IPCRING_EVENT_MAX_IDS);
    EXPECT(ipcring_notify(n, IPCRING_EVENT_MAX_IDS - 1), IPCRING_OK);
    EXPECT(ipcring_notify(n, IPCRING_EVENT_MAX_IDS), IPCRING_ERR_UNKNOWN_ID);
    EXPECT(ipcring_notify(n, UINT32_MAX), IPCRING_ERR_UNKNOWN_ID);
    report_t b;
    ipcring_fired_t *r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 1 && b.ids[0] == IPCRING_EVENT_MAX_IDS - 1 && b.counts[0] == 1);
    CHECK(r->dlen == 0 && r->more == 0);
    EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
    EXPECT(ipcring_listener_close(&l), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("opts")), IPCRING_OK);
}

static void slots_and_kinds(void) {
    ipcring_event_options_t o = event_options(8, 1, 2);
    ipcring_notifier_t *n[2] = {NULL, NULL};
    ipcring_listener_t *l[3] = {NULL, NULL, NULL};
    EXPECT(ipcring_notifier_create(ring("slots"), &o, &n[0]), IPCRING_OK);
    EXPECT(ipcring_listener_create(ring("slots"), &o, &l[0]), IPCRING_ERR_EXISTS);
    /* One notifier slot and two listener slots. */
    EXPECT(ipcring_notifier_open(ring("slots"), NULL, &n[1]), IPCRING_ERR_ROLE_TAKEN);
    EXPECT(ipcring_notifier_open_or_create(ring("slots"), &o, &n[1]), IPCRING_ERR_ROLE_TAKEN);
    CHECK(n[1] == NULL);
    EXPECT(ipcring_listener_open(ring("slots"), NULL, &l[0]), IPCRING_OK);
    EXPECT(ipcring_listener_open_or_create(ring("slots"), &o, &l[1]), IPCRING_OK);
    EXPECT(ipcring_listener_open(ring("slots"), NULL, &l[2]), IPCRING_ERR_ROLE_TAKEN);
    CHECK(l[2] == NULL);
    /* A closed notifier's slot is free again. */
    EXPECT(ipcring_notifier_close(&n[0]), IPCRING_OK);
    CHECK(n[0] == NULL);
    EXPECT(ipcring_notifier_open(ring("slots"), NULL, &n[0]), IPCRING_OK);

    /* Segments of another kind are refused, both ways. */
    ipcring_mpmc_consumer_t *mrx = NULL;
    EXPECT(ipcring_mpmc_consumer_open(ring("slots"), NULL, &mrx), IPCRING_ERR_NOT_IPCRING);
    ipcring_board_reader_t *br = NULL;
    EXPECT(ipcring_board_reader_open(ring("slots"), NULL, &br), IPCRING_ERR_NOT_IPCRING);
    ipcring_options_t so;
    ipcring_options_init(&so);
    so.capacity = 4096;
    ipcring_producer_t *spsc = NULL;
    EXPECT(ipcring_producer_create(ring("spsc"), &so, &spsc), IPCRING_OK);
    EXPECT(ipcring_listener_open(ring("spsc"), NULL, &l[2]), IPCRING_ERR_NOT_IPCRING);
    EXPECT(ipcring_notifier_open(ring("spsc"), NULL, &n[1]), IPCRING_ERR_NOT_IPCRING);
    CHECK(l[2] == NULL && n[1] == NULL);

    /* Handles of the wrong kind, in every call. (Every handle starts with its magic
     * number, so the check reads within whatever handle it is given.) */
    report_t b;
    size_t ids;
    ipcring_event_stats_t stats;
    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};
    ipcring_notifier_t *l_as_n = (ipcring_notifier_t *)l[0];
    ipcring_listener_t *n_as_l = (ipcring_listener_t *)n[0];
    EXPECT(ipcring_notify(l_as_n, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_notify((ipcring_notifier_t *)spsc, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_try_wait(n_as_l, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_wait(n_as_l, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_wait_timeout(n_as_l, 0, fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_set_wait(n_as_l, &w), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_send((ipcring_producer_t *)n[0], "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_event_ids(spsc, &ids), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_event_stats(spsc, &stats), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_notifier_close((ipcring_notifier_t **)&l[0]), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_listener_close((ipcring_listener_t **)&n[0]), IPCRING_ERR_BAD_HANDLE);
    CHECK(l[0] != NULL && n[0] != NULL);
    EXPECT(ipcring_producer_close(&spsc), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("spsc")), IPCRING_OK);

    /* Closing sets the caller's pointer to NULL: using it again is detected. */
    EXPECT(ipcring_notifier_close(&n[0]), IPCRING_OK);
    EXPECT(ipcring_notify(n[0], 0), IPCRING_ERR_BAD_HANDLE);
    for (int i = 0; i < 2; i++) EXPECT(ipcring_listener_close(&l[i]), IPCRING_OK);
    EXPECT(ipcring_listener_try_wait(l[0], fresh(&b, 8, 4)), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_unlink(ring("slots")), IPCRING_OK);
}

static void notify_and_report(void) {
    ipcring_event_options_t o = event_options(8, 2, 2);
    ipcring_notifier_t *n = NULL;
    ipcring_listener_t *l = NULL;
    EXPECT(ipcring_listener_create(ring("report"), &o, &l), IPCRING_OK);
    EXPECT(ipcring_notifier_open(ring("report"), NULL, &n), IPCRING_OK);
    if (n == NULL || l == NULL) return;

    /* The number of ids and the counters, from either handle. */
    size_t ids = 0;
    EXPECT(ipcring_event_ids(n, &ids), IPCRING_OK);
    CHECK(ids == 8);
    EXPECT(ipcring_event_ids(l, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_event_stats(l, NULL), IPCRING_ERR_NULL_POINTER);

    /* Nothing fired yet. */
    report_t b;
    ipcring_fired_t *r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_ERR_EMPTY);
    CHECK(r->len == 0 && r->dlen == 0 && r->more == 0);

    /* Each id that fired is reported once, in ascending order, with its count. */
    EXPECT(ipcring_notify(n, 5), IPCRING_OK);
    EXPECT(ipcring_notify(n, 3), IPCRING_OK);
    EXPECT(ipcring_notify(n, 5), IPCRING_OK);
    EXPECT(ipcring_notify(n, 8), IPCRING_ERR_UNKNOWN_ID);

    /* Bad reports are refused before anything is taken: nothing is lost. */
    EXPECT(ipcring_listener_try_wait(l, NULL), IPCRING_ERR_NULL_POINTER);
    r = fresh(&b, 8, 4);
    r->ids = NULL;
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_ERR_NULL_POINTER);
    CHECK(r->len == 0 && r->dlen == 0 && r->more == 0);
    r = fresh(&b, 8, 4);
    r->counts = NULL;
    EXPECT(ipcring_listener_wait(l, r), IPCRING_ERR_NULL_POINTER);
    r = fresh(&b, 8, 4);
    r->departures = NULL;
    EXPECT(ipcring_listener_wait_timeout(l, 0, r), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_listener_try_wait(l, fresh(&b, 0, 4)), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_listener_try_wait(l, fresh(&b, 8, 0)), IPCRING_ERR_INVALID_ARGUMENT);

    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 2 && r->dlen == 0 && r->more == 0);
    CHECK(b.ids[0] == 3 && b.counts[0] == 1 && b.ids[1] == 5 && b.counts[1] == 2);
    EXPECT(ipcring_listener_try_wait(l, fresh(&b, 8, 4)), IPCRING_ERR_EMPTY);
    ipcring_event_stats_t stats;
    EXPECT(ipcring_event_stats(n, &stats), IPCRING_OK);
    CHECK(stats.sent == 3 && stats.received == 3 && stats.ids == 8);

    /* A wait of a report already there returns at once. */
    EXPECT(ipcring_notify(n, 0), IPCRING_OK);
    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_wait(l, r), IPCRING_OK);
    CHECK(r->len == 1 && b.ids[0] == 0 && b.counts[0] == 1);

    /* The wait strategy of the listener: kinds checked. */
    ipcring_wait_t w = {IPCRING_WAIT_BUSY_SPIN, 0, 0};
    EXPECT(ipcring_listener_set_wait(l, &w), IPCRING_OK);
    EXPECT(ipcring_listener_set_wait(l, NULL), IPCRING_ERR_NULL_POINTER);
    w.kind = 7;
    EXPECT(ipcring_listener_set_wait(l, &w), IPCRING_ERR_INVALID_ARGUMENT);
    w.kind = IPCRING_WAIT_SPIN_THEN_PARK;
    w.spins = 100;
    w.yields = 10;
    EXPECT(ipcring_listener_set_wait(l, &w), IPCRING_OK);

    /* Timeouts: a wait of nothing gives IPCRING_ERR_TIMEOUT after the time, a report
     * with nothing in it. */
    double t0 = now_ms();
    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_wait_timeout(l, 20 * 1000 * 1000, r), IPCRING_ERR_TIMEOUT);
    double waited = now_ms() - t0;
    CHECK(waited >= 19.0 && waited < 5000.0);
    CHECK(r->len == 0 && r->dlen == 0 && r->more == 0);
    EXPECT(ipcring_listener_wait_timeout(l, 0, fresh(&b, 8, 4)), IPCRING_ERR_TIMEOUT);

    /* A listener sees what fires from its attach on; a closed notifier is a departure. */
    ipcring_listener_t *late = NULL;
    EXPECT(ipcring_notify(n, 1), IPCRING_OK);
    EXPECT(ipcring_listener_open(ring("report"), NULL, &late), IPCRING_OK);
    EXPECT(ipcring_listener_try_wait(late, fresh(&b, 8, 4)), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_wait_timeout(late, 5 * SECOND_NS, r), IPCRING_OK);
    CHECK(r->len == 0 && r->dlen == 1 && r->more == 0);
    CHECK(b.deps[0].role == IPCRING_PARTY_NOTIFIER && b.deps[0].slot == 0);
    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 1 && b.ids[0] == 1 && r->dlen == 1);
    CHECK(b.deps[0].role == IPCRING_PARTY_NOTIFIER && b.deps[0].slot == 0);
    /* ...and so is a closed listener, for the others. */
    EXPECT(ipcring_listener_close(&late), IPCRING_OK);
    r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 0 && r->dlen == 1 && b.deps[0].role == IPCRING_PARTY_LISTENER);
    EXPECT(ipcring_listener_close(&l), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("report")), IPCRING_OK);
}

/* A report larger than the caller's arrays is given in parts, in order; the kept part
 * comes first (before anything new), and makes the listener ready in a wait set. */
static void reports_in_parts(void) {
    ipcring_event_options_t o = event_options(8, 3, 1);
    ipcring_notifier_t *n = NULL, *gone[2] = {NULL, NULL};
    ipcring_listener_t *l = NULL;
    ipcring_waitset_t *set = NULL;
    EXPECT(ipcring_listener_create(ring("parts"), &o, &l), IPCRING_OK);
    EXPECT(ipcring_notifier_open(ring("parts"), NULL, &n), IPCRING_OK);
    for (int i = 0; i < 2; i++) EXPECT(ipcring_notifier_open(ring("parts"), NULL, &gone[i]), IPCRING_OK);
    EXPECT(ipcring_waitset_new(&set), IPCRING_OK);
    if (n == NULL || l == NULL || set == NULL) return;
    /* Five ids, id i fired i + 1 times, and two departures. */
    static const uint32_t fired[5] = {7, 0, 4, 2, 6};
    for (int i = 0; i < 5; i++) {
        for (uint32_t k = 0; k <= fired[i]; k++) EXPECT(ipcring_notify(n, fired[i]), IPCRING_OK);
    }
    for (int i = 0; i < 2; i++) EXPECT(ipcring_notifier_close(&gone[i]), IPCRING_OK);

    report_t b;
    ipcring_fired_t *r = fresh(&b, 2, 1);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 2 && r->dlen == 1 && r->more == 4);
    CHECK(b.ids[0] == 0 && b.counts[0] == 1 && b.ids[1] == 2 && b.counts[1] == 3);
    CHECK(b.deps[0].role == IPCRING_PARTY_NOTIFIER);
    size_t first_slot = b.deps[0].slot;

    /* Something new fires meanwhile: it waits behind the kept part. */
    EXPECT(ipcring_notify(n, 1), IPCRING_OK);
    /* The kept part makes the listener ready at once, also for a wait without deadline. */
    ipcring_member_t m[1] = {{IPCRING_MEMBER_EVENT_LISTENER, l, 0, 0}};
    uint8_t ready[1] = {9};
    size_t count = 9;
    EXPECT(ipcring_waitset_wait(set, m, 1, -1, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 1);

    r = fresh(&b, 2, 1);
    EXPECT(ipcring_listener_wait(l, r), IPCRING_OK);
    CHECK(r->len == 2 && r->dlen == 1 && r->more == 1);
    CHECK(b.ids[0] == 4 && b.counts[0] == 5 && b.ids[1] == 6 && b.counts[1] == 7);
    CHECK(b.deps[0].role == IPCRING_PARTY_NOTIFIER && b.deps[0].slot != first_slot);
    CHECK(b.deps[0].slot >= 1 && b.deps[0].slot <= 2 && first_slot >= 1 && first_slot <= 2);
    r = fresh(&b, 2, 1);
    EXPECT(ipcring_listener_wait_timeout(l, 0, r), IPCRING_OK);
    CHECK(r->len == 1 && r->dlen == 0 && r->more == 0);
    CHECK(b.ids[0] == 7 && b.counts[0] == 8);
    /* Then what fired since. */
    r = fresh(&b, 2, 1);
    EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
    CHECK(r->len == 1 && b.ids[0] == 1 && b.counts[0] == 1 && r->more == 0);
    EXPECT(ipcring_listener_try_wait(l, fresh(&b, 2, 1)), IPCRING_ERR_EMPTY);

    EXPECT(ipcring_waitset_close(&set), IPCRING_OK);
    EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
    EXPECT(ipcring_listener_close(&l), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("parts")), IPCRING_OK);
}

/* Ids of the forked notifier. */
enum { STARTED = 1, DONE = 2 };

/* A notifier in a child process: fires STARTED at once and DONE 30 ms later, then waits
 * to be killed. The parent sees both through a wait set (beside a ring that stays empty)
 * and a listener's wait, kills the child with SIGKILL and sees its departure. */
static void departure_of_a_killed_process(void) {
    ipcring_event_options_t o = event_options(4, 2, 1);
    ipcring_notifier_t *n = NULL;
    ipcring_listener_t *l = NULL;
    EXPECT(ipcring_listener_create(ring("fork"), &o, &l), IPCRING_OK);
    EXPECT(ipcring_notifier_open(ring("fork"), NULL, &n), IPCRING_OK);
    ipcring_options_t so;
    ipcring_options_init(&so);
    so.capacity = 4096;
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_consumer_create(ring("fork-ring"), &so, &rx), IPCRING_OK);
    ipcring_waitset_t *set = NULL;
    EXPECT(ipcring_waitset_new(&set), IPCRING_OK);
    if (n == NULL || l == NULL || rx == NULL || set == NULL) return;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        /* Attach in the child: the parent's handles are not used here. */
        ipcring_notifier_t *cn = NULL;
        int rc = ipcring_notifier_open(ring("fork"), NULL, &cn);
        if (rc == IPCRING_OK) rc = ipcring_notify(cn, STARTED);
        sleep_ms(30);
        if (rc == IPCRING_OK) rc = ipcring_notify(cn, DONE);
        if (rc != IPCRING_OK) _exit(1);
        for (;;) pause(); /* killed here, with its notifier open */
    }
    CHECK(child > 0);
    if (child <= 0) return;

    /* Bad members first: a notifier as a listener, one listener twice. */
    ipcring_member_t bad[2] = {{IPCRING_MEMBER_EVENT_LISTENER, n, 0, 0},
                               {IPCRING_MEMBER_CONSUMER, rx, 0, 0}};
    uint8_t ready[2] = {9, 9};
    size_t count = 9;
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    CHECK(count == 0);
    bad[0] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, l, 0, 0};
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    bad[0] = (ipcring_member_t){IPCRING_MEMBER_EVENT_LISTENER, l, 0, 0};
    bad[1] = bad[0];
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_DUPLICATE_MEMBER);

    /* The wait set sees the listener ready, the ring not; the listener's try_wait then
     * reports what the set found (and what fired since). */
    ipcring_member_t m[2] = {{IPCRING_MEMBER_CONSUMER, rx, 0, 0},
                             {IPCRING_MEMBER_EVENT_LISTENER, l, 0, 0}};
    report_t b;
    uint64_t started = 0, done = 0;
    double deadline = now_ms() + 10000.0;
    while (done == 0 && now_ms() < deadline) {
        EXPECT(ipcring_waitset_wait(set, m, 2, 10 * SECOND_NS, ready, &count), IPCRING_OK);
        CHECK(ready[0] == 0);
        if (count == 0 || !ready[1]) break;
        ipcring_fired_t *r = fresh(&b, 8, 4);
        EXPECT(ipcring_listener_try_wait(l, r), IPCRING_OK);
        CHECK(r->dlen == 0);
        for (size_t i = 0; i < r->len; i++) {
            if (b.ids[i] == STARTED) started += b.counts[i];
            if (b.ids[i] == DONE) done += b.counts[i];
        }
    }
    /* A look may see DONE before STARTED (it scans the ids while they fire): what fired
     * before DONE is visible once DONE was seen, to one more look. */
    ipcring_fired_t *last = fresh(&b, 8, 4);
    int rc = ipcring_listener_try_wait(l, last);
    CHECK(rc == IPCRING_OK || rc == IPCRING_ERR_EMPTY);
    for (size_t i = 0; rc == IPCRING_OK && i < last->len; i++) {
        if (b.ids[i] == STARTED) started += b.counts[i];
    }
    CHECK(started == 1 && done == 1);

    /* Nothing more: a poll finds nothing ready, a wait times out with nothing. */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[0] == 0 && ready[1] == 0);
    EXPECT(ipcring_waitset_wait(set, m, 2, 10 * 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 0);

    /* Killed with its notifier open: the listener's wait reports the departure. */
    CHECK(kill(child, SIGKILL) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
          WTERMSIG(status) == SIGKILL);
    double t0 = now_ms();
    ipcring_fired_t *r = fresh(&b, 8, 4);
    EXPECT(ipcring_listener_wait_timeout(l, 10 * SECOND_NS, r), IPCRING_OK);
    double took = now_ms() - t0;
    CHECK(r->len == 0 && r->dlen == 1 && r->more == 0);
    /* The parent's notifier holds slot 0; the child's took slot 1. */
    CHECK(b.deps[0].role == IPCRING_PARTY_NOTIFIER && b.deps[0].slot == 1);
    CHECK(took < DEPARTURE_BOUND_MS);
    if (took >= DEPARTURE_BOUND_MS) fprintf(stderr, "departure seen after %.0f ms\n", took);
    /* Its slot is free again. */
    ipcring_notifier_t *again = NULL;
    EXPECT(ipcring_notifier_open(ring("fork"), NULL, &again), IPCRING_OK);
    EXPECT(ipcring_notifier_close(&again), IPCRING_OK);

    EXPECT(ipcring_waitset_close(&set), IPCRING_OK);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
    EXPECT(ipcring_listener_close(&l), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("fork")), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("fork-ring")), IPCRING_OK);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: event_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    null_pointers_and_handles();
    options_out_of_range();
    slots_and_kinds();
    notify_and_report();
    reports_in_parts();
    departure_of_a_killed_process();
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_UNKNOWN_ID), "id") != NULL);
    return report("event_input");
}
