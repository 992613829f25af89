/* A blackboard between two processes: the parent writes a price (a struct) and a config
 * string; a forked reader waits for either to change with a wait set, and prints what it
 * saw. A board holds the newest value of each entry, not a queue: the reader sees some of
 * the 1000 prices (always whole, never torn) and the last one for sure.
 *
 *     board [PRICES]
 *
 * The board is named board-c-<pid> and removed at the end. Exits 0 if the reader saw the
 * last price and the last config. */
#define _GNU_SOURCE
#include "ipcring.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The value of the "price" entry. */
typedef struct {
    uint64_t n;     /* 1, 2, ... */
    int64_t cents;  /* 10000 + n */
} tick_t;

#define CONFIG_MAX 64
#define TIMEOUT_NS (INT64_C(10) * 1000 * 1000 * 1000)

static int fail(const char *what, int rc) {
    fprintf(stderr, "%s: %s\n", what, ipcring_strerror(rc));
    return 1;
}

/* The reader: one reader handle per entry (a handle is one member of a wait set). */
static int reader(const char *name, uint64_t prices) {
    ipcring_board_reader_t *rp = NULL, *rcfg = NULL;
    size_t price = 0, config = 0;
    int rc = ipcring_board_reader_open(name, NULL, &rp);
    if (rc == IPCRING_OK) rc = ipcring_board_reader_open(name, NULL, &rcfg);
    if (rc == IPCRING_OK) rc = ipcring_board_key(rp, "price", &price);
    if (rc == IPCRING_OK) rc = ipcring_board_key(rcfg, "config", &config);
    ipcring_waitset_t *set = NULL;
    if (rc == IPCRING_OK) rc = ipcring_waitset_new(&set);
    if (rc != IPCRING_OK) return fail("reader: attach", rc);

    ipcring_member_t m[2] = {
        {IPCRING_MEMBER_BOARD_CHANGED, rp, price, 0},
        {IPCRING_MEMBER_BOARD_CHANGED, rcfg, config, 0},
    };
    tick_t last = {0, 0};
    uint64_t seen = 0;
    char text[CONFIG_MAX + 1] = "";
    int done = 0;
    while (!done && rc == IPCRING_OK) {
        uint8_t ready[2];
        size_t count = 0;
        rc = ipcring_waitset_wait(set, m, 2, TIMEOUT_NS, ready, &count);
        if (rc == IPCRING_OK && count == 0) rc = IPCRING_ERR_TIMEOUT;
        size_t len = 0;
        if (rc == IPCRING_OK && ready[0]) {
            rc = ipcring_board_get(rp, price, &last, sizeof last, &len, &m[0].since);
            if (rc == IPCRING_OK && (len != sizeof last || last.cents != 10000 + (int64_t)last.n)) {
                fprintf(stderr, "reader: a torn price: %" PRIu64 " %" PRId64 "\n", last.n,
                        last.cents);
                rc = IPCRING_ERR_CORRUPTED;
            }
            seen++;
        }
        if (rc == IPCRING_OK && ready[1]) {
            rc = ipcring_board_get(rcfg, config, text, CONFIG_MAX, &len, &m[1].since);
            text[rc == IPCRING_OK ? len : 0] = '\0';
            if (rc == IPCRING_OK) {
                printf("reader: config \"%s\" (version %" PRIu64 ")\n", text, m[1].since);
            }
            done = rc == IPCRING_OK && strcmp(text, "done") == 0;
        }
    }
    if (rc != IPCRING_OK) return fail("reader", rc);
    /* "done" is set after the last price: it is there. */
    uint64_t version = 0;
    size_t len = 0;
    rc = ipcring_board_get(rp, price, &last, sizeof last, &len, &version);
    if (rc != IPCRING_OK) return fail("reader: last price", rc);
    printf("reader: saw %" PRIu64 " of %" PRIu64 " price changes\n", seen, prices);
    printf("reader: last price %" PRIu64 " at version %" PRIu64 "\n", last.n, version);
    ipcring_waitset_close(&set);
    ipcring_board_reader_close(&rp);
    ipcring_board_reader_close(&rcfg);
    return last.n == prices && version == prices ? 0 : 1;
}

int main(int argc, char **argv) {
    uint64_t prices = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
    char name[64];
    snprintf(name, sizeof name, "board-c-%ld", (long)getpid());

    ipcring_board_entry_t entries[2] = {{"price", sizeof(tick_t)}, {"config", CONFIG_MAX}};
    ipcring_board_options_t o;
    ipcring_board_options_init(&o);
    o.entries = entries;
    o.n_entries = 2;
    ipcring_board_writer_t *w = NULL;
    int rc = ipcring_board_writer_create(name, &o, &w);
    if (rc != IPCRING_OK) return fail("writer: create", rc);
    size_t price = 0, config = 0;
    ipcring_board_key(w, "price", &price);
    ipcring_board_key(w, "config", &config);

    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        /* Attach in the child: a handle belongs to the process that made it. */
        int status = reader(name, prices);
        fflush(NULL); /* _exit does not flush stdio */
        _exit(status);
    }

    static const char *configs[] = {"level=info", "level=debug", "done"};
    rc = ipcring_board_set(w, config, configs[0], strlen(configs[0]), NULL);
    for (uint64_t n = 1; n <= prices && rc == IPCRING_OK; n++) {
        tick_t t = {n, 10000 + (int64_t)n};
        rc = ipcring_board_set(w, price, &t, sizeof t, NULL);
        if (n == prices / 2 && rc == IPCRING_OK) {
            rc = ipcring_board_set(w, config, configs[1], strlen(configs[1]), NULL);
        }
        if (n % 100 == 0) {
            struct timespec pause = {0, 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (rc == IPCRING_OK) rc = ipcring_board_set(w, config, configs[2], strlen(configs[2]), NULL);
    if (rc != IPCRING_OK) fail("writer: set", rc);
    printf("writer: set %" PRIu64 " prices and 3 configs\n", prices);
    fflush(stdout);

    int status = 1;
    waitpid(child, &status, 0);
    ipcring_board_writer_close(&w);
    ipcring_unlink(name);
    int ok = rc == IPCRING_OK && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("board: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
