/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics in the Prometheus text format (version 0.0.4): requests by route and status
 * class, a latency histogram, connections open. Counting is a few relaxed atomic adds per
 * request; nothing is locked. */
#include "server_int.h"

#include <string.h>

static const char *const routes[KD_METRIC_ROUTES] = {"health", "parcel", "neighbours", "history",
                                                     "lookup", "ogc",    "metrics",    "other"};
static const char *const classes[5] = {"2xx", "3xx", "4xx", "5xx", "other"};
static const double bounds[KD_METRIC_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.05,  0.25,   1.0};

/* The route a request target belongs to (by its path; the query does not matter). */
static int route_of(const char *path)
{
    size_t n = strcspn(path, "?");
    static const char parcels[] = "/api/v1/parcels/";

    if (n == 7 && strncmp(path, "/health", 7) == 0)
        return 0;
    if (n == 8 && strncmp(path, "/metrics", 8) == 0)
        return 6;
    if (n == 14 && strncmp(path, "/api/v1/lookup", 14) == 0)
        return 4;
    if (n > sizeof parcels - 1 && strncmp(path, parcels, sizeof parcels - 1) == 0) {
        if (n > 11 && strncmp(path + n - 11, "/neighbours", 11) == 0)
            return 2;
        if (n > 8 && strncmp(path + n - 8, "/history", 8) == 0)
            return 3;
        return 1;
    }
    /* the OGC API: its landing page, conformance, the API definition and the collections */
    if ((n == 1 && path[0] == '/') || (n == 12 && strncmp(path, "/conformance", 12) == 0) ||
        (n == 4 && strncmp(path, "/api", 4) == 0) || strncmp(path, "/collections", 12) == 0)
        return 5;
    return 7;
}

void kd_metrics_count(struct kd_server *srv, const char *path, int status, double seconds)
{
    struct kd_metrics *m = &srv->metrics;
    int c = status >= 200 && status < 600 ? status / 100 - 2 : 4, b;

    if (c < 0)
        c = 4;
    atomic_fetch_add_explicit(&m->requests[route_of(path)][c], 1, memory_order_relaxed);
    for (b = 0; b < KD_METRIC_BUCKETS && seconds > bounds[b]; b++)
        ;
    atomic_fetch_add_explicit(&m->latency_le[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, (unsigned long)(seconds * 1e6),
                              memory_order_relaxed);
}

void kd_metrics_answer(struct kd_server *srv, struct answer *a)
{
    struct kd_metrics *m = &srv->metrics;
    unsigned long cum = 0;
    int i, j;

    a->content_type = "text/plain; version=0.0.4; charset=utf-8";
    kd_buf_adds(&a->body, "# HELP kadastr_http_requests_total Requests answered, by route and "
                          "status class.\n# TYPE kadastr_http_requests_total counter\n");
    for (i = 0; i < KD_METRIC_ROUTES; i++)
        for (j = 0; j < 5; j++)
            kd_buf_addf(&a->body, "kadastr_http_requests_total{route=\"%s\",code=\"%s\"} %lu\n",
                        routes[i], classes[j],
                        atomic_load_explicit(&m->requests[i][j], memory_order_relaxed));
    kd_buf_adds(&a->body, "# HELP kadastr_http_request_duration_seconds Time from the request "
                          "line to the end of the answer.\n"
                          "# TYPE kadastr_http_request_duration_seconds histogram\n");
    for (i = 0; i <= KD_METRIC_BUCKETS; i++) {
        cum += atomic_load_explicit(&m->latency_le[i], memory_order_relaxed);
        if (i < KD_METRIC_BUCKETS)
            kd_buf_addf(&a->body, "kadastr_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
                        bounds[i], cum);
        else
            kd_buf_addf(&a->body, "kadastr_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n",
                        cum);
    }
    kd_buf_addf(&a->body, "kadastr_http_request_duration_seconds_sum %.6f\n",
                (double)atomic_load_explicit(&m->latency_sum_us, memory_order_relaxed) / 1e6);
    kd_buf_addf(&a->body, "kadastr_http_request_duration_seconds_count %lu\n", cum);
    kd_buf_addf(&a->body,
                "# HELP kadastr_http_connections_open Connections open now.\n"
                "# TYPE kadastr_http_connections_open gauge\n"
                "kadastr_http_connections_open %ld\n",
                atomic_load_explicit(&m->connections, memory_order_relaxed));
    kd_buf_addf(&a->body,
                "# HELP kadastr_http_requests_in_flight Requests being answered now.\n"
                "# TYPE kadastr_http_requests_in_flight gauge\n"
                "kadastr_http_requests_in_flight %d\n",
                atomic_load(&srv->in_flight));
    kd_buf_addf(&a->body,
                "# HELP kadastr_answers_prepared_total Parcel answers made by the preparer.\n"
                "# TYPE kadastr_answers_prepared_total counter\n"
                "kadastr_answers_prepared_total %lu\n"
                "# HELP kadastr_answers_up_to_date 1 when the preparer found nothing left to "
                "make at its last look.\n"
                "# TYPE kadastr_answers_up_to_date gauge\n"
                "kadastr_answers_up_to_date %d\n",
                atomic_load(&srv->prep.made), atomic_load(&srv->prep.idle));
}
