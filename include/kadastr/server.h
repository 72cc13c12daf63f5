/* SPDX-License-Identifier: Apache-2.0 */
/* server: `kadastr serve`, the HTTP service on libmicrohttpd (thread pool, epoll). Each pool
 * thread owns a worker: a read-only store connection, a PROJ context and GEOS handle, made
 * on its first request (libmicrohttpd has no thread-start hook) and remade after a reopen.
 * Nothing on the read path is shared and mutable but atomic counters. */
#ifndef KADASTR_SERVER_H
#define KADASTR_SERVER_H

#include "kadastr/core.h"

struct kd_server_opts {
    const char *db_path;
    const char *listen;            /* "ADDR:PORT" (IPv4 or [IPv6]); port 0 picks a free one */
    unsigned threads;              /* pool size; 0: the number of processors */
    const char *base_url;          /* the public URL of the service (links, problem types); NULL:
                                      http://ADDR:PORT */
    const char *cors;              /* allowed origins, comma-separated; NULL: any ("*") */
    const char *access_log;        /* a file to append to; NULL: stderr */
    const char *data_dir;          /* i18n/ (message catalogues) and openapi.json (GET /api) are
                                      read from it; NULL: the built-in path (data/) */
    unsigned per_ip_limit;         /* connections per client address; 0: 256 */
    unsigned idle_timeout_s;       /* 0: 30 */
    unsigned connection_memory_kb; /* libmicrohttpd's memory per connection; 0: 64. It holds the
                                      request and its parsed arguments (about 48 bytes each) */
    int no_lookup_index;           /* 1: no shared shape index (saves its memory; lookups go through
                                      the database, same answers, slower) */
    int no_prepared_answers;       /* 1: /api/v1/parcels/{number} makes every answer from the
                                      register instead of reading the one prepared at write time
                                      (same bytes, slower; a test oracle) */
};

struct kd_server;

/* Binds, listens and starts the pool. OUT srv (kd_server_free). Errors: KD_EINVAL
 * "serve.listen" (bad ADDR:PORT), KD_EIO "serve.bind" (port in use, no permission),
 * "serve.catalog", "openapi.read"/"openapi.parse"/"openapi.version"/"openapi.shape" (the
 * OpenAPI document), the store's errors (the database is opened once to check it). */
enum kd_code kd_server_start(const struct kd_server_opts *o, struct kd_server **srv,
                             struct kd_err *err) KD_WUR;
/* The port listened on (useful with port 0). */
unsigned kd_server_port(const struct kd_server *srv);
/* The base URL in use. */
const char *kd_server_base_url(const struct kd_server *srv);
/* Workers switch to a freshly opened database at their next request (SIGHUP): a file
 * replaced atomically is picked up without downtime. The shared index of live shapes
 * (lookups) is built first, from the file now at the path, while the workers go on with the
 * old one. An error (the index could not be built) leaves the workers switching all the
 * same, with lookups answered through the store until the next reopen. Thread-safe. */
enum kd_code kd_server_reopen(struct kd_server *srv, struct kd_err *err);
/* What the shared index of live shapes holds (all zero when there is none). Thread-safe. */
struct kd_shape_index_stats;
void kd_server_shape_stats(struct kd_server *srv, struct kd_shape_index_stats *out);
/* Stops accepting, lets requests in flight finish (at most grace_s seconds), stops the
 * pool and frees everything. Accepts NULL. */
void kd_server_free(struct kd_server *srv, double grace_s);

#endif
