/* SPDX-License-Identifier: Apache-2.0 */
/* The connection limits and the stop of the real `kadastr serve`, over raw sockets: the cap
 * on connections per client address (--per-ip-limit 4: four idle keep-alive connections are
 * held, a fifth is accepted and closed at once by libmicrohttpd 0.9.75 without a byte, the
 * four are still answered, and after they close new ones are served), the idle timeout
 * (--idle-timeout 1 closes an idle connection, not a busy one), and SIGTERM with a request in
 * flight (a 5.5 MB page of 10,000 parcels read through a small receive window): the request
 * completes whole, no new connection is served meanwhile, the exit status is 0; a request
 * held past the 5 s grace does not keep the server from exiting. Out-of-range values of the
 * two options are usage errors. */
#include "harness.h"

#include "kadastr/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define N_PARCELS 10000 /* the largest page the items route gives (limit=10000) */
#define PER_IP 4
#define REQ_HEALTH "GET /health HTTP/1.1\r\nHost: kadastr.test\r\n\r\n"
#define REQ_METRICS "GET /metrics HTTP/1.1\r\nHost: kadastr.test\r\n\r\n"
#define REQ_BIG                                                                                    \
    "GET /collections/parcels/items?limit=10000 HTTP/1.1\r\nHost: kadastr.test\r\n"                \
    "Connection: close\r\n\r\n"

/* ---- raw HTTP ------------------------------------------------------------------------------- */

/* An answer being read: the bytes so far, where the body starts, its announced length. */
struct reading {
    struct kd_buf in;
    size_t head_len; /* 0 until the header block is in */
    size_t body_len; /* Content-Length */
    int status;
    int eof; /* the server closed (FIN or reset) */
    int reset;
};

static void reading_init(struct reading *rd)
{
    memset(rd, 0, sizeof *rd);
    kd_buf_init(&rd->in);
}

static void reading_parse_head(struct reading *rd)
{
    const char *p, *end;

    if (rd->head_len || rd->in.len < 4)
        return;
    kd_buf_add(&rd->in, "", 0); /* a terminator past len, for the string functions */
    end = strstr(rd->in.data, "\r\n\r\n");
    if (!end)
        return;
    rd->head_len = (size_t)(end + 4 - rd->in.data);
    if (sscanf(rd->in.data, "HTTP/1.%*d %3d", &rd->status) != 1)
        rd->status = -3;
    for (p = rd->in.data; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : p)
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            rd->body_len = (size_t)strtoull(p + 15, NULL, 10);
}

static int reading_done(const struct reading *rd)
{
    return rd->head_len && rd->in.len >= rd->head_len + rd->body_len;
}

/* Reads from fd until the answer is whole, at least `upto` bytes are in (0: no such stop),
 * the server closes, or deadline_s passes. */
static void read_some(int fd, struct reading *rd, size_t upto, double deadline_s)
{
    double t0 = harness_now_s();

    while (!reading_done(rd) && !rd->eof && (!upto || rd->in.len < upto)) {
        double left = deadline_s - (harness_now_s() - t0);
        struct pollfd pf = {fd, POLLIN, 0};
        char b[65536];
        size_t want = sizeof b;
        ssize_t n;
        if (left <= 0 || poll(&pf, 1, (int)(left * 1000) + 1) == 0)
            break;
        if (upto && upto - rd->in.len < want)
            want = upto - rd->in.len;
        n = recv(fd, b, want, 0);
        if (n > 0) {
            kd_buf_add(&rd->in, b, (size_t)n);
            reading_parse_head(rd);
        } else if (n == 0 || errno != EINTR) {
            rd->eof = 1;
            rd->reset = n < 0;
        }
    }
}

/* Sends req on fd and reads its answer: the status, -1 (closed without an answer) or -2 (no
 * answer within deadline_s). The body in body when not NULL. */
static int ask(int fd, const char *req, double deadline_s, struct kd_buf *body)
{
    struct reading rd;
    int st;

    reading_init(&rd);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        kd_buf_fini(&rd.in);
        return -1;
    }
    read_some(fd, &rd, 0, deadline_s);
    st = reading_done(&rd) ? rd.status : rd.eof ? -1 : -2;
    if (body) {
        kd_buf_reset(body);
        if (st > 0)
            kd_buf_add(body, rd.in.data + rd.head_len, rd.body_len);
        kd_buf_add(body, "", 0);
    }
    kd_buf_fini(&rd.in);
    return st;
}

/* What the server does to a connection it has not answered, within deadline_s: 1 it closed
 * it without sending a byte (*reset: by a reset), 0 it sent something, -2 nothing happened. */
static int closed_without_a_byte(int fd, double deadline_s, int *reset)
{
    struct pollfd pf = {fd, POLLIN, 0};
    char b[256];
    ssize_t n;

    *reset = 0;
    if (poll(&pf, 1, (int)(deadline_s * 1000)) == 0)
        return -2;
    n = recv(fd, b, sizeof b, 0);
    if (n > 0)
        return 0;
    *reset = n < 0 && errno == ECONNRESET;
    return 1;
}

/* A gauge of /metrics (asked on fd), or -1. */
static long metric(int fd, const char *name)
{
    struct kd_buf body;
    const char *p;
    char key[128];
    long v = -1;

    kd_buf_init(&body);
    kd_snprintf(key, sizeof key, "\n%s ", name);
    if (ask(fd, REQ_METRICS, 10.0, &body) == 200 && (p = strstr(body.data, key)) != NULL)
        v = strtol(p + strlen(key), NULL, 10);
    kd_buf_fini(&body);
    return v;
}

/* Does the server's access log contain needle? */
static int log_has(const char *tag, const char *needle)
{
    char path[1300], line[4096];
    FILE *f = fopen(harness_access_log(tag, path, sizeof path), "r");
    int found = 0;

    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* ---- setup ---------------------------------------------------------------------------------- */

static struct harness_server srv = HARNESS_SERVER_INIT; /* each test's own server */

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return harness_init("r.sqlite", N_PARCELS, 5);
}

/* After each test: its server stopped, also when an assertion ended the test early. */
static int stop_server(void **state)
{
    (void)state;
    harness_server_stop(&srv, 15.0, NULL);
    return 0;
}

/* ---- the options ---------------------------------------------------------------------------- */

static void test_limits_bad_values_are_usage_errors(void **state)
{
    static const char *const bad[] = {
        "--per-ip-limit 0", "--per-ip-limit 4097",  "--per-ip-limit x",  "--per-ip-limit ''",
        "--idle-timeout 0", "--idle-timeout 86401", "--idle-timeout -1", "--idle-timeout 1.5",
    };
    char cmd[4096];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kd_snprintf(cmd, sizeof cmd, "'%s' serve '%s' %s 2>/dev/null", harness.kadastr, harness.db,
                    bad[i]);
        if (harness_run(cmd) != 2)
            fail_msg("%s: not a usage error (exit status 2)", bad[i]);
    }
    /* from the environment too */
    kd_snprintf(cmd, sizeof cmd, "KADASTR_PER_IP_LIMIT=x '%s' serve '%s' 2>/dev/null",
                harness.kadastr, harness.db);
    assert_int_equal(harness_run(cmd), 2);
    kd_snprintf(cmd, sizeof cmd, "KADASTR_IDLE_TIMEOUT=0 '%s' serve '%s' 2>/dev/null",
                harness.kadastr, harness.db);
    assert_int_equal(harness_run(cmd), 2);
}

/* ---- the cap per client address ------------------------------------------------------------- */

static void test_limits_per_ip_cap(void **state)
{
    int held[PER_IP], extra, i, got, reset, served;
    double t0;

    (void)state;
    harness_server_start(&srv, "cap", NULL, (const char *const[]){"--per-ip-limit", "4", NULL});
    /* four keep-alive connections, each answered once (so the library has accepted it),
     * then left idle */
    for (i = 0; i < PER_IP; i++) {
        held[i] = harness_tcp_connect(srv.port);
        assert_true(held[i] >= 0);
        assert_int_equal(ask(held[i], REQ_HEALTH, 10.0, NULL), 200);
    }
    /* a fifth: the kernel completes the handshake, libmicrohttpd accepts it and closes it
     * at once, without reading or answering anything */
    extra = harness_tcp_connect(srv.port);
    assert_true(extra >= 0);
    t0 = harness_now_s();
    got = closed_without_a_byte(extra, 5.0, &reset);
    print_message("  a 5th connection from 127.0.0.1: %s after %.3f s\n",
                  got == 1   ? (reset ? "reset" : "closed (FIN), no byte sent")
                  : got == 0 ? "answered"
                             : "left open",
                  harness_now_s() - t0);
    assert_int_equal(got, 1);
    close(extra);
    /* a request sent on a refused connection is not answered either */
    extra = harness_tcp_connect(srv.port);
    if (extra >= 0) {
        got = ask(extra, REQ_HEALTH, 5.0, NULL);
        print_message("  a request on a 6th connection: %s\n", got == -1   ? "closed, no answer"
                                                               : got == -2 ? "no answer"
                                                                           : "answered");
        assert_int_equal(got, -1);
        close(extra);
    }
    assert_true(log_has("cap", "libmicrohttpd: Server reached connection limit"));
    /* the four held connections are still served; the refused ones were never counted */
    for (i = 0; i < PER_IP; i++)
        assert_int_equal(ask(held[i], REQ_HEALTH, 10.0, NULL), 200);
    assert_int_equal(metric(held[0], "kadastr_http_connections_open"), PER_IP);
    for (i = 0; i < PER_IP; i++)
        close(held[i]);
    /* after they close, new connections are served: at once, or after the library has seen
     * the closes (it counts a connection until it has cleaned it up) */
    t0 = harness_now_s();
    served = 0;
    for (i = 0; i < 100 && !served; i++) {
        int fd = harness_tcp_connect(srv.port);
        assert_true(fd >= 0);
        served = ask(fd, REQ_HEALTH, 5.0, NULL) == 200;
        close(fd);
        if (!served)
            usleep(20000);
    }
    print_message("  after the 4 closed: served after %d refusals, %.3f s\n", i - 1,
                  harness_now_s() - t0);
    assert_true(served);
    /* the whole cap is free again, and still enforced. The probe just closed may still be
     * counted until the library has cleaned it up (slow under ThreadSanitizer): a refused
     * connection is tried again, for up to 2 s */
    for (i = 0; i < PER_IP; i++) {
        int tries, answered = 0;
        for (tries = 0; tries < 100 && !answered; tries++) {
            held[i] = harness_tcp_connect(srv.port);
            assert_true(held[i] >= 0);
            answered = ask(held[i], REQ_HEALTH, 10.0, NULL) == 200;
            if (!answered) {
                close(held[i]);
                usleep(20000);
            }
        }
        assert_true(answered);
    }
    extra = harness_tcp_connect(srv.port);
    assert_true(extra >= 0);
    assert_int_equal(closed_without_a_byte(extra, 5.0, &reset), 1);
    close(extra);
    for (i = 0; i < PER_IP; i++)
        close(held[i]);
    assert_int_equal(harness_server_stop(&srv, 15.0, NULL), 0);
}

/* ---- the idle timeout ----------------------------------------------------------------------- */

static void test_limits_idle_timeout(void **state)
{
    int after_answer, silent, busy, i, reset;
    double t0, t_answer = 0, t_silent = 0;

    (void)state;
    harness_server_start(&srv, "idle", NULL, (const char *const[]){"--idle-timeout", "1", NULL});
    silent = harness_tcp_connect(srv.port); /* connects and never sends a byte */
    after_answer = harness_tcp_connect(srv.port);
    busy = harness_tcp_connect(srv.port);
    assert_true(silent >= 0 && after_answer >= 0 && busy >= 0);
    t0 = harness_now_s();
    assert_int_equal(ask(after_answer, REQ_HEALTH, 10.0, NULL), 200);
    /* a request every 0.4 s keeps a connection open past the timeout; meanwhile the two
     * idle ones are closed */
    for (i = 0; i < 7; i++) {
        double turn = harness_now_s(), left;
        assert_int_equal(ask(busy, REQ_HEALTH, 10.0, NULL), 200);
        while ((left = 0.4 - (harness_now_s() - turn)) > 0) {
            /* a connection seen closed leaves the poll (fd -1): the turn still lasts 0.4 s */
            struct pollfd pf[2] = {{t_silent > 0 ? -1 : silent, POLLIN, 0},
                                   {t_answer > 0 ? -1 : after_answer, POLLIN, 0}};
            if (poll(pf, 2, (int)(left * 1000) + 1) <= 0)
                continue;
            if (pf[0].revents)
                t_silent = harness_now_s() - t0;
            if (pf[1].revents)
                t_answer = harness_now_s() - t0;
        }
    }
    assert_int_equal(ask(busy, REQ_HEALTH, 10.0, NULL), 200);
    print_message("  --idle-timeout 1: a silent connection closed after %.2f s, an answered "
                  "one after %.2f s; a busy one open after %.2f s\n",
                  t_silent, t_answer, harness_now_s() - t0);
    assert_int_equal(closed_without_a_byte(silent, 1.0, &reset), 1);
    assert_int_equal(closed_without_a_byte(after_answer, 1.0, &reset), 1);
    assert_true(t_silent >= 0.5 && t_answer >= 0.5);
    close(silent);
    close(after_answer);
    close(busy);
    assert_int_equal(harness_server_stop(&srv, 15.0, NULL), 0);
}

/* ---- SIGTERM with a request in flight ------------------------------------------------------- */

/* Starts the big request on a connection with a small receive window and reads its head and
 * the first bytes of the body, then stops reading: the answer (5.5 MB, more than the kernel
 * buffers hold) stays in flight. Checks that it is: /metrics counts it (and itself), and the
 * access log has no line for it yet. */
static int start_slow_request(const struct harness_server *s, const char *tag, struct reading *rd)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096, probe;
    struct sockaddr_in a;

    assert_true(fd >= 0);
    /* before connect, so that the window is small from the handshake on */
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, REQ_BIG, strlen(REQ_BIG), MSG_NOSIGNAL), (ssize_t)strlen(REQ_BIG));
    reading_init(rd);
    read_some(fd, rd, 32768, 30.0);
    assert_int_equal(rd->status, 200);
    assert_true(rd->body_len > 4 * 1024 * 1024);
    usleep(300000); /* the server fills what the buffers hold, then waits for us */
    probe = harness_tcp_connect(s->port);
    assert_true(probe >= 0);
    assert_int_equal(metric(probe, "kadastr_http_requests_in_flight"), 2);
    close(probe);
    assert_false(log_has(tag, "limit=10000"));
    return fd;
}

static void test_limits_sigterm_lets_a_request_in_flight_finish(void **state)
{
    struct reading rd;
    json_object *doc;
    double t0, t_read, took;
    int fd, late, got, status = -1;
    pid_t pid;

    (void)state;
    harness_server_start(&srv, "term", NULL, NULL);
    fd = start_slow_request(&srv, "term", &rd);
    pid = srv.pid;
    t0 = harness_now_s();
    kill(pid, SIGTERM);
    usleep(200000);
    /* quiesced: the listening socket is closed, a new connection is refused at once */
    late = harness_tcp_connect(srv.port);
    if (late >= 0) {
        got = ask(late, REQ_HEALTH, 1.0, NULL);
        fail_msg("a connection during the grace was accepted (%s)", got == -2   ? "no answer"
                                                                    : got == -1 ? "closed"
                                                                                : "answered");
    }
    print_message("  a connection during the grace: refused\n");
    /* the server waits for us: still running after more than a second of not reading */
    usleep(300000);
    assert_true(harness_server_alive(&srv));
    /* now the rest, a little at first, then all of it through a larger window (the time
     * left of the grace is not spent on 4 KB round trips on a busy machine) */
    read_some(fd, &rd, rd.in.len + 256 * 1024, 10.0);
    {
        int large = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &large, sizeof large);
    }
    read_some(fd, &rd, 0, 30.0);
    t_read = harness_now_s();
    close(fd);
    assert_true(reading_done(&rd));
    assert_int_equal(rd.status, 200);
    assert_int_equal(rd.in.len, rd.head_len + rd.body_len);
    kd_buf_add(&rd.in, "", 0);
    doc = json_tokener_parse(rd.in.data + rd.head_len);
    assert_non_null(doc);
    {
        json_object *n, *fs;
        assert_true(json_object_object_get_ex(doc, "numberReturned", &n));
        assert_int_equal(json_object_get_int64(n), N_PARCELS);
        assert_true(json_object_object_get_ex(doc, "features", &fs));
        assert_int_equal(json_object_array_length(fs), N_PARCELS);
    }
    json_object_put(doc);
    kd_buf_fini(&rd.in);
    /* the exit follows the request's end, inside the grace */
    got = 0;
    while (harness_now_s() - t0 < 8.0 && (got = waitpid(pid, &status, WNOHANG)) == 0)
        usleep(10000);
    took = harness_now_s() - t0;
    print_message("  SIGTERM with a request in flight: read whole after %.2f s, exit %d after "
                  "%.2f s\n",
                  t_read - t0, got == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1, took);
    assert_int_equal(got, pid); /* else the teardown kills it */
    srv.pid = -1;
    if (late >= 0) {
        int reset;
        /* the waiting connection is let go when the server exits */
        assert_int_equal(closed_without_a_byte(late, 2.0, &reset), 1);
        close(late);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(took < 5.0);
    assert_true(took - (t_read - t0) < 2.0);
    assert_true(log_has("term", "GET /collections/parcels/items?limit=10000 200 "));
}

static void test_limits_sigterm_grace_ends_a_held_request(void **state)
{
    struct reading rd;
    double took = 0;
    int fd, rc;

    (void)state;
    harness_server_start(&srv, "grace", NULL, NULL);
    fd = start_slow_request(&srv, "grace", &rd);
    /* the client never reads again: the server waits out its 5 s grace, then exits */
    rc = harness_server_stop(&srv, 15.0, &took);
    print_message("  SIGTERM with a request held past the grace: exit %d after %.2f s\n", rc, took);
    assert_int_equal(rc, 0);
    assert_true(took >= 4.8 && took < 7.5);
    /* the held answer was cut: the rest of it never comes whole */
    read_some(fd, &rd, 0, 5.0);
    assert_true(rd.eof);
    assert_false(reading_done(&rd));
    close(fd);
    kd_buf_fini(&rd.in);
    assert_true(log_has("grace", "GET /collections/parcels/items?limit=10000 200 "));
    assert_true(log_has("grace", " (closed)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_bad_values_are_usage_errors),
        cmocka_unit_test_teardown(test_limits_per_ip_cap, stop_server),
        cmocka_unit_test_teardown(test_limits_idle_timeout, stop_server),
        cmocka_unit_test_teardown(test_limits_sigterm_lets_a_request_in_flight_finish, stop_server),
        cmocka_unit_test_teardown(test_limits_sigterm_grace_ends_a_held_request, stop_server),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
