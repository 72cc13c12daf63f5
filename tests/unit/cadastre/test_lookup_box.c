/* SPDX-License-Identifier: Apache-2.0 */
/* kd_lookup_box (lookup.c) against a 4 x 4 fixture grid: a box inside one parcel, in the
 * office CRS and in lon/lat; a huge box in the office CRS (every parcel, after the clip to the
 * area of use); a lon/lat box outside the area of use; records kept when asked; and the
 * boxes refused before any work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#define DB KD_TEST_WORK "/cadastre_lookup_box.sqlite"
#define P1 "10:26:01:02:03:0001" /* grid parcel (0, 0): [523000, 523020] x [4573000, 4573020] */

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_xform *from_4326, *to_4326;
    struct kd_hits h;
    struct kd_err err;
};

static int setup(void **state)
{
    static struct world w;
    const struct kd_store_config *cfg;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    kd_err_init(&w.err);
    if (fx_write(DB, 4, 4, &err) || kd_store_open(DB, KD_STORE_RO, &w.st, &err) ||
        kd_geo_new(&w.g, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.key, err.msg);
        return -1;
    }
    cfg = kd_store_config(w.st);
    if (kd_xform_epsg(w.g, 4326, cfg->srid, cfg->area, &w.from_4326, &err) ||
        kd_xform_epsg(w.g, cfg->srid, 4326, cfg->area, &w.to_4326, &err)) {
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
    kd_xform_free(w->from_4326);
    kd_xform_free(w->to_4326);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    return 0;
}

static void test_lookup_box_inside_one_parcel_office_crs(void **state)
{
    struct world *w = *state;
    const double box[4] = {FX_X0 + 5, FX_Y0 + 5, FX_X0 + 10, FX_Y0 + 10};
    int outside = -1;

    assert_int_equal(kd_lookup_box(w->st, w->g, NULL, FX_SRID, NULL, box, &w->h, &outside, &w->err),
                     KD_OK);
    assert_int_equal(outside, 0);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, P1);
    assert_null(w->h.v[0].parcel); /* keep NONE */
}

static void test_lookup_box_inside_one_parcel_lonlat_keeps_record(void **state)
{
    struct world *w = *state;
    struct kd_hits h;
    double x = FX_X0 + 10, y = FX_Y0 + 10, box[4];
    int outside = -1;

    assert_int_equal(kd_xform_points(w->to_4326, 0, &x, &y, 1, &w->err), KD_OK);
    box[0] = x - 1e-5, box[1] = y - 1e-5, box[2] = x + 1e-5, box[3] = y + 1e-5; /* ~1 m */
    kd_hits_init(&h);
    h.keep = KD_HITS_KEEP_RECORD;
    assert_int_equal(
        kd_lookup_box(w->st, w->g, NULL, 4326, w->from_4326, box, &h, &outside, &w->err), KD_OK);
    assert_int_equal(outside, 0);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.v[0].number, P1);
    assert_non_null(h.v[0].parcel);
    assert_string_equal(h.v[0].parcel->number, P1);
    assert_null(h.v[0].parcel->wkb);
    kd_hits_fini(&h);
}

static void test_lookup_box_huge_office_box_finds_every_parcel(void **state)
{
    struct world *w = *state;
    const double box[4] = {-1e308, -1e308, 1e308, 1e308};
    int outside = -1;

    assert_int_equal(kd_lookup_box(w->st, w->g, NULL, FX_SRID, NULL, box, &w->h, &outside, &w->err),
                     KD_OK);
    assert_int_equal(outside, 0);
    assert_int_equal(w->h.n, 16 + FX_N_SPECIAL_LIVE);
}

static void test_lookup_box_outside_area_of_use(void **state)
{
    struct world *w = *state;
    const double box[4] = {-10, -10, -9, -9}; /* the Gulf of Guinea, lon/lat */
    int outside = -1;

    assert_int_equal(
        kd_lookup_box(w->st, w->g, NULL, 4326, w->from_4326, box, &w->h, &outside, &w->err), KD_OK);
    assert_int_equal(outside, 1);
    assert_int_equal(w->h.n, 0);
}

static void test_lookup_box_rejects_empty_and_nan_box(void **state)
{
    struct world *w = *state;
    const double empty[4] = {FX_X0 + 10, FX_Y0, FX_X0, FX_Y0 + 10};
    const double nan_box[4] = {NAN, FX_Y0, FX_X0 + 10, FX_Y0 + 10};
    int outside = -1;

    kd_err_init(&w->err);
    assert_int_equal(
        kd_lookup_box(w->st, w->g, NULL, FX_SRID, NULL, empty, &w->h, &outside, &w->err),
        KD_EINVAL);
    assert_string_equal(w->err.key, "lookup.box");
    assert_non_null(strstr(w->err.msg, "is empty"));
    kd_err_init(&w->err);
    assert_int_equal(
        kd_lookup_box(w->st, w->g, NULL, FX_SRID, NULL, nan_box, &w->h, &outside, &w->err),
        KD_EINVAL);
    assert_string_equal(w->err.key, "lookup.box");
    assert_non_null(strstr(w->err.msg, "is not finite"));
    assert_int_equal(outside, -1); /* OUT written only on success */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_box_inside_one_parcel_office_crs),
        cmocka_unit_test(test_lookup_box_inside_one_parcel_lonlat_keeps_record),
        cmocka_unit_test(test_lookup_box_huge_office_box_finds_every_parcel),
        cmocka_unit_test(test_lookup_box_outside_area_of_use),
        cmocka_unit_test(test_lookup_box_rejects_empty_and_nan_box),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
