// The header compiles as C++ (-std=c++11 -pedantic) and its functions link with C
// linkage: one message goes through a ring and back out. Run by ffi/tests/c.rs.
#include "ipcring.h"

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: cpp_link PREFIX\n");
        return 2;
    }
    const std::string name = std::string(argv[1]) + "-cpp";
    ipcring_options_t opts;
    ipcring_options_init(&opts);
    opts.capacity = IPCRING_MIN_CAPACITY;
    ipcring_producer_t *tx = nullptr;
    ipcring_consumer_t *rx = nullptr;
    int rc = ipcring_producer_create(name.c_str(), &opts, &tx);
    if (rc == IPCRING_OK) rc = ipcring_consumer_open(name.c_str(), nullptr, &rx);
    const char msg[] = "from C++";
    if (rc == IPCRING_OK) rc = ipcring_producer_send(tx, msg, sizeof msg);
    char buf[sizeof msg] = {};
    size_t len = 0;
    if (rc == IPCRING_OK) rc = ipcring_consumer_recv(rx, buf, sizeof buf, &len);
    ipcring_producer_close(&tx);
    ipcring_consumer_close(&rx);
    ipcring_unlink(name.c_str());
    if (rc != IPCRING_OK || len != sizeof msg || std::memcmp(buf, msg, len) != 0) {
        std::fprintf(stderr, "cpp_link: %s (%zu bytes)\n", ipcring_strerror(rc), len);
        return 1;
    }
    std::puts("cpp_link: a message went through");
    return 0;
}
