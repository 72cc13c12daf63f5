/* SPDX-License-Identifier: Apache-2.0 */
/* OGC API - Features on the real `kadastr serve` (port 0, a sample register with history),
 * driven with libcurl and read with json-c: every route, paging by next links until the end
 * (each feature once), the limit clamp, datetime as of an instant (a retired version before
 * its valid_to and not after), bbox in three CRSs against SpatiaLite's ST_Intersects, crs of
 * the answer, queryables and equality filters, every 400 and 404 with its parameter in two
 * languages, and geometry blobs SpatiaLite wrote. Expected values come from the register
 * through the sqlite3 shell. */
#include "harness.h"

#include "kadastr/core.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define UTM "http://www.opengis.net/def/crs/EPSG/0/32642"
#define WEBM "http://www.opengis.net/def/crs/EPSG/0/3857"
#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

static struct harness_server srv = HARNESS_SERVER_INIT;

/* An answer with its body parsed as JSON (NULL when it is not JSON). */
struct resp {
    long status;
    struct kd_buf body;
    struct kd_buf headers;
    json_object *json;
};

static void resp_fini(struct resp *r)
{
    kd_buf_fini(&r->body);
    kd_buf_fini(&r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

static const char *header(const struct resp *r, const char *name, char *out, size_t size)
{
    return harness_header(r->headers.data, name, out, size);
}

/* GET base + path (or an absolute URL), with an Accept-Language when lang is not NULL. */
static void get(const char *path, const char *lang, struct resp *r)
{
    CURL *h = curl_easy_init();
    struct harness_resp hr;
    char al[64];
    const char *extra[] = {al, NULL};

    kd_snprintf(al, sizeof al, "Accept-Language: %s", lang ? lang : "");
    harness_request(h, srv.base, "GET", path, lang ? extra : NULL, 30, &hr);
    curl_easy_cleanup(h);
    r->status = hr.status;
    r->body = hr.body;
    r->headers = hr.headers;
    r->json = json_tokener_parse(r->body.data);
}

/* A member by a dotted path ("links.0.href"; numbers index arrays), or NULL. */
static json_object *jget(json_object *o, const char *path)
{
    char part[128];
    const char *p = path;

    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        kd_snprintf(part, sizeof part, "%.*s", (int)n, p);
        if (json_object_is_type(o, json_type_array)) {
            size_t i = (size_t)strtoul(part, NULL, 10);
            o = i < json_object_array_length(o) ? json_object_array_get_idx(o, i) : NULL;
        } else if (!json_object_object_get_ex(o, part, &o)) {
            o = NULL;
        }
        p = dot ? dot + 1 : p + n;
    }
    return o;
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = jget(o, path);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *path)
{
    json_object *v = jget(o, path);

    assert_non_null(v);
    return json_object_get_int64(v);
}

/* The href of the link with rel (and type, when not NULL), or NULL. */
static const char *link_href(json_object *doc, const char *rel, const char *type)
{
    json_object *links = jget(doc, "links");
    size_t i;

    for (i = 0; links && i < json_object_array_length(links); i++) {
        json_object *l = json_object_array_get_idx(links, i);
        const char *lr = jstr(l, "rel"), *lt = jstr(l, "type");
        if (lr && strcmp(lr, rel) == 0 && (!type || (lt && strcmp(lt, type) == 0)))
            return jstr(l, "href");
    }
    return NULL;
}

/* The first line of a query on the register (SpatiaLite loaded). */
static void sql(char *out, size_t size, const char *fmt, ...) KD_PRINTF(3, 4);
static void sql(char *out, size_t size, const char *fmt, ...)
{
    char q[4096], cmd[5000];
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    kd_snprintf(cmd, sizeof cmd,
                "sqlite3 -batch -noheader '%s' \"SELECT load_extension('mod_spatialite');\" "
                "\"%s\" | tail -n +2 | head -1",
                harness.db, q);
    p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    if (!fgets(out, (int)size, p))
        out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

static long long sql_int(const char *fmt, ...) KD_PRINTF(1, 2);
static long long sql_int(const char *fmt, ...)
{
    char q[4096], out[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    sql(out, sizeof out, "%s", q);
    assert_true(out[0] != '\0');
    return strtoll(out, NULL, 10);
}

static int setup(void **state)
{
    (void)state;
    if (harness_init("r.sqlite", 300, 4))
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

/* A problem answer: status, type key, parameter (NULL: none) and language. */
static void expect_problem(const char *path, const char *lang, long status, const char *type_key,
                           const char *parameter, const char *content_language)
{
    struct resp r;
    char v[256], type[256];

    get(path, lang, &r);
    if (r.status != status)
        fprintf(stderr, "%s: %ld %s\n", path, r.status, r.body.data);
    assert_int_equal(r.status, status);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/problem+json");
    assert_string_equal(header(&r, "Content-Language", v, sizeof v), content_language);
    assert_non_null(r.json);
    kd_snprintf(type, sizeof type, "%s/problems/%s", srv.base, type_key);
    assert_string_equal(jstr(r.json, "type"), type);
    assert_int_equal(jint(r.json, "status"), status);
    if (parameter)
        assert_string_equal(jstr(r.json, "parameter"), parameter);
    else
        assert_null(jget(r.json, "parameter"));
    assert_non_null(jstr(r.json, "title"));
    assert_non_null(jstr(r.json, "detail"));
    resp_fini(&r);
}

/* ---- the documents ------------------------------------------------------------------------ */

static void test_ogc_landing_and_conformance(void **state)
{
    struct resp r;
    char v[256], want[256];
    const char *href;

    (void)state;
    get("/", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/json");
    kd_snprintf(want, sizeof want, "%s/", srv.base);
    assert_string_equal(link_href(r.json, "self", "application/json"), want);
    kd_snprintf(want, sizeof want, "%s/api", srv.base);
    assert_string_equal(
        link_href(r.json, "service-desc", "application/vnd.oai.openapi+json;version=3.0"), want);
    kd_snprintf(want, sizeof want, "%s/conformance", srv.base);
    assert_string_equal(link_href(r.json, "conformance", NULL), want);
    kd_snprintf(want, sizeof want, "%s/collections", srv.base);
    href = link_href(r.json, "data", "application/json");
    assert_string_equal(href, want);
    resp_fini(&r);

    get("/conformance", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "ogcapi-features-1/1.0/conf/core\""));
    assert_non_null(strstr(r.body.data, "ogcapi-features-1/1.0/conf/geojson\""));
    assert_non_null(strstr(r.body.data, "ogcapi-features-1/1.0/conf/oas30\""));
    assert_non_null(strstr(r.body.data, "ogcapi-features-2/1.0/conf/crs\""));
    assert_int_equal(json_object_array_length(jget(r.json, "conformsTo")), 4);
    resp_fini(&r);

    expect_problem("/?x=1", NULL, 400, "query/unknown_parameter", "x", "en");
}

static void test_ogc_collections_describe_extent_crs_and_links(void **state)
{
    static const char *const ids[] = {"parcels", "zones", "restrictions", "admin_units"};
    struct resp r, one;
    char want[256], path[128], box[256];
    size_t i, k;

    (void)state;
    get("/collections", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_array_length(jget(r.json, "collections")), 4);
    for (i = 0; i < 4; i++) {
        json_object *c = json_object_array_get_idx(jget(r.json, "collections"), i);
        json_object *crs = jget(c, "crs");
        double lon_w, lat_s, lon_e, lat_n;
        assert_string_equal(jstr(c, "id"), ids[i]);
        assert_string_equal(jstr(c, "itemType"), "feature");
        assert_string_equal(jstr(c, "storageCrs"), UTM);
        assert_int_equal(json_object_array_length(crs), 3);
        assert_string_equal(jstr(crs, "0"), CRS84);
        assert_string_equal(jstr(crs, "1"), UTM);
        assert_string_equal(jstr(crs, "2"), WEBM);
        assert_string_equal(jstr(c, "extent.spatial.crs"), CRS84);
        /* the extent holds every version of the layer, rounded outwards */
        lon_w = json_object_get_double(jget(c, "extent.spatial.bbox.0.0"));
        lat_s = json_object_get_double(jget(c, "extent.spatial.bbox.0.1"));
        lon_e = json_object_get_double(jget(c, "extent.spatial.bbox.0.2"));
        lat_n = json_object_get_double(jget(c, "extent.spatial.bbox.0.3"));
        sql(box, sizeof box,
            "SELECT min(MbrMinX(g)), min(MbrMinY(g)), max(MbrMaxX(g)), max(MbrMaxY(g)) FROM "
            "(SELECT ST_Transform(geom_cad, 4326) AS g FROM %s)",
            ids[i]);
        {
            double w, s, e, n;
            assert_int_equal(sscanf(box, "%lf|%lf|%lf|%lf", &w, &s, &e, &n), 4);
            assert_true(lon_w <= w && lat_s <= s && lon_e >= e && lat_n >= n);
            assert_true(w - lon_w < 1e-4 && s - lat_s < 1e-4 && lon_e - e < 1e-4 &&
                        lat_n - n < 1e-4); /* within about 10 m */
        }
        kd_snprintf(want, sizeof want, "%s/collections/%s/items", srv.base, ids[i]);
        assert_string_equal(link_href(c, "items", "application/geo+json"), want);
        kd_snprintf(want, sizeof want, "%s/collections/%s/schema.xsd", srv.base, ids[i]);
        assert_string_equal(link_href(c, "describedby", "application/xml"), want);
        assert_string_equal(link_href(c, "describedBy", "application/xml"), want);
        kd_snprintf(want, sizeof want, "%s/collections/%s/queryables", srv.base, ids[i]);
        assert_string_equal(link_href(c, "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                                      "application/schema+json"),
                            want);
        /* the collection's own document is the same object */
        kd_snprintf(path, sizeof path, "/collections/%s", ids[i]);
        get(path, NULL, &one);
        assert_int_equal(one.status, 200);
        assert_true(json_object_equal(one.json, c));
        resp_fini(&one);
    }
    resp_fini(&r);
    for (k = 0; k < 2; k++) {
        const char *lang = k ? "ru" : "en";
        expect_problem("/collections/nowhere", lang, 404, "collection/not_found", "collectionId",
                       lang);
        expect_problem("/collections/nowhere/items", lang, 404, "collection/not_found",
                       "collectionId", lang);
    }
    expect_problem("/collections/parcels/elsewhere", NULL, 404, "http/not_found", NULL, "en");
}

static void test_ogc_schema_and_queryables(void **state)
{
    struct resp r;
    char v[256];

    (void)state;
    get("/collections/parcels/schema.xsd", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/xml");
    assert_non_null(strstr(r.body.data, "base=\"gml:AbstractFeatureType\""));
    assert_non_null(strstr(r.body.data, "type=\"gml:MultiSurfacePropertyType\""));
    assert_non_null(strstr(r.body.data, "name=\"area_m2\" type=\"xs:double\""));
    assert_non_null(strstr(r.body.data, "name=\"land_use\" type=\"xs:string\""));
    assert_non_null(strstr(r.body.data, "name=\"valid_from\" type=\"xs:dateTime\""));
    assert_null(strstr(r.body.data, "cadastral_number"));
    resp_fini(&r);
    get("/collections/admin_units/schema.xsd", NULL, &r);
    assert_non_null(strstr(r.body.data, "name=\"parent_code\" type=\"xs:string\""));
    resp_fini(&r);

    get("/collections/parcels/queryables", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/schema+json");
    assert_string_equal(jstr(r.json, "type"), "object");
    assert_string_equal(jstr(r.json, "properties.cadastral_number.type"), "string");
    assert_string_equal(jstr(r.json, "properties.land_category.type"), "string");
    assert_string_equal(jstr(r.json, "properties.land_use.type"), "string");
    assert_null(jget(r.json, "properties.address"));
    assert_false(json_object_get_boolean(jget(r.json, "additionalProperties")));
    resp_fini(&r);
    get("/collections/admin_units/queryables", NULL, &r);
    assert_non_null(jget(r.json, "properties.code"));
    assert_non_null(jget(r.json, "properties.level"));
    assert_non_null(jget(r.json, "properties.parent_code"));
    resp_fini(&r);
}

/* ---- items -------------------------------------------------------------------------------- */

static void test_ogc_items_default_page_and_features(void **state)
{
    struct resp r;
    char v[256], number[64];
    long long live = sql_int("SELECT count(*) FROM parcels WHERE valid_to IS NULL");
    json_object *f;

    (void)state;
    get("/collections/parcels/items", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "application/geo+json");
    assert_string_equal(jstr(r.json, "type"), "FeatureCollection");
    assert_int_equal(jint(r.json, "numberMatched"), live);
    assert_int_equal(jint(r.json, "numberReturned"), 10);
    assert_int_equal(json_object_array_length(jget(r.json, "features")), 10);
    assert_non_null(link_href(r.json, "next", "application/geo+json"));
    assert_non_null(link_href(r.json, "self", "application/geo+json"));
    assert_null(link_href(r.json, "prev", NULL));
    f = jget(r.json, "features.0");
    sql(number, sizeof number, "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id");
    assert_string_equal(jstr(f, "id"), number);
    /* the number is the id, never a property GDAL would cut to a time */
    assert_null(jget(f, "properties.cadastral_number"));
    assert_non_null(jstr(f, "properties.land_category"));
    assert_string_equal(jstr(f, "geometry.type"), "MultiPolygon");
    {
        double lon = json_object_get_double(jget(f, "geometry.coordinates.0.0.0.0"));
        double lat = json_object_get_double(jget(f, "geometry.coordinates.0.0.0.1"));
        assert_true(lon > 69 && lon < 70 && lat > 41 && lat < 42);
    }
    /* anonymous: no parties, no rights holders */
    assert_null(strstr(r.body.data, "party"));
    assert_null(strstr(r.body.data, "pinfl"));
    resp_fini(&r);

    /* admin unit codes with '.' between groups, as GDAL keeps them */
    get("/collections/admin_units/items?level=district", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "features.0.properties.code"), "10.01");
    assert_string_equal(jstr(r.json, "features.0.properties.parent_code"), "10");
    assert_true(json_object_is_type(jget(r.json, "features.0.id"), json_type_int));
    resp_fini(&r);
    /* HEAD answers the same headers */
}

static void test_ogc_items_paging_returns_every_feature_once(void **state)
{
    static const char *const colls[] = {"parcels", "zones", "admin_units"};
    size_t c;

    (void)state;
    for (c = 0; c < 3; c++) {
        char url[4096], *seen = NULL;
        struct resp r;
        long long matched = -1, total = 0, pages = 0;
        size_t seen_len = 0;
        long long want = sql_int("SELECT count(*) FROM %s WHERE valid_to IS NULL", colls[c]);

        kd_snprintf(url, sizeof url, "/collections/%s/items?limit=37", colls[c]);
        for (;;) {
            json_object *fs;
            const char *next;
            size_t i;
            get(url, NULL, &r);
            assert_int_equal(r.status, 200);
            if (matched < 0)
                matched = jint(r.json, "numberMatched");
            assert_int_equal(jint(r.json, "numberMatched"), matched);
            fs = jget(r.json, "features");
            assert_int_equal(jint(r.json, "numberReturned"), json_object_array_length(fs));
            for (i = 0; i < json_object_array_length(fs); i++) {
                char id[80];
                kd_snprintf(id, sizeof id, "|%s|",
                            json_object_get_string(jget(json_object_array_get_idx(fs, i), "id")));
                /* each id once across all pages */
                assert_true(!seen || !strstr(seen, id));
                seen = realloc(seen, seen_len + strlen(id) + 1);
                assert_non_null(seen);
                memcpy(seen + seen_len, id, strlen(id) + 1);
                seen_len += strlen(id);
                total++;
            }
            if (pages++ > 0)
                assert_non_null(link_href(r.json, "prev", "application/geo+json"));
            next = link_href(r.json, "next", "application/geo+json");
            if (!next) {
                resp_fini(&r);
                break;
            }
            assert_non_null(strstr(next, "limit=37"));
            kd_snprintf(url, sizeof url, "%s", next);
            resp_fini(&r);
        }
        assert_int_equal(matched, want);
        assert_int_equal(total, want);
        free(seen);
    }
}

static void test_ogc_items_limit_clamped_and_bad_limits(void **state)
{
    static const char *const bad[] = {"0", "-1", "abc", "1.5", ""};
    long long live = sql_int("SELECT count(*) FROM parcels WHERE valid_to IS NULL");
    struct resp r;
    char path[128];
    size_t i;

    (void)state;
    get("/collections/parcels/items?limit=20000", "ru", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "numberReturned"), live); /* all 300 fit under 10000 */
    assert_string_equal(jstr(r.json, "warnings.0.parameter"), "limit");
    assert_non_null(strstr(jstr(r.json, "warnings.0.type"), "/problems/query/limit_clamped"));
    assert_string_equal(jstr(r.json, "warnings.0.title"), "Лимит уменьшен");
    assert_non_null(strstr(jstr(r.json, "warnings.0.detail"), "10000"));
    assert_non_null(strstr(link_href(r.json, "self", NULL), "limit=10000"));
    resp_fini(&r);
    get("/collections/parcels/items?limit=999999999999999999999", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(jget(r.json, "warnings"));
    resp_fini(&r);
    get("/collections/parcels/items?limit=10000", NULL, &r);
    assert_null(jget(r.json, "warnings"));
    resp_fini(&r);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kd_snprintf(path, sizeof path, "/collections/parcels/items?limit=%s", bad[i]);
        expect_problem(path, "uz", 400, "query/bad_limit", "limit", "uz");
    }
    expect_problem("/collections/parcels/items?offset=-3", "en", 400, "query/bad_offset", "offset",
                   "en");
    expect_problem("/collections/parcels/items?offset=x", "ru", 400, "query/bad_offset", "offset",
                   "ru");
    /* past the end: an empty page that still counts */
    get("/collections/parcels/items?offset=100000", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "numberReturned"), 0);
    assert_int_equal(jint(r.json, "numberMatched"), live);
    assert_null(link_href(r.json, "next", NULL));
    resp_fini(&r);
}

static void test_ogc_items_datetime_as_of_an_instant(void **state)
{
    char row[512], number[64], from[32], to[32], before[64], path[512];
    struct resp r;
    long long n;
    int y, mo, d, h, mi, s;

    (void)state;
    /* a retired version of the sample's history */
    sql(row, sizeof row,
        "SELECT number, valid_from, valid_to FROM parcels WHERE valid_to IS NOT NULL AND "
        "valid_to > valid_from ORDER BY id LIMIT 1");
    assert_int_equal(sscanf(row, "%63[^|]|%31[^|]|%31s", number, from, to), 3);
    assert_int_equal(sscanf(to, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6);
    /* one second before valid_to (the sample's times never fall on a midnight second) */
    assert_true(s > 0 || mi > 0 || h > 0);
    if (s > 0)
        kd_snprintf(before, sizeof before, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi,
                    s - 1);
    else if (mi > 0)
        kd_snprintf(before, sizeof before, "%04d-%02d-%02dT%02d:%02d:59Z", y, mo, d, h, mi - 1);
    else
        kd_snprintf(before, sizeof before, "%04d-%02d-%02dT%02d:59:59Z", y, mo, d, h - 1);

    kd_snprintf(path, sizeof path, "/collections/parcels/items?datetime=%s&cadastral_number=%s",
                before, number);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "numberMatched"), 1);
    assert_string_equal(jstr(r.json, "features.0.id"), number);
    assert_string_equal(jstr(r.json, "features.0.properties.valid_to"), to);
    assert_string_equal(jstr(r.json, "features.0.properties.valid_from"), from);
    resp_fini(&r);
    /* at valid_to the version is gone (a later version of the number may stand instead) */
    kd_snprintf(path, sizeof path, "/collections/parcels/items?datetime=%s&cadastral_number=%s", to,
                number);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    if (jint(r.json, "numberMatched") == 1)
        assert_null(jstr(r.json, "features.0.properties.valid_to") &&
                            strcmp(jstr(r.json, "features.0.properties.valid_to"), to) == 0
                        ? "retired version still there"
                        : NULL);
    resp_fini(&r);
    /* the live register does not hold it */
    kd_snprintf(path, sizeof path, "/collections/parcels/items?cadastral_number=%s", number);
    get(path, NULL, &r);
    n = sql_int("SELECT count(*) FROM parcels WHERE number = '%s' AND valid_to IS NULL", number);
    assert_int_equal(jint(r.json, "numberMatched"), n);
    resp_fini(&r);
    /* the item itself, by number, as of the instant; the same instant with an offset */
    kd_snprintf(path, sizeof path, "/collections/parcels/items/%s?datetime=%s", number, before);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "properties.valid_to"), to);
    assert_non_null(link_href(r.json, "self", "application/geo+json"));
    assert_non_null(link_href(r.json, "collection", NULL));
    resp_fini(&r);
    kd_snprintf(path, sizeof path,
                "/collections/parcels/items/%s?datetime=%.10sT%02d:%02d:%02d%%2B05:00", number,
                before, (h + 5) % 24, s > 0 ? mi : (mi > 0 ? mi - 1 : 59), s > 0 ? s - 1 : 59);
    if (h + 5 < 24) { /* the same day in UTC+5 */
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "properties.valid_to"), to);
        resp_fini(&r);
    }
    if (!n) {
        kd_snprintf(path, sizeof path, "/collections/parcels/items/%s", number);
        expect_problem(path, "ru", 404, "feature/not_found", "featureId", "ru");
        kd_snprintf(path, sizeof path, "/collections/parcels/items/%s?datetime=%s", number, to);
        if (!sql_int("SELECT count(*) FROM parcels WHERE number = '%s' AND valid_from <= '%s' "
                     "AND (valid_to IS NULL OR valid_to > '%s')",
                     number, to, to))
            expect_problem(path, "en", 404, "feature/not_found", "featureId", "en");
    }
    /* the whole register as of a date: the count SQL gives */
    get("/collections/parcels/items?datetime=2020-01-01", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "numberMatched"),
                     sql_int("SELECT count(*) FROM parcels WHERE valid_from <= "
                             "'2020-01-01T00:00:00Z' AND (valid_to IS NULL OR valid_to > "
                             "'2020-01-01T00:00:00Z')"));
    resp_fini(&r);
    expect_problem("/collections/parcels/items?datetime=2020-02-30", "en", 400,
                   "query/bad_datetime", "datetime", "en");
    expect_problem("/collections/parcels/items?datetime=yesterday", "ru", 400, "query/bad_datetime",
                   "datetime", "ru");
    expect_problem("/collections/parcels/items?datetime=2020-01-01T10:00:00", "en", 400,
                   "query/bad_datetime", "datetime", "en");
    expect_problem("/collections/parcels/items?datetime=2020-01-01/..", "uz-Cyrl", 400,
                   "query/datetime_interval", "datetime", "uz-Cyrl");
    expect_problem("/collections/zones/items/1?datetime=x", "en", 400, "query/bad_datetime",
                   "datetime", "en");
}

/* The numbers of a page of items, "|"-joined in order. */
static void page_ids(const char *path, struct kd_buf *out, long long *matched)
{
    struct resp r;
    json_object *fs;
    size_t i;

    get(path, NULL, &r);
    if (r.status != 200)
        fprintf(stderr, "%s: %s\n", path, r.body.data);
    assert_int_equal(r.status, 200);
    fs = jget(r.json, "features");
    kd_buf_reset(out);
    for (i = 0; i < json_object_array_length(fs); i++) {
        kd_buf_adds(out, json_object_get_string(jget(json_object_array_get_idx(fs, i), "id")));
        kd_buf_adds(out, "|");
    }
    kd_buf_add(out, "", 0);
    *matched = jint(r.json, "numberMatched");
    resp_fini(&r);
}

static void test_ogc_items_bbox_in_three_crs_matches_spatialite(void **state)
{
    char box[256], want[8192], path[1024];
    struct kd_buf got;
    long long matched;
    double x, y, w, s, e, n;
    int i;

    (void)state;
    kd_buf_init(&got);
    for (i = 0; i < 4; i++) {
        /* a 250 m box around the centroid of a parcel, shifted a little each time */
        sql(box, sizeof box,
            "SELECT X(c), Y(c) FROM (SELECT ST_Centroid(geom_cad) AS c FROM parcels WHERE "
            "valid_to IS NULL ORDER BY id LIMIT 1 OFFSET %d)",
            40 + 60 * i);
        assert_int_equal(sscanf(box, "%lf|%lf", &x, &y), 2);
        x += 37.0 * i, y -= 23.0 * i;
        sql(want, sizeof want,
            "SELECT group_concat(number, '|') || '|' FROM (SELECT number FROM parcels WHERE "
            "valid_to IS NULL AND ST_Intersects(geom_cad, BuildMbr(%.3f, %.3f, %.3f, %.3f, "
            "32642)) ORDER BY id)",
            x - 125, y - 125, x + 125, y + 125);
        /* the office CRS */
        kd_snprintf(path, sizeof path,
                    "/collections/parcels/items?bbox=%.3f,%.3f,%.3f,%.3f&bbox-crs=" UTM
                    "&limit=1000",
                    x - 125, y - 125, x + 125, y + 125);
        page_ids(path, &got, &matched);
        assert_true(matched > 0); /* the box holds the parcel it was drawn around */
        assert_int_equal(matched, (long long)strlen(want) / 20); /* "AA:BB:CC:DD:EE:FFFF|" */
        assert_string_equal(got.data, want);
        /* the same box in lon/lat: SpatiaLite's densified image of it in the office CRS */
        sql(box, sizeof box,
            "SELECT MbrMinX(g), MbrMinY(g), MbrMaxX(g), MbrMaxY(g) FROM (SELECT "
            "ST_Transform(BuildMbr(%.3f, %.3f, %.3f, %.3f, 32642), 4326) AS g)",
            x - 125, y - 125, x + 125, y + 125);
        assert_int_equal(sscanf(box, "%lf|%lf|%lf|%lf", &w, &s, &e, &n), 4);
        sql(want, sizeof want,
            "SELECT ifnull(group_concat(number, '|') || '|', '') FROM (SELECT number FROM "
            "parcels WHERE valid_to IS NULL AND ST_Intersects(geom_cad, ST_Transform("
            "ST_Segmentize(BuildMbr(%.9f, %.9f, %.9f, %.9f, 4326), 0.00001), 32642)) "
            "ORDER BY id)",
            w, s, e, n);
        kd_snprintf(path, sizeof path,
                    "/collections/parcels/items?bbox=%.9f,%.9f,%.9f,%.9f&limit=500", w, s, e, n);
        page_ids(path, &got, &matched);
        assert_string_equal(got.data, want);
        /* and in web Mercator (a lon/lat rectangle there too) */
        sql(box, sizeof box,
            "SELECT MbrMinX(g), MbrMinY(g), MbrMaxX(g), MbrMaxY(g) FROM (SELECT "
            "ST_Transform(BuildMbr(%.9f, %.9f, %.9f, %.9f, 4326), 3857) AS g)",
            w, s, e, n);
        assert_int_equal(sscanf(box, "%lf|%lf|%lf|%lf", &w, &s, &e, &n), 4);
        kd_snprintf(path, sizeof path,
                    "/collections/parcels/items?bbox=%.4f,%.4f,%.4f,%.4f&bbox-crs=" WEBM
                    "&limit=500",
                    w, s, e, n);
        page_ids(path, &got, &matched);
        assert_string_equal(got.data, want);
    }
    /* the count holds the whole match, the page only limit of it, in id order */
    kd_snprintf(path, sizeof path,
                "/collections/parcels/items?bbox=%.3f,%.3f,%.3f,%.3f&bbox-crs=" UTM "&limit=3",
                x - 400, y - 400, x + 400, y + 400);
    page_ids(path, &got, &matched);
    assert_int_equal(matched,
                     sql_int("SELECT count(*) FROM parcels WHERE valid_to IS NULL AND "
                             "ST_Intersects(geom_cad, BuildMbr(%.3f, %.3f, %.3f, %.3f, 32642))",
                             x - 400, y - 400, x + 400, y + 400));
    assert_true(matched > 3);
    /* paged by next links: the first page in one pass, the later ones by ids; together
     * every hit once, in id order */
    sql(want, sizeof want,
        "SELECT group_concat(number, '|') || '|' FROM (SELECT number FROM parcels WHERE "
        "valid_to IS NULL AND ST_Intersects(geom_cad, BuildMbr(%.3f, %.3f, %.3f, %.3f, 32642)) "
        "ORDER BY id)",
        x - 400, y - 400, x + 400, y + 400);
    {
        struct kd_buf all;
        char url[4096];
        kd_buf_init(&all);
        kd_snprintf(url, sizeof url,
                    "/collections/parcels/items?bbox=%.3f,%.3f,%.3f,%.3f&bbox-crs=" UTM
                    "&limit=4&crs=" WEBM,
                    x - 400, y - 400, x + 400, y + 400);
        for (;;) {
            struct resp r;
            const char *next;
            json_object *fs;
            size_t f;
            get(url, NULL, &r);
            assert_int_equal(r.status, 200);
            fs = jget(r.json, "features");
            for (f = 0; f < json_object_array_length(fs); f++) {
                kd_buf_adds(&all,
                            json_object_get_string(jget(json_object_array_get_idx(fs, f), "id")));
                kd_buf_adds(&all, "|");
            }
            next = link_href(r.json, "next", "application/geo+json");
            if (next)
                kd_snprintf(url, sizeof url, "%s", next);
            resp_fini(&r);
            if (!next)
                break;
        }
        kd_buf_add(&all, "", 0);
        assert_string_equal(all.data, want);
        kd_buf_fini(&all);
    }
    /* far from the register but inside CRS84: nothing, no error */
    page_ids("/collections/parcels/items?bbox=-100,-50,-90,-40", &got, &matched);
    assert_int_equal(matched, 0);
    /* zones meet boxes too */
    kd_snprintf(path, sizeof path,
                "/collections/zones/items?bbox=%.3f,%.3f,%.3f,%.3f&bbox-crs=" UTM, x - 10, y - 10,
                x + 10, y + 10);
    page_ids(path, &got, &matched);
    assert_int_equal(matched,
                     sql_int("SELECT count(*) FROM zones WHERE valid_to IS NULL AND "
                             "ST_Intersects(geom_cad, BuildMbr(%.3f, %.3f, %.3f, %.3f, 32642))",
                             x - 10, y - 10, x + 10, y + 10));
    kd_buf_fini(&got);
}

static void test_ogc_items_crs_of_the_answer(void **state)
{
    char number[64], path[512], env[256];
    struct resp r;
    double w, s, e, n, x, y;
    size_t k;

    (void)state;
    sql(number, sizeof number, "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id");
    for (k = 0; k < 2; k++) {
        const char *crs = k ? WEBM : UTM, *col = k ? "geom_3857" : "geom_cad";
        kd_snprintf(path, sizeof path, "/collections/parcels/items/%s?crs=%s", number, crs);
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        {
            /* Part 2: the answer names its CRS */
            char hv[128], want[128];
            kd_snprintf(want, sizeof want, "<%s>", crs);
            assert_non_null(header(&r, "Content-Crs", hv, sizeof hv));
            assert_string_equal(hv, want);
        }
        x = json_object_get_double(jget(r.json, "geometry.coordinates.0.0.0.0"));
        y = json_object_get_double(jget(r.json, "geometry.coordinates.0.0.0.1"));
        sql(env, sizeof env,
            "SELECT MbrMinX(%s), MbrMinY(%s), MbrMaxX(%s), MbrMaxY(%s) FROM parcels WHERE "
            "number = '%s' AND valid_to IS NULL",
            col, col, col, col, number);
        assert_int_equal(sscanf(env, "%lf|%lf|%lf|%lf", &w, &s, &e, &n), 4);
        /* metres with 2 decimals, inside the parcel's box in that CRS */
        assert_true(x >= w - 0.006 && x <= e + 0.006 && y >= s - 0.006 && y <= n + 0.006);
        assert_non_null(strstr(r.body.data, ".")); /* decimals written */
        resp_fini(&r);
        kd_snprintf(path, sizeof path, "/collections/parcels/items?crs=%s&limit=1", crs);
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(link_href(r.json, "next", NULL), "crs="));
        resp_fini(&r);
    }
    /* the short forms name the same CRSs */
    get("/collections/parcels/items?crs=EPSG:3857&bbox-crs=%5BEPSG:32642%5D&limit=1", NULL, &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
    expect_problem("/collections/parcels/items?crs=EPSG:4326", "en", 400, "query/bad_crs", "crs",
                   "en");
    expect_problem("/collections/parcels/items?crs=http://www.opengis.net/def/crs/EPSG/0/99999",
                   "ru", 400, "query/bad_crs", "crs", "ru");
    expect_problem("/collections/parcels/items?bbox=1,2,3,4&bbox-crs=EPSG:2154", "uz", 400,
                   "query/bad_crs", "bbox-crs", "uz");
    expect_problem("/collections/parcels/items/x?crs=nonsense", "en", 400, "query/bad_crs", "crs",
                   "en");
}

static void test_ogc_items_queryables_filter(void **state)
{
    struct kd_buf got;
    char want[8192];
    long long matched;
    struct resp r;

    (void)state;
    kd_buf_init(&got);
    sql(want, sizeof want,
        "SELECT group_concat(number, '|') || '|' FROM (SELECT number FROM parcels WHERE "
        "valid_to IS NULL AND land_use = 'park' ORDER BY id)");
    page_ids("/collections/parcels/items?land_use=park&limit=1000", &got, &matched);
    assert_string_equal(got.data, want);
    sql(want, sizeof want,
        "SELECT group_concat(number, '|') || '|' FROM (SELECT number FROM parcels WHERE "
        "valid_to IS NULL AND land_use = 'individual_housing' AND land_category = 'settlements' "
        "ORDER BY id)");
    page_ids("/collections/parcels/items?land_use=individual_housing&land_category=settlements"
             "&limit=1000",
             &got, &matched);
    assert_string_equal(got.data, want);
    page_ids("/collections/parcels/items?land_use=nothing_like_this", &got, &matched);
    assert_int_equal(matched, 0);
    /* a number in another spelling of the uz format, and a malformed one */
    sql(want, sizeof want, "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id");
    {
        char path[256], dashed[64];
        size_t i;
        kd_snprintf(dashed, sizeof dashed, "%s", want);
        for (i = 0; dashed[i]; i++)
            if (dashed[i] == ':')
                dashed[i] = '-';
        kd_snprintf(path, sizeof path, "/collections/parcels/items?cadastral_number=%s", dashed);
        page_ids(path, &got, &matched);
        assert_int_equal(matched, 1);
    }
    page_ids("/collections/parcels/items?cadastral_number=10:1", &got, &matched);
    assert_int_equal(matched, 0);
    /* admin codes: either form finds the unit */
    get("/collections/admin_units/items?code=10.01", NULL, &r);
    assert_int_equal(jint(r.json, "numberMatched"), 1);
    assert_string_equal(jstr(r.json, "features.0.properties.level"), "district");
    resp_fini(&r);
    get("/collections/admin_units/items?code=10:01", NULL, &r);
    assert_int_equal(jint(r.json, "numberMatched"), 1);
    resp_fini(&r);
    get("/collections/admin_units/items?parent_code=10.01&level=zone", NULL, &r);
    assert_int_equal(jint(r.json, "numberMatched"),
                     sql_int("SELECT count(*) FROM admin_units WHERE valid_to IS NULL AND "
                             "parent_code = '10:01' AND level = 'zone'"));
    resp_fini(&r);
    get("/collections/zones/items?code=R1", NULL, &r);
    assert_int_equal(jint(r.json, "numberMatched"),
                     sql_int("SELECT count(*) FROM zones WHERE valid_to IS NULL AND code = 'R1'"));
    resp_fini(&r);
    /* a property that is not queryable is an unknown parameter */
    expect_problem("/collections/parcels/items?address=x", "en", 400, "query/unknown_parameter",
                   "address", "en");
    expect_problem("/collections/zones/items?land_use=park", "ru", 400, "query/unknown_parameter",
                   "land_use", "ru");
    kd_buf_fini(&got);
}

static void test_ogc_items_bad_boxes(void **state)
{
    static const char *const bad[] = {"1,2,3",    "3,2,1,4", "1,4,3,2", "nan,2,3,4", "1,2,3,x",
                                      "1,2,3,4,", "1,,3,4",  "1,2,1,4", "inf,2,3,4", "1,2,3,4,5"};
    char path[256];
    size_t i, k;

    (void)state;
    for (k = 0; k < 2; k++) {
        const char *lang = k ? "ru" : "en";
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            kd_snprintf(path, sizeof path, "/collections/parcels/items?bbox=%s", bad[i]);
            expect_problem(path, lang, 400, "query/bad_bbox", "bbox", lang);
        }
        expect_problem("/collections/parcels/items?bbox=200,0,210,10", lang, 400,
                       "query/bbox_outside", "bbox", lang);
        expect_problem("/collections/parcels/items?bbox=1e8,1e8,2e8,2e8&bbox-crs=" UTM, lang, 400,
                       "query/bbox_outside", "bbox", lang);
        expect_problem("/collections/parcels/items?bbox=-1e9,1e8,-9e8,2e8&bbox-crs=" WEBM, lang,
                       400, "query/bbox_outside", "bbox", lang);
        expect_problem("/collections/parcels/items?colour=red", lang, 400,
                       "query/unknown_parameter", "colour", lang);
        expect_problem("/collections/parcels/items/1?limit=3", lang, 400, "query/unknown_parameter",
                       "limit", lang);
    }
    /* a 6-number box (with heights) is a box */
    expect_problem("/collections/parcels/items?bbox=69,41,0,70,42", "en", 400, "query/bad_bbox",
                   "bbox", "en");
    {
        struct resp r;
        get("/collections/parcels/items?bbox=69,41,-10,70,42,10&limit=1", NULL, &r);
        assert_int_equal(r.status, 200);
        assert_true(jint(r.json, "numberMatched") > 0);
        resp_fini(&r);
    }
}

static void test_ogc_item_by_id(void **state)
{
    char number[64], path[256], id[32];
    struct resp r;
    size_t k;

    (void)state;
    sql(number, sizeof number, "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id");
    kd_snprintf(path, sizeof path, "/collections/parcels/items/%s", number);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "type"), "Feature");
    assert_string_equal(jstr(r.json, "id"), number);
    assert_null(jget(r.json, "properties.cadastral_number"));
    {
        char want[256];
        kd_snprintf(want, sizeof want, "%s/collections/parcels/items/%s", srv.base, number);
        assert_string_equal(link_href(r.json, "self", "application/geo+json"), want);
    }
    resp_fini(&r);
    sql(id, sizeof id, "SELECT id FROM zones WHERE valid_to IS NULL ORDER BY id");
    kd_snprintf(path, sizeof path, "/collections/zones/items/%s", id);
    get(path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "id"), strtoll(id, NULL, 10));
    assert_non_null(jstr(r.json, "properties.code"));
    resp_fini(&r);
    for (k = 0; k < 2; k++) {
        const char *lang = k ? "uz" : "en";
        expect_problem("/collections/parcels/items/10:99:99:99:99:9999", lang, 404,
                       "feature/not_found", "featureId", lang);
        expect_problem("/collections/parcels/items/not-a-number", lang, 404, "feature/not_found",
                       "featureId", lang);
        expect_problem("/collections/zones/items/999999", lang, 404, "feature/not_found",
                       "featureId", lang);
        expect_problem("/collections/zones/items/abc", lang, 404, "feature/not_found", "featureId",
                       lang);
        expect_problem("/collections/admin_units/items/-1", lang, 404, "feature/not_found",
                       "featureId", lang);
    }
}

/* Geometry blobs other than kadastr's own layout (a Polygon, a compressed one, as SpatiaLite
 * writes them) are read through SpatiaLite: the same vertices. */
static void test_ogc_items_read_blobs_spatialite_wrote(void **state)
{
    char ids[64], cmd[2048], path[128], want[128];
    long long a, b;
    size_t k;

    (void)state;
    sql(ids, sizeof ids,
        "SELECT group_concat(id, ' ') FROM (SELECT id FROM zones WHERE valid_to IS NULL AND "
        "ST_NumGeometries(geom_cad) = 1 ORDER BY id LIMIT 2)");
    assert_int_equal(sscanf(ids, "%lld %lld", &a, &b), 2);
    kd_snprintf(cmd, sizeof cmd,
                "sqlite3 '%s' \"SELECT load_extension('mod_spatialite');\" \"UPDATE zones SET "
                "geom_cad = CastToPolygon(geom_cad) WHERE id = %lld;\" \"UPDATE zones SET geom_cad "
                "= CompressGeometry(CastToPolygon(geom_cad)) WHERE id = %lld;\" >/dev/null",
                harness.db, a, b);
    assert_int_equal(harness_run(cmd), 0);
    for (k = 0; k < 2; k++) {
        struct resp r;
        double x, y, wx, wy;
        long long id = k ? b : a;
        kd_snprintf(path, sizeof path, "/collections/zones/items/%lld", id);
        get(path, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "geometry.type"), "Polygon");
        x = json_object_get_double(jget(r.json, "geometry.coordinates.0.0.0"));
        y = json_object_get_double(jget(r.json, "geometry.coordinates.0.0.1"));
        resp_fini(&r);
        /* a ring's first vertex is its last: the same whichever way the ring is written */
        sql(want, sizeof want,
            "SELECT X(p), Y(p) FROM (SELECT PointN(ExteriorRing(ST_Transform(geom_cad, 4326)), "
            "1) AS p FROM zones WHERE id = %lld)",
            id);
        assert_int_equal(sscanf(want, "%lf|%lf", &wx, &wy), 2);
        assert_true(fabs(x - wx) <= 0.6e-7 && fabs(y - wy) <= 0.6e-7);
    }
}

static void test_ogc_sigterm_exits_zero(void **state)
{
    (void)state;
    assert_int_equal(harness_server_stop(&srv, 6.0, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ogc_landing_and_conformance),
        cmocka_unit_test(test_ogc_collections_describe_extent_crs_and_links),
        cmocka_unit_test(test_ogc_schema_and_queryables),
        cmocka_unit_test(test_ogc_items_default_page_and_features),
        cmocka_unit_test(test_ogc_items_paging_returns_every_feature_once),
        cmocka_unit_test(test_ogc_items_limit_clamped_and_bad_limits),
        cmocka_unit_test(test_ogc_items_datetime_as_of_an_instant),
        cmocka_unit_test(test_ogc_items_bbox_in_three_crs_matches_spatialite),
        cmocka_unit_test(test_ogc_items_crs_of_the_answer),
        cmocka_unit_test(test_ogc_items_queryables_filter),
        cmocka_unit_test(test_ogc_items_bad_boxes),
        cmocka_unit_test(test_ogc_item_by_id),
        cmocka_unit_test(test_ogc_items_read_blobs_spatialite_wrote),
        cmocka_unit_test(test_ogc_sigterm_exits_zero),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
