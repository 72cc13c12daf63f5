/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of geo: the choice of coordinate operation (the traps of LIBRARY-NOTES.md),
 * office CRS checks, geodesic area against a closed form, WKB transforms. */
#include "kadastr/geo.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const double uzbekistan[4] = {55.99, 37.18, 73.17, 45.58};

static int setup(void **state)
{
    struct kd_geo *g = NULL;
    struct kd_err err;

    kd_err_init(&err);
    if (kd_geo_new(&g, &err))
        return -1;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    kd_geo_free(*state);
    return 0;
}

static void test_op_choose_sk42_in_uzbekistan_office(void **state)
{
    struct kd_op_choice c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:28412", 32642, uzbekistan, NULL, &c, &err), KD_OK);
    assert_string_equal(c.transformation, "Pulkovo 1942 to WGS 84 (16) (EPSG:15865)");
    assert_true(fabs(c.accuracy_m - 4.5) < 1e-9);
    assert_true(c.covers_office);
    /* 4.5 m is worse than 1 m: said so */
    assert_non_null(strstr(c.warning, "worse than 1 m"));
    kd_op_choice_fini(&c);
}

static void test_op_choose_depends_on_office_area(void **state)
{
    /* PROJ compares boxes: around Tashkent alone, the Russia-only (20) box contains the
     * area and wins. This is why the office area, not the data extent, decides. */
    const double tashkent[4] = {69.1, 41.2, 69.4, 41.4};
    struct kd_op_choice c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:28412", 32642, tashkent, NULL, &c, &err), KD_OK);
    assert_non_null(strstr(c.transformation, "Pulkovo 1942 to WGS 84 (20)"));
    kd_op_choice_fini(&c);
}

static void test_op_choose_skips_operations_with_missing_grids(void **state)
{
    const double cambridge[4] = {-71.17, 42.35, -71.06, 42.41};
    struct kd_op_choice c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:4326", 26986, cambridge, NULL, &c, &err), KD_OK);
    assert_string_equal(c.transformation, "NAD83 to WGS 84 (1) (EPSG:1188)");
    assert_true(fabs(c.accuracy_m - 4.0) < 1e-9);
    kd_op_choice_fini(&c);
}

static void test_op_choose_warns_when_nothing_covers_the_office(void **state)
{
    /* SK-42 data into a French office: no Pulkovo operation's area contains France; PROJ's
     * best for the data's extent is used, and said so */
    const double france[4] = {-4.8, 42.3, 8.2, 51.1};
    const double tashkent[4] = {69.1, 41.2, 69.4, 41.4};
    struct kd_op_choice c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:28412", 2154, france, tashkent, &c, &err), KD_OK);
    assert_false(c.covers_office);
    assert_non_null(strstr(c.warning, "office area"));
    kd_op_choice_fini(&c);
    /* Cambridge's NAD83 data into a Tashkent office: the real operation covers only
     * North America; it is used for the data, with the warning */
    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:4269", 32642, uzbekistan,
                                  (const double[4]){-71.17, 42.35, -71.06, 42.41}, &c, &err),
                     KD_OK);
    assert_false(c.covers_office);
    assert_false(c.ballpark);
    assert_non_null(strstr(c.warning, "data's extent"));
    kd_op_choice_fini(&c);
}

static void test_op_choose_same_crs_is_noop(void **state)
{
    struct kd_op_choice c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_op_choose(*state, "EPSG:32642", 32642, uzbekistan, NULL, &c, &err), KD_OK);
    assert_string_equal(c.definition, "+proj=noop");
    assert_true(c.accuracy_m == 0);
    assert_string_equal(c.warning, "");
    kd_op_choice_fini(&c);
}

static void test_crs_check_office_refuses_geographic_and_feet(void **state)
{
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_crs_check_office(*state, 32642, &err), KD_OK);
    assert_int_equal(kd_crs_check_office(*state, 28412, &err), KD_OK);
    assert_int_equal(kd_crs_check_office(*state, 4326, &err), KD_EINVAL);
    assert_string_equal(err.key, "crs.geographic");
    kd_err_init(&err);
    assert_int_equal(kd_crs_check_office(*state, 2249, &err), KD_EINVAL); /* MA, US feet */
    assert_string_equal(err.key, "crs.units");
    kd_err_init(&err);
    assert_int_equal(kd_crs_check_office(*state, 1, &err), KD_EINVAL);
    assert_string_equal(err.key, "crs.unknown");
}

/* Area between two parallels and two meridians on the ellipsoid (closed form with the
 * authalic q function): an independent check of the geodesic area. */
static double zone_area(double a, double f, double lon1, double lon2, double lat1, double lat2)
{
    double e2 = f * (2 - f), e = sqrt(e2), b2 = a * a * (1 - e2);
    double s1 = sin(lat1 * M_PI / 180), s2 = sin(lat2 * M_PI / 180);
    double q1 = s1 / (1 - e2 * s1 * s1) + log((1 + e * s1) / (1 - e * s1)) / (2 * e);
    double q2 = s2 / (1 - e2 * s2 * s2) + log((1 + e * s2) / (1 - e * s2)) / (2 * e);

    return (lon2 - lon1) * M_PI / 180 * b2 / 2 * (q2 - q1);
}

static void test_geod_area_matches_closed_form(void **state)
{
    struct kd_geo *g = *state;
    struct kd_xform *xf = NULL;
    struct kd_geod *gd = NULL;
    struct kd_err err;
    /* a 0.01° box near Tashkent, edges densified so they follow the parallels in UTM */
    enum { PER = 200, N = 4 * PER + 1 };
    double lon0 = 69.27, lat0 = 41.30, d = 0.01, x[N], y[N], area, expect;
    unsigned char wkb[9 + 4 + 16 * N];
    uint32_t one = 1, type = 3, n = N;
    int i;

    kd_err_init(&err);
    for (i = 0; i < PER; i++) {
        double t = (double)i / PER;
        x[i] = lon0 + d * t, y[i] = lat0;
        x[PER + i] = lon0 + d, y[PER + i] = lat0 + d * t;
        x[2 * PER + i] = lon0 + d - d * t, y[2 * PER + i] = lat0 + d;
        x[3 * PER + i] = lon0, y[3 * PER + i] = lat0 + d - d * t;
    }
    x[N - 1] = x[0], y[N - 1] = y[0];
    assert_int_equal(kd_xform_epsg(g, 4326, 32642, uzbekistan, &xf, &err), KD_OK);
    assert_int_equal(kd_xform_points(xf, 0, x, y, N, &err), KD_OK);
    wkb[0] = 1;
    memcpy(wkb + 1, &type, 4);
    memcpy(wkb + 5, &one, 4);
    memcpy(wkb + 9, &n, 4);
    for (i = 0; i < N; i++) {
        memcpy(wkb + 13 + 16 * i, &x[i], 8);
        memcpy(wkb + 13 + 16 * i + 8, &y[i], 8);
    }
    assert_int_equal(kd_geod_new(g, 32642, &gd, &err), KD_OK);
    assert_int_equal(kd_geod_area_wkb(gd, wkb, sizeof wkb, &area, &err), KD_OK);
    expect = zone_area(6378137.0, 1 / 298.257223563, lon0, lon0 + d, lat0, lat0 + d);
    assert_true(fabs(area - expect) / expect < 1e-6);
    kd_geod_free(gd);
    kd_xform_free(xf);
}

static void test_wkb_box_and_malformed(void **state)
{
    unsigned char wkb[21] = {1, 1, 0, 0, 0};
    double x = 5, y = -3, box[4];
    struct kd_err err;
    unsigned type;

    (void)state;
    kd_err_init(&err);
    memcpy(wkb + 5, &x, 8);
    memcpy(wkb + 13, &y, 8);
    assert_int_equal(kd_wkb_box(wkb, sizeof wkb, box, &err), KD_OK);
    assert_true(box[0] == 5 && box[1] == -3 && box[2] == 5 && box[3] == -3);
    assert_int_equal(kd_wkb_type(wkb, sizeof wkb, &type, &err), KD_OK);
    assert_int_equal(type, 1);
    assert_int_equal(kd_wkb_box(wkb, sizeof wkb - 1, box, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.malformed");
}

/* Writes each ring as "polygon.ring:n:x0,y0" (the first point decoded). */
static enum kd_code ring_label(void *ud, const struct kd_wkb_ring *r, struct kd_buf *out,
                               struct kd_err *err)
{
    double x = 0, y = 0;

    (void)ud, (void)err;
    if (r->n)
        kd_wkb_ring_point(r, 0, &x, &y);
    kd_buf_addf(out, "%u.%u:%u:%g,%g", r->polygon, r->ring, r->n, x, y);
    return KD_OK;
}

static void put_u32(unsigned char *p, uint32_t v, int be)
{
    int i;

    for (i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double v, int be)
{
    unsigned char b[8];
    int i;

    memcpy(b, &v, 8); /* a little-endian host */
    for (i = 0; i < 8; i++)
        p[be ? 7 - i : i] = b[i];
}

/* A MultiPolygon of a little-endian polygon with a hole, an empty polygon and a big-endian
 * one: rings in order with their indices, the empty polygon kept as [], each polygon read in
 * its own byte order. */
static void test_wkb_geojson_geometry_walks_rings_in_order(void **state)
{
    unsigned char wkb[256];
    size_t k = 0;
    int p, be;
    struct kd_buf b;
    struct kd_err err;

    (void)state;
    wkb[k++] = 1, put_u32(wkb + k, 6, 0), k += 4, put_u32(wkb + k, 3, 0), k += 4;
    for (p = 0; p < 3; p++) {
        be = p == 2;
        wkb[k++] = be ? 0 : 1, put_u32(wkb + k, 3, be), k += 4;
        put_u32(wkb + k, p == 0 ? 2 : p == 1 ? 0 : 1, be), k += 4;
        if (p == 1)
            continue;
        put_u32(wkb + k, 1, be), k += 4, put_f64(wkb + k, p + 0.5, be), k += 8;
        put_f64(wkb + k, -p - 1.0, be), k += 8;
        if (p == 0)
            put_u32(wkb + k, 0, be), k += 4;
    }
    kd_err_init(&err);
    kd_buf_init(&b);
    assert_int_equal(kd_wkb_geojson_geometry(wkb, k, ring_label, NULL, &b, &err), KD_OK);
    assert_string_equal(b.data, "{\"type\":\"MultiPolygon\",\"coordinates\":[[0.0:1:0.5,-1,"
                                "0.1:0:0,0],[],[2.0:1:2.5,-3]]}");
    kd_buf_reset(&b);
    assert_int_equal(kd_wkb_geojson_geometry(wkb, k - 1, ring_label, NULL, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.malformed");
    kd_err_init(&err);
    put_u32(wkb + 1, 1003, 0);
    assert_int_equal(kd_wkb_geojson_geometry(wkb, k, ring_label, NULL, &b, &err), KD_EINVAL);
    assert_string_equal(err.key, "wkb.type");
    kd_buf_fini(&b);
}

struct ring_sum {
    uint32_t rings, points;
    double sum;
};

static int ring_sum(void *ud, uint32_t polygon, uint32_t ring, const double *xy, uint32_t n)
{
    struct ring_sum *s = ud;
    uint32_t i;

    (void)polygon, (void)ring;
    s->rings++;
    s->points += n;
    for (i = 0; i < 2 * n; i++)
        s->sum += xy[i];
    return 0;
}

/* kd_wkb_polygon_rings hands out every point, decoded, for rings that fit its stack buffer
 * and for larger ones (a 3 point ring, then 1,000 points, then 3 again, in both byte
 * orders). */
static void test_wkb_polygon_rings_small_and_large(void **state)
{
    static const uint32_t sizes[] = {3, 1000, 3};
    size_t cap = 64 + 3 * (9 + 4 + 16 * 1000), k = 0;
    unsigned char *wkb = malloc(cap);
    struct ring_sum s = {0, 0, 0};
    double expect = 0;
    uint32_t p, i;

    (void)state;
    assert_non_null(wkb);
    wkb[k++] = 1, put_u32(wkb + k, 6, 0), k += 4, put_u32(wkb + k, 3, 0), k += 4;
    for (p = 0; p < 3; p++) {
        int be = p == 1;
        wkb[k++] = be ? 0 : 1, put_u32(wkb + k, 3, be), k += 4, put_u32(wkb + k, 1, be), k += 4;
        put_u32(wkb + k, sizes[p], be), k += 4;
        for (i = 0; i < sizes[p]; i++) {
            put_f64(wkb + k, p * 1000.0 + i, be), k += 8;
            put_f64(wkb + k, 0.5 * i, be), k += 8;
            expect += p * 1000.0 + i + 0.5 * i;
        }
    }
    assert_int_equal(kd_wkb_polygon_rings(wkb, k, ring_sum, &s), 0);
    assert_int_equal(s.rings, 3);
    assert_int_equal(s.points, 1006);
    assert_true(s.sum == expect);
    assert_int_equal(kd_wkb_polygon_rings(wkb, k - 1, ring_sum, &s), -1);
    free(wkb);
}

static void test_xform_box_between_utm_zones(void **state)
{
    struct kd_xform *xf = NULL;
    struct kd_err err;
    double in[4] = {1020000, 4580000, 1030000, 4590000}, out[4];

    kd_err_init(&err);
    /* UTM 41N -> 42N: a pipeline, for which proj_trans_bounds gives up */
    assert_int_equal(kd_xform_epsg(*state, 32641, 32642, uzbekistan, &xf, &err), KD_OK);
    assert_int_equal(kd_xform_box(xf, 0, in, out, &err), KD_OK);
    assert_true(out[0] < out[2] && out[1] < out[3]);
    assert_true(out[0] > 500000 && out[2] < 560000); /* 69.0 E is near 42N's centre */
    assert_int_equal(kd_xform_box(xf, 0, (const double[4]){1, 2, 0, 3}, out, &err), KD_EINVAL);
    assert_string_equal(err.key, "op.box");
    kd_xform_free(xf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_choose_sk42_in_uzbekistan_office),
        cmocka_unit_test(test_op_choose_depends_on_office_area),
        cmocka_unit_test(test_op_choose_skips_operations_with_missing_grids),
        cmocka_unit_test(test_op_choose_warns_when_nothing_covers_the_office),
        cmocka_unit_test(test_op_choose_same_crs_is_noop),
        cmocka_unit_test(test_crs_check_office_refuses_geographic_and_feet),
        cmocka_unit_test(test_geod_area_matches_closed_form),
        cmocka_unit_test(test_wkb_box_and_malformed),
        cmocka_unit_test(test_wkb_geojson_geometry_walks_rings_in_order),
        cmocka_unit_test(test_wkb_polygon_rings_small_and_large),
        cmocka_unit_test(test_xform_box_between_utm_zones),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
