/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory parcel index (parcel_index.c) against the fixture register: a point inside,
 * outside, on a shared edge and on a corner; boxes whose bounding-box answer differs from
 * the exact one, and a huge box; the index of a past date; and its stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#define DB KD_TEST_WORK "/cadastre_parcel_index.sqlite"

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_parcel_index *idx;
    struct kd_hits h;
    struct kd_err err;
};

static int setup(void **state)
{
    static struct world w;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    kd_err_init(&w.err);
    if (fx_write(DB, 20, 20, &err)) {
        fprintf(stderr, "fixture: %s: %s\n", err.key, err.msg);
        return -1;
    }
    if (kd_store_open(DB, KD_STORE_RO, &w.st, &err) || kd_geo_new(&w.g, &err) ||
        kd_parcel_index_build(w.st, w.g, NULL, &w.idx, &err)) {
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
    kd_parcel_index_free(w->idx);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    return 0;
}

static void test_parcel_index_build_counts_live_parcels(void **state)
{
    struct world *w = *state;
    struct kd_parcel_index_stats s;

    kd_parcel_index_stats(w->idx, &s);
    assert_int_equal(s.n_parcels, 400 + FX_N_SPECIAL_LIVE);
    assert_true(s.build_s >= 0);
}

static void test_parcel_index_point_inside(void **state)
{
    struct world *w = *state;
    char num[KD_CADNUM_MAX];

    /* the middle of parcel (2, 3) */
    assert_int_equal(
        kd_parcel_index_point(w->idx, FX_X0 + 2 * 20 + 10, FX_Y0 + 3 * 20 + 10, &w->h, &w->err),
        KD_OK);
    fx_number(3 * 20 + 2 + 1, num);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, num);
    assert_int_equal(w->h.v[0].on_boundary, 0);
    assert_null(w->h.v[0].contact);
}

static void test_parcel_index_point_outside(void **state)
{
    struct world *w = *state;

    assert_int_equal(kd_parcel_index_point(w->idx, FX_X0 - 5, FX_Y0 + 5, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 0);
    /* inside the triangle's bounding box but not the triangle */
    assert_int_equal(kd_parcel_index_point(w->idx, 524015, 4573015, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 0);
    assert_int_equal(kd_parcel_index_point(w->idx, 524005, 4573005, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_TRIANGLE);
}

static void test_parcel_index_point_shared_boundary_finds_both(void **state)
{
    struct world *w = *state;
    char n1[KD_CADNUM_MAX], n2[KD_CADNUM_MAX];

    /* on the edge between parcels (0, 0) and (1, 0) */
    assert_int_equal(kd_parcel_index_point(w->idx, FX_X0 + 20, FX_Y0 + 10, &w->h, &w->err), KD_OK);
    fx_number(1, n1);
    fx_number(2, n2);
    assert_int_equal(w->h.n, 2);
    assert_string_equal(w->h.v[0].number, n1); /* number order */
    assert_string_equal(w->h.v[1].number, n2);
    assert_int_equal(w->h.v[0].on_boundary, 1);
    assert_int_equal(w->h.v[1].on_boundary, 1);
}

static void test_parcel_index_point_corner_finds_four(void **state)
{
    struct world *w = *state;
    size_t i;

    assert_int_equal(kd_parcel_index_point(w->idx, FX_X0 + 40, FX_Y0 + 40, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 4);
    for (i = 0; i < 4; i++)
        assert_int_equal(w->h.v[i].on_boundary, 1);
}

static void test_parcel_index_box_exact_not_bbox(void **state)
{
    struct world *w = *state;
    const double miss[4] = {524014, 4573014, 524019, 4573019}; /* in the triangle's bbox */
    const double hit[4] = {524001, 4573001, 524005, 4573005};

    assert_int_equal(kd_parcel_index_box(w->idx, miss, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 0);
    assert_int_equal(kd_parcel_index_box(w->idx, hit, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_TRIANGLE);
}

static void test_parcel_index_box_selects_every_intersecting_parcel(void **state)
{
    struct world *w = *state;
    /* from inside parcel (0,0) to inside parcel (2,1): 3 x 2 parcels */
    const double box[4] = {FX_X0 + 5, FX_Y0 + 5, FX_X0 + 45, FX_Y0 + 25};
    /* touching the grid's east edge only: a shared boundary counts as intersecting */
    const double edge[4] = {FX_X0 + 400, FX_Y0 + 1, FX_X0 + 410, FX_Y0 + 2};

    assert_int_equal(kd_parcel_index_box(w->idx, box, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 6);
    assert_int_equal(kd_parcel_index_box(w->idx, edge, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 1);
}

/* A huge but finite box finds every parcel (its edges once became NaN: 0 * inf). */
static void test_parcel_index_box_huge_box_finds_every_parcel(void **state)
{
    struct world *w = *state;
    const double huge[4] = {-1e308, -1e308, 1e308, 1e308};
    const double far[4] = {1e300, 1e300, 1e308, 1e308};

    assert_int_equal(kd_parcel_index_box(w->idx, huge, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 400 + FX_N_SPECIAL_LIVE);
    assert_int_equal(kd_parcel_index_box(w->idx, far, &w->h, &w->err), KD_OK);
    assert_int_equal(w->h.n, 0);
}

static void test_parcel_index_box_rejects_empty_box(void **state)
{
    struct world *w = *state;
    const double empty[4] = {524010, 4573000, 524000, 4573010};
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_parcel_index_box(w->idx, empty, &w->h, &err), KD_EINVAL);
    assert_string_equal(err.key, "lookup.box");
}

static void test_parcel_index_build_as_of_past_date(void **state)
{
    struct world *w = *state;
    struct kd_parcel_index *old = NULL;
    struct kd_parcel_index_stats s;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_parcel_index_build(w->st, w->g, "2021-01-01T00:00:00Z", &old, &err), KD_OK);
    kd_parcel_index_stats(old, &s);
    /* the grid, triangle, A, B, C and the parent before its split */
    assert_int_equal(s.n_parcels, 400 + 5);
    assert_int_equal(kd_parcel_index_point(old, 524230, 4573010, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_PARENT);
    kd_parcel_index_free(old);
    /* live: the second child is there */
    assert_int_equal(kd_parcel_index_point(w->idx, 524230, 4573010, &w->h, &err), KD_OK);
    assert_int_equal(w->h.n, 1);
    assert_string_equal(w->h.v[0].number, FX_CHILD2);
}

static void test_parcel_index_point_prepares_lazily(void **state)
{
    struct world *w = *state;
    struct kd_parcel_index *fresh = NULL;
    struct kd_parcel_index_stats s;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_parcel_index_build(w->st, w->g, NULL, &fresh, &err), KD_OK);
    kd_parcel_index_stats(fresh, &s);
    assert_int_equal(s.n_prepared, 0);
    assert_int_equal(kd_parcel_index_point(fresh, FX_X0 + 10, FX_Y0 + 10, &w->h, &err), KD_OK);
    assert_int_equal(kd_parcel_index_point(fresh, FX_X0 + 11, FX_Y0 + 10, &w->h, &err), KD_OK);
    kd_parcel_index_stats(fresh, &s);
    assert_int_equal(s.n_prepared, 1);
    kd_parcel_index_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parcel_index_build_counts_live_parcels),
        cmocka_unit_test(test_parcel_index_point_inside),
        cmocka_unit_test(test_parcel_index_point_outside),
        cmocka_unit_test(test_parcel_index_point_shared_boundary_finds_both),
        cmocka_unit_test(test_parcel_index_point_corner_finds_four),
        cmocka_unit_test(test_parcel_index_box_exact_not_bbox),
        cmocka_unit_test(test_parcel_index_box_selects_every_intersecting_parcel),
        cmocka_unit_test(test_parcel_index_box_huge_box_finds_every_parcel),
        cmocka_unit_test(test_parcel_index_box_rejects_empty_box),
        cmocka_unit_test(test_parcel_index_build_as_of_past_date),
        cmocka_unit_test(test_parcel_index_point_prepares_lazily),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
