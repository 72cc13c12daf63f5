/* SPDX-License-Identifier: Apache-2.0 */
/* The start-up code the C integration tests share: a sample register in the test's work
 * folder, the real `kadastr serve` forked on a free loopback port (port 0, read back from its
 * port file), its stop by SIGTERM with the exit status and how long it took, and a raw TCP
 * connection to it. Linked into every tests/integration/test_*.c by tests/CMakeLists.txt;
 * the functions assert with cmocka where a test cannot go on. */
#ifndef KADASTR_TEST_HARNESS_H
#define KADASTR_TEST_HARNESS_H

#include "kadastr/core.h"

#include <curl/curl.h>
#include <stddef.h>
#include <sys/types.h>

/* Where a test works: read from the environment ctest sets, filled by harness_init. */
struct harness_env {
    char work[1024];    /* $KD_TEST_WORK, wiped by harness_init */
    char kadastr[1024]; /* $KADASTR, the executable under test */
    char db[1200];      /* the register harness_init made */
};

extern struct harness_env harness;

/* A forked `kadastr serve`. */
struct harness_server {
    pid_t pid;     /* -1 when not running */
    unsigned port; /* the port it listens on, 127.0.0.1 */
    char base[64]; /* "http://127.0.0.1:PORT" */
};

#define HARNESS_SERVER_INIT                                                                        \
    {                                                                                              \
        -1, 0, ""                                                                                  \
    }

/* Reads KD_TEST_WORK and KADASTR, empties the work folder and makes a sample register of
 * n_parcels there (`kadastr sample`, with --seed when seed > 0), named db_name, in
 * harness.db. 0, or -1 (a variable missing, a command failed). For a cmocka group setup. */
int harness_init(const char *db_name, int n_parcels, int seed);

/* Starts `kadastr serve DB --listen 127.0.0.1:0 --threads 2` with its port file and access
 * log in the work folder ("TAG.port" and "TAG.access.log"; "port" and "access.log" when
 * tag is ""), then the options in extra (NULL-terminated; NULL: none). db NULL: harness.db.
 * Returns when the port is known (asserts that it comes within 30 s). */
void harness_server_start(struct harness_server *s, const char *tag, const char *db,
                          const char *const *extra);

/* The access log of the server started with tag (see harness_server_start), in out. */
const char *harness_access_log(const char *tag, char *out, size_t size);

/* SIGTERM, then waits up to deadline_s for the exit (SIGKILL after that). Returns the exit
 * status, or -1 (not running, killed, ended by a signal); *took (may be NULL) the seconds
 * from the signal to the exit. s->pid is -1 after. */
int harness_server_stop(struct harness_server *s, double deadline_s, double *took);

/* Is the server still running (not exited)? */
int harness_server_alive(const struct harness_server *s);

/* A TCP connection to 127.0.0.1:port (blocking socket), or -1. */
int harness_tcp_connect(unsigned port);

/* An HTTP answer read with libcurl: the status, the body (always NUL-terminated) and the raw
 * header block. */
struct harness_resp {
    long status;
    struct kd_buf body;
    struct kd_buf headers;
};
void harness_resp_fini(struct harness_resp *r);

/* One request on h (reuse the handle for keep-alive): method ("GET", "HEAD", "OPTIONS", ...),
 * path after base, or an absolute URL; extra: header lines, NULL-terminated (NULL: none).
 * Asserts that the transfer completes within timeout_s. */
void harness_request(CURL *h, const char *base, const char *method, const char *path,
                     const char *const *extra, long timeout_s, struct harness_resp *r);

/* The value of a header (case-insensitive name) in a raw header block, copied into out;
 * NULL when absent. */
const char *harness_header(const char *headers, const char *name, char *out, size_t size);

/* system(cmd): the exit status, or -1. */
int harness_run(const char *cmd);

/* Seconds on the monotonic clock. */
double harness_now_s(void);

#endif
