/* SPDX-License-Identifier: Apache-2.0 */
/* The real `kadastr serve` on a free loopback port (port 0, written to a file), driven with
 * libcurl: routes, statuses, problem+json in the asked language, HEAD, CORS preflight, ETag
 * and 304, gzip, keep-alive over ten requests, long and malformed URLs, SIGHUP with a
 * replaced database, SIGTERM. */
#include "harness.h"

#include "kadastr/core.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static struct harness_server srv = HARNESS_SERVER_INIT;

/* One request on handle h (reused for keep-alive). extra: NULL-terminated header lines. */
static void request(CURL *h, const char *method, const char *path, const char *const *extra,
                    struct harness_resp *r)
{
    harness_request(h, srv.base, method, path, extra, 20, r);
}

static void get(const char *path, const char *const *extra, struct harness_resp *r)
{
    CURL *h = curl_easy_init();

    request(h, "GET", path, extra, r);
    curl_easy_cleanup(h);
}

static int setup(void **state)
{
    (void)state;
    if (harness_init("r.sqlite", 300, 3))
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    harness_server_start(&srv, "", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_server_stop(&srv, 15.0, NULL);
    curl_global_cleanup();
    return 0;
}

/* A live number of the register, and a point inside its parcel (lon/lat). */
static void some_parcel(char *number, size_t size, double *lon, double *lat)
{
    char cmd[4096], out[256] = "";
    FILE *p;

    kd_snprintf(cmd, sizeof cmd,
                "sqlite3 '%s' \"SELECT load_extension('mod_spatialite'); SELECT number || ' ' || "
                "X(ST_Transform(ST_PointOnSurface(geom_cad), 4326)) || ' ' || "
                "Y(ST_Transform(ST_PointOnSurface(geom_cad), 4326)) FROM parcels WHERE valid_to "
                "IS NULL ORDER BY id LIMIT 1\" | tail -1",
                harness.db);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    pclose(p);
    assert_int_equal(sscanf(out, "%63s %lf %lf", number, lon, lat), 3);
    (void)size;
}

static void test_serve_health_and_parcel(void **state)
{
    struct harness_resp r;
    char number[64], path[256], v[256];
    double lon, lat;

    (void)state;
    get("/health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"status\":\"ok\""));
    assert_non_null(harness_header(r.headers.data, "X-Request-Id", v, sizeof v));
    harness_resp_fini(&r);

    some_parcel(number, sizeof number, &lon, &lat);
    kd_snprintf(path, sizeof path, "/api/v1/parcels/%s", number);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(harness_header(r.headers.data, "Content-Type", v, sizeof v),
                        "application/geo+json");
    assert_non_null(strstr(r.body.data, number));
    assert_non_null(strstr(r.body.data, "\"geodesic_area_m2\""));
    assert_non_null(strstr(r.body.data, "\"zones\""));
    assert_non_null(strstr(r.body.data, "\"rights\""));
    /* anonymous: kinds and shares, never names, PINFL or STIR */
    assert_null(strstr(r.body.data, "party_id"));
    assert_null(strstr(r.body.data, "pinfl"));
    assert_string_equal(harness_header(r.headers.data, "Access-Control-Allow-Origin", v, sizeof v),
                        "*");
    harness_resp_fini(&r);
}

static void test_serve_problems_in_four_languages(void **state)
{
    static const char *const langs[][2] = {{"ru-RU,ru;q=0.9,en;q=0.8", "ru"},
                                           {"uz-Cyrl", "uz-Cyrl"},
                                           {"uz", "uz"},
                                           {"de, fr;q=0.5", "en"}};
    struct harness_resp r;
    char v[256], hdr[128];
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        kd_snprintf(hdr, sizeof hdr, "Accept-Language: %s", langs[i][0]);
        get("/api/v1/parcels/10:26:1:02:03:0045", (const char *const[]){hdr, NULL}, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(harness_header(r.headers.data, "Content-Type", v, sizeof v),
                            "application/problem+json");
        assert_string_equal(harness_header(r.headers.data, "Content-Language", v, sizeof v),
                            langs[i][1]);
        assert_non_null(strstr(r.body.data, "\"status\":400"));
        assert_non_null(strstr(r.body.data, "\"parameter\":\"number\""));
        assert_non_null(strstr(r.body.data, "cadnum/group_width"));
        harness_resp_fini(&r);
    }
    get("/api/v1/parcels/10:99:99:99:99:9999", NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body.data, "parcel/not_found"));
    harness_resp_fini(&r);
    get("/nowhere", NULL, &r);
    assert_int_equal(r.status, 404);
    harness_resp_fini(&r);
    get("/api/v1/../../etc/passwd", NULL, &r);
    assert_int_equal(r.status, 404);
    harness_resp_fini(&r);
    get("/api/v1/lookup?lon=69.3", NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"parameter\":\"lat\""));
    harness_resp_fini(&r);
    get("/api/v1/lookup?lon=500&lat=41", NULL, &r);
    assert_int_equal(r.status, 400);
    harness_resp_fini(&r);
    get("/api/v1/lookup?lon=69.3&lat=41.3&colour=red", NULL, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"parameter\":\"colour\""));
    harness_resp_fini(&r);
    get("/api/v1/parcels/%ff%fe", NULL, &r);
    assert_int_equal(r.status, 400);
    harness_resp_fini(&r);
}

static void test_serve_methods_head_cors_etag_gzip(void **state)
{
    CURL *h = curl_easy_init();
    struct harness_resp r;
    char v[256], etag[128], inm[200];

    (void)state;
    request(h, "POST", "/health", NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(harness_header(r.headers.data, "Allow", v, sizeof v), "GET, HEAD, OPTIONS");
    harness_resp_fini(&r);
    request(h, "HEAD", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    assert_non_null(harness_header(r.headers.data, "Content-Length", v, sizeof v));
    harness_resp_fini(&r);
    request(h, "OPTIONS", "/api/v1/lookup",
            (const char *const[]){"Origin: https://maps.example",
                                  "Access-Control-Request-Method: GET", NULL},
            &r);
    assert_int_equal(r.status, 204);
    assert_string_equal(harness_header(r.headers.data, "Access-Control-Allow-Origin", v, sizeof v),
                        "*");
    assert_non_null(harness_header(r.headers.data, "Access-Control-Allow-Methods", v, sizeof v));
    harness_resp_fini(&r);
    request(h, "GET", "/health", NULL, &r);
    assert_non_null(harness_header(r.headers.data, "ETag", etag, sizeof etag));
    harness_resp_fini(&r);
    kd_snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    request(h, "GET", "/health", (const char *const[]){inm, NULL}, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body.len, 0);
    harness_resp_fini(&r);
    /* a large answer is compressed when the client accepts it; curl decodes it */
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
    {
        char number[64], path[256];
        double lon, lat;
        some_parcel(number, sizeof number, &lon, &lat);
        kd_snprintf(path, sizeof path, "/api/v1/parcels/%s/neighbours", number);
        request(h, "GET", path, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(harness_header(r.headers.data, "Content-Encoding", v, sizeof v),
                            "gzip");
        assert_non_null(strstr(r.body.data, "FeatureCollection"));
        harness_resp_fini(&r);
    }
    curl_easy_cleanup(h);
}

static void test_serve_keep_alive_ten_requests(void **state)
{
    CURL *h = curl_easy_init();
    struct harness_resp r;
    char v[64];
    long connects;
    int i;

    (void)state;
    for (i = 0; i < 10; i++) {
        request(h, "GET", "/health", NULL, &r);
        assert_int_equal(r.status, 200);
        /* answered on the handler's second call: no "Connection: close" */
        assert_null(harness_header(r.headers.data, "Connection", v, sizeof v) &&
                            strcasecmp(v, "close") == 0
                        ? "close"
                        : NULL);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        if (i > 0)
            assert_int_equal(connects, 0); /* the same connection was reused */
        harness_resp_fini(&r);
    }
    curl_easy_cleanup(h);
}

static void test_serve_long_url_and_lookup(void **state)
{
    static char path[9200];
    struct harness_resp r;
    char number[64], q[256];
    double lon, lat;

    (void)state;
    memcpy(path, "/api/v1/lookup?lon=", 19);
    memset(path + 19, '1', sizeof path - 20);
    path[sizeof path - 1] = '\0';
    get(path, NULL, &r);
    assert_int_equal(r.status, 414);
    assert_non_null(strstr(r.body.data, "uri_too_long"));
    harness_resp_fini(&r);
    some_parcel(number, sizeof number, &lon, &lat);
    kd_snprintf(q, sizeof q, "/api/v1/lookup?lon=%.9f&lat=%.9f", lon, lat);
    get(q, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, number));
    assert_non_null(strstr(r.body.data, "\"zones\":[{"));
    harness_resp_fini(&r);
}

static void test_serve_metrics(void **state)
{
    struct harness_resp r;
    char v[128];
    unsigned long n = 0;
    const char *p;

    (void)state;
    get("/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(harness_header(r.headers.data, "Content-Type", v, sizeof v), "text/plain"));
    /* the requests of the tests before: counted by route and status class */
    p = strstr(r.body.data, "kadastr_http_requests_total{route=\"health\",code=\"2xx\"} ");
    assert_non_null(p);
    assert_int_equal(sscanf(strchr(p, '}') + 2, "%lu", &n), 1);
    assert_true(n >= 10);
    assert_non_null(
        strstr(r.body.data, "kadastr_http_requests_total{route=\"parcel\",code=\"4xx\"}"));
    assert_non_null(
        strstr(r.body.data, "kadastr_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(r.body.data, "kadastr_http_connections_open "));
    harness_resp_fini(&r);
}

static void test_serve_sighup_picks_up_a_replaced_file(void **state)
{
    char cmd[4096], other[1300];
    struct harness_resp r;
    int i, seen = 0;

    (void)state;
    kd_snprintf(other, sizeof other, "%s/other.sqlite", harness.work);
    kd_snprintf(cmd, sizeof cmd,
                "'%s' sample '%s' --parcels 120 --seed 9 >/dev/null && mv '%s' '%s'",
                harness.kadastr, other, other, harness.db);
    assert_int_equal(harness_run(cmd), 0);
    kill(srv.pid, SIGHUP);
    for (i = 0; i < 50 && !seen; i++) {
        get("/health", NULL, &r);
        assert_int_equal(r.status, 200);
        seen = strstr(r.body.data, "\"parcels_live\":120") != NULL;
        harness_resp_fini(&r);
        if (!seen)
            usleep(20000);
    }
    assert_true(seen);
    /* the lookup index was rebuilt from the new file too: a point inside a parcel of the new
     * register finds that parcel (an index of the old file would give another or none) */
    for (i = 0; i < 3; i++) {
        char path[256], number[64], want[96];
        json_object *doc, *fs, *f, *id, *ring;
        double lon = 0, lat = 0;
        size_t k, n;

        kd_snprintf(path, sizeof path, "/collections/parcels/items?limit=1&offset=%d", 37 * i);
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        doc = json_tokener_parse(r.body.data);
        assert_non_null(doc);
        assert_true(json_object_object_get_ex(doc, "features", &fs));
        f = json_object_array_get_idx(fs, 0);
        assert_true(json_object_object_get_ex(f, "id", &id));
        kd_strlcpy(number, json_object_get_string(id), sizeof number);
        assert_true(json_object_object_get_ex(f, "geometry", &ring));
        assert_true(json_object_object_get_ex(ring, "coordinates", &ring));
        /* the first ring of the first polygon; its vertices' mean lies inside the sample's
         * convex parcels */
        ring = json_object_array_get_idx(json_object_array_get_idx(ring, 0), 0);
        n = json_object_array_length(ring) - 1;
        for (k = 0; k < n; k++) {
            lon += json_object_get_double(
                       json_object_array_get_idx(json_object_array_get_idx(ring, k), 0)) /
                   (double)n;
            lat += json_object_get_double(
                       json_object_array_get_idx(json_object_array_get_idx(ring, k), 1)) /
                   (double)n;
        }
        json_object_put(doc);
        harness_resp_fini(&r);
        kd_snprintf(path, sizeof path, "/api/v1/lookup?lon=%.9f&lat=%.9f", lon, lat);
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        kd_snprintf(want, sizeof want, "\"id\":\"%s\"", number);
        if (!strstr(r.body.data, want))
            fail_msg("after SIGHUP, %s inside %s found: %.300s", path, number, r.body.data);
        harness_resp_fini(&r);
    }
}

static void test_serve_sigterm_exits_zero(void **state)
{
    (void)state;
    assert_int_equal(harness_server_stop(&srv, 6.0, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_health_and_parcel),
        cmocka_unit_test(test_serve_problems_in_four_languages),
        cmocka_unit_test(test_serve_methods_head_cors_etag_gzip),
        cmocka_unit_test(test_serve_keep_alive_ten_requests),
        cmocka_unit_test(test_serve_long_url_and_lookup),
        cmocka_unit_test(test_serve_metrics),
        cmocka_unit_test(test_serve_sighup_picks_up_a_replaced_file),
        cmocka_unit_test(test_serve_sigterm_exits_zero),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
