/* Anonymous rings from C: memfds made by ipcring_memfd_create, rings created in them with
 * the _create_fd calls and opened with the _open_fd calls of every kind, descriptors
 * passed over unix sockets (ipcring_fd_send, ipcring_fd_recv) to a forked child, seals
 * that hold against ftruncate, and the descriptors refused: closed, negative, empty,
 * never sealed, not a memfd. Names no ring: leaves nothing in /dev/shm.
 *
 *     fd_input PREFIX
 */
#define _GNU_SOURCE
#include "check.h"
#include "stream.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Messages of the queue between parent and child. */
#define MESSAGES 5000
/* Waits at most this long for any one message. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

/* A new memfd labelled PREFIX-label, or -1 (counted as a failure). */
static int memfd(const char *label) {
    int fd = -1;
    EXPECT(ipcring_memfd_create(ring(label), 0, &fd), IPCRING_OK);
    return fd;
}

/* Sends `fd` to ourselves over a socket pair; returns the descriptor that arrives. */
static int passed(int fd) {
    int sv[2], got = -1;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    EXPECT(ipcring_fd_send(sv[0], fd), IPCRING_OK);
    EXPECT(ipcring_fd_recv(sv[1], &got), IPCRING_OK);
    CHECK(got >= 0 && got != fd);
    close(sv[0]);
    close(sv[1]);
    return got;
}

/* Once sealed by its creator, a ring's memfd cannot shrink or grow; a second create finds
 * the ring; the handles need not the caller's descriptor once made. */
static void seals_hold(void) {
    int fd = memfd("sealed");
    ipcring_options_t o;
    ipcring_options_init(&o);
    o.capacity = 4096;
    ipcring_producer_t *tx = NULL;
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_producer_create_fd(fd, &o, &tx), IPCRING_OK);
    errno = 0;
    CHECK(ftruncate(fd, 0) == -1 && errno == EPERM);
    errno = 0;
    CHECK(ftruncate(fd, 1 << 20) == -1 && errno == EPERM);
    EXPECT(ipcring_consumer_create_fd(fd, &o, &rx), IPCRING_ERR_EXISTS);
    CHECK(rx == NULL);
    int other = passed(fd);
    EXPECT(ipcring_consumer_open_fd(other, NULL, &rx), IPCRING_OK);
    close(fd);
    close(other);
    EXPECT(ipcring_producer_send(tx, "sealed", 6), IPCRING_OK);
    char buf[8];
    size_t len = 0;
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 6 && memcmp(buf, "sealed", 6) == 0);
    EXPECT(ipcring_producer_close(&tx), IPCRING_OK);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);
}

/* What an _fd call refuses, with a status that says why. */
static void untrusted_descriptors(void) {
    ipcring_consumer_t *rx = NULL;
    ipcring_producer_t *tx = NULL;
    int fd = memfd("unsealed");
    EXPECT(ipcring_consumer_open_fd(fd, NULL, &rx), IPCRING_ERR_NOT_FOUND);
    /* Sized, never sealed: the opener waits for a creator to seal it, then refuses. */
    CHECK(ftruncate(fd, 65536) == 0);
    double t0 = now_ms();
    EXPECT(ipcring_consumer_open_fd(fd, NULL, &rx), IPCRING_ERR_UNTRUSTED);
    CHECK(now_ms() - t0 >= 1000);
    CHECK(rx == NULL);
    EXPECT(ipcring_producer_create_fd(fd, NULL, &tx), IPCRING_ERR_EXISTS);
    close(fd);
    /* `fd` is closed now. */
    EXPECT(ipcring_consumer_open_fd(fd, NULL, &rx), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_producer_create_fd(fd, NULL, &tx), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_consumer_open_fd(-1, NULL, &rx), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_consumer_open_fd(fd, NULL, NULL), IPCRING_ERR_NULL_POINTER);
    CHECK(rx == NULL && tx == NULL);
    int p[2];
    CHECK(pipe(p) == 0);
    EXPECT(ipcring_consumer_open_fd(p[0], NULL, &rx), IPCRING_ERR_UNTRUSTED);
    close(p[0]);
    close(p[1]);

    int got = 7;
    EXPECT(ipcring_memfd_create(NULL, 0, &got), IPCRING_ERR_NULL_POINTER);
    CHECK(got == -1);
    EXPECT(ipcring_memfd_create("x", 0, NULL), IPCRING_ERR_NULL_POINTER);
    char label[300];
    memset(label, 'l', sizeof label - 1);
    label[sizeof label - 1] = '\0';
    EXPECT(ipcring_memfd_create(label, 0, &got), IPCRING_ERR_INVALID_NAME);
}

/* The socket calls' statuses. */
static void socket_errors(void) {
    int sv[2], got = 7;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    EXPECT(ipcring_fd_send(sv[0], -1), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_fd_send(-1, sv[0]), IPCRING_ERR_INVALID_ARGUMENT);
    EXPECT(ipcring_fd_recv(sv[1], NULL), IPCRING_ERR_NULL_POINTER);
    /* A byte without a descriptor is no ring's message. */
    CHECK(write(sv[0], "x", 1) == 1);
    EXPECT(ipcring_fd_recv(sv[1], &got), IPCRING_ERR_NOT_IPCRING);
    CHECK(got == -1);
    close(sv[0]);
    EXPECT(ipcring_fd_recv(sv[1], &got), IPCRING_ERR_DISCONNECTED);
    int fd = memfd("orphan");
    EXPECT(ipcring_fd_send(sv[1], fd), IPCRING_ERR_DISCONNECTED);
    close(fd);
    close(sv[1]);
    int p[2];
    CHECK(pipe(p) == 0);
    EXPECT(ipcring_fd_recv(p[0], &got), IPCRING_ERR_INVALID_ARGUMENT);
    close(p[0]);
    close(p[1]);
}

/* Makes the handles `a` (of the calls `a_calls`_create_fd/_open_fd) and `b` of one ring:
 * way 0 creates `a` in a new memfd and opens `b` on a passed copy of it, way 1 the other
 * way round; then closes both descriptors, which the handles do not need. */
#define ATTACH(way, opts, a_calls, a, b_calls, b)                                            \
    do {                                                                                      \
        int fd_ = memfd(#a_calls), other_;                                                    \
        if ((way) == 0) {                                                                     \
            EXPECT(a_calls##_create_fd(fd_, opts, &(a)), IPCRING_OK);                          \
            other_ = passed(fd_);                                                             \
            EXPECT(b_calls##_open_fd(other_, NULL, &(b)), IPCRING_OK);                         \
        } else {                                                                              \
            EXPECT(b_calls##_create_fd(fd_, opts, &(b)), IPCRING_OK);                          \
            other_ = passed(fd_);                                                             \
            EXPECT(a_calls##_open_fd(other_, NULL, &(a)), IPCRING_OK);                         \
        }                                                                                     \
        close(fd_);                                                                           \
        close(other_);                                                                        \
    } while (0)

/* Every kind, each role created in a memfd and the other opened on a passed copy of it,
 * both ways round. */
static void every_kind(void) {
    const char msg[] = "anon";
    char buf[16];
    size_t len = 0;
    ipcring_mpmc_options_t mo;
    ipcring_mpmc_options_init(&mo);
    mo.capacity = 8;
    mo.slot_size = 16;
    ipcring_broadcast_options_t bo;
    ipcring_broadcast_options_init(&bo);
    bo.capacity = 8;
    bo.slot_size = 16;
    for (int way = 0; way < 2; way++) {
        ipcring_mpmc_producer_t *mtx = NULL;
        ipcring_mpmc_consumer_t *mrx = NULL;
        ATTACH(way, &mo, ipcring_mpmc_producer, mtx, ipcring_mpmc_consumer, mrx);
        EXPECT(ipcring_mpmc_producer_send(mtx, msg, sizeof msg), IPCRING_OK);
        EXPECT(ipcring_mpmc_consumer_recv(mrx, buf, sizeof buf, &len), IPCRING_OK);
        CHECK(len == sizeof msg && memcmp(buf, msg, len) == 0);
        EXPECT(ipcring_mpmc_producer_close(&mtx), IPCRING_OK);
        EXPECT(ipcring_mpmc_consumer_close(&mrx), IPCRING_OK);

        ipcring_pub_t *ptx = NULL;
        ipcring_sub_t *srx = NULL;
        ATTACH(way, &bo, ipcring_pub, ptx, ipcring_sub, srx);
        EXPECT(ipcring_pub_send(ptx, msg, sizeof msg), IPCRING_OK);
        EXPECT(ipcring_sub_recv(srx, buf, sizeof buf, &len), IPCRING_OK);
        CHECK(len == sizeof msg && memcmp(buf, msg, len) == 0);
        EXPECT(ipcring_pub_close(&ptx), IPCRING_OK);
        EXPECT(ipcring_sub_close(&srx), IPCRING_OK);

        ipcring_notifier_t *n = NULL;
        ipcring_listener_t *l = NULL;
        ATTACH(way, NULL, ipcring_notifier, n, ipcring_listener, l);
        EXPECT(ipcring_notify(n, 3), IPCRING_OK);
        uint32_t ids[4];
        uint64_t counts[4];
        ipcring_departure_t deps[2];
        ipcring_fired_t r = {
            .ids = ids, .counts = counts, .cap = 4, .departures = deps, .dcap = 2};
        EXPECT(ipcring_listener_wait_timeout(l, TIMEOUT_NS, &r), IPCRING_OK);
        CHECK(r.len == 1 && ids[0] == 3 && counts[0] == 1);
        EXPECT(ipcring_notifier_close(&n), IPCRING_OK);
        EXPECT(ipcring_listener_close(&l), IPCRING_OK);
    }

    int fd = memfd("board");
    ipcring_board_entry_t entries[1] = {{.key = "k", .max_size = 16}};
    ipcring_board_options_t o;
    ipcring_board_options_init(&o);
    o.entries = entries;
    o.n_entries = 1;
    o.writers = 2;
    ipcring_board_writer_t *w = NULL, *w2 = NULL;
    ipcring_board_reader_t *r = NULL;
    EXPECT(ipcring_board_writer_create_fd(fd, &o, &w), IPCRING_OK);
    int other = passed(fd);
    EXPECT(ipcring_board_writer_open_fd(other, NULL, &w2), IPCRING_OK);
    EXPECT(ipcring_board_reader_open_fd(other, NULL, &r), IPCRING_OK);
    uint64_t set = 0, got = 0;
    EXPECT(ipcring_board_set(w2, 0, msg, sizeof msg, &set), IPCRING_OK);
    EXPECT(ipcring_board_get(r, 0, buf, sizeof buf, &len, &got), IPCRING_OK);
    CHECK(len == sizeof msg && memcmp(buf, msg, len) == 0 && got == set && set > 0);
    EXPECT(ipcring_board_writer_close(&w), IPCRING_OK);
    EXPECT(ipcring_board_writer_close(&w2), IPCRING_OK);
    EXPECT(ipcring_board_reader_close(&r), IPCRING_OK);
    close(fd);
    close(other);
}

/* The child of handed_to_a_child: receives the queue's descriptor on `sock`, checks
 * MESSAGES messages of the checked stream; returns the exit status. */
static int child_receives(int sock) {
    int fd = -1;
    ipcring_mpmc_consumer_t *rx = NULL;
    if (ipcring_fd_recv(sock, &fd) != IPCRING_OK) return 3;
    if (ipcring_mpmc_consumer_open_fd(fd, NULL, &rx) != IPCRING_OK) return 4;
    close(fd);
    uint8_t buf[256];
    for (uint64_t i = 0; i < MESSAGES; i++) {
        size_t len = 0;
        if (ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, TIMEOUT_NS) !=
            IPCRING_OK)
            return 5;
        if (len != stream_len(i, sizeof buf) || stream_check(i, buf, len) != len) return 6;
    }
    size_t len = 0;
    int rc = ipcring_mpmc_consumer_recv_timeout(rx, buf, sizeof buf, &len, TIMEOUT_NS);
    ipcring_mpmc_consumer_close(&rx);
    return rc == IPCRING_ERR_DISCONNECTED ? 0 : 7;
}

/* A queue created in a memfd, its descriptor sent to a forked child over a socket pair:
 * every byte arrives. */
static void handed_to_a_child(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(child_receives(sv[1]));
    }
    CHECK(pid > 0);
    close(sv[1]);
    int fd = memfd("queue");
    ipcring_mpmc_options_t o;
    ipcring_mpmc_options_init(&o);
    o.capacity = 64;
    ipcring_mpmc_producer_t *tx = NULL;
    EXPECT(ipcring_mpmc_producer_create_fd(fd, &o, &tx), IPCRING_OK);
    EXPECT(ipcring_fd_send(sv[0], fd), IPCRING_OK);
    close(fd);
    close(sv[0]);
    uint8_t buf[256];
    for (uint64_t i = 0; i < MESSAGES && tx != NULL; i++) {
        size_t len = stream_len(i, sizeof buf);
        stream_fill(i, buf, len);
        EXPECT(ipcring_mpmc_producer_send_timeout(tx, buf, len, TIMEOUT_NS), IPCRING_OK);
    }
    EXPECT(ipcring_mpmc_producer_close(&tx), IPCRING_OK);
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fd_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    seals_hold();
    untrusted_descriptors();
    socket_errors();
    every_kind();
    handed_to_a_child();
    return report("fd_input");
}
