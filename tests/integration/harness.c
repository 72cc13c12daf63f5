/* SPDX-License-Identifier: Apache-2.0 */
/* The C integration tests' shared start-up code (harness.h): fork and exec the real
 * executable, wait for the port file it writes once it listens, stop it with SIGTERM. */
#include "harness.h"

#include "kadastr/core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct harness_env harness;

int harness_run(const char *cmd)
{
    int rc = system(cmd);

    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

double harness_now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int harness_init(const char *db_name, int n_parcels, int seed)
{
    char cmd[4096], seed_opt[32] = "";
    const char *w = getenv("KD_TEST_WORK"), *k = getenv("KADASTR");

    if (!w || !k) {
        fprintf(stderr, "harness: KD_TEST_WORK and KADASTR must be set (ctest sets them)\n");
        return -1;
    }
    kd_snprintf(harness.work, sizeof harness.work, "%s", w);
    kd_snprintf(harness.kadastr, sizeof harness.kadastr, "%s", k);
    kd_snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", harness.work, harness.work);
    if (harness_run(cmd))
        return -1;
    kd_snprintf(harness.db, sizeof harness.db, "%s/%s", harness.work, db_name);
    if (seed > 0)
        kd_snprintf(seed_opt, sizeof seed_opt, " --seed %d", seed);
    kd_snprintf(cmd, sizeof cmd, "'%s' sample '%s' --parcels %d%s >/dev/null", harness.kadastr,
                harness.db, n_parcels, seed_opt);
    return harness_run(cmd) ? -1 : 0;
}

/* "WORK/TAG.what", or "WORK/what" when tag is "". */
static const char *work_file(const char *tag, const char *what, char *out, size_t size)
{
    kd_snprintf(out, size, "%s/%s%s%s", harness.work, tag, tag[0] ? "." : "", what);
    return out;
}

const char *harness_access_log(const char *tag, char *out, size_t size)
{
    return work_file(tag, "access.log", out, size);
}

void harness_server_start(struct harness_server *s, const char *tag, const char *db,
                          const char *const *extra)
{
    char port_file[1300], port[16] = "";
    int i;

    work_file(tag, "port", port_file, sizeof port_file);
    unlink(port_file);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        char log[1300];
        /* a test that dies (a crash, ctest's timeout) takes its server with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const char *argv[32] = {harness.kadastr,
                                "serve",
                                db ? db : harness.db,
                                "--listen",
                                "127.0.0.1:0",
                                "--threads",
                                "2",
                                "--port-file",
                                port_file,
                                "--access-log",
                                harness_access_log(tag, log, sizeof log)};
        size_t n = 11;
        for (i = 0; extra && extra[i] && n < sizeof argv / sizeof argv[0] - 1; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv(harness.kadastr, (char *const *)argv);
        _exit(127);
    }
    for (i = 0; i < 1500; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fgets(port, sizeof port, f) && port[0] >= '0' && port[0] <= '9') {
                fclose(f);
                break;
            }
            fclose(f);
        }
        usleep(20000);
    }
    assert_true(port[0] >= '0' && port[0] <= '9');
    s->port = (unsigned)strtoul(port, NULL, 10);
    kd_snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", s->port);
}

int harness_server_stop(struct harness_server *s, double deadline_s, double *took)
{
    double t0 = harness_now_s();
    int status = 0;
    pid_t got = 0;

    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    while (got == 0 && harness_now_s() - t0 < deadline_s) {
        got = waitpid(s->pid, &status, WNOHANG);
        if (got == 0)
            usleep(10000);
    }
    if (took)
        *took = harness_now_s() - t0;
    if (got != s->pid) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        s->pid = -1;
        return -1;
    }
    s->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int harness_server_alive(const struct harness_server *s)
{
    int status;

    return s->pid > 0 && waitpid(s->pid, &status, WNOHANG) == 0;
}

int harness_tcp_connect(unsigned port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void harness_resp_fini(struct harness_resp *r)
{
    kd_buf_fini(&r->body);
    kd_buf_fini(&r->headers);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    kd_buf_add(ud, p, size * n);
    return size * n;
}

void harness_request(CURL *h, const char *base, const char *method, const char *path,
                     const char *const *extra, long timeout_s, struct harness_resp *r)
{
    struct curl_slist *hdrs = NULL;
    char url[12000];
    int i;

    memset(r, 0, sizeof *r);
    kd_buf_init(&r->body);
    kd_buf_init(&r->headers);
    if (strncmp(path, "http", 4) == 0)
        kd_snprintf(url, sizeof url, "%s", path);
    else
        kd_snprintf(url, sizeof url, "%s%s", base, path);
    for (i = 0; extra && extra[i]; i++)
        hdrs = curl_slist_append(hdrs, extra[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    kd_buf_add(&r->body, "", 0);
    curl_slist_free_all(hdrs);
}

const char *harness_header(const char *headers, const char *name, char *out, size_t size)
{
    const char *p = headers;
    size_t n = strlen(name);

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            kd_snprintf(out, size, "%.*s", (int)(eol - v), v);
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}
