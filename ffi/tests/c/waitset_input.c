/* Wait sets from C: bad input gets a status code, never a crash (bad handles, NULL
 * pointers, a handle given twice, the wrong kind), and what a set reports holds: a wait
 * that times out reports no member ready, a poll reports the one ready member, each kind
 * of member, the descriptor and arm. Run by ffi/tests/c.rs (and `make -C ffi test asan`):
 *
 *     waitset_input PREFIX
 *
 * Every ring this program makes is named PREFIX-something and removed before it exits;
 * the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <poll.h>
#include <string.h>
#include <time.h>

/* Two SPSC rings, a and b, that the checks share: producer and consumer of each. */
static ipcring_producer_t *tx_a, *tx_b;
static ipcring_consumer_t *rx_a, *rx_b;
static char name_a[200], name_b[200];

static void open_pairs(void) {
    ipcring_options_t o;
    ipcring_options_init(&o);
    o.capacity = 4096; /* messages up to 1024 bytes */
    snprintf(name_a, sizeof name_a, "%s", ring("a"));
    snprintf(name_b, sizeof name_b, "%s", ring("b"));
    EXPECT(ipcring_producer_create(name_a, &o, &tx_a), IPCRING_OK);
    EXPECT(ipcring_consumer_open(name_a, NULL, &rx_a), IPCRING_OK);
    EXPECT(ipcring_producer_create(name_b, &o, &tx_b), IPCRING_OK);
    EXPECT(ipcring_consumer_open(name_b, NULL, &rx_b), IPCRING_OK);
}

static void close_pairs(void) {
    EXPECT(ipcring_producer_close(&tx_a), IPCRING_OK);
    EXPECT(ipcring_consumer_close(&rx_a), IPCRING_OK);
    EXPECT(ipcring_producer_close(&tx_b), IPCRING_OK);
    EXPECT(ipcring_consumer_close(&rx_b), IPCRING_OK);
    EXPECT(ipcring_unlink(name_a), IPCRING_OK);
    EXPECT(ipcring_unlink(name_b), IPCRING_OK);
}

static void null_pointers_and_bad_handles(void) {
    ipcring_waitset_t *set = (ipcring_waitset_t *)&tx_a; /* garbage, to see it replaced */
    EXPECT(ipcring_waitset_new(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_waitset_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_waitset_new(&set), IPCRING_OK);
    CHECK(set != NULL && set != (ipcring_waitset_t *)&tx_a);

    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_CONSUMER, rx_a, 0, 0},
        {IPCRING_MEMBER_CONSUMER, rx_b, 0, 0},
    };
    uint8_t ready[2];
    size_t count = 99;
    int fd = 0;
    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};

    /* A NULL set. */
    EXPECT(ipcring_waitset_wait(NULL, m, 2, 0, ready, &count), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_waitset_poll(NULL, m, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_waitset_arm(NULL, m, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_waitset_fd(NULL, &fd), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_waitset_set_wait(NULL, &w), IPCRING_ERR_BAD_HANDLE);

    /* NULL pointers; a failed call reports no member ready. */
    EXPECT(ipcring_waitset_poll(set, NULL, 2, ready, &count), IPCRING_ERR_NULL_POINTER);
    CHECK(count == 0);
    EXPECT(ipcring_waitset_wait(set, m, 2, 0, NULL, &count), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_waitset_arm(set, m, 2, ready, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_waitset_fd(set, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_waitset_set_wait(set, NULL), IPCRING_ERR_NULL_POINTER);

    /* No members at all. */
    count = 99;
    EXPECT(ipcring_waitset_wait(set, m, 0, -1, ready, &count), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(count == 0);

    /* A NULL member handle (a closed one, through close(&h)); the set itself, or another
     * set, as a member. */
    ipcring_member_t bad[2] = {
        {IPCRING_MEMBER_CONSUMER, rx_a, 0, 0},
        {IPCRING_MEMBER_CONSUMER, NULL, 0, 0},
    };
    EXPECT(ipcring_waitset_wait(set, bad, 2, -1, ready, &count), IPCRING_ERR_BAD_HANDLE);
    bad[1].handle = set;
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    ipcring_waitset_t *other = NULL;
    EXPECT(ipcring_waitset_new(&other), IPCRING_OK);
    bad[1].handle = other;
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_waitset_close(&other), IPCRING_OK);

    /* An unknown wait strategy. */
    w.kind = 7;
    EXPECT(ipcring_waitset_set_wait(set, &w), IPCRING_ERR_INVALID_ARGUMENT);

    EXPECT(ipcring_waitset_close(&set), IPCRING_OK);
    CHECK(set == NULL);
    EXPECT(ipcring_waitset_close(&set), IPCRING_OK); /* closing NULL is a no-op */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
}

static void wrong_kinds_and_duplicates(ipcring_waitset_t *set) {
    uint8_t ready[3];
    size_t count;
    ipcring_member_t m[3] = {{0, rx_a, 0, 0}, {IPCRING_MEMBER_CONSUMER, rx_b, 0, 0}};

    /* Kinds that do not exist: 0 (a zeroed member) and past the last. */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_INVALID_ARGUMENT);
    m[0].kind = IPCRING_MEMBER_EVENT_LISTENER + 1;
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_INVALID_ARGUMENT);

    /* A handle of another type than the kind says (more in every_kind). */
    m[0] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, tx_a, 0, 0};
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);

    /* One handle twice, next to each other or not. */
    m[0] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, rx_a, 0, 0};
    m[1] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, rx_b, 0, 0};
    m[2] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, rx_a, 0, 0};
    EXPECT(ipcring_waitset_wait(set, m, 3, -1, ready, &count), IPCRING_ERR_DUPLICATE_MEMBER);
    EXPECT(ipcring_waitset_poll(set, m + 1, 2, ready, &count), IPCRING_OK);
    m[2] = m[1];
    EXPECT(ipcring_waitset_arm(set, m, 3, ready, &count), IPCRING_ERR_DUPLICATE_MEMBER);
    m[2] = (ipcring_member_t){IPCRING_MEMBER_PRODUCER_ROOM, tx_b, 8, 0};
    m[1] = m[2];
    EXPECT(ipcring_waitset_poll(set, m, 3, ready, &count), IPCRING_ERR_DUPLICATE_MEMBER);
    CHECK(count == 0);
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_DUPLICATE_MEMBER), "twice") != NULL);
}

static void timeouts_and_polls(ipcring_waitset_t *set) {
    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_CONSUMER, rx_a, 0, 0},
        {IPCRING_MEMBER_CONSUMER, rx_b, 0, 0},
    };
    uint8_t ready[2] = {7, 7};
    size_t count = 99;

    /* Nothing to receive: a wait with a deadline returns IPCRING_OK and no member ready,
     * once the deadline has passed. */
    double t0 = now_ms();
    EXPECT(ipcring_waitset_wait(set, m, 2, 20 * 1000 * 1000, ready, &count), IPCRING_OK);
    double waited = now_ms() - t0;
    CHECK(count == 0 && ready[0] == 0 && ready[1] == 0);
    CHECK(waited >= 19.0);
    CHECK(waited < 10000.0);
    EXPECT(ipcring_waitset_wait(set, m, 2, 0, ready, &count), IPCRING_OK);
    CHECK(count == 0);
    /* The same with the set sleeping at once. */
    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};
    EXPECT(ipcring_waitset_set_wait(set, &w), IPCRING_OK);
    EXPECT(ipcring_waitset_wait(set, m, 2, 2 * 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[0] == 0 && ready[1] == 0);

    /* One ring with a message: a poll reports that one, and the receive gets it. */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[0] == 0 && ready[1] == 0);
    EXPECT(ipcring_producer_send(tx_b, "to b", 4), IPCRING_OK);
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 0 && ready[1] == 1);
    /* Polling again changes nothing: a set takes no message. */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 0 && ready[1] == 1);
    /* A wait without a deadline returns at once. */
    EXPECT(ipcring_waitset_wait(set, m, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 0 && ready[1] == 1);
    char buf[16];
    size_t len;
    EXPECT(ipcring_consumer_try_recv(rx_b, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "to b", 4) == 0);
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[1] == 0);

    /* Both ready. */
    EXPECT(ipcring_producer_send(tx_a, "1", 1), IPCRING_OK);
    EXPECT(ipcring_producer_send(tx_b, "2", 1), IPCRING_OK);
    EXPECT(ipcring_waitset_wait(set, m, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 2 && ready[0] == 1 && ready[1] == 1);
    EXPECT(ipcring_consumer_try_recv(rx_a, buf, sizeof buf, &len), IPCRING_OK);
    EXPECT(ipcring_consumer_try_recv(rx_b, buf, sizeof buf, &len), IPCRING_OK);

    /* A member with a read pending cannot be waited on (the read borrows it). */
    const void *data;
    EXPECT(ipcring_producer_send(tx_a, "3", 1), IPCRING_OK);
    EXPECT(ipcring_consumer_read(rx_a, &data, &len), IPCRING_OK);
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_consumer_release(rx_a), IPCRING_OK);
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0);
}

static void room_of_producers(ipcring_waitset_t *set) {
    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_PRODUCER_ROOM, tx_a, 100, 0},
        {IPCRING_MEMBER_CONSUMER, rx_b, 0, 0},
    };
    uint8_t ready[2];
    size_t count;
    char big[1000] = {0};

    /* An empty ring has room. */
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 1 && ready[1] == 0);
    /* Filled up, it has none, until the consumer takes a message. */
    while (ipcring_producer_try_send(tx_a, big, sizeof big) == IPCRING_OK) {
    }
    m[0].room = sizeof big;
    EXPECT(ipcring_waitset_wait(set, m, 2, 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[0] == 0);
    size_t len;
    EXPECT(ipcring_consumer_try_recv(rx_a, big, sizeof big, &len), IPCRING_OK);
    EXPECT(ipcring_waitset_wait(set, m, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 1);
    EXPECT(ipcring_producer_try_send(tx_a, big, sizeof big), IPCRING_OK);
    /* A length the ring never takes is ready at once, full or not: the send fails at
     * once. */
    static char huge[2000];
    m[0].room = sizeof huge;
    EXPECT(ipcring_waitset_wait(set, m, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 1);
    EXPECT(ipcring_producer_try_send(tx_a, huge, sizeof huge), IPCRING_ERR_TOO_LARGE);
    /* A reservation pending: refused, as every other call but commit/abort/close. */
    while (ipcring_consumer_try_recv(rx_a, big, sizeof big, &len) == IPCRING_OK) {
    }
    void *slot;
    m[0].room = 8;
    EXPECT(ipcring_producer_reserve(tx_a, 8, &slot), IPCRING_OK);
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_producer_abort(tx_a), IPCRING_OK);
}

/* One member of every kind, in one set. */
static void every_kind(ipcring_waitset_t *set) {
    ipcring_mpmc_options_t mo;
    ipcring_mpmc_options_init(&mo);
    mo.capacity = 4;
    mo.slot_size = 16;
    mo.producers = 1;
    mo.consumers = 1;
    ipcring_broadcast_options_t bo;
    ipcring_broadcast_options_init(&bo);
    bo.capacity = 4;
    bo.slot_size = 16;
    bo.publishers = 1;
    bo.max_subscribers = 1;
    char queue[200], topic[200];
    snprintf(queue, sizeof queue, "%s", ring("queue"));
    snprintf(topic, sizeof topic, "%s", ring("topic"));
    ipcring_mpmc_producer_t *mtx = NULL;
    ipcring_mpmc_consumer_t *mrx = NULL;
    ipcring_pub_t *ptx = NULL;
    ipcring_sub_t *srx = NULL;
    EXPECT(ipcring_mpmc_producer_create(queue, &mo, &mtx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_open(queue, NULL, &mrx), IPCRING_OK);
    EXPECT(ipcring_pub_create(topic, &bo, &ptx), IPCRING_OK);
    EXPECT(ipcring_sub_open(topic, NULL, &srx), IPCRING_OK);

    enum { RX_A, TX_B, MRX, MTX, SRX, PTX, N };
    ipcring_member_t m[N] = {
        [RX_A] = {IPCRING_MEMBER_CONSUMER, rx_a, 0, 0},
        [TX_B] = {IPCRING_MEMBER_PRODUCER_ROOM, tx_b, 8, 0},
        [MRX] = {IPCRING_MEMBER_MPMC_CONSUMER, mrx, 0, 0},
        [MTX] = {IPCRING_MEMBER_MPMC_PRODUCER_ROOM, mtx, 8, 0},
        [SRX] = {IPCRING_MEMBER_SUB, srx, 0, 0},
        [PTX] = {IPCRING_MEMBER_PUB_ROOM, ptx, 8, 0},
    };
    uint8_t ready[N];
    size_t count;
    /* The senders have room, the receivers nothing. */
    EXPECT(ipcring_waitset_poll(set, m, N, ready, &count), IPCRING_OK);
    CHECK(count == 3 && ready[TX_B] && ready[MTX] && ready[PTX]);
    CHECK(!ready[RX_A] && !ready[MRX] && !ready[SRX]);
    /* Only the receivers, then a message on each. */
    EXPECT(ipcring_waitset_wait(set, m + MRX, 1, 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 0);
    EXPECT(ipcring_mpmc_producer_send(mtx, "job", 3), IPCRING_OK);
    EXPECT(ipcring_pub_send(ptx, "news", 4), IPCRING_OK);
    ipcring_member_t rx[2] = {m[MRX], m[SRX]};
    EXPECT(ipcring_waitset_wait(set, rx, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 2 && ready[0] && ready[1]);
    char buf[16];
    size_t len;
    EXPECT(ipcring_mpmc_consumer_try_recv(mrx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 3 && memcmp(buf, "job", 3) == 0);
    EXPECT(ipcring_sub_try_recv(srx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "news", 4) == 0);
    /* Every handle under every kind that is not its own. (Every handle starts with its
     * magic number, so the check reads within whatever handle it is given.) */
    for (size_t h = 0; h < N; h++) {
        for (unsigned kind = IPCRING_MEMBER_CONSUMER; kind <= IPCRING_MEMBER_BOARD_CHANGED;
             kind++) {
            if (kind == m[h].kind) {
                continue;
            }
            ipcring_member_t wrong[2] = {{kind, m[h].handle, 8, 0}, m[h == RX_A ? MRX : RX_A]};
            EXPECT(ipcring_waitset_poll(set, wrong, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
            EXPECT(ipcring_waitset_wait(set, wrong, 2, -1, ready, &count),
                   IPCRING_ERR_BAD_HANDLE);
            EXPECT(ipcring_waitset_arm(set, wrong, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
        }
    }

    /* A receiver whose senders left is ready: its receive reports it. */
    EXPECT(ipcring_mpmc_producer_close(&mtx), IPCRING_OK);
    EXPECT(ipcring_waitset_wait(set, rx, 1, -1, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0]);
    EXPECT(ipcring_mpmc_consumer_try_recv(mrx, buf, sizeof buf, &len), IPCRING_ERR_DISCONNECTED);

    EXPECT(ipcring_mpmc_consumer_close(&mrx), IPCRING_OK);
    EXPECT(ipcring_pub_close(&ptx), IPCRING_OK);
    EXPECT(ipcring_sub_close(&srx), IPCRING_OK);
    EXPECT(ipcring_unlink(queue), IPCRING_OK);
    EXPECT(ipcring_unlink(topic), IPCRING_OK);
}

/* The descriptor: readable after arm once a member may be ready, not before. */
static void descriptor_and_arm(ipcring_waitset_t *set) {
    int fd = -1, again = -2;
    EXPECT(ipcring_waitset_fd(set, &fd), IPCRING_OK);
    EXPECT(ipcring_waitset_fd(set, &again), IPCRING_OK);
    CHECK(fd >= 0 && fd == again);

    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_CONSUMER, rx_a, 0, 0},
        {IPCRING_MEMBER_CONSUMER, rx_b, 0, 0},
    };
    uint8_t ready[2];
    size_t count = 99;
    struct pollfd p = {fd, POLLIN, 0};
    EXPECT(ipcring_waitset_arm(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0);
    CHECK(poll(&p, 1, 0) == 0);
    EXPECT(ipcring_producer_send(tx_b, "wake", 4), IPCRING_OK);
    /* Readable soon (not necessarily at once: the helper thread tells it). */
    CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN));
    EXPECT(ipcring_waitset_arm(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 0 && ready[1] == 1);
    char buf[16];
    size_t len;
    EXPECT(ipcring_consumer_try_recv(rx_b, buf, sizeof buf, &len), IPCRING_OK);
    /* Nothing more: armed again. A descriptor made readable by the liveness look
     * (every 50 ms) reports nothing ready, and arms again. */
    EXPECT(ipcring_waitset_arm(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0);
    int readable = poll(&p, 1, 200);
    CHECK(readable >= 0);
    EXPECT(ipcring_waitset_arm(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: waitset_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    open_pairs();
    null_pointers_and_bad_handles();
    ipcring_waitset_t *set = NULL;
    EXPECT(ipcring_waitset_new(&set), IPCRING_OK);
    wrong_kinds_and_duplicates(set);
    timeouts_and_polls(set);
    room_of_producers(set);
    every_kind(set);
    descriptor_and_arm(set);
    EXPECT(ipcring_waitset_close(&set), IPCRING_OK);
    close_pairs();
    return report("waitset_input");
}
