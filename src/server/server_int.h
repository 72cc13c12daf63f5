/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the server shared by its files: the server, a pool thread's worker, one
 * request, and the answer a route builds. Only src/server sees libmicrohttpd. */
#ifndef KADASTR_SERVER_INT_H
#define KADASTR_SERVER_INT_H

#include "kadastr/geo.h"
#include "kadastr/i18n.h"
#include "kadastr/server.h"
#include "kadastr/store.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define KD_SERVER_MAX_URL 8192 /* longer request targets get 414 */

struct kd_server {
    struct MHD_Daemon *d;
    int listen_fd;
    unsigned port;
    char db_path[1024];
    char base_url[512];
    char cors[512];         /* "" = any origin */
    struct kd_catalog *cat; /* immutable after start */
    FILE *log;
    int own_log;
    pthread_key_t worker_key; /* a pool thread's struct worker */
    atomic_uint generation;   /* bumped by kd_server_reopen */
    atomic_ulong next_request;
    atomic_int in_flight;
    unsigned long start_id; /* start time, to make request ids unique across restarts */
};

/* A pool thread's own handles (made on its first request, remade after a reopen). */
struct worker {
    unsigned generation;
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_xform *to_4326;   /* office CRS -> lon/lat */
    struct kd_xform *from_4326; /* lon/lat -> office CRS */
    int srid;
    enum kd_numfmt numfmt;
};

/* The answer a route builds; server.c turns it into an HTTP response. */
struct answer {
    int status;
    const char *content_type;
    struct kd_buf body;
    const char *cache_control; /* NULL: no-cache */
    const char *allow;         /* 405: the Allow header */
    int is_problem;
};

struct req {
    struct kd_server *srv;
    struct MHD_Connection *conn;
    char id[40];
    char method[16];
    char *raw_uri; /* as received, for the access log and 414 */
    struct timespec t0;
    int seen; /* the handler has been called once (answer on the second call) */
    int status;
    size_t bytes;
    enum kd_lang lang;
    const char *path; /* percent-decoded, from libmicrohttpd */
};

/* api.c: answers GET/HEAD requests of the cadastre API and /health. */
void kd_api_route(struct req *r, struct worker *w, struct answer *a);

/* server.c helpers for routes */
/* A problem+json answer for key in the request's language. vars: name, value pairs. */
void kd_answer_problem(struct req *r, struct answer *a, int status, const char *key,
                       const char *param, const char *const *vars);
/* The value of a query argument (percent-decoded) or NULL. */
const char *kd_req_arg(struct req *r, const char *name);
/* 400 when the query has an argument not in allowed (NULL-terminated), or invalid UTF-8.
 * Returns 0 when the query is acceptable. */
int kd_req_check_args(struct req *r, struct answer *a, const char *const *allowed);

#endif
