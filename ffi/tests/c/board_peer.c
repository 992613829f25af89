/* The C side of the blackboard interop test of ffi/tests/c.rs: creates the board NAME
 * (entry "blob" of up to BLOB bytes, entry "round" of 8) as its writer and opens the
 * existing board ACKS (entry "ack" of 8 bytes) as a reader. In each of ROUNDS rounds i it
 * sets "blob" to message i of the checked stream (stream.h) and "round" to i, then waits
 * for "ack" to hold i, set by the Rust reader once it checked every byte; so every value
 * is seen and checked, on both sides. Then it closes its writer (the Rust reader's next
 * wait says no writer is left) and removes NAME.
 *
 *     board_peer NAME ACKS ROUNDS
 */
#include "ipcring.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>

/* Largest value of "blob". */
#define BLOB 4096
/* Waits at most this long for an acknowledgement. */
#define TIMEOUT_NS (INT64_C(30) * 1000 * 1000 * 1000)

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: board_peer NAME ACKS ROUNDS\n");
        return 2;
    }
    unsigned long long rounds = strtoull(argv[3], NULL, 10);

    ipcring_board_entry_t entries[2] = {{"blob", BLOB}, {"round", 8}};
    ipcring_board_options_t o;
    ipcring_board_options_init(&o);
    o.entries = entries;
    o.n_entries = 2;
    ipcring_board_writer_t *w = NULL;
    ipcring_board_reader_t *acks = NULL;
    size_t blob = 0, round = 0, ack = 0;
    int rc = ipcring_board_writer_create(argv[1], &o, &w);
    if (rc == IPCRING_OK) rc = ipcring_board_reader_open(argv[2], NULL, &acks);
    if (rc == IPCRING_OK) rc = ipcring_board_key(w, "blob", &blob);
    if (rc == IPCRING_OK) rc = ipcring_board_key(w, "round", &round);
    if (rc == IPCRING_OK) rc = ipcring_board_key(acks, "ack", &ack);

    uint8_t buf[BLOB];
    unsigned long long i = 0, bad = 0;
    for (; i < rounds && rc == IPCRING_OK; i++) {
        size_t len = stream_len(i, BLOB);
        stream_fill(i, buf, len);
        uint64_t version = 0;
        rc = ipcring_board_set(w, blob, buf, len, &version);
        if (rc == IPCRING_OK && version != i + 1) bad++;
        uint64_t n = i;
        if (rc == IPCRING_OK) rc = ipcring_board_set(w, round, &n, sizeof n, NULL);
        /* The acknowledgement of round i is version i + 1 of "ack", holding i. */
        if (rc == IPCRING_OK) rc = ipcring_board_wait_changed(acks, ack, i, TIMEOUT_NS, &version);
        uint64_t got = UINT64_MAX;
        size_t got_len = 0;
        if (rc == IPCRING_OK) {
            rc = ipcring_board_get(acks, ack, &got, sizeof got, &got_len, &version);
        }
        if (rc == IPCRING_OK && (got != i || got_len != 8 || version != i + 1)) bad++;
    }
    if (rc != IPCRING_OK) {
        fprintf(stderr, "board_peer: round %llu: %s\n", i, ipcring_strerror(rc));
    }
    ipcring_board_writer_close(&w);
    ipcring_board_reader_close(&acks);
    ipcring_unlink(argv[1]);
    printf("board_peer: %llu rounds, %llu bad\n", i, bad);
    return rc == IPCRING_OK && bad == 0 ? 0 : 1;
}
