/* The C side of the event interop test of ffi/tests/c.rs: opens the existing segment
 * ACKS (1 id, created by the Rust side) as a listener, then creates the segment NAME (16
 * ids, 1 notifier, 1 listener) as its notifier. Once the Rust listener has attached to
 * NAME it fires ACKS' id 0 (acknowledgement 0); then in each of ROUNDS rounds i the C side
 * fires id i % 15 (i % 3 + 1 times) and id 15 once (the end of the round), and waits for
 * acknowledgement i + 1, which the Rust side sends once it has counted the round exactly.
 * The reports of ACKS are read through arrays of one id, so that every count is checked
 * on both sides. Then it closes its notifier (the Rust listener's next wait reports the
 * departure) and removes NAME.
 *
 *     event_peer NAME ACKS ROUNDS
 */
#include "ipcring.h"

#include <stdio.h>
#include <stdlib.h>

/* Waits at most this long for an acknowledgement. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)
#define IDS 16

/* Waits until acknowledgement `want` has come (`*acks` counts them); a report with
 * anything else, or more acknowledgements than sent, counts as bad. */
static int wait_ack(ipcring_listener_t *l, uint64_t want, uint64_t *acks,
                    unsigned long long *bad) {
    uint32_t id;
    uint64_t count;
    ipcring_departure_t dep;
    ipcring_fired_t r = {.ids = &id, .counts = &count, .cap = 1, .departures = &dep, .dcap = 1};
    while (*acks < want) {
        int rc = ipcring_listener_wait_timeout(l, TIMEOUT_NS, &r);
        if (rc != IPCRING_OK) return rc;
        if (r.dlen != 0 || r.more != 0 || r.len != 1 || id != 0) (*bad)++;
        if (r.len == 1) *acks += count;
    }
    if (*acks != want) (*bad)++;
    return IPCRING_OK;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: event_peer NAME ACKS ROUNDS\n");
        return 2;
    }
    unsigned long long rounds = strtoull(argv[3], NULL, 10);

    ipcring_event_options_t o;
    ipcring_event_options_init(&o);
    o.ids = IDS;
    o.notifiers = 1;
    o.listeners = 1;
    ipcring_listener_t *acks = NULL;
    ipcring_notifier_t *n = NULL;
    int rc = ipcring_listener_open(argv[2], NULL, &acks);
    if (rc == IPCRING_OK) rc = ipcring_notifier_create(argv[1], &o, &n);
    uint64_t acked = 0;
    unsigned long long i = 0, bad = 0;
    /* Acknowledgement 0: the Rust listener is there. */
    if (rc == IPCRING_OK) rc = wait_ack(acks, 1, &acked, &bad);
    for (; i < rounds && rc == IPCRING_OK; i++) {
        for (unsigned long long k = 0; k <= i % 3 && rc == IPCRING_OK; k++) {
            rc = ipcring_notify(n, (uint32_t)(i % (IDS - 1)));
        }
        if (rc == IPCRING_OK) rc = ipcring_notify(n, IDS - 1);
        if (rc == IPCRING_OK) rc = wait_ack(acks, i + 2, &acked, &bad);
    }
    /* An id the segment does not have. */
    if (rc == IPCRING_OK && ipcring_notify(n, IDS) != IPCRING_ERR_UNKNOWN_ID) bad++;
    if (rc != IPCRING_OK) {
        fprintf(stderr, "event_peer: round %llu: %s\n", i, ipcring_strerror(rc));
    }
    ipcring_notifier_close(&n);
    ipcring_listener_close(&acks);
    ipcring_unlink(argv[1]);
    printf("event_peer: %llu rounds, %llu bad\n", i, bad);
    return rc == IPCRING_OK && bad == 0 ? 0 : 1;
}
