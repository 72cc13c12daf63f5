/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server: libmicrohttpd in thread-pool mode with epoll, one worker per pool thread.
 * The one idea to read it by: a request is answered on the *second* call of the access
 * handler (libmicrohttpd closes the connection after a response queued on the first call,
 * which costs keep-alive and five times the throughput). Everything a response carries
 * (request id, CORS, ETag/304, gzip, problem+json in the asked language) is added here, so
 * routes only build bodies. */
#include "server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#ifndef KD_DATA_DIR
#define KD_DATA_DIR "data"
#endif

/* ---- workers ------------------------------------------------------------------------------ */

static void shapes_release(struct kd_shapes *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        kd_shape_index_free(s->idx);
        free(s);
    }
}

/* Reads the shape index of the database at path into a new counted holder (one reference,
 * the caller's). A failed build gives a holder without an index (lookups then go through the
 * store) and err says why; NULL only when out of memory. */
static struct kd_shapes *shapes_build(const char *path, struct kd_err *err)
{
    struct kd_shapes *s = calloc(1, sizeof *s);
    struct kd_store *st = NULL;

    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    if (kd_store_open(path, KD_STORE_RO, &st, err) == KD_OK &&
        kd_shape_index_build(st, &s->idx, err) != KD_OK)
        s->idx = NULL; /* err says why */
    kd_store_close(st);
    return s;
}

static void worker_close(struct worker *w)
{
    if (!w)
        return;
    shapes_release(w->shapes);
    kd_xform_free(w->to_4326);
    kd_xform_free(w->from_4326);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    memset(w, 0, sizeof *w);
}

static void worker_free(void *p)
{
    worker_close(p);
    free(p);
}

/* This pool thread's worker, opened (again, after a reopen) when needed. NULL with err. */
static struct worker *worker_get(struct kd_server *srv, struct kd_err *err)
{
    struct worker *w = pthread_getspecific(srv->worker_key);
    unsigned gen = atomic_load(&srv->generation);
    const struct kd_store_config *cfg;

    if (w && w->st && w->generation == gen)
        return w;
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            kd_err_set(err, KD_ENOMEM, "store.unavailable", "out of memory");
            return NULL;
        }
        pthread_setspecific(srv->worker_key, w);
    }
    worker_close(w);
    /* the index and the generation it belongs to, taken together */
    pthread_mutex_lock(&srv->shapes_mu);
    gen = atomic_load(&srv->generation);
    w->shapes = srv->shapes;
    if (w->shapes)
        atomic_fetch_add(&w->shapes->refs, 1);
    pthread_mutex_unlock(&srv->shapes_mu);
    if (kd_store_open(srv->db_path, KD_STORE_RO, &w->st, err) || kd_geo_new(&w->g, err))
        goto fail;
    cfg = kd_store_config(w->st);
    w->srid = cfg->srid;
    w->numfmt = cfg->numfmt;
    if (kd_xform_epsg(w->g, cfg->srid, 4326, cfg->area, &w->to_4326, err) ||
        kd_xform_epsg(w->g, 4326, cfg->srid, cfg->area, &w->from_4326, err) ||
        kd_store_parcels_count(w->st, NULL, &w->n_live, err) ||
        (!srv->no_answers && kd_answers_usable(w->st, w->to_4326, &w->answers, err)))
        goto fail;
    w->generation = gen;
    return w;
fail:
    worker_close(w);
    return NULL;
}

/* ---- answers ------------------------------------------------------------------------------ */

void kd_answer_problem(struct req *r, struct answer *a, int status, const char *key,
                       const char *param, const char *const *vars)
{
    char type_base[600], instance[1100];

    kd_buf_reset(&a->body);
    a->status = status;
    a->content_type = "application/problem+json";
    a->is_problem = 1;
    kd_snprintf(type_base, sizeof type_base, "%s/problems/", r->srv->base_url);
    /* the instance is the request's path, cut: never a whole 8 KB query echoed back */
    kd_snprintf(instance, sizeof instance, "%.1024s", r->path ? r->path : "");
    kd_problem_json(&a->body, r->srv->cat, r->lang, status, type_base, key, instance, param, vars);
}

void kd_answer_failed(struct req *r, struct answer *a, const struct kd_err *err)
{
    fprintf(r->srv->log, "%s error %s: %s%s%s\n", r->id, err->key, err->where,
            err->where[0] ? ": " : "", err->msg);
    if (err->code == KD_ESTORE)
        kd_answer_problem(r, a, 503, "store.unavailable", NULL, NULL);
    else
        kd_answer_problem(r, a, 500, "http.internal", NULL,
                          (const char *const[]){"request_id", r->id, NULL});
}

const char *kd_req_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct arg_check {
    const char *const *allowed;
    const char *bad_key;
    const char *bad_param;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct arg_check *c = cls;
    size_t i;

    (void)kind;
    /* a %00 would cut the C string that routes read: refuse it rather than answer for
     * the part before it */
    if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
        c->bad_key = "http.bad_request";
        c->bad_param = strlen(key) == key_size ? key : "query";
        return MHD_NO;
    }
    if (!kd_utf8_valid(key) || (value && !kd_utf8_valid(value))) {
        c->bad_key = "http.invalid_utf8";
        c->bad_param = kd_utf8_valid(key) ? key : "query";
        return MHD_NO;
    }
    for (i = 0; c->allowed[i]; i++)
        if (strcmp(key, c->allowed[i]) == 0)
            return MHD_YES;
    c->bad_key = "query.unknown_parameter";
    c->bad_param = key;
    return MHD_NO;
}

int kd_req_check_args(struct req *r, struct answer *a, const char *const *allowed)
{
    struct arg_check c = {allowed, NULL, NULL};

    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &c);
    if (!c.bad_key)
        return 0;
    {
        char name[72];
        const char *vars[] = {"param", name, NULL};
        /* a parameter name is echoed, cut: never a 30 KB name back */
        kd_snprintf(name, sizeof name, "%.64s", c.bad_param);
        c.bad_param = name;
        kd_answer_problem(r, a, 400, c.bad_key, c.bad_param, vars);
    }
    return -1;
}

/* gzip of body into out; 0 on success. */
static int gzip_body(const struct kd_buf *in, struct kd_buf *out)
{
    z_stream z;
    int rc;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    kd_buf_reset(out);
    kd_buf_add(out, "", 0);
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    do {
        unsigned char chunk[16384];
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, Z_FINISH);
        kd_buf_add(out, chunk, sizeof chunk - z.avail_out);
    } while (rc == Z_OK);
    deflateEnd(&z);
    return rc == Z_STREAM_END && !out->failed ? 0 : -1;
}

/* Does Accept-Encoding list gzip (or *) with a q-value above 0? */
static int accepts_gzip(struct MHD_Connection *c)
{
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    const char *p = ae;

    while (p && *p) {
        const char *end = strchr(p, ','), *semi;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char tok[64];
        double q = 1;
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        kd_snprintf(tok, sizeof tok, "%.*s", (int)(n < 63 ? n : 63), p);
        semi = strchr(tok, ';');
        if (semi) {
            const char *qv = strstr(semi, "q=");
            if (qv)
                q = strtod(qv + 2, NULL);
            tok[semi - tok] = '\0';
        }
        while (tok[0] && tok[strlen(tok) - 1] == ' ')
            tok[strlen(tok) - 1] = '\0';
        if ((strcasecmp(tok, "gzip") == 0 || strcmp(tok, "*") == 0) && q > 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The allowed origin to echo, "*" for any, or NULL (not allowed). */
static const char *cors_origin(struct kd_server *srv, struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    size_t n;
    const char *p;

    if (!srv->cors[0])
        return "*";
    if (!origin)
        return NULL;
    n = strlen(origin);
    for (p = srv->cors; (p = strstr(p, origin)) != NULL; p += n)
        if ((p == srv->cors || p[-1] == ',' || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return origin;
    return NULL;
}

static enum MHD_Result send_answer(struct req *r, struct answer *a)
{
    struct MHD_Connection *c = r->conn;
    struct MHD_Response *resp;
    struct kd_buf gz;
    const char *origin = cors_origin(r->srv, c);
    char etag[40];
    enum MHD_Result ret;
    int not_modified = 0, gzipped = 0;

    kd_buf_init(&gz);
    if (a->body.failed) {
        kd_buf_reset(&a->body);
        a->body.failed = 0;
        kd_answer_problem(r, a, 500, "http.internal", NULL,
                          (const char *const[]){"request_id", r->id, NULL});
    }
    /* a strong validator of the exact bytes: If-None-Match gets 304 */
    kd_snprintf(etag, sizeof etag, "\"%016llx\"",
                (unsigned long long)kd_hash64_fast(a->body.data ? a->body.data : "", a->body.len));
    if (a->status == 200) {
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        not_modified = inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
    }
    if (not_modified) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        r->status = 304;
    } else {
        if (a->body.len > 1024 && accepts_gzip(c) && gzip_body(&a->body, &gz) == 0 &&
            gz.len < a->body.len)
            gzipped = 1;
        {
            struct kd_buf *b = gzipped ? &gz : &a->body;
            size_t len = b->len;
            char *data = b->data ? b->data : NULL;
            if (!data) {
                resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            } else {
                resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
                if (resp)
                    b->data = NULL, b->len = b->cap = 0; /* the response owns it now */
            }
            r->bytes = len;
        }
        r->status = a->status;
    }
    kd_buf_fini(&gz);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    if (!not_modified && a->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (a->is_problem)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_LANGUAGE, kd_lang_tag(r->lang));
    if (a->status == 200 || not_modified) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                a->cache_control ? a->cache_control : "no-cache");
    }
    if (gzipped)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (a->content_crs[0] && (a->status == 200 || not_modified)) {
        char crs[112];
        kd_snprintf(crs, sizeof crs, "<%s>", a->content_crs);
        MHD_add_response_header(resp, "Content-Crs", crs);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding, Accept-Language");
    if (origin)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if (a->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->allow);
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result preflight(struct req *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    const char *origin = cors_origin(r->srv, r->conn);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    r->status = 204;
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, OPTIONS");
    if (origin) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Accept, Accept-Language, If-None-Match, Content-Type");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
    }
    ret = MHD_queue_response(r->conn, 204, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the request lifecycle ------------------------------------------------------------------ */

/* Per connection: the request in progress. libmicrohttpd drops some requests without
 * calling the completion callback (too many query arguments for its memory pool): the
 * connection's close then frees what uri_logger made. */
struct conn_ctx {
    struct req *cur;
};

static struct conn_ctx *conn_ctx_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static void req_free(struct kd_server *srv, struct req *r, const char *why)
{
    if (why)
        fprintf(srv->log, "- %s %.*s - 0 - id=%s (%s)\n", r->method[0] ? r->method : "-", 2048,
                r->raw_uri ? r->raw_uri : "-", r->id, why);
    free(r->raw_uri);
    free(r);
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct kd_server *srv = cls;
    struct conn_ctx *cc;

    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct conn_ctx));
        atomic_fetch_add(&srv->metrics.connections, 1);
        return;
    }
    atomic_fetch_sub(&srv->metrics.connections, 1);
    cc = *socket_context;
    if (!cc)
        return;
    if (cc->cur)
        req_free(srv, cc->cur, "dropped by libmicrohttpd");
    free(cc);
    *socket_context = NULL;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct kd_server *srv = cls;
    struct req *r = calloc(1, sizeof *r);

    if (!r)
        return NULL;
    r->srv = srv;
    r->conn = conn;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    kd_snprintf(r->id, sizeof r->id, "%08lx-%06lx", srv->start_id & 0xffffffffUL,
                (unsigned long)atomic_fetch_add(&srv->next_request, 1) & 0xffffffUL);
    r->raw_uri = strdup(uri ? uri : "");
    atomic_fetch_add(&srv->in_flight, 1);
    {
        struct conn_ctx *cc = conn_ctx_of(conn);
        if (cc) {
            if (cc->cur)
                req_free(srv, cc->cur, "dropped by libmicrohttpd");
            cc->cur = r;
        }
    }
    return r;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    int *n = cls;

    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        n[0]++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        n[1]++;
    return MHD_YES;
}

/* Does the request announce a body? No route takes one: such a request is refused before
 * its body is read, which also settles the framing quarrels HTTP says to refuse (two
 * Content-Lengths, Content-Length with Transfer-Encoding, a coding other than chunked). */
static int announces_body(struct MHD_Connection *c, int *ambiguous)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int n[2] = {0, 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, n);
    *ambiguous = n[0] > 1 || (n[0] && n[1]);
    return n[1] > 0 || (cl && strspn(cl, "0") != strlen(cl));
}

/* A %00 in the path: the decoded path a route reads would end there. */
static int path_has_nul(const char *raw_uri)
{
    size_t n = strcspn(raw_uri, "?");
    const char *p;

    for (p = raw_uri; (p = strchr(p, '%')) != NULL && (size_t)(p - raw_uri) < n; p++)
        if (p[1] == '0' && p[2] == '0')
            return 1;
    return 0;
}

/* Builds and queues the answer to a request whose headers are in. */
static enum MHD_Result answer_request(struct kd_server *srv, struct req *r, const char *url,
                                      const char *method, int body, int ambiguous)
{
    struct answer a;
    struct worker *w;
    struct kd_err err;
    enum MHD_Result ret;
    char shown[40];

    memset(&a, 0, sizeof a);
    kd_buf_init(&a.body);
    a.status = 200;
    kd_snprintf(shown, sizeof shown, "%.32s", method); /* never a 30 KB method echoed */
    if (strlen(r->raw_uri) > KD_SERVER_MAX_URL) {
        char limit[16];
        kd_snprintf(limit, sizeof limit, "%d", KD_SERVER_MAX_URL);
        kd_answer_problem(r, &a, 414, "http.uri_too_long", NULL,
                          (const char *const[]){"limit", limit, NULL});
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
               strcmp(method, "OPTIONS") != 0) {
        a.allow = "GET, HEAD, OPTIONS";
        kd_answer_problem(r, &a, 405, "http.method_not_allowed", NULL,
                          (const char *const[]){"method", shown, "allow", a.allow, NULL});
    } else if (body || ambiguous) {
        kd_answer_problem(r, &a, 400, "http.bad_request", NULL, NULL);
    } else if (strcmp(method, "OPTIONS") == 0) {
        kd_buf_fini(&a.body);
        return preflight(r);
    } else if (!kd_utf8_valid(url)) {
        kd_answer_problem(r, &a, 400, "http.invalid_utf8", "path",
                          (const char *const[]){"param", "path", NULL});
    } else if (path_has_nul(r->raw_uri)) {
        kd_answer_problem(r, &a, 400, "http.bad_request", "path", NULL);
    } else {
        kd_err_init(&err);
        w = worker_get(srv, &err);
        if (!w)
            kd_answer_problem(r, &a, 503, "store.unavailable", NULL, NULL);
        else
            kd_api_route(r, w, &a); /* inside a read snapshot (api.c) */
    }
    ret = send_answer(r, &a);
    kd_buf_fini(&a.body);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **req_cls)
{
    struct kd_server *srv = cls;
    struct req *r = *req_cls;
    int body, ambiguous;

    (void)version;
    (void)upload_data;
    if (!r)
        return MHD_NO;
    if (!r->seen) {
        r->seen = 1;
        r->conn = conn;
        kd_strlcpy(r->method, method, sizeof r->method);
        r->path = url;
        r->lang = kd_lang_negotiate(
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language"));
        body = announces_body(conn, &ambiguous);
        /* a request with a body, or of a method no route has, is refused now: its body is
         * never read (and the connection closes). Others are answered on the next call, so
         * that keep-alive holds. */
        if (body || ambiguous ||
            (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
             strcmp(method, "OPTIONS") != 0))
            return answer_request(srv, r, url, method, body, ambiguous);
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* not reached: bodies are refused on the first call */
        return MHD_YES;
    }
    return answer_request(srv, r, url, method, 0, 0);
}

/* Access-log helpers: copy n bytes; write v in decimal, at least width digits. */
static char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_uint(char *p, unsigned long v, int width)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < width);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* One whole line to the access log. The stream is stderr (unbuffered) or a file opened for
 * appending and line-buffered, so nothing written through stdio (errors) waits in a buffer
 * to come out of order. */
static void log_write(struct kd_server *srv, const char *line, size_t n)
{
    int fd = fileno(srv->log);

    while (n > 0) {
        ssize_t w = write(fd, line, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a full disk or a closed stderr loses log lines, never requests */
        line += w;
        n -= (size_t)w;
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct kd_server *srv = cls;
    struct req *r = *req_cls;
    struct timespec t1, now;
    /* the last second formatted, per pool thread */
    static _Thread_local time_t when_sec = -1;
    static _Thread_local char when[24];
    long us;

    if (!r)
        return;
    {
        struct conn_ctx *cc = conn_ctx_of(conn);
        if (cc && cc->cur == r)
            cc->cur = NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_REALTIME, &now);
    us = (t1.tv_sec - r->t0.tv_sec) * 1000000L + (t1.tv_nsec - r->t0.tv_nsec) / 1000;
    kd_metrics_count(srv, r->raw_uri ? r->raw_uri : "", r->status, (double)us / 1e6);
    /* one line per request, built here and written with one write(2) (O_APPEND keeps lines
     * whole): no stdio lock between the pool threads, no printf on the hot path */
    if (now.tv_sec != when_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        when_sec = now.tv_sec;
    }
    {
        char line[2400], *p = line;
        const char *uri = r->raw_uri ? r->raw_uri : "-";
        size_t ulen = strlen(uri);
        p = put_str(p, when, strlen(when));
        *p++ = '.';
        p = put_uint(p, (unsigned long)(now.tv_nsec / 1000000), 3);
        p = put_str(p, "Z ", 2);
        p = put_str(p, r->method[0] ? r->method : "-", r->method[0] ? strlen(r->method) : 1);
        *p++ = ' ';
        p = put_str(p, uri, ulen < 2048 ? ulen : 2048);
        *p++ = ' ';
        p = put_uint(p, (unsigned long)(r->status > 0 ? r->status : 0), 1);
        *p++ = ' ';
        p = put_uint(p, (unsigned long)r->bytes, 1);
        *p++ = ' ';
        p = put_uint(p, (unsigned long)(us > 0 ? us : 0) / 1000, 1);
        *p++ = '.';
        p = put_uint(p, (unsigned long)(us > 0 ? us : 0) % 1000, 3);
        p = put_str(p, "ms id=", 6);
        p = put_str(p, r->id, strlen(r->id));
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            p = put_str(p, " (closed)", 9);
        *p++ = '\n';
        log_write(srv, line, (size_t)(p - line));
    }
    *req_cls = NULL;
    req_free(srv, r, NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) KD_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct kd_server *srv = cls;
    char line[512];

    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(srv->log, "libmicrohttpd: %s%s", line,
            line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
}

/* ---- start and stop ------------------------------------------------------------------------ */

static enum kd_code open_listener(const char *listen_s, struct kd_server *srv, struct kd_err *err)
{
    char host[256];
    const char *colon = strrchr(listen_s, ':');
    struct sockaddr_storage ss;
    socklen_t len;
    char *end;
    long port;
    int fd, one = 1;

    memset(&ss, 0, sizeof ss);
    if (!colon || (size_t)(colon - listen_s) >= sizeof host)
        goto bad;
    port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port < 0 || port > 65535)
        goto bad;
    memcpy(host, listen_s, (size_t)(colon - listen_s));
    host[colon - listen_s] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        host[strlen(host) - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            goto bad;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &a4->sin_addr) != 1)
            goto bad;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        char why[128] = "";
        int e = errno;
        if (strerror_r(e, why, sizeof why) != 0)
            kd_snprintf(why, sizeof why, "error %d", e);
        if (fd >= 0)
            close(fd);
        kd_err_set(err, KD_EIO, "serve.bind", "cannot listen on %s: %s", listen_s, why);
        kd_err_hint(err, e == EADDRINUSE ? "another program uses that port: choose another with "
                                           "--listen, e.g. --listen 127.0.0.1:8081"
                                         : "check the address, and the permission for ports "
                                           "below 1024");
        return KD_EIO;
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    srv->listen_fd = fd;
    if (!srv->base_url[0])
        kd_snprintf(srv->base_url, sizeof srv->base_url, "http://%s:%u",
                    host[0] ? host : "127.0.0.1", srv->port);
    return KD_OK;
bad:
    kd_err_set(err, KD_EINVAL, "serve.listen", "'%s' is not ADDR:PORT", listen_s);
    kd_err_hint(err, "e.g. --listen 127.0.0.1:8080, --listen 0.0.0.0:80 or --listen [::1]:8080");
    return KD_EINVAL;
}

enum kd_code kd_server_start(const struct kd_server_opts *o, struct kd_server **out,
                             struct kd_err *err)
{
    struct kd_server *srv = calloc(1, sizeof *srv);
    struct kd_store *st = NULL;
    unsigned threads = o->threads;
    enum kd_code rc;
    char dir[1024];

    if (!srv)
        return kd_err_set(err, KD_ENOMEM, "serve.nomem", "out of memory");
    srv->listen_fd = -1;
    srv->log = stderr;
    srv->start_id = (unsigned long)time(NULL);
    kd_strlcpy(srv->db_path, o->db_path, sizeof srv->db_path);
    kd_strlcpy(srv->cors, o->cors && strcmp(o->cors, "*") != 0 ? o->cors : "", sizeof srv->cors);
    if (o->base_url) {
        kd_strlcpy(srv->base_url, o->base_url, sizeof srv->base_url);
        while (srv->base_url[0] && srv->base_url[strlen(srv->base_url) - 1] == '/')
            srv->base_url[strlen(srv->base_url) - 1] = '\0';
    }
    if (pthread_key_create(&srv->worker_key, worker_free) != 0) {
        free(srv);
        return kd_err_set(err, KD_ENOMEM, "serve.nomem", "cannot create thread keys");
    }
    pthread_mutex_init(&srv->shapes_mu, NULL);
    /* the database must be readable now: a clear error beats 503s later */
    rc = kd_store_open(o->db_path, KD_STORE_RO, &st, err);
    kd_store_close(st);
    srv->no_answers = o->no_prepared_answers;
    if (rc)
        goto fail;
    kd_snprintf(dir, sizeof dir, "%s/i18n", o->data_dir ? o->data_dir : KD_DATA_DIR);
    rc = kd_catalog_load(dir, &srv->cat, err);
    if (rc) {
        kd_err_where(err, "message catalogues");
        goto fail;
    }
    if (o->access_log) {
        srv->log = fopen(o->access_log, "a");
        if (!srv->log) {
            srv->log = stderr;
            rc = kd_err_set(err, KD_EIO, "serve.log", "cannot append to the access log %s",
                            o->access_log);
            goto fail;
        }
        setvbuf(srv->log, NULL, _IOLBF, 0);
        srv->own_log = 1;
    }
    /* the shared index of live shapes, before the first request. A register it cannot read
     * (a shape that is not a polygon) is still served: lookups then go through the database,
     * and the log says why */
    {
        struct kd_err ierr;
        kd_err_init(&ierr);
        srv->no_shapes = o->no_lookup_index;
        srv->shapes =
            srv->no_shapes ? calloc(1, sizeof *srv->shapes) : shapes_build(o->db_path, &ierr);
        if (srv->shapes && srv->no_shapes)
            atomic_init(&srv->shapes->refs, 1);
        if (!srv->shapes) {
            rc = kd_err_set(err, KD_ENOMEM, "serve.nomem", "out of memory");
            goto fail;
        }
        if (!srv->shapes->idx && !srv->no_shapes)
            fprintf(srv->log,
                    "kadastr serve: no lookup index (%s: %s%s%s); lookups go through the "
                    "database\n",
                    ierr.key, ierr.where, ierr.where[0] ? ": " : "", ierr.msg);
    }
    rc = open_listener(o->listen ? o->listen : "127.0.0.1:8080", srv, err);
    if (rc)
        goto fail;
    /* GET /api: read once, with the base URL now known, and kept immutable */
    kd_snprintf(dir, sizeof dir, "%s/openapi.json", o->data_dir ? o->data_dir : KD_DATA_DIR);
    rc = kd_openapi_load(dir, srv->base_url, &srv->openapi, &srv->openapi_len, err);
    if (rc) {
        kd_err_where(err, "OpenAPI document");
        goto fail;
    }
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    srv->d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, handler,
        srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        /* room for a request target over 8 KB (answered 414 by the handler) with up to
         * about 900 arguments (some 48 bytes each in the library's pool) at the default
         * 64 KB; more arguments than the pool holds and the library drops the request
         * unanswered. The library zeroes the whole pool after every request: at 128 KB that
         * was 12 % of the server's time on /api/v1/parcels/{number} (docs/operations.md) */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(o->connection_memory_kb ? o->connection_memory_kb : 64u) * 1024,
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s ? o->idle_timeout_s : 30u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_limit ? o->per_ip_limit : 256u,
        MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, srv,
        MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        srv, MHD_OPTION_END);
    if (!srv->d) {
        rc = kd_err_set(err, KD_EIO, "serve.start", "libmicrohttpd could not start");
        goto fail;
    }
    if (!srv->no_answers && (rc = kd_preparer_start(srv, err)) != KD_OK)
        goto fail;
    *out = srv;
    return KD_OK;
fail:
    kd_server_free(srv, 0);
    return rc;
}

unsigned kd_server_port(const struct kd_server *srv)
{
    return srv->port;
}

const char *kd_server_base_url(const struct kd_server *srv)
{
    return srv->base_url;
}

enum kd_code kd_server_reopen(struct kd_server *srv, struct kd_err *err)
{
    struct kd_shapes *fresh, *old;

    if (srv->no_shapes) {
        if ((fresh = calloc(1, sizeof *fresh)) != NULL)
            atomic_init(&fresh->refs, 1);
    } else {
        fresh = shapes_build(srv->db_path, err);
    }

    /* the new index is built while the workers go on with the old one; then both switch */
    pthread_mutex_lock(&srv->shapes_mu);
    old = srv->shapes;
    srv->shapes = fresh;
    atomic_fetch_add(&srv->generation, 1);
    pthread_mutex_unlock(&srv->shapes_mu);
    shapes_release(old);
    kd_preparer_wake(srv);
    if (!fresh)
        return kd_err_set(err, KD_ENOMEM, "serve.nomem", "out of memory");
    return fresh->idx || srv->no_shapes ? KD_OK : err->code;
}

void kd_server_shape_stats(struct kd_server *srv, struct kd_shape_index_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&srv->shapes_mu);
    if (srv->shapes && srv->shapes->idx)
        kd_shape_index_stats(srv->shapes->idx, out);
    pthread_mutex_unlock(&srv->shapes_mu);
}

void kd_server_free(struct kd_server *srv, double grace_s)
{
    if (!srv)
        return;
    kd_preparer_request_stop(srv); /* it finishes its batch while requests finish */
    if (srv->d) {
        struct timespec t0, t;
        /* stop accepting, and close the listening socket now: a client that connects
         * during the grace is refused at once (a load balancer moves on), rather than
         * left in the kernel's backlog unanswered. Requests in flight finish (at most
         * grace_s). When quiescing fails the library keeps the socket and closes it when
         * it stops. */
        if (MHD_quiesce_daemon(srv->d) != MHD_INVALID_SOCKET && srv->listen_fd >= 0)
            close(srv->listen_fd);
        srv->listen_fd = -1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            double dt;
            clock_gettime(CLOCK_MONOTONIC, &t);
            dt = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
            if (atomic_load(&srv->in_flight) <= 0 || dt >= grace_s)
                break;
            usleep(10000);
        }
        MHD_stop_daemon(srv->d);
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    kd_preparer_stop(srv); /* before the log it writes to is closed */
    kd_catalog_free(srv->cat);
    free(srv->openapi);
    if (srv->own_log)
        fclose(srv->log);
    pthread_key_delete(srv->worker_key);
    shapes_release(srv->shapes);
    pthread_mutex_destroy(&srv->shapes_mu);
    free(srv);
}
