/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory parcel index: every parcel of one moment of the register as a GEOS geometry
 * in a GEOS STRtree. A query asks the tree for candidates (envelopes that meet the point or
 * area), then tests each exactly with a prepared geometry, made the first time that parcel
 * is a candidate so that a short batch does not pay for preparing a million parcels.
 * One index belongs to one thread (its GEOS handle) and answers one query at a time: the
 * candidate list is scratch space kept between queries so that the hot path does not
 * allocate. */
#include "cadastre_int.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct entry {
    int64_t id;
    size_t name_off; /* into idx->names */
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep; /* NULL until first needed */
};

struct kd_parcel_index {
    struct kd_geo *g;
    GEOSContextHandle_t h;
    GEOSSTRtree *tree;
    struct entry *e;
    size_t n, cap;
    char *names; /* NUL-separated cadastral numbers */
    size_t names_len, names_cap;
    struct entry **cand; /* scratch: candidates of the current query */
    size_t n_cand, cap_cand;
    int cand_failed;
    double extent[4]; /* of every indexed parcel, W,S,E,N (office CRS) */
    struct kd_parcel_index_stats stats;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

static enum kd_code add_parcel(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct kd_parcel_index *idx = ud;
    size_t len = strlen(p->number) + 1;
    struct entry *e;

    if (!p->wkb)
        return kd_err_set(err, KD_EGEO, "index.no_geometry", "parcel %s has no geometry",
                          p->number);
    if (idx->n == idx->cap) {
        size_t nc = idx->cap ? idx->cap * 2 : 1024;
        struct entry *v = realloc(idx->e, nc * sizeof *v);
        if (!v)
            return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
        idx->e = v;
        idx->cap = nc;
    }
    if (idx->names_len + len > idx->names_cap) {
        size_t nc = idx->names_cap ? idx->names_cap * 2 : 16384;
        char *v;
        while (nc < idx->names_len + len)
            nc *= 2;
        v = realloc(idx->names, nc);
        if (!v)
            return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
        idx->names = v;
        idx->names_cap = nc;
    }
    e = &idx->e[idx->n];
    e->geom = kd_geos_from_wkb(idx->g, p->wkb, p->wkb_len, err);
    if (!e->geom) {
        kd_err_where(err, "parcel %s", p->number);
        return err->code;
    }
    e->id = p->id;
    e->prep = NULL;
    e->name_off = idx->names_len;
    memcpy(idx->names + idx->names_len, p->number, len);
    idx->names_len += len;
    idx->n++;
    return KD_OK;
}

/* GEOSSTRtree_query_r calls this for each item whose envelope meets the query's. */
static void collect(void *item, void *ud)
{
    struct kd_parcel_index *idx = ud;

    if (idx->n_cand == idx->cap_cand) {
        size_t nc = idx->cap_cand ? idx->cap_cand * 2 : 64;
        struct entry **v = realloc(idx->cand, nc * sizeof *v);
        if (!v) {
            idx->cand_failed = 1;
            return;
        }
        idx->cand = v;
        idx->cap_cand = nc;
    }
    idx->cand[idx->n_cand++] = item;
}

void kd_parcel_index_free(struct kd_parcel_index *idx)
{
    size_t i;

    if (!idx)
        return;
    /* the tree holds pointers to the entries, not copies: destroy it first */
    if (idx->tree)
        GEOSSTRtree_destroy_r(idx->h, idx->tree);
    for (i = 0; i < idx->n; i++) {
        if (idx->e[i].prep)
            GEOSPreparedGeom_destroy_r(idx->h, idx->e[i].prep);
        GEOSGeom_destroy_r(idx->h, idx->e[i].geom);
    }
    free(idx->e);
    free(idx->names);
    free(idx->cand);
    free(idx);
}

enum kd_code kd_parcel_index_build(struct kd_store *st, struct kd_geo *g, const char *as_of,
                                   struct kd_parcel_index **out, struct kd_err *err)
{
    struct kd_parcel_index *idx = calloc(1, sizeof *idx);
    double t0 = now_s();
    size_t heap0 = heap_in_use(), heap1, i;
    GEOSGeometry *probe = NULL;
    enum kd_code rc;

    if (!idx)
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    idx->g = g;
    idx->h = kd_geo_geos(g);
    rc = kd_store_parcels_foreach(st, as_of, 1, add_parcel, idx, err);
    if (rc)
        goto fail;
    idx->extent[0] = idx->extent[1] = INFINITY;
    idx->extent[2] = idx->extent[3] = -INFINITY;
    for (i = 0; i < idx->n; i++) {
        double x0, y0, x1, y1;
        if (GEOSGeom_getXMin_r(idx->h, idx->e[i].geom, &x0) != 1 ||
            GEOSGeom_getYMin_r(idx->h, idx->e[i].geom, &y0) != 1 ||
            GEOSGeom_getXMax_r(idx->h, idx->e[i].geom, &x1) != 1 ||
            GEOSGeom_getYMax_r(idx->h, idx->e[i].geom, &y1) != 1)
            continue; /* empty: it meets no box */
        idx->extent[0] = fmin(idx->extent[0], x0), idx->extent[1] = fmin(idx->extent[1], y0);
        idx->extent[2] = fmax(idx->extent[2], x1), idx->extent[3] = fmax(idx->extent[3], y1);
    }
    /* the entries array is final now: the tree may point into it */
    idx->tree = GEOSSTRtree_create_r(idx->h, 10);
    if (!idx->tree) {
        rc = kd_err_set(err, KD_EGEO, "index.tree", "GEOS cannot create an STRtree: %s",
                        kd_geo_geos_msg(g));
        goto fail;
    }
    for (i = 0; i < idx->n; i++)
        GEOSSTRtree_insert_r(idx->h, idx->tree, idx->e[i].geom, &idx->e[i]);
    /* GEOS builds the tree on the first query: make that happen now, so that the build
     * time says what it costs and the first real query does not */
    probe = GEOSGeom_createPointFromXY_r(idx->h, 0, 0);
    if (!probe) {
        rc = kd_err_set(err, KD_EGEO, "index.tree", "GEOS cannot create a point: %s",
                        kd_geo_geos_msg(g));
        goto fail;
    }
    idx->n_cand = 0;
    GEOSSTRtree_query_r(idx->h, idx->tree, probe, collect, idx);
    idx->n_cand = 0;
    GEOSGeom_destroy_r(idx->h, probe);
    heap1 = heap_in_use();
    idx->stats.n_parcels = idx->n;
    idx->stats.build_s = now_s() - t0;
    idx->stats.heap_bytes = heap1 > heap0 ? heap1 - heap0 : 0;
    *out = idx;
    return KD_OK;
fail:
    kd_parcel_index_free(idx);
    return rc;
}

void kd_parcel_index_stats(const struct kd_parcel_index *idx, struct kd_parcel_index_stats *out)
{
    *out = idx->stats;
}

static const GEOSPreparedGeometry *prepared(struct kd_parcel_index *idx, struct entry *e)
{
    if (!e->prep) {
        e->prep = GEOSPrepare_r(idx->h, e->geom);
        if (e->prep)
            idx->stats.n_prepared++;
    }
    return e->prep;
}

static enum kd_code geos_failed(struct kd_parcel_index *idx, struct kd_err *err)
{
    if (idx->cand_failed) {
        idx->cand_failed = 0;
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    }
    return kd_lookup_geos_fail(idx->g, "in an index lookup", err);
}

static enum kd_code push_hit(struct kd_hits *out, const struct kd_parcel_index *idx,
                             const struct entry *e, int on_boundary, struct kd_err *err)
{
    struct kd_parcel_hit *hit = kd_hits_push(out);

    if (!hit)
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    hit->id = e->id;
    kd_strlcpy(hit->number, idx->names + e->name_off, sizeof hit->number);
    hit->on_boundary = on_boundary;
    return KD_OK;
}

enum kd_code kd_parcel_index_point(struct kd_parcel_index *idx, double x, double y,
                                   struct kd_hits *out, struct kd_err *err)
{
    GEOSGeometry *pt;
    enum kd_code rc = KD_OK;
    size_t i;

    kd_hits_reset(out);
    /* GEOS 3.11 has no prepared predicate on bare x,y: one point per query (measured in
     * docs/cli.md, "kadastr lookup": a small part of the cost) */
    pt = GEOSGeom_createPointFromXY_r(idx->h, x, y);
    if (!pt)
        return geos_failed(idx, err);
    idx->n_cand = 0;
    GEOSSTRtree_query_r(idx->h, idx->tree, pt, collect, idx);
    if (idx->cand_failed) {
        rc = geos_failed(idx, err);
        goto out;
    }
    for (i = 0; i < idx->n_cand; i++) {
        struct entry *e = idx->cand[i];
        const GEOSPreparedGeometry *prep = prepared(idx, e);
        char in;
        int on_boundary;
        if (!prep) {
            rc = geos_failed(idx, err);
            goto out;
        }
        /* a point is contained only by an interior; covered also by the boundary. Contains
         * first: the common answer (inside one parcel) then costs one test */
        in = GEOSPreparedContains_r(idx->h, prep, pt);
        on_boundary = 0;
        if (in == 0) {
            in = GEOSPreparedCovers_r(idx->h, prep, pt);
            on_boundary = in == 1;
        }
        if (in == 2) {
            rc = geos_failed(idx, err);
            goto out;
        }
        if (in == 1) {
            rc = push_hit(out, idx, e, on_boundary, err);
            if (rc)
                goto out;
        }
    }
    kd_hits_sort(out);
out:
    GEOSGeom_destroy_r(idx->h, pt);
    return rc;
}

enum kd_code kd_parcel_index_area(struct kd_parcel_index *idx, const GEOSGeometry *area,
                                  struct kd_hits *out, struct kd_err *err)
{
    const GEOSPreparedGeometry *prep;
    enum kd_code rc = KD_OK;
    size_t i;

    kd_hits_reset(out);
    prep = GEOSPrepare_r(idx->h, area);
    if (!prep)
        return geos_failed(idx, err);
    idx->n_cand = 0;
    GEOSSTRtree_query_r(idx->h, idx->tree, area, collect, idx);
    if (idx->cand_failed) {
        rc = geos_failed(idx, err);
        goto out;
    }
    for (i = 0; i < idx->n_cand; i++) {
        /* the area is prepared once; each candidate is a plain geometry against it */
        char in = GEOSPreparedIntersects_r(idx->h, prep, idx->cand[i]->geom);
        if (in == 2) {
            rc = geos_failed(idx, err);
            goto out;
        }
        if (in) {
            rc = push_hit(out, idx, idx->cand[i], 0, err);
            if (rc)
                goto out;
        }
    }
    kd_hits_sort(out);
out:
    GEOSPreparedGeom_destroy_r(idx->h, prep);
    return rc;
}

enum kd_code kd_parcel_index_box(struct kd_parcel_index *idx, const double box[4],
                                 struct kd_hits *out, struct kd_err *err)
{
    GEOSGeometry *area = NULL;
    double b[4];
    enum kd_code rc;

    if (!(box[0] < box[2]) || !(box[1] < box[3]) || !isfinite(box[0]) || !isfinite(box[1]) ||
        !isfinite(box[2]) || !isfinite(box[3]))
        return kd_lookup_box_polygon(idx->g, NULL, box, &area, NULL, err); /* its error */
    /* clipped to the parcels' extent (plus a metre, so that a box touching the outermost
     * boundary stays a box): the answer is the same, and GEOS never meets coordinates near
     * DBL_MAX, whose products overflow in its predicates */
    b[0] = fmax(box[0], idx->extent[0] - 1), b[1] = fmax(box[1], idx->extent[1] - 1);
    b[2] = fmin(box[2], idx->extent[2] + 1), b[3] = fmin(box[3], idx->extent[3] + 1);
    if (!(b[0] < b[2]) || !(b[1] < b[3])) {
        /* a metre or more from every parcel (or an empty index) */
        kd_hits_reset(out);
        return KD_OK;
    }
    rc = kd_lookup_box_polygon(idx->g, NULL, b, &area, NULL, err);
    if (rc)
        return rc;
    rc = kd_parcel_index_area(idx, area, out, err);
    GEOSGeom_destroy_r(idx->h, area);
    return rc;
}
