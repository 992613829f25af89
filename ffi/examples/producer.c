/* Sends COUNT messages of the checked stream (stream.h) into the ring NAME, alternating
 * a copying send with a zero-copy reserve + commit, then detaches.
 *
 *     producer NAME [COUNT]        (COUNT defaults to 100000)
 *
 * Run consumer.c (or any ipcring consumer of this stream) with the same NAME; either may
 * start first. */
#include "ipcring.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: producer NAME [COUNT]\n");
        return 2;
    }
    unsigned long long count = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;

    ipcring_options_t opts;
    ipcring_options_init(&opts);
    opts.capacity = STREAM_CAPACITY;
    ipcring_producer_t *tx = NULL;
    int rc = ipcring_producer_open_or_create(argv[1], &opts, &tx);
    if (rc != IPCRING_OK) {
        fprintf(stderr, "producer: open %s: %s\n", argv[1], ipcring_strerror(rc));
        return 1;
    }

    ipcring_stats_t stats;
    ipcring_producer_stats(tx, &stats);
    size_t max = (size_t)stats.max_message;
    uint8_t *buf = malloc(max);
    if (buf == NULL) {
        perror("producer: malloc");
        ipcring_producer_close(&tx);
        return 1;
    }

    unsigned long long i = 0;
    for (; i < count && rc == IPCRING_OK; i++) {
        size_t len = stream_len(i, max);
        if (i % 2 == 0) {
            /* Copying send: waits while the ring is full. */
            stream_fill(i, buf, len);
            rc = ipcring_producer_send(tx, buf, len);
        } else {
            /* Zero-copy: reserve room in the ring, write the message there, publish it. */
            void *slot;
            rc = ipcring_producer_reserve(tx, len, &slot);
            if (rc == IPCRING_OK) {
                stream_fill(i, slot, len);
                rc = ipcring_producer_commit(tx, len);
            }
        }
    }
    free(buf);
    if (rc == IPCRING_OK) {
        ipcring_producer_stats(tx, &stats);
        printf("producer: sent %llu messages (%llu wake-ups)\n", count,
               (unsigned long long)stats.producer_wakeups);
    } else {
        fprintf(stderr, "producer: message %llu: %s\n", i - 1, ipcring_strerror(rc));
    }
    /* Detach: the consumer receives what was sent, then IPCRING_ERR_DISCONNECTED. */
    ipcring_producer_close(&tx);
    return rc == IPCRING_OK ? 0 : 1;
}
