/* Receives keyed messages (keyed.h) from the existing MPMC queue NAME until every
 * producer has left, by turns with a copy into a buffer, a zero-copy read + release, a
 * try_recv, and a receive into a buffer too small (the message is kept, then received
 * whole). Checks every byte and the order of each producer's messages, prints the key
 * of each message on a line of its own ("key K"), then "received N messages, B bad".
 * Run by ffi/tests/c.rs against Rust producers.
 *
 *     mpmc_consumer NAME
 */
#include "ipcring.h"
#include "keyed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Waits at most this long for any one message. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)
/* Producer ids this program tracks the order of. */
#define MAX_PRODUCERS 64

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mpmc_consumer NAME\n");
        return 2;
    }
    ipcring_mpmc_consumer_t *rx = NULL;
    int rc = ipcring_mpmc_consumer_open(argv[1], NULL, &rx);
    size_t max = 0;
    if (rc == IPCRING_OK) rc = ipcring_mpmc_consumer_max_message(rx, &max);
    uint8_t *buf = rc == IPCRING_OK ? malloc(max) : NULL;
    if (rc == IPCRING_OK && buf == NULL) rc = IPCRING_ERR_NO_SPACE;

    int64_t last[MAX_PRODUCERS];
    for (int p = 0; p < MAX_PRODUCERS; p++) last[p] = -1;
    unsigned long long i = 0, bad = 0;
    for (; rc == IPCRING_OK; i++) {
        const uint8_t *msg = buf;
        const void *data;
        size_t len = 0;
        switch (i % 4) {
        case 0:
            rc = ipcring_mpmc_consumer_recv_timeout(rx, buf, max, &len, TIMEOUT_NS);
            break;
        case 1:
            rc = ipcring_mpmc_consumer_read_timeout(rx, &data, &len, TIMEOUT_NS);
            msg = data;
            break;
        case 2:
            rc = ipcring_mpmc_consumer_try_recv(rx, buf, max, &len);
            if (rc == IPCRING_ERR_EMPTY)
                rc = ipcring_mpmc_consumer_recv_timeout(rx, buf, max, &len, TIMEOUT_NS);
            break;
        default:
            /* Too small a buffer keeps the message for us; the next receive has it. */
            rc = ipcring_mpmc_consumer_recv_timeout(rx, buf, 8, &len, TIMEOUT_NS);
            if (rc == IPCRING_ERR_BUFFER_TOO_SMALL) {
                size_t needed = len;
                rc = ipcring_mpmc_consumer_try_recv(rx, buf, max, &len);
                if (rc == IPCRING_OK && len != needed) bad++;
            }
        }
        if (rc != IPCRING_OK) break;
        uint64_t key = 0;
        if (!keyed_check(msg, len, max, &key)) {
            fprintf(stderr, "mpmc_consumer: message %llu (%zu bytes) is not right\n", i, len);
            bad++;
        } else {
            uint64_t id = key >> 32;
            int64_t n = (int64_t)(key & 0xffffffffu);
            if (id >= MAX_PRODUCERS || n <= last[id]) {
                fprintf(stderr, "mpmc_consumer: key %" PRIu64 " out of order\n", key);
                bad++;
            } else {
                last[id] = n;
            }
            printf("key %" PRIu64 "\n", key);
        }
        if (i % 4 == 1) rc = ipcring_mpmc_consumer_release(rx);
    }
    free(buf);
    /* Every producer has left and every message was received. */
    if (rc == IPCRING_ERR_DISCONNECTED) rc = IPCRING_OK;
    else fprintf(stderr, "mpmc_consumer: message %llu: %s\n", i, ipcring_strerror(rc));
    ipcring_mpmc_consumer_close(&rx);
    printf("received %llu messages, %llu bad\n", i, bad);
    return rc == IPCRING_OK && bad == 0 ? 0 : 1;
}
