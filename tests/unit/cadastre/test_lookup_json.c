/* SPDX-License-Identifier: Apache-2.0 */
/* GeoJSON of parcels, parsed back with json-c: RFC 7946 shape (Feature, id, lon/lat with 7
 * decimals, exterior rings counter-clockwise), the properties lookups promise, parties only
 * when asked, and the errors for WKB that is not a polygon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#include <json-c/json.h>

#define DB KD_TEST_WORK "/cadastre_json.sqlite"

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_xform *to_4326;
};

static int setup(void **state)
{
    static struct world w;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    if (fx_write(DB, 4, 4, &err) || kd_store_open(DB, KD_STORE_RO, &w.st, &err) ||
        kd_geo_new(&w.g, &err) ||
        kd_xform_epsg(w.g, FX_SRID, 4326, kd_store_config(w.st)->area, &w.to_4326, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.key, err.msg);
        return -1;
    }
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    kd_xform_free(w->to_4326);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    return 0;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(o, key, &v));
    return v;
}

/* Twice the signed area of a GeoJSON ring: > 0 counter-clockwise. */
static double ring_area2(json_object *ring)
{
    size_t i, n = json_object_array_length(ring);
    double a = 0;

    for (i = 0; i + 1 < n; i++) {
        json_object *p = json_object_array_get_idx(ring, i);
        json_object *q = json_object_array_get_idx(ring, i + 1);
        a += json_object_get_double(json_object_array_get_idx(p, 0)) *
                 json_object_get_double(json_object_array_get_idx(q, 1)) -
             json_object_get_double(json_object_array_get_idx(q, 0)) *
                 json_object_get_double(json_object_array_get_idx(p, 1));
    }
    return a;
}

static json_object *feature_of(struct world *w, const char *number, int with_parties,
                               const struct kd_parcel_hit *hit, struct kd_buf *b)
{
    struct kd_lookup_json_opts o;
    struct kd_parcel p;
    struct kd_err err;
    json_object *doc;

    kd_err_init(&err);
    memset(&o, 0, sizeof o);
    o.to_4326 = w->to_4326;
    o.with_rights = o.with_overlays = 1;
    o.with_parties = with_parties;
    kd_parcel_init(&p);
    assert_int_equal(kd_store_parcel_get(w->st, number, NULL, 1, &p, &err), KD_OK);
    assert_int_equal(kd_lookup_json_feature(w->st, &o, &p, hit, b, &err), KD_OK);
    kd_parcel_fini(&p);
    doc = json_tokener_parse(b->data);
    assert_non_null(doc);
    return doc;
}

static void test_lookup_json_feature_properties_and_rights(void **state)
{
    struct world *w = *state;
    struct kd_buf b;
    json_object *doc, *props, *geom, *rights, *ring, *pt;
    char n1[KD_CADNUM_MAX];
    const char *lon_text;

    kd_buf_init(&b);
    fx_number(1, n1);
    doc = feature_of(w, n1, 1, NULL, &b);
    assert_string_equal(json_object_get_string(get(doc, "type")), "Feature");
    assert_string_equal(json_object_get_string(get(doc, "id")), n1);
    props = get(doc, "properties");
    assert_string_equal(json_object_get_string(get(props, "cadastral_number")), n1);
    assert_string_equal(json_object_get_string(get(props, "land_category")), "settlements");
    assert_true(fabs(json_object_get_double(get(props, "area_m2")) - 400.0) < 1e-9);
    assert_true(json_object_get_double(get(props, "geodesic_area_m2")) > 399);
    assert_null(get(props, "declared_area_m2"));
    assert_null(get(props, "valid_to"));
    assert_string_equal(json_object_get_string(get(props, "valid_from")), FX_FROM);
    assert_string_equal(
        json_object_get_string(get(json_object_array_get_idx(get(props, "zones"), 0), "code")),
        "R1");
    assert_true(fabs(json_object_get_double(
                         get(json_object_array_get_idx(get(props, "restrictions"), 0), "area_m2")) -
                     120.5) < 1e-9);
    rights = get(props, "rights");
    assert_int_equal(json_object_array_length(rights), 2);
    assert_string_equal(json_object_get_string(get(json_object_array_get_idx(rights, 0), "share")),
                        "1/2");
    assert_string_equal(
        json_object_get_string(get(json_object_array_get_idx(rights, 1), "party_name")),
        "Karimova \"Dilnoza\"");
    assert_string_equal(
        json_object_get_string(get(json_object_array_get_idx(rights, 0), "party_kind")), "person");

    geom = get(doc, "geometry");
    assert_string_equal(json_object_get_string(get(geom, "type")), "MultiPolygon");
    ring = json_object_array_get_idx(json_object_array_get_idx(get(geom, "coordinates"), 0), 0);
    assert_int_equal(json_object_array_length(ring), 5);
    assert_true(ring_area2(ring) > 0);
    pt = json_object_array_get_idx(ring, 0);
    assert_true(json_object_get_double(json_object_array_get_idx(pt, 0)) > 69.2);
    assert_true(json_object_get_double(json_object_array_get_idx(pt, 1)) > 41.2);
    /* 7 decimals in the text itself */
    lon_text = strstr(b.data, "[[[[69.");
    assert_non_null(lon_text);
    assert_true(lon_text[14] == ',' && lon_text[13] >= '0' && lon_text[13] <= '9');
    json_object_put(doc);
    kd_buf_fini(&b);
}

static void test_lookup_json_feature_without_parties(void **state)
{
    struct world *w = *state;
    struct kd_buf b;
    json_object *doc;
    char n1[KD_CADNUM_MAX];

    kd_buf_init(&b);
    fx_number(1, n1);
    doc = feature_of(w, n1, 0, NULL, &b);
    assert_null(strstr(b.data, "party"));
    assert_null(strstr(b.data, "Aliyev"));
    json_object_put(doc);
    kd_buf_fini(&b);
}

static void test_lookup_json_feature_hit_fields(void **state)
{
    struct world *w = *state;
    struct kd_parcel_hit hit;
    struct kd_buf b;
    json_object *doc, *props;

    memset(&hit, 0, sizeof hit);
    hit.contact = "gap";
    hit.distance_m = 0.03;
    hit.shared_m = 20.04;
    kd_buf_init(&b);
    doc = feature_of(w, FX_B, 0, &hit, &b);
    props = get(doc, "properties");
    assert_string_equal(json_object_get_string(get(props, "contact")), "gap");
    assert_true(fabs(json_object_get_double(get(props, "shared_boundary_m")) - 20.04) < 1e-9);
    assert_false(json_object_object_get_ex(props, "on_boundary", NULL));
    json_object_put(doc);

    memset(&hit, 0, sizeof hit);
    hit.on_boundary = 1;
    kd_buf_reset(&b);
    doc = feature_of(w, FX_B, 0, &hit, &b);
    assert_true(json_object_get_boolean(get(get(doc, "properties"), "on_boundary")));
    json_object_put(doc);
    kd_buf_fini(&b);
}

/* WKB of a polygon (little endian) with rings given as flat x,y arrays. */
static size_t polygon_wkb(unsigned char *out, const double *const *rings, const uint32_t *n,
                          uint32_t n_rings)
{
    size_t k = 0;
    uint32_t type = 3, i, j;

    out[k++] = 1;
    memcpy(out + k, &type, 4), k += 4;
    memcpy(out + k, &n_rings, 4), k += 4;
    for (i = 0; i < n_rings; i++) {
        memcpy(out + k, &n[i], 4), k += 4;
        for (j = 0; j < 2 * n[i]; j++)
            memcpy(out + k, &rings[i][j], 8), k += 8;
    }
    return k;
}

static void test_lookup_json_geometry_turns_rings_rfc7946(void **state)
{
    /* exterior clockwise, hole counter-clockwise: both the wrong way for RFC 7946 */
    static const double shell[] = {0, 0, 0, 10, 10, 10, 10, 0, 0, 0};
    static const double hole[] = {2, 2, 4, 2, 4, 4, 2, 4, 2, 2};
    const double *rings[] = {shell, hole};
    const uint32_t n[] = {5, 5};
    unsigned char wkb[512];
    size_t len = polygon_wkb(wkb, rings, n, 2);
    struct kd_buf b;
    struct kd_err err;
    json_object *doc, *coords;

    (void)state;
    kd_err_init(&err);
    kd_buf_init(&b);
    assert_int_equal(kd_lookup_json_geometry(wkb, len, 2, &b, &err), KD_OK);
    doc = json_tokener_parse(b.data);
    assert_non_null(doc);
    assert_string_equal(json_object_get_string(get(doc, "type")), "Polygon");
    coords = get(doc, "coordinates");
    assert_true(ring_area2(json_object_array_get_idx(coords, 0)) > 0);
    assert_true(ring_area2(json_object_array_get_idx(coords, 1)) < 0);
    assert_non_null(strstr(b.data, "[0.00,0.00]"));
    json_object_put(doc);
    kd_buf_fini(&b);
}

static void test_lookup_json_geometry_rejects_point(void **state)
{
    unsigned char wkb[21] = {1, 1, 0, 0, 0};
    struct kd_buf b;
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    kd_buf_init(&b);
    assert_int_equal(kd_lookup_json_geometry(wkb, sizeof wkb, 7, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.type");
    kd_buf_fini(&b);
}

static void test_lookup_json_geometry_rejects_truncated_wkb(void **state)
{
    static const double shell[] = {0, 0, 0, 10, 10, 10, 10, 0, 0, 0};
    const double *rings[] = {shell};
    const uint32_t n[] = {5};
    unsigned char wkb[256];
    size_t len = polygon_wkb(wkb, rings, n, 1);
    struct kd_buf b;
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    kd_buf_init(&b);
    assert_int_equal(kd_lookup_json_geometry(wkb, len - 9, 7, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.malformed");
    kd_err_init(&err);
    assert_int_equal(kd_lookup_json_geometry(wkb, 0, 7, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.malformed");
    kd_buf_fini(&b);
}

/* A MultiPolygon whose second polygon is cut short: the first one is written before the
 * failure shows, and must not stay in out. */
static void test_lookup_json_geometry_failure_leaves_out_unchanged(void **state)
{
    static const double shell[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    const double *rings[] = {shell};
    const uint32_t n[] = {5};
    unsigned char wkb[512];
    uint32_t type = 6, two = 2;
    size_t k = 0, len1;
    struct kd_buf b;
    struct kd_err err;

    (void)state;
    wkb[k++] = 1;
    memcpy(wkb + k, &type, 4), k += 4;
    memcpy(wkb + k, &two, 4), k += 4;
    len1 = polygon_wkb(wkb + k, rings, n, 1);
    k += len1;
    k += polygon_wkb(wkb + k, rings, n, 1);
    kd_err_init(&err);
    kd_buf_init(&b);
    kd_buf_adds(&b, "[");
    assert_int_equal(kd_lookup_json_geometry(wkb, k - 20, 7, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.malformed");
    assert_int_equal(b.len, 1);
    assert_string_equal(b.data, "[");
    kd_buf_fini(&b);
}

/* A parcel whose geometry cannot be written: no half feature left in out. */
static void test_lookup_json_feature_failure_leaves_out_unchanged(void **state)
{
    struct world *w = *state;
    struct kd_lookup_json_opts o;
    struct kd_parcel p;
    struct kd_buf b;
    struct kd_err err;
    unsigned char point[21] = {1, 1, 0, 0, 0};
    char n1[KD_CADNUM_MAX];

    kd_err_init(&err);
    memset(&o, 0, sizeof o);
    o.with_rights = o.with_overlays = 1;
    kd_parcel_init(&p);
    fx_number(1, n1);
    assert_int_equal(kd_store_parcel_get(w->st, n1, NULL, 0, &p, &err), KD_OK);
    p.wkb = point; /* borrowed: not freed below */
    p.wkb_len = sizeof point;
    kd_buf_init(&b);
    kd_buf_adds(&b, "{\"features\":[");
    assert_int_equal(kd_lookup_json_feature(w->st, &o, &p, NULL, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.type");
    assert_string_equal(b.data, "{\"features\":[");
    assert_int_equal(b.len, strlen("{\"features\":["));
    kd_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_json_feature_properties_and_rights),
        cmocka_unit_test(test_lookup_json_feature_without_parties),
        cmocka_unit_test(test_lookup_json_feature_hit_fields),
        cmocka_unit_test(test_lookup_json_geometry_turns_rings_rfc7946),
        cmocka_unit_test(test_lookup_json_geometry_rejects_point),
        cmocka_unit_test(test_lookup_json_geometry_rejects_truncated_wkb),
        cmocka_unit_test(test_lookup_json_geometry_failure_leaves_out_unchanged),
        cmocka_unit_test(test_lookup_json_feature_failure_leaves_out_unchanged),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
