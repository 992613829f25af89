/* Sends COUNT keyed messages (keyed.h) as producer ID into the existing MPMC queue NAME,
 * by turns with a copying send, a zero-copy reserve + commit, and a try_send (that waits
 * with send_timeout when the queue is full); then detaches. Run by ffi/tests/c.rs
 * against Rust consumers.
 *
 *     mpmc_producer NAME ID COUNT
 */
#include "ipcring.h"
#include "keyed.h"

#include <stdio.h>
#include <stdlib.h>

/* Waits at most this long for a free slot. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: mpmc_producer NAME ID COUNT\n");
        return 2;
    }
    uint64_t id = strtoull(argv[2], NULL, 10);
    unsigned long long count = strtoull(argv[3], NULL, 10);

    ipcring_mpmc_producer_t *tx = NULL;
    int rc = ipcring_mpmc_producer_open(argv[1], NULL, &tx);
    size_t max = 0;
    if (rc == IPCRING_OK) rc = ipcring_mpmc_producer_max_message(tx, &max);
    if (rc == IPCRING_OK && max < 8) rc = IPCRING_ERR_TOO_LARGE;
    uint8_t *buf = rc == IPCRING_OK ? malloc(max) : NULL;
    if (rc == IPCRING_OK && buf == NULL) rc = IPCRING_ERR_NO_SPACE;

    unsigned long long n = 0;
    for (; n < count && rc == IPCRING_OK; n++) {
        uint64_t key = keyed_key(id, n);
        size_t len = keyed_len(key, max);
        void *slot;
        switch (n % 3) {
        case 0:
            keyed_fill(key, buf, len);
            rc = ipcring_mpmc_producer_send_timeout(tx, buf, len, TIMEOUT_NS);
            break;
        case 1:
            rc = ipcring_mpmc_producer_reserve(tx, len, &slot);
            if (rc == IPCRING_OK) {
                keyed_fill(key, slot, len);
                rc = ipcring_mpmc_producer_commit(tx, len);
            }
            break;
        default:
            keyed_fill(key, buf, len);
            rc = ipcring_mpmc_producer_try_send(tx, buf, len);
            if (rc == IPCRING_ERR_FULL) rc = ipcring_mpmc_producer_send_timeout(tx, buf, len, TIMEOUT_NS);
        }
    }
    free(buf);
    if (rc == IPCRING_OK) printf("mpmc_producer %llu: sent %llu messages\n", (unsigned long long)id, n);
    else fprintf(stderr, "mpmc_producer %llu: message %llu: %s\n", (unsigned long long)id, n, ipcring_strerror(rc));
    ipcring_mpmc_producer_close(&tx);
    return rc == IPCRING_OK ? 0 : 1;
}
