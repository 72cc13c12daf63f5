/* SPDX-License-Identifier: Apache-2.0 */
/* One-shot lookups through the store (R*Tree + GEOS): points, boxes, neighbours within the
 * gap tolerance with shared boundary lengths, history with lineage, the register as of a
 * date, and the errors. Run as `test_lookup --write-fixture PATH [NX NY]` it writes the
 * fixture register instead (the integration test drives the executable against it), and as
 * `test_lookup --write-stack PATH N` a register of N parcels stacked on one square. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#define DB KD_TEST_WORK "/cadastre_lookup.sqlite"

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_hits h;
};

static int setup(void **state)
{
    static struct world w;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    if (fx_write(DB, 20, 20, &err) || kd_store_open(DB, KD_STORE_RO, &w.st, &err) ||
        kd_geo_new(&w.g, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.key, err.msg);
        return -1;
    }
    kd_hits_init(&w.h);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    kd_hits_fini(&w->h);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    return 0;
}

static const struct kd_parcel_hit *find(const struct kd_hits *h, const char *number)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcmp(h->v[i].number, number) == 0)
            return &h->v[i];
    return NULL;
}

static void test_lookup_point_inside_outside_boundary(void **state)
{
    struct world *w = *state;
    struct kd_err err;
    char n1[KD_CADNUM_MAX];

    kd_err_init(&err);
    fx_number(1, n1);
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, FX_X0 + 3, FX_Y0 + 4, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, n1);
    assert_int_equal(w->h.v[0].on_boundary, 0);
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, FX_X0 - 1, FX_Y0 - 1, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 0);
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, FX_X0 + 10, FX_Y0 + 20, &w->h, &err),
                     KD_OK);
    assert_int_equal(w->h.n, 2);
    assert_int_equal(w->h.v[0].on_boundary, 1);
    assert_int_equal(w->h.v[1].on_boundary, 1);
}

static void test_lookup_area_exact_not_bbox(void **state)
{
    struct world *w = *state;
    const double miss[4] = {524014, 4573014, 524019, 4573019};
    GEOSGeometry *area = NULL;
    struct kd_err err;
    double env[4];

    kd_err_init(&err);
    assert_int_equal(kd_lookup_box_polygon(w->g, NULL, miss, &area, env, &err), KD_OK);
    assert_true(fabs(env[0] - miss[0]) < 1e-9 && fabs(env[3] - miss[3]) < 1e-9);
    assert_int_equal(kd_lookup_area(w->st, w->g, NULL, area, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 0);
    GEOSGeom_destroy_r(kd_geo_geos(w->g), area);
}

static void test_lookup_box_polygon_lonlat_follows_the_curve(void **state)
{
    struct world *w = *state;
    const struct kd_store_config *cfg = kd_store_config(w->st);
    struct kd_xform *xf = NULL;
    GEOSGeometry *area = NULL;
    struct kd_err err;
    double env[4], lon = 69.27, lat = 41.30;
    const double box[4] = {69.2, 41.25, 69.35, 41.35};

    kd_err_init(&err);
    assert_int_equal(kd_xform_epsg(w->g, 4326, FX_SRID, cfg->area, &xf, &err), KD_OK);
    assert_int_equal(kd_lookup_box_polygon(w->g, xf, box, &area, env, &err), KD_OK);
    /* a point inside the lon/lat box is inside its image */
    assert_int_equal(kd_xform_points(xf, 0, &lon, &lat, 1, &err), KD_OK);
    assert_true(lon > env[0] && lon < env[2] && lat > env[1] && lat < env[3]);
    assert_int_equal(GEOSGetNumCoordinates_r(kd_geo_geos(w->g), area), 4 * 32 + 1);
    GEOSGeom_destroy_r(kd_geo_geos(w->g), area);
    kd_xform_free(xf);
}

static void test_lookup_box_polygon_rejects_inverted_box(void **state)
{
    struct world *w = *state;
    const double bad[4] = {1, 1, 0, 2};
    GEOSGeometry *area = NULL;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_lookup_box_polygon(w->g, NULL, bad, &area, NULL, &err), KD_EINVAL);
    assert_string_equal(err.key, "lookup.box");
    assert_null(area);
}

/* A huge but finite box: interpolating its edges as a + t(b - a) overflowed to inf and made
 * NaN vertices (0 * inf); (1 - t)a + tb stays finite. */
static void test_lookup_box_polygon_huge_box_stays_finite(void **state)
{
    struct world *w = *state;
    const double huge[4] = {-1e308, -1e308, 1e308, 1e308};
    GEOSContextHandle_t h = kd_geo_geos(w->g);
    const GEOSCoordSequence *seq;
    GEOSGeometry *area = NULL;
    struct kd_err err;
    double env[4], x, y;
    unsigned i, n = 0;

    kd_err_init(&err);
    assert_int_equal(kd_lookup_box_polygon(w->g, NULL, huge, &area, env, &err), KD_OK);
    assert_true(env[0] == huge[0] && env[1] == huge[1] && env[2] == huge[2] && env[3] == huge[3]);
    seq = GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, area));
    assert_non_null(seq);
    assert_int_equal(GEOSCoordSeq_getSize_r(h, seq, &n), 1);
    for (i = 0; i < n; i++) {
        assert_int_equal(GEOSCoordSeq_getXY_r(h, seq, i, &x, &y), 1);
        assert_true(isfinite(x) && isfinite(y));
    }
    GEOSGeom_destroy_r(h, area);
}

/* The store lookups keep each hit's record when asked: the caller does not read it again. */
static void test_lookup_area_keeps_records(void **state)
{
    struct world *w = *state;
    const double box[4] = {FX_X0 + 5, FX_Y0 + 5, FX_X0 + 25, FX_Y0 + 6}; /* parcels 1 and 2 */
    GEOSGeometry *area = NULL;
    struct kd_hits h;
    struct kd_err err;
    size_t i;

    kd_err_init(&err);
    kd_hits_init(&h);
    h.keep = KD_HITS_KEEP_GEOM;
    assert_int_equal(kd_lookup_box_polygon(w->g, NULL, box, &area, NULL, &err), KD_OK);
    assert_int_equal(kd_lookup_area(w->st, w->g, NULL, area, &h, &err), KD_OK);
    assert_int_equal(h.n, 2);
    for (i = 0; i < h.n; i++) {
        struct kd_parcel p;
        assert_non_null(h.v[i].parcel);
        assert_string_equal(h.v[i].parcel->number, h.v[i].number);
        assert_int_equal(h.v[i].parcel->id, h.v[i].id);
        kd_parcel_init(&p);
        assert_int_equal(kd_store_parcel_get_id(w->st, h.v[i].id, 1, &p, &err), KD_OK);
        assert_int_equal(h.v[i].parcel->wkb_len, p.wkb_len);
        assert_memory_equal(h.v[i].parcel->wkb, p.wkb, p.wkb_len);
        assert_string_equal(h.v[i].parcel->land_use, p.land_use);
        kd_parcel_fini(&p);
    }
    /* without geometry, and the point and neighbour lookups too */
    h.keep = KD_HITS_KEEP_RECORD;
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, FX_X0 + 3, FX_Y0 + 4, &h, &err), KD_OK);
    assert_int_equal(h.n, 1);
    assert_non_null(h.v[0].parcel);
    assert_null(h.v[0].parcel->wkb);
    assert_string_equal(h.v[0].parcel->valid_from, FX_FROM);
    assert_int_equal(kd_lookup_neighbours(w->st, w->g, FX_A, NULL, KD_LOOKUP_GAP_TOL_M, &h, &err),
                     KD_OK);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.v[0].parcel->number, FX_B);
    /* not asked: no records */
    h.keep = KD_HITS_KEEP_NONE;
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, FX_X0 + 3, FX_Y0 + 4, &h, &err), KD_OK);
    assert_null(h.v[0].parcel);
    GEOSGeom_destroy_r(kd_geo_geos(w->g), area);
    kd_hits_fini(&h);
}

static void test_lookup_neighbours_gap_tolerance(void **state)
{
    struct world *w = *state;
    const struct kd_parcel_hit *b;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(
        kd_lookup_neighbours(w->st, w->g, FX_A, NULL, KD_LOOKUP_GAP_TOL_M, &w->h, &err), KD_OK);
    /* B is 0.03 m away: a neighbour; C is 0.1 m away: not */
    assert_int_equal(w->h.n, 1);
    b = find(&w->h, FX_B);
    assert_non_null(b);
    assert_null(find(&w->h, FX_C));
    assert_string_equal(b->contact, "gap");
    assert_true(fabs(b->distance_m - 0.03) < 1e-6);
    /* N's east edge (20 m) plus at most the tolerance at each end */
    assert_true(b->shared_m >= 20.0 - 1e-6 && b->shared_m <= 20.0 + 2 * 0.05 + 1e-6);
}

static void test_lookup_neighbours_edges_and_corners(void **state)
{
    struct world *w = *state;
    char n[KD_CADNUM_MAX], east[KD_CADNUM_MAX], ne[KD_CADNUM_MAX];
    const struct kd_parcel_hit *e, *c;
    struct kd_err err;

    kd_err_init(&err);
    fx_number(5 * 20 + 5 + 1, n); /* (5, 5): 8 neighbours */
    fx_number(5 * 20 + 6 + 1, east);
    fx_number(6 * 20 + 6 + 1, ne);
    assert_int_equal(kd_lookup_neighbours(w->st, w->g, n, NULL, KD_LOOKUP_GAP_TOL_M, &w->h, &err),
                     KD_OK);
    assert_int_equal(w->h.n, 8);
    assert_null(find(&w->h, n));
    e = find(&w->h, east);
    c = find(&w->h, ne);
    assert_non_null(e);
    assert_non_null(c);
    assert_string_equal(e->contact, "edge");
    assert_true(fabs(e->shared_m - 20.0) < 1e-9);
    assert_true(e->distance_m == 0);
    assert_string_equal(c->contact, "corner");
    assert_true(c->shared_m == 0);
}

static void test_lookup_neighbours_unknown_number(void **state)
{
    struct world *w = *state;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_lookup_neighbours(w->st, w->g, "10:29:01:02:09:0001", NULL,
                                          KD_LOOKUP_GAP_TOL_M, &w->h, &err),
                     KD_ENOTFOUND);
    assert_string_equal(err.key, "parcel.not_found");
}

static void test_lookup_history_order_and_lineage(void **state)
{
    struct world *w = *state;
    struct kd_history h = {NULL, 0};
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_lookup_history(w->st, FX_CHILD1, &h, &err), KD_OK);
    assert_int_equal(h.n, 2);
    /* oldest first: the split-off half, then its correction */
    assert_string_equal(h.v[0].parcel.valid_from, FX_SPLIT_AT);
    assert_string_equal(h.v[0].parcel.valid_to, FX_CORRECTED_AT);
    assert_string_equal(h.v[0].parcel.operation, "split");
    assert_int_equal(h.v[0].n_parents, 1);
    assert_string_equal(h.v[0].parents[0].kind, "split-of");
    assert_string_equal(h.v[0].parents[0].other_number, FX_PARENT);
    assert_int_equal(h.v[0].n_children, 1);
    assert_string_equal(h.v[0].children[0].kind, "correction-of");
    assert_string_equal(h.v[1].parcel.valid_from, FX_CORRECTED_AT);
    assert_string_equal(h.v[1].parcel.valid_to, "");
    assert_string_equal(h.v[1].parcel.operation, "correction");
    assert_int_equal(h.v[1].n_parents, 1);
    assert_string_equal(h.v[1].parents[0].kind, "correction-of");
    assert_string_equal(h.v[1].parents[0].other_number, FX_CHILD1);
    assert_int_equal(h.v[1].n_children, 0);
    kd_history_fini(&h);

    /* the parent: one version, two children */
    assert_int_equal(kd_lookup_history(w->st, FX_PARENT, &h, &err), KD_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0].n_parents, 0);
    assert_int_equal(h.v[0].n_children, 2);
    assert_string_equal(h.v[0].children[0].other_number, FX_CHILD1);
    assert_string_equal(h.v[0].children[1].other_number, FX_CHILD2);
    kd_history_fini(&h);
}

static void test_lookup_history_unknown_number(void **state)
{
    struct world *w = *state;
    struct kd_history h = {NULL, 0};
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_lookup_history(w->st, "10:29:01:02:09:0001", &h, &err), KD_ENOTFOUND);
    assert_string_equal(err.key, "parcel.no_history");
    assert_int_equal(h.n, 0);
}

static void test_lookup_point_as_of_past_date(void **state)
{
    struct world *w = *state;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(
        kd_lookup_point(w->st, w->g, "2021-06-01T00:00:00Z", 524210, 4573010, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_PARENT);
    /* 2022-07: the first half before its correction reached to 524220 */
    assert_int_equal(
        kd_lookup_point(w->st, w->g, "2022-07-01T00:00:00Z", 524219.8, 4573010, &w->h, &err),
        KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_CHILD1);
    /* live: corrected to 524219.5, so the point is in nobody's parcel */
    assert_int_equal(kd_lookup_point(w->st, w->g, NULL, 524219.8, 4573010, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 0);
}

static void test_lookup_area_of_use_of_utm42n(void **state)
{
    struct world *w = *state;
    struct kd_err err;
    double aou[4];

    kd_err_init(&err);
    assert_int_equal(kd_lookup_area_of_use(w->g, FX_SRID, aou, &err), KD_OK);
    assert_true(fabs(aou[0] - 66) < 1e-6 && fabs(aou[2] - 72) < 1e-6);
    assert_int_equal(kd_lookup_area_of_use(w->g, 999999, aou, &err), KD_EGEO);
    assert_string_equal(err.key, "crs.area_of_use");
}

/* n identical squares [FX_X0, FX_X0 + 20]^2 under the longest numbers of the uz format
 * (10:26:01:02:03:0001:0001:001, ...): a point inside finds all n, so their joined numbers
 * are long (29 bytes each with the separator). */
static enum kd_code fx_write_stack(const char *path, int n, struct kd_err *err)
{
    struct fx f;
    char num[KD_CADNUM_MAX];
    enum kd_code rc;
    int i;

    rc = fx_open(&f, path);
    for (i = 0; !rc && i < n; i++) {
        snprintf(num, sizeof num, "10:26:01:02:03:0001:%04d:%03d", 1 + i / 1000, i % 1000);
        rc =
            fx_rect(&f, num, FX_X0, FX_Y0, FX_X0 + FX_CELL, FX_Y0 + FX_CELL, FX_FROM, "load", NULL);
    }
    rc = fx_close(&f);
    if (rc && err)
        *err = f.err;
    return rc;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_point_inside_outside_boundary),
        cmocka_unit_test(test_lookup_area_exact_not_bbox),
        cmocka_unit_test(test_lookup_box_polygon_lonlat_follows_the_curve),
        cmocka_unit_test(test_lookup_box_polygon_rejects_inverted_box),
        cmocka_unit_test(test_lookup_box_polygon_huge_box_stays_finite),
        cmocka_unit_test(test_lookup_area_keeps_records),
        cmocka_unit_test(test_lookup_neighbours_gap_tolerance),
        cmocka_unit_test(test_lookup_neighbours_edges_and_corners),
        cmocka_unit_test(test_lookup_neighbours_unknown_number),
        cmocka_unit_test(test_lookup_history_order_and_lineage),
        cmocka_unit_test(test_lookup_history_unknown_number),
        cmocka_unit_test(test_lookup_point_as_of_past_date),
        cmocka_unit_test(test_lookup_area_of_use_of_utm42n),
    };

    if (argc >= 3 && strcmp(argv[1], "--write-fixture") == 0) {
        struct kd_err err;
        int nx = argc >= 5 ? (int)strtol(argv[3], NULL, 10) : 20;
        int ny = argc >= 5 ? (int)strtol(argv[4], NULL, 10) : 20;
        kd_err_init(&err);
        if (nx <= 0 || ny <= 0 || fx_write(argv[2], nx, ny, &err)) {
            fprintf(stderr, "test_lookup: cannot write %s: %s\n", argv[2], err.msg);
            return 1;
        }
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "--write-stack") == 0) {
        struct kd_err err;
        int n = (int)strtol(argv[3], NULL, 10);
        kd_err_init(&err);
        if (n <= 0 || fx_write_stack(argv[2], n, &err)) {
            fprintf(stderr, "test_lookup: cannot write %s: %s\n", argv[2], err.msg);
            return 1;
        }
        return 0;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
