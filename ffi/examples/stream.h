/* The "checked stream" of producer.c and consumer.c: message i has a length and bytes
 * that are functions of i alone, so the consumer can check every byte it receives.
 * ffi/tests/c.rs implements the same stream in Rust: keep the two in step. */
#ifndef IPCRING_EXAMPLE_STREAM_H
#define IPCRING_EXAMPLE_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Capacity of the example ring: messages may be up to a quarter of it (16 KiB). */
#define STREAM_CAPACITY ((size_t)1 << 16)

/* A 64-bit mixing function (the finaliser of MurmurHash3). */
static inline uint64_t stream_hash(uint64_t i) {
    uint64_t x = i + UINT64_C(0x9e3779b97f4a7c15);
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* Length of message i: up to 256 bytes mostly, up to `max` one time in 16. */
static inline size_t stream_len(uint64_t i, size_t max) {
    uint64_t h = stream_hash(i);
    uint64_t limit = (h & 15) == 0 || max < 256 ? max : 256;
    return (size_t)((h >> 8) % (limit + 1));
}

/* Byte j of message i, given h = stream_hash(i). */
static inline uint8_t stream_byte(uint64_t h, size_t j) {
    return (uint8_t)((h >> (8 * (j & 7))) + (j >> 3));
}

/* Writes message i (of length stream_len(i, max)) to `out`. */
static inline void stream_fill(uint64_t i, uint8_t *out, size_t len) {
    uint64_t h = stream_hash(i);
    for (size_t j = 0; j < len; j++) out[j] = stream_byte(h, j);
}

/* Returns the index of the first wrong byte of message i in `msg`, or `len` if none. */
static inline size_t stream_check(uint64_t i, const uint8_t *msg, size_t len) {
    uint64_t h = stream_hash(i);
    for (size_t j = 0; j < len; j++) {
        if (msg[j] != stream_byte(h, j)) return j;
    }
    return len;
}

#endif /* IPCRING_EXAMPLE_STREAM_H */
