/* SPDX-License-Identifier: Apache-2.0 */
/* The shared shape index (shape_index.c) against GEOS through the store (kd_lookup_point and
 * GEOS intersects over the zones and restrictions), on a generated sample region of
 * irregular parcels with holes in none and zones over many: random points, every vertex
 * (exactly on boundaries), edge midpoints (within ulps of an edge: the points doubles
 * cannot place, which GEOS then decides) and points a hair off each vertex. Also several
 * threads querying one index at once (ThreadSanitizer runs this file too: see Makefile). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"
#include "kadastr/sample.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB KD_TEST_WORK "/cadastre_shape_index.sqlite"
#define N_PARCELS 3000

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_shape_index *idx;
    double ext[4];
    double *pts; /* probe points: x, y */
    size_t n_pts, cap_pts;
};

static struct world w;

static void add_pt(double x, double y)
{
    if (w.n_pts == w.cap_pts) {
        w.cap_pts = w.cap_pts ? 2 * w.cap_pts : 4096;
        w.pts = realloc(w.pts, 2 * w.cap_pts * sizeof *w.pts);
        assert_non_null(w.pts);
    }
    w.pts[2 * w.n_pts] = x;
    w.pts[2 * w.n_pts + 1] = y;
    w.n_pts++;
}

/* every vertex, the midpoint of every edge, and points one ulp off each vertex */
static int probe_ring(void *ud, uint32_t polygon, uint32_t ring, const double *xy, uint32_t n)
{
    uint32_t i;

    (void)ud, (void)polygon, (void)ring;
    for (i = 0; i + 1 < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        add_pt(x, y);
        add_pt((x + xy[2 * i + 2]) / 2, (y + xy[2 * i + 3]) / 2);
        add_pt(nextafter(x, INFINITY), y);
        add_pt(x, nextafter(y, -INFINITY));
    }
    return 0;
}

static enum kd_code probe_parcel(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    long *k = ud;
    double b[4];

    if (kd_wkb_box(p->wkb, p->wkb_len, b, err))
        return err->code;
    w.ext[0] = fmin(w.ext[0], b[0]), w.ext[1] = fmin(w.ext[1], b[1]);
    w.ext[2] = fmax(w.ext[2], b[2]), w.ext[3] = fmax(w.ext[3], b[3]);
    if ((*k)++ % 4 == 0 && kd_wkb_polygon_rings(p->wkb, p->wkb_len, probe_ring, NULL))
        return kd_err_set(err, KD_EGEO, "test.rings", "cannot read %s", p->number);
    return KD_OK;
}

static enum kd_code probe_area(void *ud, const struct kd_area *a, struct kd_err *err)
{
    (void)ud;
    if (kd_wkb_polygon_rings(a->wkb, a->wkb_len, probe_ring, NULL))
        return kd_err_set(err, KD_EGEO, "test.rings", "cannot read %s", a->code);
    return KD_OK;
}

static int setup(void **state)
{
    struct kd_store_config cfg = {KD_SAMPLE_SRID, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};
    struct kd_sample_opts so = {N_PARCELS, 7};
    struct kd_sample_stats stats;
    struct kd_sample_store *ss = NULL;
    struct kd_sample_sink sink;
    struct kd_err err;
    long k = 0;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    size_t i;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    if (kd_store_create(DB, &cfg, 0, &err) || kd_store_open(DB, KD_STORE_RW, &w.st, &err) ||
        kd_geo_new(&w.g, &err) || kd_store_begin(w.st, &err) ||
        kd_sample_store_open(w.st, w.g, &ss, &err))
        goto fail;
    kd_sample_store_sink(ss, &sink);
    if (kd_sample_generate(&so, &sink, &stats, &err) || kd_store_commit(w.st, &err))
        goto fail;
    kd_sample_store_close(ss);
    ss = NULL;
    w.ext[0] = w.ext[1] = INFINITY;
    w.ext[2] = w.ext[3] = -INFINITY;
    if (kd_store_parcels_foreach(w.st, NULL, 1, probe_parcel, &k, &err) ||
        kd_store_areas_foreach(w.st, KD_LAYER_ZONES, NULL, 1, probe_area, NULL, &err) ||
        kd_store_areas_foreach(w.st, KD_LAYER_RESTRICTIONS, NULL, 1, probe_area, NULL, &err))
        goto fail;
    for (i = 0; i < 20000; i++) {
        double u, v;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        u = (double)(x >> 11) / 9007199254740992.0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v = (double)(x >> 11) / 9007199254740992.0;
        add_pt(w.ext[0] + u * (w.ext[2] - w.ext[0]), w.ext[1] + v * (w.ext[3] - w.ext[1]));
    }
    if (kd_shape_index_build(w.st, &w.idx, &err))
        goto fail;
    *state = &w;
    return 0;
fail:
    fprintf(stderr, "setup: %s: %s: %s\n", err.key, err.where, err.msg);
    kd_sample_store_close(ss);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    kd_shape_index_free(w.idx);
    kd_geo_free(w.g);
    kd_store_close(w.st);
    free(w.pts);
    return 0;
}

static void test_shape_index_counts_live_shapes(void **state)
{
    struct kd_shape_index_stats s;
    int64_t n_live, n_zones, n_restr;
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    kd_shape_index_stats(w.idx, &s);
    assert_int_equal(kd_store_parcels_count(w.st, NULL, &n_live, &err), KD_OK);
    assert_int_equal(kd_store_areas_count(w.st, KD_LAYER_ZONES, &n_zones, &err), KD_OK);
    assert_int_equal(kd_store_areas_count(w.st, KD_LAYER_RESTRICTIONS, &n_restr, &err), KD_OK);
    assert_int_equal(s.n_parcels, (size_t)n_live);
    assert_true(n_zones > 0 && n_restr > 0);
    assert_int_equal(s.n_zones, (size_t)n_zones);
    assert_int_equal(s.n_restrictions, (size_t)n_restr);
    assert_true(s.n_points > s.n_parcels * 4);
    assert_true(s.bytes > s.n_points * 16);
}

/* Same hits, same numbers, same on_boundary as GEOS through the store, at every probe. */
static void test_shape_index_parcels_match_geos(void **state)
{
    struct kd_hits a, b;
    struct kd_err err;
    size_t i, j, n_hit = 0, n_boundary = 0, n_two = 0;

    (void)state;
    kd_err_init(&err);
    kd_hits_init(&a);
    kd_hits_init(&b);
    a.keep = KD_HITS_KEEP_GEOM;
    for (i = 0; i < w.n_pts; i++) {
        double x = w.pts[2 * i], y = w.pts[2 * i + 1];
        assert_int_equal(kd_shape_index_parcels_at(w.idx, w.st, w.g, x, y, &a, &err), KD_OK);
        assert_int_equal(kd_lookup_point(w.st, w.g, NULL, x, y, &b, &err), KD_OK);
        if (a.n != b.n)
            fail_msg("point %.17g %.17g: the index finds %zu parcels, GEOS %zu", x, y, a.n, b.n);
        for (j = 0; j < a.n; j++) {
            assert_string_equal(a.v[j].number, b.v[j].number);
            if (a.v[j].on_boundary != b.v[j].on_boundary)
                fail_msg("point %.17g %.17g, parcel %s: on_boundary %d, GEOS says %d", x, y,
                         a.v[j].number, a.v[j].on_boundary, b.v[j].on_boundary);
            assert_non_null(a.v[j].parcel);
            assert_non_null(a.v[j].parcel->wkb);
            n_boundary += a.v[j].on_boundary;
        }
        n_hit += a.n > 0;
        n_two += a.n > 1;
    }
    /* the probes reach every case: inside, outside, on one boundary, on a shared one */
    assert_true(n_hit > w.n_pts / 3 && n_hit < w.n_pts);
    assert_true(n_boundary > 1000);
    assert_true(n_two > 100);
    kd_hits_fini(&a);
    kd_hits_fini(&b);
}

struct areas_at {
    struct kd_geo *g;
    GEOSGeometry *pt;
    struct kd_buf *out;
    int n;
};

static enum kd_code geos_area(void *ud, const struct kd_area *ar, struct kd_err *err)
{
    struct areas_at *q = ud;
    GEOSGeometry *geom = kd_geos_from_wkb(q->g, ar->wkb, ar->wkb_len, err);
    char hit;

    if (!geom)
        return err->code;
    hit = GEOSIntersects_r(kd_geo_geos(q->g), geom, q->pt);
    GEOSGeom_destroy_r(kd_geo_geos(q->g), geom);
    if (hit == 1) {
        kd_buf_adds(q->out, q->n++ ? ",{\"code\":" : "{\"code\":");
        kd_buf_add_json_str(q->out, ar->code);
    }
    return KD_OK;
}

/* the codes of a fragment list, sorted, so that two orders compare */
static void codes_of(const char *json, char *out, size_t size)
{
    char *list[4096];
    size_t n = 0, i, len = 0;
    char *copy = strdup(json), *p = copy;

    assert_non_null(copy);
    while ((p = strstr(p, "{\"code\":\"")) && n < 4096) {
        char *e;
        p += 9;
        e = strchr(p, '"');
        assert_non_null(e);
        *e = '\0';
        list[n++] = p;
        p = e + 1;
    }
    for (i = 1; i < n; i++) { /* insertion sort: lists are short */
        char *t = list[i];
        size_t j = i;
        while (j > 0 && strcmp(list[j - 1], t) > 0) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = t;
    }
    out[0] = '\0';
    for (i = 0; i < n && len + strlen(list[i]) + 2 < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s;", list[i]);
    free(copy);
}

static void test_shape_index_areas_match_geos(void **state)
{
    static const enum kd_layer layers[] = {KD_LAYER_ZONES, KD_LAYER_RESTRICTIONS};
    struct kd_buf a, b;
    struct kd_err err;
    char ca[4096], cb[4096];
    size_t i, l, n_hit = 0;

    (void)state;
    kd_err_init(&err);
    kd_buf_init(&a);
    kd_buf_init(&b);
    for (i = 0; i < w.n_pts; i += 3) {
        double x = w.pts[2 * i], y = w.pts[2 * i + 1], box[4] = {x, y, x, y};
        for (l = 0; l < 2; l++) {
            struct areas_at q = {w.g, NULL, &b, 0};
            kd_buf_reset(&a);
            kd_buf_reset(&b);
            assert_int_equal(kd_shape_index_areas_at(w.idx, w.g, layers[l], x, y, &a, &err), KD_OK);
            q.pt = GEOSGeom_createPointFromXY_r(kd_geo_geos(w.g), x, y);
            assert_int_equal(kd_store_areas_in_box(w.st, layers[l], box, geos_area, &q, &err),
                             KD_OK);
            GEOSGeom_destroy_r(kd_geo_geos(w.g), q.pt);
            codes_of(a.data ? a.data : "", ca, sizeof ca);
            codes_of(b.data ? b.data : "", cb, sizeof cb);
            if (strcmp(ca, cb) != 0)
                fail_msg("point %.17g %.17g: the index finds [%s], GEOS [%s]", x, y, ca, cb);
            n_hit += ca[0] != '\0';
        }
    }
    assert_true(n_hit > 1000);
    kd_buf_fini(&a);
    kd_buf_fini(&b);
}

/* Four threads, each with its own connection and GEOS handle, query the one index at once
 * and agree with the answers of one thread. */
struct job {
    size_t from, to;
    size_t hits;
    int failed;
};

static void *run_job(void *p)
{
    struct job *j = p;
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_hits h;
    struct kd_err err;
    size_t i;

    kd_err_init(&err);
    kd_hits_init(&h);
    if (kd_store_open(DB, KD_STORE_RO, &st, &err) || kd_geo_new(&g, &err)) {
        j->failed = 1;
    } else {
        for (i = j->from; i < j->to; i++) {
            if (kd_shape_index_parcels_at(w.idx, st, g, w.pts[2 * i], w.pts[2 * i + 1], &h, &err)) {
                j->failed = 1;
                break;
            }
            j->hits += h.n;
        }
    }
    kd_hits_fini(&h);
    kd_geo_free(g);
    kd_store_close(st);
    return NULL;
}

static void test_shape_index_threads_share_one_index(void **state)
{
    struct job jobs[4], one;
    pthread_t t[4];
    size_t i, n = w.n_pts < 8000 ? w.n_pts : 8000, sum = 0;

    (void)state;
    memset(&one, 0, sizeof one);
    one.to = n;
    run_job(&one);
    assert_false(one.failed);
    for (i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].from = n * i / 4;
        jobs[i].to = n * (i + 1) / 4;
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_false(jobs[i].failed);
        sum += jobs[i].hits;
    }
    assert_int_equal(sum, one.hits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_index_counts_live_shapes),
        cmocka_unit_test(test_shape_index_parcels_match_geos),
        cmocka_unit_test(test_shape_index_areas_match_geos),
        cmocka_unit_test(test_shape_index_threads_share_one_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
