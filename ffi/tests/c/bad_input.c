/* Bad input from C gets a status code, never a crash; and the status codes and grant
 * rules of the SPSC API hold (mpmc_input.c does the same for MPMC queues). Run by
 * ffi/tests/c.rs (and `make -C ffi test asan`):
 *
 *     bad_input PREFIX
 *
 * Every ring this program makes is named PREFIX-something and removed before it exits;
 * the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static ipcring_options_t small_ring(void) {
    ipcring_options_t o;
    ipcring_options_init(&o);
    o.capacity = 4096; /* messages up to 1024 bytes */
    return o;
}

static void null_pointers(void) {
    ipcring_options_t o = small_ring();
    ipcring_producer_t *tx = (ipcring_producer_t *)&o; /* garbage, to see it reset */
    EXPECT(ipcring_producer_create(NULL, &o, &tx), IPCRING_ERR_NULL_POINTER);
    CHECK(tx == NULL);
    EXPECT(ipcring_producer_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_consumer_open(NULL, NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_options_init(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_unlink(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_producer_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_consumer_close(NULL), IPCRING_ERR_NULL_POINTER);

    /* A NULL handle is a bad handle in every call. */
    char byte = 0;
    size_t len;
    const void *data;
    void *slot;
    ipcring_stats_t st;
    EXPECT(ipcring_producer_send(NULL, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_try_send(NULL, &byte, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_send_timeout(NULL, &byte, 1, 0), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_reserve(NULL, 1, &slot), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_commit(NULL, 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_abort(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_consumer_recv(NULL, &byte, 1, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_consumer_try_read(NULL, &data, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_consumer_release(NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_consumer_stats(NULL, &st), IPCRING_ERR_BAD_HANDLE);
}

static void invalid_names_and_options(void) {
    ipcring_options_t o = small_ring();
    ipcring_producer_t *tx = NULL;
    char long_name[400];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    EXPECT(ipcring_producer_create("", &o, &tx), IPCRING_ERR_INVALID_NAME);
    /* A name with a '/' is a path: here in a directory that does not exist. */
    EXPECT(ipcring_producer_create("no-such-dir/ring", &o, &tx), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_producer_create("caf\xc3", &o, &tx), IPCRING_ERR_INVALID_NAME); /* cut UTF-8 */
    EXPECT(ipcring_producer_create("\xff\xfe", &o, &tx), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_producer_create(long_name, &o, &tx), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_unlink("a/b"), IPCRING_ERR_INVALID_NAME);
    CHECK(tx == NULL);

    o.capacity = 1000; /* not a power of two */
    EXPECT(ipcring_producer_create(ring("cap"), &o, &tx), IPCRING_ERR_INVALID_CAPACITY);
    o.capacity = 32; /* too small */
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_consumer_open_or_create(ring("cap"), &o, &rx), IPCRING_ERR_INVALID_CAPACITY);
    CHECK(rx == NULL);
    o = small_ring();
    o.wait.kind = 7;
    EXPECT(ipcring_producer_create(ring("wait"), &o, &tx), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(tx == NULL);
    o = small_ring();
    o.mode = 0666; /* other users may get nothing */
    EXPECT(ipcring_producer_create(ring("mode"), &o, &tx), IPCRING_ERR_INVALID_ARGUMENT);
    o.mode = 0400; /* the owner needs read and write */
    EXPECT(ipcring_producer_create(ring("mode"), &o, &tx), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(tx == NULL);
    EXPECT(ipcring_unlink(ring("mode")), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_unlink(ring("never-made")), IPCRING_ERR_NOT_FOUND);
}

static void attach_rules(void) {
    ipcring_options_t o = small_ring();
    ipcring_producer_t *tx = NULL, *tx2 = NULL;
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_producer_open(ring("attach"), &o, &tx), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_producer_create(ring("attach"), &o, &tx), IPCRING_OK);
    EXPECT(ipcring_consumer_create(ring("attach"), &o, &rx), IPCRING_ERR_EXISTS);
    EXPECT(ipcring_producer_open(ring("attach"), NULL, &tx2), IPCRING_ERR_ROLE_TAKEN);
    CHECK(tx2 == NULL);
    EXPECT(ipcring_consumer_open(ring("attach"), NULL, &rx), IPCRING_OK);

    /* Closing sets the caller's pointer to NULL: using it again is detected. */
    EXPECT(ipcring_producer_close(&tx), IPCRING_OK);
    CHECK(tx == NULL);
    EXPECT(ipcring_producer_send(tx, "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_close(&tx), IPCRING_OK); /* a no-op, like free(NULL) */
    /* A handle of the other kind is refused by its magic number (best effort). */
    EXPECT(ipcring_producer_send((ipcring_producer_t *)rx, "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_close((ipcring_producer_t **)&rx), IPCRING_ERR_BAD_HANDLE);
    CHECK(rx != NULL);
    /* The producer left and sent nothing: the consumer is told so. */
    size_t len;
    EXPECT(ipcring_consumer_try_recv(rx, NULL, 0, &len), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("attach")), IPCRING_OK);
}

static void foreign_objects(void) {
    /* Objects in /dev/shm that are not ipcring rings. */
    char obj[256];
    snprintf(obj, sizeof obj, "/ipcring.%s", ring("foreign"));
    int fd = shm_open(obj, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0);
    if (fd < 0) return;
    char junk[8192];
    memset(junk, 'x', sizeof junk);
    CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk);
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_consumer_open(ring("foreign"), NULL, &rx), IPCRING_ERR_NOT_IPCRING);
    CHECK(ftruncate(fd, 16) == 0);
    EXPECT(ipcring_consumer_open(ring("foreign"), NULL, &rx), IPCRING_ERR_BAD_SEGMENT);
    /* Writable by every user: not used. */
    CHECK(fchmod(fd, 0666) == 0);
    EXPECT(ipcring_consumer_open(ring("foreign"), NULL, &rx), IPCRING_ERR_UNTRUSTED);
    CHECK(rx == NULL);
    close(fd);
    EXPECT(ipcring_unlink(ring("foreign")), IPCRING_OK);

    /* A symbolic link at the name: neither followed nor removed. */
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/ipcring.%s", ring("link"));
    CHECK(symlink("/dev/null", path) == 0);
    EXPECT(ipcring_consumer_open(ring("link"), NULL, &rx), IPCRING_ERR_UNTRUSTED);
    EXPECT(ipcring_unlink(ring("link")), IPCRING_ERR_UNTRUSTED);
    CHECK(rx == NULL);
    CHECK(unlink(path) == 0);
}

/* A producer and a consumer of a fresh 4 KiB ring. */
static int pair(const char *suffix, ipcring_producer_t **tx, ipcring_consumer_t **rx) {
    ipcring_options_t o = small_ring();
    int rc = ipcring_producer_create(ring(suffix), &o, tx);
    if (rc == IPCRING_OK) rc = ipcring_consumer_open(ring(suffix), &o, rx);
    EXPECT(rc, IPCRING_OK);
    return rc;
}

static void unpair(const char *suffix, ipcring_producer_t **tx, ipcring_consumer_t **rx) {
    EXPECT(ipcring_producer_close(tx), IPCRING_OK);
    EXPECT(ipcring_consumer_close(rx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring(suffix)), IPCRING_OK);
}

static void sizes_and_buffers(void) {
    ipcring_producer_t *tx = NULL;
    ipcring_consumer_t *rx = NULL;
    if (pair("sizes", &tx, &rx) != IPCRING_OK) return;
    ipcring_stats_t st;
    EXPECT(ipcring_producer_stats(tx, &st), IPCRING_OK);
    CHECK(st.capacity == 4096 && st.max_message == 1024);
    EXPECT(ipcring_producer_stats(tx, NULL), IPCRING_ERR_NULL_POINTER);

    static char big[2048];
    void *slot;
    EXPECT(ipcring_producer_send(tx, big, 1025), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_producer_try_send(tx, big, sizeof big), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_producer_reserve(tx, 1025, &slot), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_producer_send(tx, NULL, 5), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_producer_send(tx, NULL, 0), IPCRING_OK); /* an empty message */
    EXPECT(ipcring_producer_send(tx, "hello, ipcring", 14), IPCRING_OK);

    size_t len = 0;
    char buf[16];
    EXPECT(ipcring_consumer_recv(rx, NULL, 0, &len), IPCRING_OK);
    CHECK(len == 0);
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_consumer_recv(rx, NULL, 5, &len), IPCRING_ERR_NULL_POINTER);
    /* Too small a buffer: told the size, and the message stays. */
    EXPECT(ipcring_consumer_try_recv(rx, buf, 4, &len), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 14);
    EXPECT(ipcring_consumer_recv(rx, NULL, 0, &len), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 14);
    EXPECT(ipcring_consumer_recv_timeout(rx, buf, sizeof buf, &len, 1000000), IPCRING_OK);
    CHECK(len == 14 && memcmp(buf, "hello, ipcring", 14) == 0);

    /* Empty ring: try_* say so, timeouts pass. */
    const void *data;
    EXPECT(ipcring_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_consumer_try_read(rx, &data, &len), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_consumer_recv_timeout(rx, buf, sizeof buf, &len, 1000000), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_consumer_read_timeout(rx, &data, &len, 0), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_consumer_read(rx, NULL, &len), IPCRING_ERR_NULL_POINTER);

    /* Full ring: try_send says so and counts it, send_timeout gives up. */
    int sent = 0;
    while (ipcring_producer_try_send(tx, big, 1000) == IPCRING_OK) sent++;
    CHECK(sent >= 2 && sent <= 4);
    EXPECT(ipcring_producer_try_send(tx, big, 1000), IPCRING_ERR_FULL);
    EXPECT(ipcring_producer_try_reserve(tx, 1000, &slot), IPCRING_ERR_FULL);
    EXPECT(ipcring_producer_send_timeout(tx, big, 1000, 1000000), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_producer_stats(tx, &st), IPCRING_OK);
    CHECK(st.rejected == 3);
    CHECK(st.sent == (uint64_t)sent + 2);
    unpair("sizes", &tx, &rx);
}

static void grants(void) {
    ipcring_producer_t *tx = NULL;
    ipcring_consumer_t *rx = NULL;
    if (pair("grants", &tx, &rx) != IPCRING_OK) return;
    void *slot = NULL;
    ipcring_stats_t st;
    ipcring_wait_t busy = {IPCRING_WAIT_BUSY_SPIN, 0, 0};
    EXPECT(ipcring_producer_commit(tx, 0), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_producer_abort(tx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_producer_reserve(tx, 8, NULL), IPCRING_ERR_NULL_POINTER);

    /* While a reservation is pending, only commit, abort and close are allowed. */
    EXPECT(ipcring_producer_reserve(tx, 8, &slot), IPCRING_OK);
    CHECK(slot != NULL);
    memcpy(slot, "aborted!", 8);
    EXPECT(ipcring_producer_send(tx, "x", 1), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_producer_try_reserve(tx, 8, &slot), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_producer_stats(tx, &st), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_producer_set_wait(tx, &busy), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_producer_abort(tx), IPCRING_OK);
    size_t len;
    EXPECT(ipcring_consumer_try_recv(rx, NULL, 0, &len), IPCRING_ERR_EMPTY);

    EXPECT(ipcring_producer_reserve(tx, 8, &slot), IPCRING_OK);
    memcpy(slot, "commit", 6);
    EXPECT(ipcring_producer_commit(tx, 9), IPCRING_ERR_INVALID_ARGUMENT); /* still pending */
    EXPECT(ipcring_producer_commit(tx, 6), IPCRING_OK);
    EXPECT(ipcring_producer_commit(tx, 6), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_producer_send(tx, "second", 6), IPCRING_OK);
    EXPECT(ipcring_producer_send(tx, "third", 5), IPCRING_OK);

    /* While a read is lent, only release and close are allowed. */
    const void *data = NULL;
    char buf[16];
    EXPECT(ipcring_consumer_release(rx), IPCRING_ERR_NO_GRANT);
    EXPECT(ipcring_consumer_read(rx, &data, &len), IPCRING_OK);
    CHECK(len == 6 && memcmp(data, "commit", 6) == 0);
    EXPECT(ipcring_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_consumer_try_read(rx, &data, &len), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_consumer_stats(rx, &st), IPCRING_ERR_GRANT_PENDING);
    EXPECT(ipcring_consumer_release(rx), IPCRING_OK);
    EXPECT(ipcring_consumer_release(rx), IPCRING_ERR_NO_GRANT);

    /* Closing with a read lent releases it; closing with a reservation aborts it. */
    EXPECT(ipcring_consumer_read(rx, &data, &len), IPCRING_OK);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_producer_reserve(tx, 8, &slot), IPCRING_OK);
    memcpy(slot, "dropped!", 8);
    EXPECT(ipcring_producer_close(&tx), IPCRING_OK);
    EXPECT(ipcring_consumer_open(ring("grants"), NULL, &rx), IPCRING_OK);
    EXPECT(ipcring_consumer_set_wait(rx, &busy), IPCRING_OK);
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(buf, "third", 5) == 0);
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_consumer_stats(rx, &st), IPCRING_OK);
    CHECK(st.sent == 3 && st.received == 3);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("grants")), IPCRING_OK);
}

/* What the callback of a batch read saw. */
struct seen {
    size_t n, bytes;
    char last[8];
};

static void see(void *ctx, const void *data, size_t len) {
    struct seen *s = ctx;
    s->n++;
    s->bytes += len;
    if (len <= sizeof s->last) memcpy(s->last, data, len);
}

static void batches_and_waits(void) {
    ipcring_producer_t *tx = NULL;
    ipcring_consumer_t *rx = NULL;
    if (pair("batch", &tx, &rx) != IPCRING_OK) return;
    static char big[1100];
    size_t sent = 99, len;
    ipcring_buf_t msgs[4] = {{"one", 3}, {NULL, 0}, {big, sizeof big}, {"four", 4}};
    EXPECT(ipcring_producer_try_send_batch(tx, msgs, 4, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_producer_try_send_batch(tx, NULL, 1, &sent), IPCRING_ERR_NULL_POINTER);
    ipcring_buf_t null_data = {NULL, 1};
    EXPECT(ipcring_producer_try_send_batch(tx, &null_data, 1, &sent), IPCRING_ERR_NULL_POINTER);
    CHECK(sent == 0);
    /* The messages before the one too large go out, and are counted. */
    EXPECT(ipcring_producer_try_send_batch(tx, msgs, 4, &sent), IPCRING_ERR_TOO_LARGE);
    CHECK(sent == 2);
    EXPECT(ipcring_producer_try_send_batch(tx, msgs + 3, 1, &sent), IPCRING_OK);
    CHECK(sent == 1);
    char buf[8];
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 3 && memcmp(buf, "one", 3) == 0);
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 0);
    EXPECT(ipcring_consumer_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "four", 4) == 0);

    /* Batch reads: in place, in order, released together; max 0 is 1. */
    struct seen seen = {0, 0, {0}};
    size_t count = 99;
    EXPECT(ipcring_consumer_try_read_batch(rx, 8, see, &seen, &count), IPCRING_ERR_EMPTY);
    EXPECT(ipcring_consumer_try_read_batch(rx, 8, NULL, &seen, &count), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_consumer_try_read_batch(rx, 8, see, &seen, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_consumer_read_batch(NULL, 8, see, &seen, &count), IPCRING_ERR_BAD_HANDLE);
    CHECK(seen.n == 0 && count == 99);
    const char *words[5] = {"a", "bb", "ccc", "dddd", "eeeee"};
    for (int i = 0; i < 5; i++) EXPECT(ipcring_producer_send(tx, words[i], strlen(words[i])), IPCRING_OK);
    EXPECT(ipcring_consumer_read_batch(rx, 0, see, &seen, &count), IPCRING_OK);
    CHECK(count == 1 && seen.n == 1 && seen.bytes == 1 && seen.last[0] == 'a');
    EXPECT(ipcring_consumer_read_batch(rx, 2, see, &seen, &count), IPCRING_OK);
    CHECK(count == 2 && seen.n == 3 && seen.bytes == 6 && memcmp(seen.last, "ccc", 3) == 0);
    EXPECT(ipcring_consumer_try_read_batch(rx, 100, see, &seen, &count), IPCRING_OK);
    CHECK(count == 2 && seen.n == 5 && seen.bytes == 15 && memcmp(seen.last, "eeeee", 5) == 0);
    ipcring_stats_t st;
    EXPECT(ipcring_consumer_stats(rx, &st), IPCRING_OK);
    CHECK(st.received == 8);

    ipcring_wait_t w = {IPCRING_WAIT_PARK, 0, 0};
    EXPECT(ipcring_producer_set_wait(tx, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_producer_set_wait(tx, &w), IPCRING_OK);
    EXPECT(ipcring_consumer_set_wait(rx, &w), IPCRING_OK);
    EXPECT(ipcring_consumer_recv_timeout(rx, buf, sizeof buf, &len, 2000000), IPCRING_ERR_TIMEOUT);
    w.kind = 3;
    EXPECT(ipcring_consumer_set_wait(rx, &w), IPCRING_ERR_INVALID_ARGUMENT);
    unpair("batch", &tx, &rx);
}

static void words_and_versions(void) {
    /* Every code has its own sentence; unknown codes get one too. */
    for (int a = IPCRING_OK; a <= IPCRING_ERR_NO_HUGE_PAGES; a++) {
        CHECK(ipcring_strerror(a) != NULL && strlen(ipcring_strerror(a)) > 0);
        for (int b = IPCRING_OK; b < a; b++) CHECK(strcmp(ipcring_strerror(a), ipcring_strerror(b)) != 0);
    }
    CHECK(strstr(ipcring_strerror(-1), "unknown") != NULL);
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_NO_HUGE_PAGES + 1), "unknown") != NULL);
    ipcring_version_t v = ipcring_version();
    CHECK(v.major == IPCRING_VERSION_MAJOR && v.minor == IPCRING_VERSION_MINOR &&
          v.patch == IPCRING_VERSION_PATCH);
    CHECK(v.abi_major == IPCRING_ABI_MAJOR && v.abi_minor == IPCRING_ABI_MINOR);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bad_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    null_pointers();
    invalid_names_and_options();
    attach_rules();
    foreign_objects();
    sizes_and_buffers();
    grants();
    batches_and_waits();
    words_and_versions();
    return report("bad_input");
}
