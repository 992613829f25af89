/* Receives COUNT messages of the checked stream (stream.h) from the ring NAME and checks
 * every byte, alternating a copy into a growing buffer with a zero-copy read + release;
 * then expects the producer to have left, and removes the ring.
 *
 *     consumer NAME [COUNT]        (COUNT defaults to 100000)
 */
#include "ipcring.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>

/* Waits at most this long for any one message. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

/* Receives one message into *buf (of *cap bytes), growing it when the message does not
 * fit: the message stays in the ring until a buffer large enough comes. */
static int recv_growing(ipcring_consumer_t *rx, uint8_t **buf, size_t *cap, size_t *len) {
    for (;;) {
        int rc = ipcring_consumer_recv_timeout(rx, *buf, *cap, len, TIMEOUT_NS);
        if (rc != IPCRING_ERR_BUFFER_TOO_SMALL) return rc;
        uint8_t *bigger = realloc(*buf, *len);
        if (bigger == NULL) return IPCRING_ERR_NO_SPACE;
        *buf = bigger;
        *cap = *len;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: consumer NAME [COUNT]\n");
        return 2;
    }
    unsigned long long count = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;

    ipcring_options_t opts;
    ipcring_options_init(&opts);
    opts.capacity = STREAM_CAPACITY;
    ipcring_consumer_t *rx = NULL;
    int rc = ipcring_consumer_open_or_create(argv[1], &opts, &rx);
    if (rc != IPCRING_OK) {
        fprintf(stderr, "consumer: open %s: %s\n", argv[1], ipcring_strerror(rc));
        return 1;
    }

    ipcring_stats_t stats;
    ipcring_consumer_stats(rx, &stats);
    size_t max = (size_t)stats.max_message;
    size_t cap = 16; /* deliberately small: grown on demand */
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        perror("consumer: malloc");
        ipcring_consumer_close(&rx);
        return 1;
    }

    unsigned long long i = 0, bad = 0;
    for (; i < count && rc == IPCRING_OK; i++) {
        const uint8_t *msg;
        size_t len;
        if (i % 2 == 0) {
            /* Copy out into our buffer. */
            rc = recv_growing(rx, &buf, &cap, &len);
            msg = buf;
        } else {
            /* Zero-copy: look at the message in the ring, release it when done. */
            const void *data;
            rc = ipcring_consumer_read_timeout(rx, &data, &len, TIMEOUT_NS);
            msg = data;
        }
        if (rc != IPCRING_OK) break;
        size_t want = stream_len(i, max);
        size_t at = len == want ? stream_check(i, msg, len) : 0;
        if (len != want || at != len) {
            fprintf(stderr, "consumer: message %llu: %zu bytes (expected %zu), first bad byte %zu\n",
                    i, len, want, at);
            bad++;
        }
        if (i % 2 == 1) rc = ipcring_consumer_release(rx);
    }
    free(buf);
    if (rc == IPCRING_OK) {
        /* The producer leaves after its last message: nothing more may come. */
        size_t len;
        rc = ipcring_consumer_recv_timeout(rx, NULL, 0, &len, TIMEOUT_NS);
        if (rc == IPCRING_ERR_DISCONNECTED) rc = IPCRING_OK;
        else fprintf(stderr, "consumer: after the last message: %s\n", ipcring_strerror(rc));
    } else {
        fprintf(stderr, "consumer: message %llu: %s\n", i, ipcring_strerror(rc));
    }
    ipcring_consumer_close(&rx);
    ipcring_unlink(argv[1]);
    printf("consumer: received %llu messages, %llu bad\n", i, bad);
    return rc == IPCRING_OK && bad == 0 ? 0 : 1;
}
