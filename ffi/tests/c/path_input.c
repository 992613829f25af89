/* File-backed rings from C: a name with a '/' is the path of a ring in a file, for every
 * create and open call; committed messages wait in the file while nobody has it open;
 * ipcring_remove_file_ring removes it. The files live in a new directory under /tmp
 * (named after PREFIX), removed at the end.
 *
 *     path_input PREFIX
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

/* The path DIR/file, in a static buffer (one at a time). */
static const char *in_dir(const char *file) {
    static char path[320];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return path;
}

static void spsc_ring_in_a_file(void) {
    char path[320];
    snprintf(path, sizeof path, "%s", in_dir("stream.ring"));
    ipcring_options_t o;
    ipcring_options_init(&o);
    o.capacity = 4096;
    ipcring_producer_t *tx = NULL, *again = NULL;
    ipcring_consumer_t *rx = NULL;
    EXPECT(ipcring_consumer_open(path, NULL, &rx), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_producer_create(path, &o, &tx), IPCRING_OK);
    CHECK(access(path, F_OK) == 0);
    EXPECT(ipcring_producer_create(path, &o, &again), IPCRING_ERR_EXISTS);
    EXPECT(ipcring_producer_send(tx, "kept", 4), IPCRING_OK);
    EXPECT(ipcring_producer_close(&tx), IPCRING_OK);

    /* Nobody has it open: the message waits in the file. */
    EXPECT(ipcring_consumer_open(path, NULL, &rx), IPCRING_OK);
    char buf[8];
    size_t len = 0;
    EXPECT(ipcring_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 4 && memcmp(buf, "kept", 4) == 0);
    EXPECT(ipcring_consumer_close(&rx), IPCRING_OK);

    /* A path is no ring name. */
    EXPECT(ipcring_unlink(path), IPCRING_ERR_INVALID_NAME);
    EXPECT(ipcring_remove_file_ring(path), IPCRING_OK);
    CHECK(access(path, F_OK) != 0);
    EXPECT(ipcring_remove_file_ring(path), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_consumer_open(path, NULL, &rx), IPCRING_ERR_NOT_FOUND);
    EXPECT(ipcring_remove_file_ring(NULL), IPCRING_ERR_NULL_POINTER);
}

static void mpmc_queue_in_a_file(void) {
    const char *path = in_dir("jobs.ring");
    ipcring_mpmc_options_t o;
    ipcring_mpmc_options_init(&o);
    o.capacity = 8;
    o.slot_size = 16;
    ipcring_mpmc_producer_t *tx = NULL;
    ipcring_mpmc_consumer_t *rx = NULL;
    EXPECT(ipcring_mpmc_producer_create(path, &o, &tx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_open(path, NULL, &rx), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, "job", 3), IPCRING_OK);
    char buf[16];
    size_t len = 0;
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 3 && memcmp(buf, "job", 3) == 0);
    /* Removing the file leaves the open handles working. */
    EXPECT(ipcring_remove_file_ring(path), IPCRING_OK);
    EXPECT(ipcring_mpmc_producer_send(tx, "after", 5), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_try_recv(rx, buf, sizeof buf, &len), IPCRING_OK);
    CHECK(len == 5 && memcmp(buf, "after", 5) == 0);
    EXPECT(ipcring_mpmc_producer_close(&tx), IPCRING_OK);
    EXPECT(ipcring_mpmc_consumer_close(&rx), IPCRING_OK);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: path_input PREFIX\n");
        return 2;
    }
    prefix = argv[1];
    snprintf(dir, sizeof dir, "/tmp/%s-XXXXXX", ring("files"));
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    spsc_ring_in_a_file();
    mpmc_queue_in_a_file();
    /* Every ring file is gone. */
    CHECK(rmdir(dir) == 0);
    return report("path_input");
}
