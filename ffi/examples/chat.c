/* A chat room client in C: joins the broadcast topic ROOM (creating it if it is the first),
 * says LINES lines as client ID, and reads the room until it has seen every line of the
 * CLIENTS clients; prints a digest of the sequence it saw, which is the same for every
 * client of the room (one order for all).
 *
 *     chat ROOM ID CLIENTS LINES       (for example: chat room 0 3 1000)
 *
 * The room holds every line of the conversation (ROOM_SLOTS >= CLIENTS * LINES) and a
 * client joins at the oldest line it holds, so a client that joins late misses nothing.
 * The topic is lossless: a client that stops reading would hold the others up, so this
 * client reads whatever is waiting whenever the room is full for it. Lines are
 * "client<ID> #<N>: <text>"; each is checked as it is read, and each client's lines must
 * come in the order it said them. Exit status 0, or 1 on a failed check. The room's
 * segment stays (remove it with ipcring_unlink, or `ipcring rm ROOM`). */
#define _GNU_SOURCE
#include "ipcring.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOM_SLOTS 4096
#define MAX_LINE 96
#define MAX_CLIENTS 16
/* Waits at most this long for any one line. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

static const char *const WORDS[] = {"hello", "anyone", "here?", "yes", "lunch",
                                    "at",    "noon",   "ok",    "bye"};

static uint64_t mix(uint64_t x) {
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Line n of client id, in `out`; returns its length. */
static int line(unsigned id, unsigned n, char *out) {
    uint64_t h = mix((uint64_t)id << 32 | n);
    return snprintf(out, MAX_LINE, "client%u #%u: %s %s %s", id, n, WORDS[h % 9],
                    WORDS[(h >> 8) % 9], WORDS[(h >> 16) % 9]);
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "chat: %s: %s\n", what, ipcring_strerror(rc));
    return 1;
}

/* The conversation as one client sees it. */
typedef struct seen {
    unsigned next[MAX_CLIENTS]; /* the next line number of each client */
    unsigned lines;
    uint64_t digest; /* FNV-1a over every line and a separator */
} seen_t;

/* Checks and notes one line of the room; 0 if it is not the next line of a client. */
static int note(seen_t *s, const char *msg, size_t len, unsigned clients) {
    unsigned id;
    char want[MAX_LINE];
    if (len >= MAX_LINE || sscanf(msg, "client%u", &id) != 1 || id >= clients) return 0;
    int n = line(id, s->next[id], want);
    if ((size_t)n != len || memcmp(want, msg, len) != 0) return 0;
    s->next[id]++;
    s->lines++;
    for (size_t i = 0; i <= len; i++) {
        s->digest ^= i < len ? (unsigned char)msg[i] : 0xff;
        s->digest *= UINT64_C(0x100000001b3);
    }
    return 1;
}

/* Reads one line, waiting for it (`wait`), or every line waiting now. */
static int read_room(ipcring_sub_t *rx, seen_t *s, unsigned clients, int wait) {
    char buf[MAX_LINE];
    size_t len;
    for (;;) {
        int rc = wait ? ipcring_sub_recv_timeout(rx, buf, sizeof buf, &len, TIMEOUT_NS)
                      : ipcring_sub_try_recv(rx, buf, sizeof buf, &len);
        if (rc == IPCRING_ERR_EMPTY) return IPCRING_OK;
        if (rc != IPCRING_OK) return rc;
        if (!note(s, buf, len, clients)) {
            fprintf(stderr, "chat: an unexpected line: %.*s\n", (int)len, buf);
            return IPCRING_ERR_CORRUPTED;
        }
        if (wait) return IPCRING_OK;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: chat ROOM ID CLIENTS LINES\n");
        return 2;
    }
    const char *room = argv[1];
    unsigned id = (unsigned)atoi(argv[2]), clients = (unsigned)atoi(argv[3]);
    unsigned lines = (unsigned)atoi(argv[4]);
    if (clients == 0 || clients > MAX_CLIENTS || id >= clients ||
        (size_t)clients * lines > ROOM_SLOTS) {
        fprintf(stderr, "chat: at most %d clients and %d lines in all\n", MAX_CLIENTS,
                ROOM_SLOTS);
        return 2;
    }

    ipcring_broadcast_options_t o;
    ipcring_broadcast_options_init(&o);
    o.capacity = ROOM_SLOTS;
    o.slot_size = MAX_LINE;
    o.publishers = MAX_CLIENTS;
    o.max_subscribers = MAX_CLIENTS;
    o.from_oldest = 1;
    ipcring_sub_t *rx = NULL;
    ipcring_pub_t *tx = NULL;
    int rc = ipcring_sub_open_or_create(room, &o, &rx);
    if (rc != IPCRING_OK) return fail("join the room", rc);
    rc = ipcring_pub_open_or_create(room, &o, &tx);
    if (rc != IPCRING_OK) return fail("open the room for writing", rc);

    seen_t s;
    memset(&s, 0, sizeof s);
    s.digest = UINT64_C(0xcbf29ce484222325);
    char msg[MAX_LINE];
    for (unsigned n = 0; n < lines; n++) {
        int len = line(id, n, msg);
        while ((rc = ipcring_pub_try_send(tx, msg, (size_t)len)) == IPCRING_ERR_FULL) {
            /* The room is full for us: read what waits, so that nobody waits for us. */
            rc = read_room(rx, &s, clients, 0);
            if (rc != IPCRING_OK) return fail("read the room", rc);
        }
        if (rc != IPCRING_OK) return fail("say a line", rc);
    }
    while (s.lines < clients * lines) {
        rc = read_room(rx, &s, clients, 1);
        if (rc != IPCRING_OK) return fail("read the room", rc);
    }
    ipcring_pub_close(&tx);
    ipcring_sub_close(&rx);
    printf("digest %016" PRIx64 " lines %u\n", s.digest, s.lines);
    return 0;
}
