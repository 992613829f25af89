/* One end of an anonymous SPSC ring handed between processes over a unix socket, for
 * ffi/tests/c/anonymous.rs (whose Rust end uses RingFd::send and RingFd::recv):
 *
 *     fd_peer recv SOCKET N   connects to the unix socket at the path SOCKET, receives a
 *                             ring's descriptor (ipcring_fd_recv), opens the ring's
 *                             consumer (ipcring_consumer_open_fd) and checks every byte of
 *                             N messages of the checked stream (stream.h), then that the
 *                             producer is gone;
 *     fd_peer send SOCKET N   creates a memfd and the ring's producer in it
 *                             (ipcring_producer_create_fd), sends the descriptor, closes its
 *                             own and sends N messages of the checked stream.
 *
 * Prints a tally with " 0 failed" on success. */
#define _GNU_SOURCE
#include "ipcring.h"
#include "stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The largest message of a ring of STREAM_CAPACITY bytes. */
#define MAX (STREAM_CAPACITY / 4)
/* Waits at most this long for any one message. */
#define TIMEOUT_NS (UINT64_C(30) * 1000 * 1000 * 1000)

/* A socket connected to the unix socket at `path`, or -1. */
static int connect_to(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) return -1;
    strcpy(addr.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(s);
        s = -1;
    }
    return s;
}

static int receive(int sock, uint64_t n, unsigned long long *bad) {
    int fd = -1;
    int rc = ipcring_fd_recv(sock, &fd);
    ipcring_consumer_t *rx = NULL;
    if (rc == IPCRING_OK) rc = ipcring_consumer_open_fd(fd, NULL, &rx);
    if (fd >= 0) close(fd);
    uint8_t buf[MAX];
    for (uint64_t i = 0; i < n && rc == IPCRING_OK; i++) {
        size_t len = 0;
        rc = ipcring_consumer_recv_timeout(rx, buf, sizeof buf, &len, TIMEOUT_NS);
        if (rc == IPCRING_OK && (len != stream_len(i, MAX) || stream_check(i, buf, len) != len))
            ++*bad;
    }
    if (rc == IPCRING_OK) {
        size_t len = 0;
        rc = ipcring_consumer_recv_timeout(rx, buf, sizeof buf, &len, TIMEOUT_NS);
        if (rc == IPCRING_ERR_DISCONNECTED) rc = IPCRING_OK;
        else if (rc == IPCRING_OK) ++*bad;
    }
    ipcring_consumer_close(&rx);
    return rc;
}

static int send_all(int sock, uint64_t n) {
    int fd = -1;
    int rc = ipcring_memfd_create("fd_peer", 0, &fd);
    ipcring_options_t o;
    ipcring_options_init(&o);
    o.capacity = STREAM_CAPACITY;
    ipcring_producer_t *tx = NULL;
    if (rc == IPCRING_OK) rc = ipcring_producer_create_fd(fd, &o, &tx);
    if (rc == IPCRING_OK) rc = ipcring_fd_send(sock, fd);
    if (fd >= 0) close(fd);
    uint8_t buf[MAX];
    for (uint64_t i = 0; i < n && rc == IPCRING_OK; i++) {
        size_t len = stream_len(i, MAX);
        stream_fill(i, buf, len);
        rc = ipcring_producer_send_timeout(tx, buf, len, TIMEOUT_NS);
    }
    ipcring_producer_close(&tx);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "recv") != 0 && strcmp(argv[1], "send") != 0)) {
        fprintf(stderr, "usage: fd_peer recv|send SOCKET N\n");
        return 2;
    }
    uint64_t n = strtoull(argv[3], NULL, 10);
    int sock = connect_to(argv[2]);
    if (sock < 0) {
        perror("connect");
        return 1;
    }
    unsigned long long bad = 0;
    int rc = argv[1][0] == 'r' ? receive(sock, n, &bad) : send_all(sock, n);
    close(sock);
    if (rc != IPCRING_OK) fprintf(stderr, "fd_peer %s: %s\n", argv[1], ipcring_strerror(rc));
    int failed = (rc != IPCRING_OK) + (bad != 0);
    printf("fd_peer %s: %llu messages, %llu bad, %d failed\n", argv[1], (unsigned long long)n,
           bad, failed);
    return failed == 0 ? 0 : 1;
}
