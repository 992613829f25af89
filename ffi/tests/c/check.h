/* The checks of the C test programs: EXPECT(call, status) and CHECK(condition) count what
 * they check and report each failure with its line; ring("suffix") names a ring after
 * the PREFIX argument, so that the Rust test can remove leftovers of a failed run;
 * sleep_ms and now_ms for the tests that wait. Include it after _GNU_SOURCE.
 *
 * A program includes this header once, sets `prefix` from its argument, runs its checks,
 * and returns report("name"). */
#ifndef IPCRING_TEST_CHECK_H
#define IPCRING_TEST_CHECK_H

#include "ipcring.h"

#include <stdio.h>
#include <time.h>

static int checks, failures;

/* Sleeps `ms` milliseconds. */
static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Milliseconds of CLOCK_MONOTONIC. */
static inline double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
static const char *prefix;

static void expect_rc(const char *file, int line, const char *call, int got, int want) {
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "%s:%d: %s\n    returned %d (%s), expected %d (%s)\n", file, line, call,
                got, ipcring_strerror(got), want, ipcring_strerror(want));
    }
}

static void expect_true(const char *file, int line, const char *what, int ok) {
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: expected %s\n", file, line, what);
    }
}

#define EXPECT(call, want) expect_rc(__FILE__, __LINE__, #call, (call), (want))
#define CHECK(cond) expect_true(__FILE__, __LINE__, #cond, (cond))

/* The name PREFIX-suffix, in a static buffer (one at a time). */
static const char *ring(const char *suffix) {
    static char name[200];
    snprintf(name, sizeof name, "%s-%s", prefix, suffix);
    return name;
}

/* Prints the tally (the Rust test looks for " 0 failed") and gives the exit status. */
static int report(const char *program) {
    printf("%s: %d checks, %d failed\n", program, checks, failures);
    return failures == 0 ? 0 : 1;
}

#endif /* IPCRING_TEST_CHECK_H */
