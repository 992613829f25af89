/* Bad input to the broadcast API from C gets a status code, never a crash; and the
 * statuses of broadcast topics (lagged, evicted, skipped, full, role slots) hold. Run by
 * ffi/tests/c.rs (and `make -C ffi test asan`):
 *
 *     broadcast_input PREFIX
 *
 * Every topic this program makes is named PREFIX-something and removed before it exits;
 * the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <string.h>

/* A topic of 4 slots of 16 bytes, for 2 publishers and 2 subscribers. */
static ipcring_broadcast_options_t small_topic(int lossy) {
    ipcring_broadcast_options_t o;
    ipcring_broadcast_options_init(&o);
    o.capacity = 4;
    o.slot_size = 16;
    o.publishers = 2;
    o.max_subscribers = 2;
    o.lossy = lossy;
    return o;
}

static void null_pointers_and_handles(void) {
    ipcring_broadcast_options_t o = small_topic(0);
    ipcring_pub_t *tx = (ipcring_pub_t *)&o; /* garbage, to see it reset */
    ipcring_sub_t *rx = (ipcring_sub_t *)&o;
    EXPECT(ipcring_broadcast_options_init(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_pub_create(NULL, &o, &tx), IPCRING_ERR_NULL_POINTER);
    CHECK(tx == NULL);
    EXPECT(ipcring_sub_open_or_create(NULL, &o, &rx), IPCRING_ERR_NULL_POINTER);
    CHECK(rx == NULL);
    EXPECT(ipcring_pub_open(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_pub_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_sub_close(NULL), IPCRING_ERR_NULL_POINTER);
    char byte = 0;
    size_t len;
    const void *data;
    void *slot;
    ipcring_broadcast_stats_t st;
    EXPECT(ipcring_pub_send(NULL, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_pub_try_reserve(NULL, 1, &slot), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_pub_commit(NULL, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_pub_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_sub_recv(NULL, &byte, 1, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_sub_read(NULL, &data, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_sub_release(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_sub_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
    /* A handle of another kind is a bad handle too. */
    ipcring_mpmc_producer_t *q = NULL;
    EXPECT(ipcring_mpmc_producer_create(ring("kind"), NULL, &q), IPCRING_OK);
    EXPECT(ipcring_pub_send((ipcring_pub_t *)q, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_sub_open(ring("kind"), NULL, &rx), IPCRING_ERR_NOT_IPCRING);
    EXPECT(ipcring_mpmc_producer_close(&q), IPCRING_OK);
    ipcring_unlink(ring("kind"));
}

static void geometry_roles_sizes_and_full(void) {
    ipcring_broadcast_options_t o = small_topic(0);
    o.capacity = 3;
    ipcring_pub_t *tx = NULL;
    ipcring_sub_t *a = NULL, *b = NULL, *c = NULL;
    EXPECT(ipcring_pub_create(ring("geo"), &o, &tx), IPCRING_ERR_INVALID_GEOMETRY);
    o = small_topic(0);
    EXPECT(ipcring_pub_create(ring("geo"), &o, &tx), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("geo"), NULL, &a), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("geo"), NULL, &b), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("geo"), NULL, &c), IPCRING_ERR_ROLE_TAKEN);
    char msg[17] = "0123456789abcdef";
    EXPECT(ipcring_pub_send(tx, msg, 17), IPCRING_ERR_TOO_LARGE);
    for (int i = 0; i < 4; i++) EXPECT(ipcring_pub_try_send(tx, msg, 16), IPCRING_OK);
    EXPECT(ipcring_pub_try_send(tx, msg, 16), IPCRING_ERR_FULL);
    EXPECT(ipcring_pub_send_timeout(tx, msg, 16, 1000000), IPCRING_ERR_TIMEOUT);

    /* A buffer too small keeps the message; a read lent in place, kept, read again. */
    char buf[16];
    size_t len = 0;
    const void *data = NULL;
    EXPECT(ipcring_sub_recv(a, buf, 4, &len), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 16);
    EXPECT(ipcring_sub_read(a, &data, &len), IPCRING_OK);
    CHECK(len == 16 && memcmp(data, msg, 16) == 0);
    EXPECT(ipcring_sub_recv(a, buf, 16, &len), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_sub_keep(a), IPCRING_OK);
    EXPECT(ipcring_sub_recv(a, buf, 16, &len), IPCRING_OK);
    EXPECT(ipcring_sub_release(a), IPCRING_ERR_NO_GRANT);
    /* `b` has read nothing: the topic is still full. */
    EXPECT(ipcring_pub_try_send(tx, msg, 16), IPCRING_ERR_FULL);
    for (int i = 0; i < 4; i++) EXPECT(ipcring_sub_recv(b, buf, 16, &len), IPCRING_OK);
    EXPECT(ipcring_pub_try_send(tx, msg, 1), IPCRING_OK);
    ipcring_broadcast_stats_t st;
    EXPECT(ipcring_sub_stats(b, &st), IPCRING_OK);
    CHECK(st.published == 5 && st.own_received == 4 && st.rejected == 2 && st.lossy == 0);
    EXPECT(ipcring_sub_close(&c), IPCRING_OK); /* NULL already: a no-op */
    EXPECT(ipcring_sub_close(&a), IPCRING_OK);
    EXPECT(ipcring_sub_close(&b), IPCRING_OK);
    EXPECT(ipcring_pub_close(&tx), IPCRING_OK);
    CHECK(tx == NULL && a == NULL);
    ipcring_unlink(ring("geo"));
}

static void lossy_lagged(void) {
    ipcring_broadcast_options_t o = small_topic(1);
    ipcring_pub_t *tx = NULL;
    ipcring_sub_t *rx = NULL;
    EXPECT(ipcring_pub_create(ring("lossy"), &o, &tx), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("lossy"), NULL, &rx), IPCRING_OK);
    for (uint64_t v = 0; v < 10; v++) EXPECT(ipcring_pub_try_send(tx, &v, 8), IPCRING_OK);
    uint64_t got = 99;
    size_t len;
    EXPECT(ipcring_sub_recv(rx, &got, 8, &len), IPCRING_ERR_LAGGED);
    ipcring_broadcast_stats_t st;
    EXPECT(ipcring_sub_stats(rx, &st), IPCRING_OK);
    CHECK(st.own_missed == 6 && st.missed == 6 && st.lossy == 1);
    EXPECT(ipcring_sub_recv(rx, &got, 8, &len), IPCRING_OK);
    CHECK(got == 6);
    EXPECT(ipcring_sub_close(&rx), IPCRING_OK);
    EXPECT(ipcring_pub_close(&tx), IPCRING_OK);
    ipcring_unlink(ring("lossy"));
}

static void evicted_and_skipped(void) {
    ipcring_broadcast_options_t o = small_topic(0);
    o.max_lag_ns = 20 * 1000 * 1000;
    o.stall_timeout_ns = 20 * 1000 * 1000;
    ipcring_pub_t *tx = NULL, *slow = NULL;
    ipcring_sub_t *stuck = NULL, *live = NULL;
    EXPECT(ipcring_pub_create(ring("evict"), &o, &tx), IPCRING_OK);
    EXPECT(ipcring_pub_open(ring("evict"), NULL, &slow), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("evict"), NULL, &stuck), IPCRING_OK);
    EXPECT(ipcring_sub_open(ring("evict"), NULL, &live), IPCRING_OK);
    uint64_t v = 0, got;
    size_t len;
    for (v = 0; v < 4; v++) EXPECT(ipcring_pub_send(tx, &v, 8), IPCRING_OK);
    for (int i = 0; i < 4; i++) EXPECT(ipcring_sub_recv(live, &got, 8, &len), IPCRING_OK);
    /* `stuck` holds the topic full; after max_lag the publisher evicts it. */
    EXPECT(ipcring_pub_send(tx, &v, 8), IPCRING_OK);
    EXPECT(ipcring_sub_recv(stuck, &got, 8, &len), IPCRING_ERR_EVICTED);
    EXPECT(ipcring_sub_recv(live, &got, 8, &len), IPCRING_OK);
    CHECK(got == 4);
    /* A claim held past the stall timeout is passed; its late commit is refused. */
    void *slot = NULL;
    EXPECT(ipcring_pub_reserve(slow, 8, &slot), IPCRING_OK);
    v = 5;
    EXPECT(ipcring_pub_send(tx, &v, 8), IPCRING_OK);
    EXPECT(ipcring_sub_recv(live, &got, 8, &len), IPCRING_OK);
    CHECK(got == 5);
    memcpy(slot, &v, 8);
    EXPECT(ipcring_pub_commit(slow, 8), IPCRING_ERR_SKIPPED);
    ipcring_broadcast_stats_t st;
    EXPECT(ipcring_pub_stats(tx, &st), IPCRING_OK);
    CHECK(st.evicted == 1 && st.skipped == 1 && st.own_received == 0);
    EXPECT(ipcring_sub_close(&stuck), IPCRING_OK);
    EXPECT(ipcring_sub_close(&live), IPCRING_OK);
    EXPECT(ipcring_pub_close(&slow), IPCRING_OK);
    EXPECT(ipcring_pub_close(&tx), IPCRING_OK);
    ipcring_unlink(ring("evict"));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: broadcast_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    null_pointers_and_handles();
    geometry_roles_sizes_and_full();
    lossy_lagged();
    evicted_and_skipped();
    return report("broadcast_input");
}
