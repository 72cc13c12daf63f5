/* SPDX-License-Identifier: Apache-2.0 */
/* One-shot lookups through the store: the R*Tree gives candidates by bounding box, GEOS
 * decides exactly. Candidates are tested inside the store's callback (GEOS only, no other
 * query on the connection meanwhile); a hit's record, read there anyway, is kept when the
 * caller asks (kd_hits.keep), so that nothing is read twice. Also history (versions and
 * lineage both ways) and the geometry of a query box in the office CRS. */
#include "cadastre_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Segments per edge of a densified box: a 0.1 degree edge then follows the curved image of
 * a lon/lat box in a transverse Mercator to well under a millimetre. */
#define BOX_SEGMENTS 32

struct probe {
    struct kd_geo *g;
    GEOSContextHandle_t h;
    const GEOSGeometry *pt;           /* point lookups */
    const GEOSPreparedGeometry *area; /* area lookups */
    const GEOSGeometry *target;       /* neighbours: the parcel asked about */
    int64_t target_id;
    double tol_m;
    struct kd_hits *out;
};

enum kd_code kd_lookup_geos_fail(struct kd_geo *g, const char *what, struct kd_err *err)
{
    return kd_err_set(err, KD_EGEO, "geos.query", "GEOS failed %s: %s", what,
                      kd_geo_geos_msg(g)[0] ? kd_geo_geos_msg(g) : "unknown reason");
}

static enum kd_code push(struct probe *pr, const struct kd_parcel *p, struct kd_parcel_hit **hit,
                         struct kd_err *err)
{
    *hit = kd_hits_push(pr->out);
    if (!*hit || kd_hits_keep_record(pr->out, *hit, p))
        return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    (*hit)->id = p->id;
    kd_strlcpy((*hit)->number, p->number, sizeof(*hit)->number);
    return KD_OK;
}

static enum kd_code point_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct probe *pr = ud;
    struct kd_parcel_hit *hit;
    GEOSGeometry *geom;
    enum kd_code rc = KD_OK;
    char in, on_boundary = 0;

    geom = kd_geos_from_wkb(pr->g, p->wkb, p->wkb_len, err);
    if (!geom) {
        kd_err_where(err, "parcel %s", p->number);
        return err->code;
    }
    /* contained: in the interior; covered: interior or boundary */
    in = GEOSContains_r(pr->h, geom, pr->pt);
    if (in == 0) {
        in = GEOSCovers_r(pr->h, geom, pr->pt);
        on_boundary = in == 1;
    }
    if (in == 2)
        rc = kd_lookup_geos_fail(pr->g, "testing a point", err);
    else if (in == 1 && !(rc = push(pr, p, &hit, err)))
        hit->on_boundary = on_boundary;
    GEOSGeom_destroy_r(pr->h, geom);
    return rc;
}

enum kd_code kd_lookup_point(struct kd_store *st, struct kd_geo *g, const char *as_of, double x,
                             double y, struct kd_hits *out, struct kd_err *err)
{
    struct probe pr;
    GEOSGeometry *pt;
    double box[4] = {x, y, x, y};
    enum kd_code rc;

    kd_hits_reset(out);
    memset(&pr, 0, sizeof pr);
    pr.g = g;
    pr.h = kd_geo_geos(g);
    pr.out = out;
    pt = GEOSGeom_createPointFromXY_r(pr.h, x, y);
    if (!pt)
        return kd_lookup_geos_fail(g, "making a point", err);
    pr.pt = pt;
    rc = kd_store_parcels_in_box_at(st, box, as_of, 1, point_cb, &pr, err);
    GEOSGeom_destroy_r(pr.h, pt);
    if (!rc)
        kd_hits_sort(out);
    return rc;
}

static enum kd_code area_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct probe *pr = ud;
    struct kd_parcel_hit *hit;
    GEOSGeometry *geom;
    enum kd_code rc = KD_OK;
    char in;

    geom = kd_geos_from_wkb(pr->g, p->wkb, p->wkb_len, err);
    if (!geom) {
        kd_err_where(err, "parcel %s", p->number);
        return err->code;
    }
    /* the R*Tree answered by bounding box: this is the exact test */
    in = GEOSPreparedIntersects_r(pr->h, pr->area, geom);
    if (in == 2)
        rc = kd_lookup_geos_fail(pr->g, "testing a parcel against the box", err);
    else if (in == 1)
        rc = push(pr, p, &hit, err);
    GEOSGeom_destroy_r(pr->h, geom);
    return rc;
}

static int envelope(GEOSContextHandle_t h, const GEOSGeometry *geom, double env[4])
{
    return GEOSGeom_getXMin_r(h, geom, &env[0]) == 1 && GEOSGeom_getYMin_r(h, geom, &env[1]) == 1 &&
                   GEOSGeom_getXMax_r(h, geom, &env[2]) == 1 &&
                   GEOSGeom_getYMax_r(h, geom, &env[3]) == 1
               ? 0
               : -1;
}

enum kd_code kd_lookup_area(struct kd_store *st, struct kd_geo *g, const char *as_of,
                            const GEOSGeometry *area, struct kd_hits *out, struct kd_err *err)
{
    struct probe pr;
    const GEOSPreparedGeometry *prep;
    double env[4];
    enum kd_code rc;

    kd_hits_reset(out);
    memset(&pr, 0, sizeof pr);
    pr.g = g;
    pr.h = kd_geo_geos(g);
    pr.out = out;
    if (envelope(pr.h, area, env))
        return kd_lookup_geos_fail(g, "reading the box's envelope", err);
    prep = GEOSPrepare_r(pr.h, area);
    if (!prep)
        return kd_lookup_geos_fail(g, "preparing the box", err);
    pr.area = prep;
    rc = kd_store_parcels_in_box_at(st, env, as_of, 1, area_cb, &pr, err);
    GEOSPreparedGeom_destroy_r(pr.h, prep);
    if (!rc)
        kd_hits_sort(out);
    return rc;
}

/* The length of target's boundary shared with geom (touching) or within tol of it (gap). */
static enum kd_code shared_length(struct probe *pr, const GEOSGeometry *geom, double dist,
                                  struct kd_parcel_hit *hit, struct kd_err *err)
{
    GEOSGeometry *b1 = NULL, *b2 = NULL, *near = NULL, *common = NULL;
    enum kd_code rc = KD_OK;
    char *im = NULL;
    double len = 0;

    b1 = GEOSBoundary_r(pr->h, pr->target);
    if (!b1)
        goto fail;
    if (dist == 0) {
        /* touching: exactly the common part of the two boundaries (identical vertices on
         * shared edges, as check G5 asks, give their exact length) */
        im = GEOSRelate_r(pr->h, pr->target, geom);
        b2 = GEOSBoundary_r(pr->h, geom);
        common = b2 ? GEOSIntersection_r(pr->h, b1, b2) : NULL;
        if (!im || !common || !GEOSLength_r(pr->h, common, &len))
            goto fail;
        hit->contact = im[0] != 'F' ? "overlap" : len > 0 ? "edge" : "corner";
    } else {
        /* apart by a sliver gap: the boundaries do not meet, so measure the stretch of
         * target's boundary within tol of the neighbour */
        near = GEOSBuffer_r(pr->h, geom, pr->tol_m, 8);
        common = near ? GEOSIntersection_r(pr->h, b1, near) : NULL;
        if (!common || !GEOSLength_r(pr->h, common, &len))
            goto fail;
        hit->contact = "gap";
    }
    hit->shared_m = len;
    goto out;
fail:
    rc = kd_lookup_geos_fail(pr->g, "measuring a shared boundary", err);
out:
    if (im)
        GEOSFree_r(pr->h, im);
    if (b1)
        GEOSGeom_destroy_r(pr->h, b1);
    if (b2)
        GEOSGeom_destroy_r(pr->h, b2);
    if (near)
        GEOSGeom_destroy_r(pr->h, near);
    if (common)
        GEOSGeom_destroy_r(pr->h, common);
    return rc;
}

static enum kd_code neighbour_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct probe *pr = ud;
    struct kd_parcel_hit *hit;
    GEOSGeometry *geom;
    enum kd_code rc = KD_OK;
    double dist = 0;

    if (p->id == pr->target_id)
        return KD_OK;
    geom = kd_geos_from_wkb(pr->g, p->wkb, p->wkb_len, err);
    if (!geom) {
        kd_err_where(err, "parcel %s", p->number);
        return err->code;
    }
    if (!GEOSDistance_r(pr->h, pr->target, geom, &dist))
        rc = kd_lookup_geos_fail(pr->g, "measuring a distance", err);
    else if (dist <= pr->tol_m && !(rc = push(pr, p, &hit, err))) {
        hit->distance_m = dist;
        rc = shared_length(pr, geom, dist, hit, err);
    }
    GEOSGeom_destroy_r(pr->h, geom);
    return rc;
}

enum kd_code kd_lookup_neighbours(struct kd_store *st, struct kd_geo *g, const char *number,
                                  const char *as_of, double tol_m, struct kd_hits *out,
                                  struct kd_err *err)
{
    struct kd_parcel p;
    struct probe pr;
    GEOSGeometry *target = NULL;
    double env[4];
    enum kd_code rc;

    kd_hits_reset(out);
    kd_parcel_init(&p);
    memset(&pr, 0, sizeof pr);
    pr.g = g;
    pr.h = kd_geo_geos(g);
    pr.out = out;
    pr.tol_m = tol_m;
    rc = kd_store_parcel_get(st, number, as_of, 1, &p, err);
    if (rc)
        goto out;
    target = kd_geos_from_wkb(g, p.wkb, p.wkb_len, err);
    if (!target) {
        kd_err_where(err, "parcel %s", number);
        rc = err->code;
        goto out;
    }
    if (envelope(pr.h, target, env)) {
        rc = kd_lookup_geos_fail(g, "reading an envelope", err);
        goto out;
    }
    env[0] -= tol_m, env[1] -= tol_m, env[2] += tol_m, env[3] += tol_m;
    pr.target = target;
    pr.target_id = p.id;
    rc = kd_store_parcels_in_box_at(st, env, as_of, 1, neighbour_cb, &pr, err);
    if (!rc)
        kd_hits_sort(out);
out:
    if (target)
        GEOSGeom_destroy_r(pr.h, target);
    kd_parcel_fini(&p);
    return rc;
}

/* ---- history ------------------------------------------------------------------------------ */

void kd_history_fini(struct kd_history *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->n; i++) {
        kd_parcel_fini(&h->v[i].parcel);
        free(h->v[i].parents);
        free(h->v[i].children);
    }
    free(h->v);
    memset(h, 0, sizeof *h);
}

struct history_ctx {
    struct kd_history *h;
    size_t cap;
    struct kd_lineage **list; /* the lineage list being filled */
    size_t *n_list;
    size_t cap_list;
};

static enum kd_code version_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct history_ctx *c = ud;
    struct kd_history_version *v;

    if (c->h->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        v = realloc(c->h->v, nc * sizeof *v);
        if (!v)
            return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
        c->h->v = v;
        c->cap = nc;
    }
    v = &c->h->v[c->h->n++];
    memset(v, 0, sizeof *v);
    v->parcel = *p;
    v->parcel.wkb = NULL; /* read without geometry; never share the store's buffer */
    v->parcel.wkb_len = 0;
    return KD_OK;
}

static enum kd_code lineage_cb(void *ud, const struct kd_lineage *l, struct kd_err *err)
{
    struct history_ctx *c = ud;

    if (*c->n_list == c->cap_list) {
        size_t nc = c->cap_list ? c->cap_list * 2 : 4;
        struct kd_lineage *v = realloc(*c->list, nc * sizeof *v);
        if (!v)
            return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
        *c->list = v;
        c->cap_list = nc;
    }
    (*c->list)[(*c->n_list)++] = *l;
    return KD_OK;
}

enum kd_code kd_lookup_history(struct kd_store *st, const char *number, struct kd_history *out,
                               struct kd_err *err)
{
    struct kd_history h = {NULL, 0};
    struct history_ctx c;
    enum kd_code rc;
    size_t i;

    memset(&c, 0, sizeof c);
    c.h = &h;
    rc = kd_store_parcel_versions(st, number, 0, version_cb, &c, err);
    if (rc)
        goto fail;
    if (h.n == 0) {
        kd_err_set(err, KD_ENOTFOUND, "parcel.no_history",
                   "cadastral number %s was never registered", number);
        kd_err_hint(err, "check the number; older numbers may be kept as aliases");
        rc = KD_ENOTFOUND;
        goto fail;
    }
    for (i = 0; i < h.n; i++) {
        c.list = &h.v[i].parents;
        c.n_list = &h.v[i].n_parents;
        c.cap_list = 0;
        rc = kd_store_lineage_parents(st, h.v[i].parcel.id, lineage_cb, &c, err);
        if (rc)
            goto fail;
        c.list = &h.v[i].children;
        c.n_list = &h.v[i].n_children;
        c.cap_list = 0;
        rc = kd_store_lineage_children(st, h.v[i].parcel.id, lineage_cb, &c, err);
        if (rc)
            goto fail;
    }
    *out = h;
    return KD_OK;
fail:
    kd_history_fini(&h);
    return rc;
}

/* ---- boxes and areas of use --------------------------------------------------------------- */

enum kd_code kd_lookup_area_of_use(struct kd_geo *g, int srid, double aou[4], struct kd_err *err)
{
    PJ_CONTEXT *ctx = kd_geo_proj(g);
    PJ *crs;
    char code[16];
    int ok;

    snprintf(code, sizeof code, "%d", srid);
    crs = proj_create_from_database(ctx, "EPSG", code, PJ_CATEGORY_CRS, 0, NULL);
    ok = crs && proj_get_area_of_use(ctx, crs, &aou[0], &aou[1], &aou[2], &aou[3], NULL) &&
         aou[0] > -1000;
    proj_destroy(crs);
    if (!ok)
        return kd_err_set(err, KD_EGEO, "crs.area_of_use", "PROJ knows no area of use of EPSG:%d",
                          srid);
    if (aou[0] > aou[2]) { /* crosses the antimeridian: take the whole band */
        aou[0] = -180;
        aou[2] = 180;
    }
    return KD_OK;
}

enum kd_code kd_lookup_box_polygon(struct kd_geo *g, struct kd_xform *xf, const double box[4],
                                   GEOSGeometry **area, double env[4], struct kd_err *err)
{
    GEOSContextHandle_t h = kd_geo_geos(g);
    enum { N = 4 * BOX_SEGMENTS + 1 };
    double x[N], y[N], e[4];
    GEOSCoordSequence *seq = NULL;
    GEOSGeometry *ring = NULL, *poly;
    size_t i, k;

    if (!isfinite(box[0]) || !isfinite(box[1]) || !isfinite(box[2]) || !isfinite(box[3])) {
        kd_err_set(err, KD_EINVAL, "lookup.box", "the box %g,%g,%g,%g is not finite", box[0],
                   box[1], box[2], box[3]);
        return KD_EINVAL;
    }
    if (!(box[0] < box[2]) || !(box[1] < box[3])) {
        kd_err_set(err, KD_EINVAL, "lookup.box",
                   "the box %g,%g,%g,%g is empty: it needs MINX < MAXX and MINY < MAXY", box[0],
                   box[1], box[2], box[3]);
        return KD_EINVAL;
    }
    /* counter-clockwise from the south-west corner; the last point closes the ring.
     * (1 - t)a + tb, never a + t(b - a): b - a overflows to inf for a huge finite box, and
     * 0 * inf is NaN */
    for (i = 0; i < BOX_SEGMENTS; i++) {
        double t = (double)i / BOX_SEGMENTS;
        x[i] = (1 - t) * box[0] + t * box[2], y[i] = box[1];
        x[BOX_SEGMENTS + i] = box[2], y[BOX_SEGMENTS + i] = (1 - t) * box[1] + t * box[3];
        x[2 * BOX_SEGMENTS + i] = (1 - t) * box[2] + t * box[0], y[2 * BOX_SEGMENTS + i] = box[3];
        x[3 * BOX_SEGMENTS + i] = box[0], y[3 * BOX_SEGMENTS + i] = (1 - t) * box[3] + t * box[1];
    }
    x[N - 1] = box[0], y[N - 1] = box[1];
    if (xf && kd_xform_points(xf, 0, x, y, N, err))
        return err->code;
    x[N - 1] = x[0], y[N - 1] = y[0]; /* closed exactly, whatever rounding did */
    e[0] = e[2] = x[0];
    e[1] = e[3] = y[0];
    seq = GEOSCoordSeq_create_r(h, N, 2);
    if (!seq)
        return kd_lookup_geos_fail(g, "making the box", err);
    for (k = 0; k < N; k++) {
        GEOSCoordSeq_setXY_r(h, seq, (unsigned)k, x[k], y[k]);
        e[0] = fmin(e[0], x[k]), e[1] = fmin(e[1], y[k]);
        e[2] = fmax(e[2], x[k]), e[3] = fmax(e[3], y[k]);
    }
    ring = GEOSGeom_createLinearRing_r(h, seq); /* takes seq */
    if (!ring)
        return kd_lookup_geos_fail(g, "making the box", err);
    poly = GEOSGeom_createPolygon_r(h, ring, NULL, 0); /* takes ring */
    if (!poly)
        return kd_lookup_geos_fail(g, "making the box", err);
    *area = poly;
    if (env)
        memcpy(env, e, sizeof e);
    return KD_OK;
}

/* Clips box (in the CRS in_srid) to the office CRS's area of use, carried into in_srid (the
 * office CRS's own included: a huge box becomes one GEOS and PROJ can work with). OUT
 * *left: whether anything is left. */
static enum kd_code clip_box(struct kd_geo *g, const struct kd_store_config *cfg, int in_srid,
                             double box[4], int *left, struct kd_err *err)
{
    double aou[4], a[4];
    struct kd_xform *xf = NULL;
    struct kd_err e2;
    int ok;

    if (kd_lookup_area_of_use(g, cfg->srid, aou, err))
        return err->code;
    if (in_srid == 4326) {
        memcpy(a, aou, sizeof a);
    } else {
        /* the area of use in the input CRS, its edges densified */
        kd_err_init(&e2);
        ok = kd_xform_epsg(g, 4326, in_srid, cfg->area, &xf, &e2) == KD_OK &&
             kd_xform_box(xf, 0, aou, a, &e2) == KD_OK;
        kd_xform_free(xf);
        if (!ok && in_srid == cfg->srid) {
            *left = 1; /* the office CRS: no transformation follows, so none can fail */
            return KD_OK;
        }
        if (!ok) {
            if (!err->code)
                *err = e2;
            return err->code;
        }
    }
    box[0] = fmax(box[0], a[0]), box[1] = fmax(box[1], a[1]);
    box[2] = fmin(box[2], a[2]), box[3] = fmin(box[3], a[3]);
    *left = box[0] < box[2] && box[1] < box[3];
    return KD_OK;
}

enum kd_code kd_lookup_box(struct kd_store *st, struct kd_geo *g, const char *as_of, int in_srid,
                           struct kd_xform *to_office, const double box[4], struct kd_hits *out,
                           int *outside, struct kd_err *err)
{
    GEOSGeometry *area = NULL;
    double b[4];
    int left = 0;
    enum kd_code rc;

    /* the clip's fmax/fmin would take a NaN edge for the area of use's */
    if (!isfinite(box[0]) || !isfinite(box[1]) || !isfinite(box[2]) || !isfinite(box[3]) ||
        !(box[0] < box[2]) || !(box[1] < box[3]))
        return kd_lookup_box_polygon(g, NULL, box, &area, NULL, err); /* its error */
    memcpy(b, box, sizeof b);
    if (clip_box(g, kd_store_config(st), in_srid, b, &left, err))
        return err->code;
    if (!left) {
        kd_hits_reset(out);
        *outside = 1;
        return KD_OK;
    }
    if (kd_lookup_box_polygon(g, to_office, b, &area, NULL, err))
        return err->code;
    rc = kd_lookup_area(st, g, as_of, area, out, err);
    GEOSGeom_destroy_r(kd_geo_geos(g), area);
    if (!rc)
        *outside = 0;
    return rc;
}
