/* Keyed messages of the MPMC interop tests: message n of producer `id` has the key
 * id << 32 | n in its first 8 bytes (native byte order), then a body whose length and
 * bytes are functions of the key alone (the checked stream of stream.h), so that any
 * consumer can check every byte and the order of each producer's messages.
 * ffi/tests/c.rs implements the same messages in Rust: keep the two in step. */
#ifndef IPCRING_TEST_KEYED_H
#define IPCRING_TEST_KEYED_H

#include "stream.h"

#include <string.h>

/* The key of message n of producer id. */
static inline uint64_t keyed_key(uint64_t id, uint64_t n) {
    return id << 32 | n;
}

/* Length of the message with this key, for a queue whose slots hold `max` >= 8 bytes. */
static inline size_t keyed_len(uint64_t key, size_t max) {
    return 8 + stream_len(key, max - 8);
}

/* Writes the message with this key (of length keyed_len(key, max)) to `out`. */
static inline void keyed_fill(uint64_t key, uint8_t *out, size_t len) {
    memcpy(out, &key, 8);
    stream_fill(key, out + 8, len - 8);
}

/* Checks a received message against `max`: returns 1 and stores its key if it is a
 * keyed message, every byte right; returns 0 otherwise. */
static inline int keyed_check(const uint8_t *msg, size_t len, size_t max, uint64_t *key) {
    if (len < 8) return 0;
    memcpy(key, msg, 8);
    return len == keyed_len(*key, max) && stream_check(*key, msg + 8, len - 8) == len - 8;
}

#endif /* IPCRING_TEST_KEYED_H */
