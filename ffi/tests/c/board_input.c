/* Bad input to the blackboard API from C gets a status code, never a crash; and the
 * statuses of blackboards hold: unset entries, versions, small buffers, waits for a
 * change that time out or see a writer in another process, writer slots, wait set
 * members. Run by ffi/tests/c.rs (and `make -C ffi test asan`):
 *
 *     board_input PREFIX
 *
 * Every board this program makes is named PREFIX-something and removed before it exits;
 * the Rust test removes leftovers of a failed run by the prefix. */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The entries of the test board: a keyed price of 8 bytes, a keyed config of up to 64
 * bytes, and one of up to 16 bytes without a key. */
enum { PRICE, CONFIG, PLAIN, ENTRIES };
static const ipcring_board_entry_t entries[ENTRIES] = {
    [PRICE] = {"price", 8},
    [CONFIG] = {"config", 64},
    [PLAIN] = {NULL, 16},
};

static ipcring_board_options_t board_options(size_t writers) {
    ipcring_board_options_t o;
    ipcring_board_options_init(&o);
    o.entries = entries;
    o.n_entries = ENTRIES;
    o.writers = writers;
    return o;
}

static void null_pointers_and_handles(void) {
    ipcring_board_options_t o = board_options(1);
    ipcring_board_writer_t *w = (ipcring_board_writer_t *)&o; /* garbage, to see it reset */
    ipcring_board_reader_t *r = (ipcring_board_reader_t *)&o;
    EXPECT(ipcring_board_options_init(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_writer_create(NULL, &o, &w), IPCRING_ERR_NULL_POINTER);
    CHECK(w == NULL);
    EXPECT(ipcring_board_reader_open(NULL, NULL, &r), IPCRING_ERR_NULL_POINTER);
    CHECK(r == NULL);
    EXPECT(ipcring_board_writer_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_writer_open(ring("null"), NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_writer_open_or_create(ring("null"), &o, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_reader_open(ring("null"), NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_writer_close(NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_reader_close(NULL), IPCRING_ERR_NULL_POINTER);
    /* Closing a NULL handle is a no-op, like free(NULL). */
    EXPECT(ipcring_board_writer_close(&w), IPCRING_OK);
    EXPECT(ipcring_board_reader_close(&r), IPCRING_OK);

    /* A NULL handle is a bad handle in every call. */
    char buf[8];
    size_t len, index;
    uint64_t version;
    EXPECT(ipcring_board_set(NULL, 0, "x", 1, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_get(NULL, 0, buf, sizeof buf, &len, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_try_get(NULL, 0, buf, sizeof buf, &len, &version),
           IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_version(NULL, 0, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_wait_changed(NULL, 0, 0, 0, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_key(NULL, "price", &index), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_entries(NULL, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_max_size(NULL, 0, &len), IPCRING_ERR_BAD_HANDLE);
}

static void options_out_of_range(void) {
    ipcring_board_writer_t *w = NULL;
    ipcring_board_options_t o = board_options(1);
    EXPECT(ipcring_board_writer_create("", &o, &w), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_board_writer_create("no-such-dir/board", &o, &w), IPCRING_ERR_NOT_FOUND);
    /* A board needs entries: the defaults have none, and NULL options are the defaults. */
    EXPECT(ipcring_board_writer_create(ring("opts"), NULL, &w), IPCRING_ERR_INVALID_GEOMETRY);
    o.n_entries = 0;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    o = board_options(1);
    o.entries = NULL;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_NULL_POINTER);
    /* Too many entries: refused before the array is read (it has 3). */
    o = board_options(1);
    o.n_entries = IPCRING_BOARD_MAX_ENTRIES + 1;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);

    ipcring_board_entry_t e[2] = {{"a", 8}, {"b", 8}};
    o = board_options(1);
    o.entries = e;
    o.n_entries = 2;
    e[1].max_size = 0;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    e[1].max_size = IPCRING_BOARD_MAX_VALUE_SIZE + 1;
    EXPECT(ipcring_board_writer_open_or_create(ring("opts"), &o, &w),
           IPCRING_ERR_INVALID_GEOMETRY);
    e[1].max_size = 8;
    e[1].key = "a"; /* a key twice */
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    e[1].key = "0123456789abcdef0123456789abcdef!"; /* 33 bytes */
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    e[1].key = "\xff\xfe"; /* not UTF-8 */
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    e[1].key = "";       /* no key, as NULL */
    o.writers = 0;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    o.writers = IPCRING_MPMC_MAX_ROLE_SLOTS + 1;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_GEOMETRY);
    o.writers = 1;
    o.wait.kind = 9;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_ARGUMENT);
    o.wait.kind = IPCRING_WAIT_PARK;
    o.mode = 0666;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_ERR_INVALID_ARGUMENT);
    CHECK(w == NULL);

    /* Nothing was made: there is nothing to open or remove. */
    ipcring_board_reader_t *r = NULL;
    EXPECT(ipcring_board_writer_open(ring("opts"), NULL, &w), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_board_reader_open(ring("opts"), NULL, &r), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_unlink(ring("opts")), IPCRING_ERR_NOT_FOUND);

    /* The two entries, right at last, of which the second has no key. */
    o.mode = 0600;
    EXPECT(ipcring_board_writer_create(ring("opts"), &o, &w), IPCRING_OK);
    size_t n = 0, index = 9;
    EXPECT(ipcring_board_entries(w, &n), IPCRING_OK);
    CHECK(n == 2);
    EXPECT(ipcring_board_key(w, "a", &index), IPCRING_OK);
    CHECK(index == 0);
    EXPECT(ipcring_board_key(w, "", &index), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_writer_close(&w), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("opts")), IPCRING_OK);
}

static void slots_and_kinds(void) {
    ipcring_board_options_t o = board_options(1);
    ipcring_board_writer_t *w[2] = {NULL, NULL};
    ipcring_board_reader_t *r[2] = {NULL, NULL};
    EXPECT(ipcring_board_writer_create(ring("slots"), &o, &w[0]), IPCRING_OK);
    EXPECT(ipcring_board_writer_create(ring("slots"), &o, &w[1]), IPCRING_ERR_EXISTS);
    /* One writer slot: a second writer is refused; readers take no slot. */
    EXPECT(ipcring_board_writer_open(ring("slots"), NULL, &w[1]), IPCRING_ERR_ROLE_TAKEN);
    EXPECT(ipcring_board_writer_open_or_create(ring("slots"), &o, &w[1]), IPCRING_ERR_ROLE_TAKEN);
    CHECK(w[1] == NULL);
    EXPECT(ipcring_board_reader_open(ring("slots"), NULL, &r[0]), IPCRING_OK);
    EXPECT(ipcring_board_reader_open(ring("slots"), NULL, &r[1]), IPCRING_OK);
    /* A closed writer's slot is free again. */
    EXPECT(ipcring_board_writer_close(&w[0]), IPCRING_OK);
    CHECK(w[0] == NULL);
    EXPECT(ipcring_board_writer_open(ring("slots"), NULL, &w[0]), IPCRING_OK);

    /* Segments of another kind are refused, both ways. */
    ipcring_mpmc_consumer_t *mrx = NULL;
    EXPECT(ipcring_mpmc_consumer_open(ring("slots"), NULL, &mrx), IPCRING_ERR_NOT_IPCRING);
    ipcring_options_t so;
    ipcring_options_init(&so);
    so.capacity = 4096;
    ipcring_producer_t *spsc = NULL;
    EXPECT(ipcring_producer_create(ring("spsc"), &so, &spsc), IPCRING_OK);
    ipcring_board_reader_t *none = NULL;
    EXPECT(ipcring_board_reader_open(ring("spsc"), NULL, &none), IPCRING_ERR_NOT_IPCRING);
    EXPECT(ipcring_board_writer_open(ring("spsc"), NULL, &w[1]), IPCRING_ERR_NOT_IPCRING);
    CHECK(none == NULL && w[1] == NULL);

    /* Handles of the wrong kind, in every call. (Every handle starts with its magic
     * number, so the check reads within whatever handle it is given.) */
    char buf[8];
    size_t len, index;
    uint64_t version;
    ipcring_board_writer_t *r_as_w = (ipcring_board_writer_t *)r[0];
    ipcring_board_reader_t *w_as_r = (ipcring_board_reader_t *)w[0];
    EXPECT(ipcring_board_set(r_as_w, 0, "x", 1, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_get(w_as_r, 0, buf, sizeof buf, &len, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_try_get(w_as_r, 0, buf, sizeof buf, &len, &version),
           IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_version(w_as_r, 0, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_wait_changed(w_as_r, 0, 0, 0, &version), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_set((ipcring_board_writer_t *)spsc, 0, "x", 1, &version),
           IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_producer_send((ipcring_producer_t *)w[0], "x", 1), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_key(spsc, "price", &index), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_entries(spsc, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_max_size(spsc, 0, &len), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_writer_close((ipcring_board_writer_t **)&r[0]), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_board_reader_close((ipcring_board_reader_t **)&w[0]), IPCRING_ERR_BAD_HANDLE);
    CHECK(r[0] != NULL && w[0] != NULL);
    EXPECT(ipcring_producer_close(&spsc), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("spsc")), IPCRING_OK);

    /* Closing sets the caller's pointer to NULL: using it again is detected. */
    EXPECT(ipcring_board_writer_close(&w[0]), IPCRING_OK);
    EXPECT(ipcring_board_set(w[0], 0, "x", 1, NULL), IPCRING_ERR_BAD_HANDLE);
    for (int i = 0; i < 2; i++) EXPECT(ipcring_board_reader_close(&r[i]), IPCRING_OK);
    EXPECT(ipcring_board_get(r[0], 0, buf, sizeof buf, &len, NULL), IPCRING_ERR_BAD_HANDLE);
    EXPECT(ipcring_unlink(ring("slots")), IPCRING_OK);
}

static void keys_sets_and_gets(void) {
    ipcring_board_options_t o = board_options(1);
    ipcring_board_writer_t *w = NULL;
    ipcring_board_reader_t *r = NULL;
    EXPECT(ipcring_board_writer_create(ring("values"), &o, &w), IPCRING_OK);
    EXPECT(ipcring_board_reader_open(ring("values"), NULL, &r), IPCRING_OK);
    if (w == NULL || r == NULL) return;

    /* Keys, sizes and the count, from either handle. */
    size_t index = 99, n = 0, max = 0;
    EXPECT(ipcring_board_key(w, "config", &index), IPCRING_OK);
    CHECK(index == CONFIG);
    index = 99;
    EXPECT(ipcring_board_key(r, "price", &index), IPCRING_OK);
    CHECK(index == PRICE);
    EXPECT(ipcring_board_key(r, "nope", &index), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_key(r, "", &index), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_key(r, "\xff", &index), IPCRING_ERR_UNKNOWN_KEY);
    CHECK(index == PRICE);
    EXPECT(ipcring_board_key(r, NULL, &index), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_key(w, "price", NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_entries(r, &n), IPCRING_OK);
    CHECK(n == ENTRIES);
    EXPECT(ipcring_board_entries(w, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_max_size(w, CONFIG, &max), IPCRING_OK);
    CHECK(max == 64);
    EXPECT(ipcring_board_max_size(r, PLAIN, &max), IPCRING_OK);
    CHECK(max == 16);
    EXPECT(ipcring_board_max_size(r, ENTRIES, &max), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_max_size(r, PRICE, NULL), IPCRING_ERR_NULL_POINTER);

    /* Nothing set yet: version 0, and gets say so. */
    char buf[64];
    size_t len = 0;
    uint64_t version = 77;
    EXPECT(ipcring_board_version(r, PRICE, &version), IPCRING_OK);
    CHECK(version == 0);
    EXPECT(ipcring_board_get(r, PRICE, buf, sizeof buf, &len, &version), IPCRING_ERR_NOT_SET);
    EXPECT(ipcring_board_try_get(r, PRICE, buf, sizeof buf, &len, NULL), IPCRING_ERR_NOT_SET);

    /* Sets count versions per entry; gets return the newest value and its version. */
    uint64_t price = 10150;
    EXPECT(ipcring_board_set(w, PRICE, &price, sizeof price, &version), IPCRING_OK);
    CHECK(version == 1);
    price = 10175;
    EXPECT(ipcring_board_set(w, PRICE, &price, sizeof price, NULL), IPCRING_OK);
    uint64_t got = 0;
    EXPECT(ipcring_board_get(r, PRICE, &got, sizeof got, &len, &version), IPCRING_OK);
    CHECK(len == 8 && got == 10175 && version == 2);
    EXPECT(ipcring_board_try_get(r, PRICE, &got, sizeof got, &len, NULL), IPCRING_OK);
    CHECK(got == 10175);
    EXPECT(ipcring_board_version(r, PRICE, &version), IPCRING_OK);
    CHECK(version == 2);
    EXPECT(ipcring_board_version(r, CONFIG, &version), IPCRING_OK);
    CHECK(version == 0);
    const char *cfg = "log_level=debug";
    EXPECT(ipcring_board_set(w, CONFIG, cfg, strlen(cfg), &version), IPCRING_OK);
    CHECK(version == 1);
    EXPECT(ipcring_board_get(r, CONFIG, buf, sizeof buf, &len, &version), IPCRING_OK);
    CHECK(len == strlen(cfg) && memcmp(buf, cfg, len) == 0 && version == 1);
    /* An exact fit, and an empty value (NULL data with length 0). */
    char full[16];
    memset(full, 'z', sizeof full);
    EXPECT(ipcring_board_set(w, PLAIN, full, sizeof full, NULL), IPCRING_OK);
    EXPECT(ipcring_board_get(r, PLAIN, buf, 16, &len, NULL), IPCRING_OK);
    CHECK(len == 16 && memcmp(buf, full, 16) == 0);
    EXPECT(ipcring_board_set(w, PLAIN, NULL, 0, &version), IPCRING_OK);
    CHECK(version == 2);
    EXPECT(ipcring_board_get(r, PLAIN, NULL, 0, &len, &version), IPCRING_OK);
    CHECK(len == 0 && version == 2);

    /* Bad sets change nothing. */
    char big[65] = {0};
    EXPECT(ipcring_board_set(w, PRICE, big, 9, &version), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_board_set(w, CONFIG, big, sizeof big, &version), IPCRING_ERR_TOO_LARGE);
    EXPECT(ipcring_board_set(w, ENTRIES, "x", 1, &version), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_set(w, (size_t)-1, "x", 1, &version), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_set(w, PRICE, NULL, 8, &version), IPCRING_ERR_NULL_POINTER);
    CHECK(version == 2);
    EXPECT(ipcring_board_version(r, PRICE, &version), IPCRING_OK);
    CHECK(version == 2);

    /* A buffer too small: the length needed, and nothing else written. */
    memset(buf, '#', sizeof buf);
    len = 0;
    version = 77;
    EXPECT(ipcring_board_get(r, CONFIG, buf, 4, &len, &version), IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == strlen(cfg) && version == 77);
    CHECK(buf[0] == '#' && buf[3] == '#' && buf[4] == '#');
    len = 0;
    EXPECT(ipcring_board_try_get(r, CONFIG, NULL, 0, &len, &version),
           IPCRING_ERR_BUFFER_TOO_SMALL);
    CHECK(len == strlen(cfg) && version == 77);
    EXPECT(ipcring_board_get(r, CONFIG, buf, len, &len, &version), IPCRING_OK);
    CHECK(len == strlen(cfg) && memcmp(buf, cfg, len) == 0 && version == 1);

    /* Bad gets. */
    EXPECT(ipcring_board_get(r, ENTRIES, buf, sizeof buf, &len, NULL), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_try_get(r, ENTRIES, buf, sizeof buf, &len, NULL),
           IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_get(r, PRICE, NULL, 8, &len, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_get(r, PRICE, buf, sizeof buf, NULL, NULL), IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_try_get(r, PRICE, buf, sizeof buf, NULL, NULL),
           IPCRING_ERR_NULL_POINTER);
    EXPECT(ipcring_board_version(r, ENTRIES, &version), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_version(r, PRICE, NULL), IPCRING_ERR_NULL_POINTER);

    /* Waits for a change: at once when the version differs, a timeout when it does not. */
    EXPECT(ipcring_board_wait_changed(r, PRICE, 1, 0, &version), IPCRING_OK);
    CHECK(version == 2);
    EXPECT(ipcring_board_wait_changed(r, CONFIG, 0, -1, &version), IPCRING_OK);
    CHECK(version == 1);
    double t0 = now_ms();
    version = 77;
    EXPECT(ipcring_board_wait_changed(r, PRICE, 2, 20 * 1000 * 1000, &version),
           IPCRING_ERR_TIMEOUT);
    double waited = now_ms() - t0;
    CHECK(waited >= 19.0 && waited < 5000.0);
    CHECK(version == 77);
    EXPECT(ipcring_board_wait_changed(r, PRICE, 2, 0, &version), IPCRING_ERR_TIMEOUT);
    EXPECT(ipcring_board_wait_changed(r, ENTRIES, 0, 0, &version), IPCRING_ERR_UNKNOWN_KEY);
    EXPECT(ipcring_board_wait_changed(r, PRICE, 2, 0, NULL), IPCRING_ERR_NULL_POINTER);

    /* The writer gone, a wait for a change would wait for ever: it says so instead, and
     * the values stay. */
    EXPECT(ipcring_board_writer_close(&w), IPCRING_OK);
    EXPECT(ipcring_board_wait_changed(r, PRICE, 2, -1, &version), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_board_get(r, PRICE, &got, sizeof got, &len, &version), IPCRING_OK);
    CHECK(got == 10175 && version == 2);
    EXPECT(ipcring_board_reader_close(&r), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("values")), IPCRING_OK);
}

/* A writer in a child process, which sets entry CONFIG to "v1" and "v2" 30 ms apart and
 * then PRICE; the parent waits for each with wait_changed and a wait set. Two writer
 * slots: the parent keeps one, so that the board never has no writer. */
static void changes_from_another_process(void) {
    ipcring_board_options_t o = board_options(2);
    ipcring_board_writer_t *w = NULL;
    ipcring_board_reader_t *r = NULL, *r2 = NULL;
    EXPECT(ipcring_board_writer_create(ring("fork"), &o, &w), IPCRING_OK);
    EXPECT(ipcring_board_reader_open(ring("fork"), NULL, &r), IPCRING_OK);
    EXPECT(ipcring_board_reader_open(ring("fork"), NULL, &r2), IPCRING_OK);
    ipcring_waitset_t *set = NULL;
    EXPECT(ipcring_waitset_new(&set), IPCRING_OK);
    if (w == NULL || r == NULL || r2 == NULL || set == NULL) return;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        /* Attach in the child: the parent's handles are not used here. */
        ipcring_board_writer_t *cw = NULL;
        int rc = ipcring_board_writer_open(ring("fork"), NULL, &cw);
        sleep_ms(30);
        if (rc == IPCRING_OK) rc = ipcring_board_set(cw, CONFIG, "v1", 2, NULL);
        sleep_ms(30);
        if (rc == IPCRING_OK) rc = ipcring_board_set(cw, CONFIG, "v2", 2, NULL);
        sleep_ms(30);
        uint64_t price = 42;
        if (rc == IPCRING_OK) rc = ipcring_board_set(cw, PRICE, &price, 8, NULL);
        ipcring_board_writer_close(&cw);
        _exit(rc == IPCRING_OK ? 0 : 1);
    }
    CHECK(child > 0);

    /* Waits without a deadline, one change at a time. */
    char buf[64];
    size_t len = 0;
    uint64_t version = 0, seen = 0;
    while (seen < 2) {
        EXPECT(ipcring_board_wait_changed(r, CONFIG, seen, 10LL * 1000 * 1000 * 1000, &version),
               IPCRING_OK);
        if (version <= seen) break;
        seen = version;
    }
    CHECK(seen == 2);
    EXPECT(ipcring_board_get(r, CONFIG, buf, sizeof buf, &len, &version), IPCRING_OK);
    CHECK(len == 2 && memcmp(buf, "v2", 2) == 0 && version == 2);

    /* A wait set: one reader for each entry (a reader is one member); the config entry
     * seen at version 2 is not ready, the price is once the child sets it. */
    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_BOARD_CHANGED, r, CONFIG, 2},
        {IPCRING_MEMBER_BOARD_CHANGED, r2, PRICE, 0},
    };
    uint8_t ready[2] = {9, 9};
    size_t count = 9;
    EXPECT(ipcring_waitset_wait(set, m, 2, 10LL * 1000 * 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 0 && ready[1] == 1);
    uint64_t price = 0;
    EXPECT(ipcring_board_try_get(r2, PRICE, &price, sizeof price, &len, &version), IPCRING_OK);
    CHECK(price == 42 && version == 1);
    int status = -1;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Nothing changes now: a poll finds nothing, a wait times out with nothing ready. */
    m[1].since = 1;
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 0 && ready[0] == 0 && ready[1] == 0);
    EXPECT(ipcring_waitset_wait(set, m, 2, 10 * 1000 * 1000, ready, &count), IPCRING_OK);
    CHECK(count == 0);
    /* A change of the version seen is ready; so is every member once no writer is left. */
    m[0].since = 1;
    EXPECT(ipcring_waitset_poll(set, m, 2, ready, &count), IPCRING_OK);
    CHECK(count == 1 && ready[0] == 1);
    m[0].since = 2;

    /* Bad members: an entry out of range, another kind's handle, one reader twice. */
    ipcring_member_t bad[2] = {m[0], m[1]};
    bad[1].room = ENTRIES;
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_UNKNOWN_KEY);
    CHECK(count == 0);
    bad[1] = (ipcring_member_t){IPCRING_MEMBER_BOARD_CHANGED, w, PRICE, 0};
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    bad[1] = (ipcring_member_t){IPCRING_MEMBER_CONSUMER, r2, 0, 0};
    EXPECT(ipcring_waitset_wait(set, bad, 2, -1, ready, &count), IPCRING_ERR_BAD_HANDLE);
    bad[1] = (ipcring_member_t){IPCRING_MEMBER_MPMC_PRODUCER_ROOM, r2, 8, 0};
    EXPECT(ipcring_waitset_arm(set, bad, 2, ready, &count), IPCRING_ERR_BAD_HANDLE);
    bad[1] = (ipcring_member_t){IPCRING_MEMBER_BOARD_CHANGED, r, PRICE, 0};
    EXPECT(ipcring_waitset_poll(set, bad, 2, ready, &count), IPCRING_ERR_DUPLICATE_MEMBER);

    EXPECT(ipcring_board_writer_close(&w), IPCRING_OK);
    EXPECT(ipcring_waitset_wait(set, m, 2, -1, ready, &count), IPCRING_OK);
    CHECK(count == 2);
    EXPECT(ipcring_board_wait_changed(r, CONFIG, 2, -1, &version), IPCRING_ERR_DISCONNECTED);
    EXPECT(ipcring_waitset_close(&set), IPCRING_OK);
    EXPECT(ipcring_board_reader_close(&r), IPCRING_OK);
    EXPECT(ipcring_board_reader_close(&r2), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("fork")), IPCRING_OK);
}

/* Two writers of one board set one entry by turns: its version counts both. */
static void two_writers(void) {
    ipcring_board_options_t o = board_options(2);
    ipcring_board_writer_t *w[3] = {NULL, NULL, NULL};
    ipcring_board_reader_t *r = NULL;
    EXPECT(ipcring_board_writer_create(ring("two"), &o, &w[0]), IPCRING_OK);
    EXPECT(ipcring_board_writer_open(ring("two"), NULL, &w[1]), IPCRING_OK);
    EXPECT(ipcring_board_writer_open(ring("two"), NULL, &w[2]), IPCRING_ERR_ROLE_TAKEN);
    EXPECT(ipcring_board_reader_open(ring("two"), NULL, &r), IPCRING_OK);
    if (w[0] == NULL || w[1] == NULL || r == NULL) return;
    uint64_t version = 0;
    for (uint64_t i = 0; i < 10; i++) {
        EXPECT(ipcring_board_set(w[i % 2], PRICE, &i, sizeof i, &version), IPCRING_OK);
        CHECK(version == i + 1);
    }
    uint64_t got = 0;
    size_t len = 0;
    EXPECT(ipcring_board_get(r, PRICE, &got, sizeof got, &len, &version), IPCRING_OK);
    CHECK(got == 9 && version == 10);
    for (int i = 0; i < 2; i++) EXPECT(ipcring_board_writer_close(&w[i]), IPCRING_OK);
    EXPECT(ipcring_board_reader_close(&r), IPCRING_OK);
    EXPECT(ipcring_unlink(ring("two")), IPCRING_OK);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: board_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    null_pointers_and_handles();
    options_out_of_range();
    slots_and_kinds();
    keys_sets_and_gets();
    changes_from_another_process();
    two_writers();
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_NOT_SET), "never set") != NULL);
    CHECK(strstr(ipcring_strerror(IPCRING_ERR_UNKNOWN_KEY), "entry") != NULL);
    return report("board_input");
}
