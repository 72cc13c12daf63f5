/* SPDX-License-Identifier: Apache-2.0 */
/* The ceiling for kadastr's HTTP figures: a libmicrohttpd hello world configured as kadastr
 * serve is (thread pool of 2, epoll, the answer queued on the handler's second call so that
 * keep-alive holds, one static in-memory response). Not built by CMake:
 *   cc -O2 -o build/hello_mhd tests/bench/hello_mhd.c $(pkg-config --cflags --libs libmicrohttpd)
 *   build/hello_mhd 18090 &   wrk -t2 -c64 -d10s http://127.0.0.1:18090/ */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct MHD_Response *hello;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **req_cls)
{
    static int first;

    (void)cls, (void)url, (void)method, (void)version, (void)data, (void)size;
    if (*req_cls != &first) {
        *req_cls = &first; /* answer on the second call: keep-alive */
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, hello);
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 18090;
    struct MHD_Daemon *d;
    static const char body[] = "{\"hello\":\"world\"}";
    sigset_t set;
    int sig;

    hello = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(hello, "Content-Type", "application/json");
    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t)port, NULL, NULL, handler, NULL,
                         MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_END);
    if (!d)
        return 1;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(hello);
    return 0;
}
