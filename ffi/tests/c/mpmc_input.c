/* Bad input to the MPMC API from C gets a status code, never a crash; and the status
 * codes, role slots, grant rules (with keep) and stall timeout of MPMC queues hold. Run
 * by ffi/tests/c.rs (and `make -C ffi test asan`):
 *
 *     mpmc_input PREFIX
 *
 * Every queue this program makes is named PREFIX-something and removed before it exits;
 * the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <string.h>
#include <time.h>

/* A queue of 4 slots of 16 bytes, for 2 producers and 2 consumers. */
static ipcring_mpmc_options_t small_queue(void) {
    ipcring_mpmc_options_t o;
    ipcring_mpmc_options_init(&o);
    o.capacity = 4;
    o.slot_size = 16;
    o.producers = 2;
    o.consumers = 2;
    return o;
}

static void null_pointers_and_handles(void) {
    ipcring_mpmc_options_t o = small_queue();
    ipcring_mpmc_producer_t *tx = (ipcring_mpmc_producer_t *)&o; /* garbage, to see it reset */
    ipcring_mpmc_consumer_t *rx = (ipcring_mpmc_consumer_t *)&o;
    EXPECT(ipcring_mpmc_options_init(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_producer_create(NULL, &o, &tx), IPCRING_ERR_NULL_POINTER);
    CHECK(tx == NULL);
    EXPECT(ipcring_mpmc_consumer_open_or_create(NULL, &o, &rx), IPCRING_ERR_NULL_POINTER);
    CHECK(rx == NULL);
    EXPECT(ipcring_mpmc_producer_open(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_create(ring("null"), NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_producer_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_close(NULL), IPCRING_ERR_NULL_POINTER);

    /* A NULL handle is a bad handle in every call. */
    char byte = 0;
    size_t len;
    const void *data;
    void *slot;
    ipcring_mpmc_stats_t st;
    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};
    EXPECT(ipcring_mpmc_producer_send(NULL, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_try_send(NULL, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_send_timeout(NULL, &byte, 1, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_reserve(NULL, 1, &slot), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_try_reserve(NULL, 1, &slot), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_commit(NULL, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_abort(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_max_message(NULL, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_set_wait(NULL, &w), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_recv(NULL, &byte, 1, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_try_recv(NULL, &byte, 1, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_recv_timeout(NULL, &byte, 1, &len, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_read(NULL, &data, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_try_read(NULL, &data, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_read_timeout(NULL, &data, &len, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_release(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_keep(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_max_message(NULL, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_set_wait(NULL, &w), IPCRING_ERR_BAD_HANDLE);
}

static void invalid_geometry_and_options(void) {
    ipcring_mpmc_producer_t *tx = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    ipcring_mpmc_options_t o = small_queue();
    EXPECT(ipcring_mpmc_producer_create("", &o, &tx), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_mpmc_consumer_create("no-such-dir/queue", &o, &rx), IPCRING_ERR_NOT_FOUND);

    o.slot_size = 0;
    EXPECT(ipcring_mpmc_producer_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o.slot_size = IPCRING_MPMC_MAX_SLOT_SIZE + 1;
    EXPECT(ipcring_mpmc_consumer_create(ring("geo"), &o, &rx), IPCRING_ERR_INVALID_GEOMETRY);
    o = small_queue();
    o.capacity = 3; /* not a power of two */
    EXPECT(ipcring_mpmc_producer_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o.capacity = 0;
    EXPECT(ipcring_mpmc_producer_open_or_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o.capacity = (size_t)IPCRING_MPMC_MAX_SLOTS * 2;
    EXPECT(ipcring_mpmc_consumer_open_or_create(ring("geo"), &o, &rx), IPCRING_ERR_INVALID_GEOMETRY);
    o = small_queue();
    o.producers = IPCRING_MPMC_MAX_ROLE_SLOTS + 1; /* more producers than a queue has slots */
    EXPECT(ipcring_mpmc_producer_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o.producers = 0;
    EXPECT(ipcring_mpmc_producer_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o = small_queue();
    o.consumers = IPCRING_MPMC_MAX_ROLE_SLOTS + 1;
    EXPECT(ipcring_mpmc_consumer_create(ring("geo"), &o, &rx), IPCRING_ERR_INVALID_GEOMETRY);
    o = small_queue();
    o.wait.kind = 9;
    EXPECT(ipcring_mpmc_producer_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(tx == NULL && rx == NULL);
    EXPECT(ipcring_mpmc_producer_open(ring("geo"), NULL, &tx), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_unlink(ring("geo")), IPCRING_ERR_NOT_FOUND); /* nothing was made */
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_INVALID_GEOMETRY), "geometry") != NULL);
}

static void role_slots_and_kinds(void) {
    ipcring_mpmc_options_t o = small_queue();
    ipcring_mpmc_producer_t *tx[3] = {NULL, NULL, NULL};
    ipcring_mpmc_consumer_t *rx[3] = {NULL, NULL, NULL};
    EXPECT(ipcring_mpmc_producer_create(ring("roles"), &o, &tx[0]), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_create(ring("roles"), &o, &rx[0]), IPCRING_ERR_EXISTS);
    /* Two producer slots and two consumer slots: a third of either is refused. */
    EXPECT(ipcring_mpmc_producer_open(ring("roles"), NULL, &tx[1]), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_open_or_create(ring("roles"), &o, &tx[2]), IPCRING_ERR_ROLE_TAKEN);
    CHECK(tx[2] == NULL);
    EXPECT(ipcring_mpmc_consumer_open(ring("roles"), NULL, &rx[0]), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_open(ring("roles"), NULL, &rx[1]), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_open(ring("roles"), NULL, &rx[2]), IPCRING_ERR_ROLE_TAKEN);
    /* A closed producer's slot is free again. */
    EXPECT(ipcring_mpmc_producer_close(&tx[1]), IPCRING_OK);
    CHECK(tx[1] == NULL);
    EXPECT(ipcring_mpmc_producer_open(ring("roles"), NULL, &tx[2]), IPCRING_OK);

    /* Rings of the other kind, and handles of the other kind, are refused. */
    ipcring_options_t so;
    ipcring_options_init(&so);
    so.capacity = 4096;
    ipcring_producer_t *spsc = NULL;
    ipcring_consumer_t *spsc_rx = NULL;
    EXPECT(ipcring_consumer_open(ring("roles"), NULL, &spsc_rx), IPCRING_ERR_NOT_IPCRING);
    EXPECT(ipcring_producer_create(ring("spsc"), &so, &spsc), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_open(ring("spsc"), NULL, &rx[2]), IPCRING_ERR_NOT_IPCRING);
    CHECK(rx[2] == NULL);
    ipcring_mpmc_stats_t st;
    EXPECT(ipcring_mpmc_producer_send((ipcring_mpmc_producer_t *)spsc, "x", 1),
           IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_send((ipcring_producer_t *)tx[0], "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_consumer_stats((ipcring_mpmc_consumer_t *)tx[0], &st),
           IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_close((ipcring_mpmc_producer_t **)&rx[0]), IPCRING_ERR_BAD_HANDLE);
    CHECK(rx[0] != NULL);
    EXPECT(ipcring_producer_close(&spsc), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("spsc")), IPCRING_OK);

    /* Closing sets the caller's pointer to NULL: using it again is detected. */
    EXPECT(ipcring_mpmc_producer_close(&tx[0]), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx[0], "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_mpmc_producer_close(&tx[0]), IPCRING_OK); /* a no-op, like free(NULL) */
    /* While one producer is attached, an empty queue is empty; once none is, disconnected. */
    size_t len;
    EXPECT(ipcring_mpmc_consumer_try_recv(rx[0], NULL, 0, &len), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_mpmc_producer_close(&tx[2]), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_try_recv(rx[0], NULL, 0, &len), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_mpmc_consumer_recv(rx[1], NULL, 0, &len), IPCRING_ERR_DISCONNECTED);
    for (int i = 0; i < 3; i++) EXPECT(ipcring_mpmc_consumer_close(&rx[i]), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("roles")), IPCRING_OK);
}

/* A producer and a consumer of a fresh small queue. */
static int pair(const char *suffix, const ipcring_mpmc_options_t *o, ipcring_mpmc_producer_t **tx,
                ipcring_mpmc_consumer_t **rx) {
    int rc = ipcring_mpmc_producer_create(ring(suffix), o, tx);
    if (rc == IPCRING_OK) rc = ipcring_mpmc_consumer_open(ring(suffix), o, rx);
    EXPECT(rc, IPCRING_OK);
    return rc;
}

static void unpair(const char *suffix, ipcring_mpmc_producer_t **tx, ipcring_mpmc_consumer_t **rx) {
    EXPECT(ipcring_mpmc_producer_close(tx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_close(rx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring(suffix)), IPCRING_OK);
}

static void sizes_full_and_empty(void) {
    ipcring_mpmc_options_t o = small_queue();
    ipcring_mpmc_producer_t *tx = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    if (pair("sizes", &o, &tx, &rx) != IPCRING_OK) return;
    size_t max = 0, len = 0;
    EXPECT(ipcring_mpmc_producer_max_message(tx, &max), IPCRING_OK);
    CHECK(max == 16);
    EXPECT(ipcring_mpmc_consumer_max_message(rx, &max), IPCRING_OK);
    CHECK(max == 16);
    EXPECT(ipcring_mpmc_producer_max_message(tx, NULL), IPCRING_ERR_NULL_POINTER);
    ipcring_mpmc_stats_t st;
    EXPECT(ipcring_mpmc_producer_stats(tx, NULL), IPCRING_ERR_NULL_POINTER);

    /* A message over the slot size is refused by every way of sending it. */
    static const char big[32] = "0123456789abcdef!";
    void *slot;
    EXPECT(ipcring_mpmc_producer_send(tx, big, 17), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_mpmc_producer_try_send(tx, big, 17), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_mpmc_producer_send_timeout(tx, big, sizeof big, 0), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_mpmc_producer_reserve(tx, 17, &slot), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_mpmc_producer_try_reserve(tx, 17, &slot), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_mpmc_producer_send(tx, NULL, 3), IPCRING_ERR_NULL_POINTER);

    /* Exact fit and empty messages; then the queue is full. */
    EXPECT(ipcring_mpmc_producer_send(tx, big, 16), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, NULL, 0), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_try_send(tx, "three", 5), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send_timeout(tx, "four", 4, 1000000), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_try_send(tx, "five", 4), IPCRING_ERR_FULL);
    EXPECT(ipcring_mpmc_producer_try_reserve(tx, 4, &slot), IPCRING_ERR_FULL);
    EXPECT(ipcring_mpmc_producer_send_timeout(tx, "five", 4, 1000000), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_mpmc_producer_stats(tx, &st), IPCRING_OK);
    CHECK(st.sent == 4 && st.rejected == 2 && st.high_water == 4);
    CHECK(st.capacity == 4 && st.slot_size == 16);

    char buf[16];
    EXPECT(ipcring_mpmc_consumer_recv(rx, buf, sizeof buf, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_recv(rx, NULL, 4, &len), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 16 && memcmp(buf, big, 16) == 0);
    EXPECT(ipcring_mpmc_consumer_recv(rx, NULL, 0, &len), IPCRING_OK);
    CHECK(len == 0);
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(buf, "three", 5) == 0);
    EXPECT(ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, 1000000), IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "four", 4) == 0);

    /* Empty queue: try_* say so, timeouts pass. */
    const void *data;
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_mpmc_consumer_try_read(rx, &data, &len), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, 1000000), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_mpmc_consumer_read_timeout(rx, &data, &len, 0), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_mpmc_consumer_read(rx, NULL, &len), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_read(rx, &data, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_consumer_stats(rx, &st), IPCRING_OK);
    CHECK(st.received == 4);

    /* Wait strategies. */
    ipcring_wait_t w = {IPCRING_WAIT_BUSY_SPIN, 0, 0};
    EXPECT(ipcring_mpmc_producer_set_wait(tx, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_mpmc_producer_set_wait(tx, &w), IPCRING_OK);
    w.kind = IPCRING_WAIT_PARK;
    EXPECT(ipcring_mpmc_consumer_set_wait(rx, &w), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, 2000000), IPCRING_ERR_TIMEOUT);
    w.kind = 3;
    EXPECT(ipcring_mpmc_consumer_set_wait(rx, &w), IPCRING_ERR_INVALID_ARGUMENT);
    unpair("sizes", &tx, &rx);
}

static void producer_grants(void) {
    ipcring_mpmc_options_t o = small_queue();
    ipcring_mpmc_producer_t *tx = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    if (pair("tx-grants", &o, &tx, &rx) != IPCRING_OK) return;
    void *slot = NULL;
    size_t len, max;
    char buf[16];
    ipcring_mpmc_stats_t st;
    ipcring_wait_t busy = {IPCRING_WAIT_BUSY_SPIN, 0, 0};
    EXPECT(ipcring_mpmc_producer_commit(tx, 0), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_mpmc_producer_abort(tx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_mpmc_producer_reserve(tx, 8, NULL), IPCRING_ERR_NULL_POINTER);

    /* While a reservation is pending, only commit, abort and close are allowed. */
    EXPECT(ipcring_mpmc_producer_reserve(tx, 8, &slot), IPCRING_OK);
    CHECK(slot != NULL);
    memcpy(slot, "aborted!", 8);
    EXPECT(ipcring_mpmc_producer_send(tx, "x", 1), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_producer_try_reserve(tx, 8, &slot), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_producer_stats(tx, &st), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_producer_max_message(tx, &max), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_producer_set_wait(tx, &busy), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_producer_abort(tx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, NULL, 0, &len), IPCRING_ERR_EMPTY);

    EXPECT(ipcring_mpmc_producer_try_reserve(tx, 16, &slot), IPCRING_OK);
    memcpy(slot, "commit", 6);
    EXPECT(ipcring_mpmc_producer_commit(tx, 17), IPCRING_ERR_INVALID_ARGUMENT); /* still pending */
    EXPECT(ipcring_mpmc_producer_commit(tx, 6), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_commit(tx, 6), IPCRING_ERR_NO_GRANT);
    /* An empty reservation is an empty message. */
    EXPECT(ipcring_mpmc_producer_reserve(tx, 0, &slot), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_commit(tx, 0), IPCRING_OK);
    /* Closing with a reservation abandons it; the messages committed before arrive. */
    EXPECT(ipcring_mpmc_producer_reserve(tx, 8, &slot), IPCRING_OK);
    memcpy(slot, "dropped!", 8);
    EXPECT(ipcring_mpmc_producer_close(&tx), IPCRING_OK);

    EXPECT(ipcring_mpmc_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 6 && memcmp(buf, "commit", 6) == 0);
    EXPECT(ipcring_mpmc_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 0);
    EXPECT(ipcring_mpmc_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_mpmc_consumer_stats(rx, &st), IPCRING_OK);
    CHECK(st.sent == 2 && st.received == 2);
    EXPECT(ipcring_mpmc_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("tx-grants")), IPCRING_OK);
}

static void consumer_grants_and_keep(void) {
    ipcring_mpmc_options_t o = small_queue();
    ipcring_mpmc_producer_t *tx = NULL;
    ipcring_mpmc_consumer_t *rx = NULL, *other = NULL;
    if (pair("rx-grants", &o, &tx, &rx) != IPCRING_OK) return;
    EXPECT(ipcring_mpmc_consumer_open(ring("rx-grants"), NULL, &other), IPCRING_OK);
    const void *data = NULL;
    size_t len = 0, max;
    char buf[16];
    ipcring_mpmc_stats_t st;
    ipcring_wait_t busy = {IPCRING_WAIT_BUSY_SPIN, 0, 0};
    EXPECT(ipcring_mpmc_consumer_release(rx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_mpmc_consumer_keep(rx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_mpmc_producer_send(tx, "first", 5), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, "second", 6), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, "third", 5), IPCRING_OK);

    /* Too small a buffer: told the size, and the message is kept for this consumer. */
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, 2, &len), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 5);
    EXPECT(ipcring_mpmc_consumer_recv(rx, NULL, 0, &len), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 5);
    EXPECT(ipcring_mpmc_consumer_try_recv(other, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 6 && memcmp(buf, "second", 6) == 0);

    /* While a read is lent, only release, keep and close are allowed. */
    EXPECT(ipcring_mpmc_consumer_read(rx, &data, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(data, "first", 5) == 0);
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_consumer_try_read(rx, &data, &len), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_consumer_stats(rx, &st), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_consumer_max_message(rx, &max), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_mpmc_consumer_set_wait(rx, &busy), IPCRING_ERR_GRANT_PENDING);
    /* Keep: the loan ends, the message stays with this consumer. */
    EXPECT(ipcring_mpmc_consumer_keep(rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_keep(rx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_mpmc_consumer_try_read(rx, &data, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(data, "first", 5) == 0);
    EXPECT(ipcring_mpmc_consumer_release(rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_release(rx), IPCRING_ERR_NO_GRANT);

    /* Closing with a read lent releases it: nobody gets it again. */
    EXPECT(ipcring_mpmc_consumer_read(rx, &data, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(data, "third", 5) == 0);
    EXPECT(ipcring_mpmc_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_try_recv(other, buf, sizeof buf, &len), IPCRING_ERR_EMPTY);

    /* Closing with a kept message hands it to another consumer, counted as redelivered. */
    EXPECT(ipcring_mpmc_consumer_open(ring("rx-grants"), NULL, &rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, "fourth", 6), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_read(rx, &data, &len), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_keep(rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_try_recv(other, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 6 && memcmp(buf, "fourth", 6) == 0);
    EXPECT(ipcring_mpmc_consumer_stats(other, &st), IPCRING_OK);
    CHECK(st.sent == 4 && st.received == 4 && st.redelivered == 1 && st.skipped == 0);
    EXPECT(ipcring_mpmc_consumer_close(&other), IPCRING_OK);

    /* Every consumer has left and the queue is full: a blocking send gives up. */
    EXPECT(ipcring_mpmc_producer_set_wait(tx, &busy), IPCRING_OK);
    int sent = 0;
    while (sent < 8 && ipcring_mpmc_producer_try_send(tx, "x", 1) == IPCRING_OK) sent++;
    CHECK(sent == 4);
    EXPECT(ipcring_mpmc_producer_send_timeout(tx, "x", 1, UINT64_C(10000000000)),
           IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_mpmc_producer_close(&tx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("rx-grants")), IPCRING_OK);
}

static void stalled_producer_is_skipped(void) {
    ipcring_mpmc_options_t o = small_queue();
    o.stall_timeout_ns = 1000000; /* 1 ms */
    ipcring_mpmc_producer_t *slow = NULL, *fast = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    if (pair("stall", &o, &slow, &rx) != IPCRING_OK) return;
    EXPECT(ipcring_mpmc_producer_open(ring("stall"), NULL, &fast), IPCRING_OK);
    void *slot;
    EXPECT(ipcring_mpmc_producer_reserve(slow, 4, &slot), IPCRING_OK);
    memcpy(slot, "late", 4);
    EXPECT(ipcring_mpmc_producer_send(fast, "fast", 4), IPCRING_OK);
    /* The consumer waits for the reservation at the head, then passes it. */
    char buf[16];
    size_t len = 0;
    int rc = IPCRING_ERR_EMPTY;
    for (int i = 0; i < 5000 && rc == IPCRING_ERR_EMPTY; i++) {
        rc = ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len);
        if (rc == IPCRING_ERR_EMPTY) sleep_ms(1);
    }
    EXPECT(rc, IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "fast", 4) == 0);
    EXPECT(ipcring_mpmc_producer_commit(slow, 4), IPCRING_ERR_SKIPPED);
    EXPECT(ipcring_mpmc_producer_commit(slow, 4), IPCRING_ERR_NO_GRANT); /* it is over */
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_EMPTY);
    /* The slow producer's slot is back in use. */
    EXPECT(ipcring_mpmc_producer_send(slow, "again", 5), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, UINT64_C(5000000000)),
           IPCRING_OK);
    CHECK(len == 5 && memcmp(buf, "again", 5) == 0);
    ipcring_mpmc_stats_t st;
    EXPECT(ipcring_mpmc_consumer_stats(rx, &st), IPCRING_OK);
    CHECK(st.sent == 2 && st.received == 2 && st.skipped == 1);
    EXPECT(ipcring_mpmc_producer_close(&fast), IPCRING_OK);
    unpair("stall", &slow, &rx);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mpmc_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    null_pointers_and_handles();
    invalid_geometry_and_options();
    role_slots_and_kinds();
    sizes_full_and_empty();
    producer_grants();
    consumer_grants_and_keep();
    stalled_producer_is_skipped();
    return report("mpmc_input");
}
