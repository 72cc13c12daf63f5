/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the server shared by its files: the server, a pool thread's worker, one
 * request, and the answer a route builds. Only src/server sees libmicrohttpd. */
#ifndef KADASTR_SERVER_INT_H
#define KADASTR_SERVER_INT_H

#include "kadastr/cadastre.h"
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
#define KD_METRIC_ROUTES                                                                           \
    8 /* metrics.c: health, parcel, neighbours, history, lookup, ogc,                              \
         metrics, other */
#define KD_METRIC_BUCKETS 8

/* The shared index of live shapes of one opening of the database, counted: the server holds
 * the current one, each worker the one of its generation; the last to let go frees it. */
struct kd_shapes {
    struct kd_shape_index *idx; /* NULL: the build failed; lookups go through the store */
    atomic_int refs;
};

struct kd_server {
    struct MHD_Daemon *d;
    int listen_fd;
    unsigned port;
    char db_path[1024];
    char base_url[512];
    char cors[512];         /* "" = any origin */
    struct kd_catalog *cat; /* immutable after start */
    char *openapi;          /* GET /api: the OpenAPI document's bytes, immutable after start */
    size_t openapi_len;
    FILE *log;
    int own_log;
    pthread_key_t worker_key;  /* a pool thread's struct worker */
    atomic_uint generation;    /* bumped by kd_server_reopen */
    pthread_mutex_t shapes_mu; /* guards shapes and the generation it goes with */
    struct kd_shapes *shapes;  /* the current index (workers take a reference) */
    int no_shapes;             /* --no-lookup-index: holders without an index */
    int no_answers;            /* --no-prepared-answers: every parcel from the register */
    struct {                   /* the answer preparer (preparer.c) */
        pthread_t thread;
        int inited, started;
        pthread_mutex_t mu; /* guards stop and woken */
        pthread_cond_t cv;
        int stop, woken;
        atomic_ulong made; /* answers made since start */
        atomic_int idle;   /* 1: nothing was left to make at its last look */
    } prep;
    atomic_ulong next_request;
    atomic_int in_flight;
    struct kd_metrics {
        /* requests by route and status class (2xx..5xx, other), latency histogram,
         * connections open: atomics only, read by GET /metrics */
        atomic_ulong requests[KD_METRIC_ROUTES][5];
        atomic_ulong latency_le[KD_METRIC_BUCKETS + 1]; /* last: +Inf */
        atomic_ulong latency_sum_us;
        atomic_long connections;
    } metrics;
    unsigned long start_id; /* start time, to make request ids unique across restarts */
};

/* preparer.c: the thread that makes missing parcel answers while the server runs. */
enum kd_code kd_preparer_start(struct kd_server *srv, struct kd_err *err) KD_WUR;
void kd_preparer_wake(struct kd_server *srv);         /* look again now (the file changed) */
void kd_preparer_request_stop(struct kd_server *srv); /* asks it to stop (no wait) */
void kd_preparer_stop(struct kd_server *srv);         /* stops and joins it (idempotent) */

/* A pool thread's own handles (made on its first request, remade after a reopen). */
struct worker {
    unsigned generation;
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_xform *to_4326;   /* office CRS -> lon/lat */
    struct kd_xform *from_4326; /* lon/lat -> office CRS */
    int answers; /* the prepared parcel answers are this build's (kd_answers_usable) */
    int srid;
    enum kd_numfmt numfmt;
    int64_t n_live;           /* live parcels when this worker opened the database (/health) */
    struct kd_shapes *shapes; /* the index of its generation (a reference) */
    /* what ogc_items.c asks PROJ once per worker (its database answers in tens of µs) */
    int crs_known;
    int office_north_first;            /* the office CRS lists northing first */
    double aou_office[4], aou_3857[4]; /* areas of use, lon/lat W,S,E,N */
    double aou_office_xy[4];           /* the office area of use in the office CRS */
};

/* The answer a route builds; server.c turns it into an HTTP response. */
struct answer {
    int status;
    const char *content_type;
    struct kd_buf body;
    const char *cache_control; /* NULL: no-cache */
    const char *allow;         /* 405: the Allow header */
    int is_problem;
    char content_crs[96]; /* OGC API Part 2: the answer's CRS URI, "" for none */
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

/* api.c: answers GET/HEAD requests (OGC API through ogc.c, the cadastre API, /health),
 * each inside one read snapshot of the database; a prepared parcel answer is one statement,
 * its own snapshot. */
void kd_api_route(struct req *r, struct worker *w, struct answer *a);

/* openapi.c: GET /api (docs/api.md). kd_openapi_load reads the OpenAPI 3.0 document at path,
 * checks it (JSON; openapi 3.0.x; info.title, info.version; paths) and writes it out with
 * servers[0].url set to base_url. OUT doc (free) and len. Errors: KD_EIO "openapi.read",
 * "openapi.parse", "openapi.version", "openapi.shape" (where: path); KD_ENOMEM. */
#define KD_OPENAPI_TYPE "application/vnd.oai.openapi+json;version=3.0"
enum kd_code kd_openapi_load(const char *path, const char *base_url, char **doc, size_t *len,
                             struct kd_err *err) KD_WUR;
/* Answers GET /api from srv->openapi (f=json or no f; another f is 406). */
void kd_openapi_answer(struct req *r, struct answer *a);

/* metrics.c: counts a finished request; writes the Prometheus text of GET /metrics. */
void kd_metrics_count(struct kd_server *srv, const char *path, int status, double seconds);
void kd_metrics_answer(struct kd_server *srv, struct answer *a);

/* server.c helpers for routes */
/* A problem+json answer for key in the request's language. vars: name, value pairs. */
void kd_answer_problem(struct req *r, struct answer *a, int status, const char *key,
                       const char *param, const char *const *vars);
/* A store or geo failure: the record goes to the log with the request id; the client gets
 * 503 store.unavailable (KD_ESTORE) or 500 http.internal. */
void kd_answer_failed(struct req *r, struct answer *a, const struct kd_err *err);
/* The value of a query argument (percent-decoded) or NULL. */
const char *kd_req_arg(struct req *r, const char *name);
/* 400 when the query has an argument not in allowed (NULL-terminated), or invalid UTF-8.
 * Returns 0 when the query is acceptable. */
int kd_req_check_args(struct req *r, struct answer *a, const char *const *allowed);

/* ---- OGC API - Features (ogc.c, ogc_items.c; docs/api.md "OGC API - Features") ------------- */

/* ogc.c: answers the OGC API - Features routes: /, /conformance, /collections and what lies
 * under it. Returns 1 when the path is one of them (a holds the answer), 0 when it is not
 * (kd_api_route goes on). */
int kd_ogc_route(struct req *r, struct worker *w, struct answer *a);

/* A property of a collection's features. */
struct kd_ogc_prop {
    const char *name;
    const char *type;   /* "string", "number" or "date-time" (a string in RFC 3339) */
    const char *title;  /* English, for schemas and queryables */
    const char *column; /* the store column an equality filter on it reads
                           (kd_store_ogc_filterable), or NULL: not queryable */
};

/* A collection: one layer of the register. */
struct kd_ogc_coll {
    const char *id; /* "parcels", "zones", "restrictions", "admin_units" */
    enum kd_layer layer;
    const char *title, *description;
    const struct kd_ogc_prop *props; /* in output order, ended by a NULL name */
};

/* The collection named id, or NULL. */
const struct kd_ogc_coll *kd_ogc_coll_find(const char *id);

/* The coordinate reference systems a request may name (crs, bbox-crs). */
enum kd_ogc_crs { KD_OGC_CRS84 = 0, KD_OGC_OFFICE, KD_OGC_3857 };
/* Parses an OGC CRS URI (http://www.opengis.net/def/crs/EPSG/0/3857, .../OGC/1.3/CRS84), or the
 * short forms EPSG:3857, [EPSG:3857], OGC:CRS84. Returns -1 for a CRS not offered. */
int kd_ogc_crs_parse(const char *s, int office_srid, enum kd_ogc_crs *out);
/* The URI of c. */
void kd_ogc_crs_uri(enum kd_ogc_crs c, int office_srid, char *out, size_t size);
/* A 400 query.bad_crs answer naming param, its value and the CRSs offered. */
void kd_ogc_bad_crs(struct req *r, struct worker *w, struct answer *a, const char *param,
                    const char *value);

/* ogc_items.c: /collections/{id}/items and /collections/{id}/items/{fid}. */
void kd_ogc_items(struct req *r, struct worker *w, struct answer *a, const struct kd_ogc_coll *c);
void kd_ogc_item(struct req *r, struct worker *w, struct answer *a, const struct kd_ogc_coll *c,
                 const char *fid);

#endif
