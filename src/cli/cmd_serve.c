/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr serve: options (also from KADASTR_* variables), then the server, then signals
 * taken synchronously with sigwait in this thread: SIGTERM/SIGINT stop (requests in flight
 * get 5 s), SIGHUP reopens the database. The signals are blocked before the pool starts, so
 * no worker is ever interrupted by one. */
#include "cli_int.h"

#include "kadastr/cadastre.h"
#include "kadastr/server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kd_cli_serve_help(void)
{
    printf("usage: kadastr serve DB [--listen ADDR:PORT] [--threads N] [--base-url URL]\n"
           "                        [--cors ORIGINS] [--access-log FILE] [--port-file FILE]\n"
           "                        [--per-ip-limit N] [--idle-timeout SECONDS]\n"
           "                        [--connection-memory KB]\n"
           "                        [--no-lookup-index] [--no-prepared-answers]\n\n"
           "Serves the register over HTTP: the cadastre API under /api/v1 and /health\n"
           "(docs/operations.md, docs/api.md).\n\n"
           "  --listen ADDR:PORT  default 127.0.0.1:8080 (port 0: any free port)\n"
           "  --threads N         worker threads (default: the number of processors)\n"
           "  --base-url URL      the public URL of the service, for links\n"
           "  --cors ORIGINS      allowed origins, comma-separated (default: any, '*')\n"
           "  --access-log FILE   append the access log there (default: stderr)\n"
           "  --port-file FILE    write the port listened on (for tests and scripts)\n"
           "  --per-ip-limit N    connections at once from one client address (default 256)\n"
           "  --idle-timeout S    close a connection idle for S seconds (default 30)\n"
           "  --connection-memory KB  memory per connection, 16 to 1024 (default 64): a\n"
           "                      request with more query arguments than it holds (about\n"
           "                      900 at 64, 1,500 at 128) is closed unanswered\n"
           "  --no-lookup-index   no in-memory lookup index (about 220 MB per million\n"
           "                      parcels): /api/v1/lookup reads the database, slower\n"
           "  --no-prepared-answers  make every /api/v1/parcels/{number} answer from the\n"
           "                      register instead of reading the one prepared when it was\n"
           "                      written (the same bytes, slower)\n"
           "Each option can also come from the environment: KADASTR_LISTEN, KADASTR_THREADS,\n"
           "KADASTR_BASE_URL, KADASTR_CORS, KADASTR_ACCESS_LOG, KADASTR_PER_IP_LIMIT,\n"
           "KADASTR_IDLE_TIMEOUT, KADASTR_CONNECTION_MEMORY (options win).\n\n"
           "Signals: SIGTERM/SIGINT stop (requests in flight finish, at most 5 s), SIGHUP\n"
           "reopens the database (replace the file atomically, then send SIGHUP).\n"
           "exit status: 0 stopped by a signal, 1 error (port in use, unreadable database),\n"
           "2 usage error\n");
}

/* A whole number from lo to hi in *out; -1 when s is not one. */
static int parse_count(const char *s, long lo, long hi, unsigned *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < lo || n > hi)
        return -1;
    *out = (unsigned)n;
    return 0;
}

int kd_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"base-url", required_argument, NULL, 'b'},
                                         {"cors", required_argument, NULL, 'c'},
                                         {"access-log", required_argument, NULL, 'a'},
                                         {"port-file", required_argument, NULL, 'p'},
                                         {"per-ip-limit", required_argument, NULL, 'i'},
                                         {"idle-timeout", required_argument, NULL, 'T'},
                                         {"no-lookup-index", no_argument, NULL, 'N'},
                                         {"no-prepared-answers", no_argument, NULL, 'P'},
                                         {"connection-memory", required_argument, NULL, 'M'},
                                         {NULL, 0, NULL, 0}};
    struct kd_server_opts o;
    struct kd_server *srv = NULL;
    struct kd_shape_index_stats ss;
    const char *port_file = NULL, *threads = getenv("KADASTR_THREADS");
    const char *per_ip = getenv("KADASTR_PER_IP_LIMIT"), *idle = getenv("KADASTR_IDLE_TIMEOUT");
    const char *conn_mem = getenv("KADASTR_CONNECTION_MEMORY");
    struct kd_err err;
    sigset_t set;
    int c, sig;

    memset(&o, 0, sizeof o);
    o.listen = getenv("KADASTR_LISTEN");
    o.base_url = getenv("KADASTR_BASE_URL");
    o.cors = getenv("KADASTR_CORS");
    o.access_log = getenv("KADASTR_ACCESS_LOG");
    kd_err_init(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o.listen = optarg;
            break;
        case 't':
            threads = optarg;
            break;
        case 'b':
            o.base_url = optarg;
            break;
        case 'c':
            o.cors = optarg;
            break;
        case 'a':
            o.access_log = optarg;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'i':
            per_ip = optarg;
            break;
        case 'T':
            idle = optarg;
            break;
        case 'N':
            o.no_lookup_index = 1;
            break;
        case 'P':
            o.no_prepared_answers = 1;
            break;
        case 'M':
            conn_mem = optarg;
            break;
        default:
            return kd_cli_usage("serve", "unknown option");
        }
    }
    if (optind != argc - 1)
        return kd_cli_usage("serve", "expected one database path");
    if (threads && parse_count(threads, 1, 256, &o.threads))
        return kd_cli_usage("serve", "--threads '%s' is not a number from 1 to 256", threads);
    /* above the server's 4,096 connections in all, a per-address cap would mean nothing */
    if (per_ip && parse_count(per_ip, 1, 4096, &o.per_ip_limit))
        return kd_cli_usage("serve", "--per-ip-limit '%s' is not a number from 1 to 4096", per_ip);
    if (conn_mem && parse_count(conn_mem, 16, 1024, &o.connection_memory_kb))
        return kd_cli_usage(
            "serve", "--connection-memory '%s' is not a number from 16 to 1024 (KB)", conn_mem);
    if (idle && parse_count(idle, 1, 86400, &o.idle_timeout_s))
        return kd_cli_usage("serve", "--idle-timeout '%s' is not a number from 1 to 86400 (s)",
                            idle);
    o.db_path = argv[optind];
    /* signals are taken by sigwait below; blocked now, the pool threads inherit the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (kd_server_start(&o, &srv, &err))
        return kd_cli_fail("serve", &err);
    kd_server_shape_stats(srv, &ss);
    fprintf(stderr, "kadastr serve: %s on %s\n", o.db_path, kd_server_base_url(srv));
    if (o.no_prepared_answers)
        fprintf(stderr, "kadastr serve: no prepared answers (--no-prepared-answers)\n");
    if (o.no_lookup_index)
        fprintf(stderr, "kadastr serve: no lookup index (--no-lookup-index)\n");
    else
        fprintf(stderr,
                "kadastr serve: lookup index: %zu parcels, %zu zones, %zu restrictions, "
                "%.0f MB, built in %.1f s\n",
                ss.n_parcels, ss.n_zones, ss.n_restrictions, (double)ss.bytes / 1048576.0,
                ss.build_s);
    /* last: a script that waits for the port file finds the notes above written */
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%u\n", kd_server_port(srv)) < 0 || fclose(f) != 0) {
            kd_server_free(srv, 0);
            kd_err_set(&err, KD_EIO, "serve.port_file", "cannot write the port to %s", port_file);
            return kd_cli_fail("serve", &err);
        }
    }
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            kd_err_init(&err);
            if (kd_server_reopen(srv, &err))
                fprintf(stderr,
                        "kadastr serve: SIGHUP: the lookup index of %s could not be built "
                        "(%s: %s%s%s); lookups go through the database until the next SIGHUP\n",
                        o.db_path, err.key, err.where, err.where[0] ? ": " : "", err.msg);
            kd_server_shape_stats(srv, &ss);
            fprintf(stderr,
                    "kadastr serve: SIGHUP: workers reopen %s at their next request "
                    "(lookup index: %zu parcels)\n",
                    o.db_path, ss.n_parcels);
            continue;
        }
        break;
    }
    fprintf(stderr, "kadastr serve: stopping (requests in flight get up to 5 s)\n");
    kd_server_free(srv, 5.0);
    return KD_EXIT_OK;
}
