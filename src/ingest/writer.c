/* SPDX-License-Identifier: Apache-2.0 */
/* The register's write path for geometries, shared by `load` and `sample`: given a valid
 * MultiPolygon in the office CRS it computes the planar and geodesic areas and the
 * EPSG:3857 copy, inserts, and keeps the overlay cache (which zones and restrictions each
 * live parcel lies on, with the area). Zones and restrictions are held in an in-memory
 * STRtree with lazily prepared geometries, rebuilt when an area is added. */
#include "ingest_int.h"

#include <stdlib.h>
#include <string.h>

/* Overlays below this area are boundary noise, not "lies on": a hundredth of a square metre
 * is what a surveyor ignores; the documented threshold (docs/cli.md). */
#define KD_OVERLAY_MIN_M2 0.01

struct area_ref {
    enum kd_layer layer;
    int64_t id;
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep; /* made on first use */
};

/* The PROJ side of a write, per thread: the EPSG:3857 copy and the geodesic area. */
struct kd_writer_proj {
    struct kd_geo *own_g; /* NULL when borrowing the writer's */
    struct kd_xform *to_3857;
    struct kd_geod *geod;
};

struct kd_writer {
    struct kd_store *st;
    struct kd_geo *g;
    GEOSContextHandle_t h;
    struct kd_writer_proj proj; /* on g, for the writer's own thread */
    struct area_ref *refs;
    size_t n, cap;
    GEOSSTRtree *tree;
    int stale; /* an area was added since the tree was built */
};

static void areas_free(struct kd_writer *w)
{
    size_t i;

    if (w->tree)
        GEOSSTRtree_destroy_r(w->h, w->tree);
    for (i = 0; i < w->n; i++) {
        if (w->refs[i].prep)
            GEOSPreparedGeom_destroy_r(w->h, w->refs[i].prep);
        GEOSGeom_destroy_r(w->h, w->refs[i].geom);
    }
    free(w->refs);
    w->refs = NULL;
    w->tree = NULL;
    w->n = w->cap = 0;
}

enum kd_code kd_writer_open(struct kd_store *st, struct kd_geo *g, struct kd_writer **out,
                            struct kd_err *err)
{
    struct kd_writer *w = calloc(1, sizeof *w);
    const struct kd_store_config *cfg = kd_store_config(st);
    enum kd_code rc;

    if (!w)
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    w->st = st;
    w->g = g;
    w->h = kd_geo_geos(g);
    w->stale = 1;
    rc = kd_xform_epsg(g, cfg->srid, 3857, cfg->area, &w->proj.to_3857, err);
    if (!rc)
        rc = kd_geod_new(g, cfg->srid, &w->proj.geod, err);
    if (rc) {
        kd_writer_close(w);
        return rc;
    }
    *out = w;
    return KD_OK;
}

void kd_writer_close(struct kd_writer *w)
{
    if (!w)
        return;
    areas_free(w);
    kd_xform_free(w->proj.to_3857);
    kd_geod_free(w->proj.geod);
    free(w);
}

enum kd_code kd_writer_proj_new(struct kd_writer *w, struct kd_writer_proj **out,
                                struct kd_err *err)
{
    struct kd_writer_proj *p = calloc(1, sizeof *p);
    const struct kd_store_config *cfg = kd_store_config(w->st);
    enum kd_code rc;

    if (!p)
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    rc = kd_geo_new(&p->own_g, err);
    if (!rc)
        rc = kd_xform_epsg(p->own_g, cfg->srid, 3857, cfg->area, &p->to_3857, err);
    if (!rc)
        rc = kd_geod_new(p->own_g, cfg->srid, &p->geod, err);
    if (rc) {
        kd_writer_proj_free(p);
        return rc;
    }
    *out = p;
    return KD_OK;
}

void kd_writer_proj_free(struct kd_writer_proj *p)
{
    if (!p)
        return;
    kd_xform_free(p->to_3857);
    kd_geod_free(p->geod);
    kd_geo_free(p->own_g);
    free(p);
}

static enum kd_code area_add(void *ud, const struct kd_area *a, struct kd_err *err)
{
    struct kd_writer *w = ud;
    struct area_ref *r;

    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct area_ref *p = realloc(w->refs, cap * sizeof *p);
        if (!p)
            return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
        w->refs = p;
        w->cap = cap;
    }
    r = &w->refs[w->n];
    r->layer = a->layer;
    r->id = a->id;
    r->prep = NULL;
    r->geom = kd_geos_from_wkb(w->g, a->wkb, a->wkb_len, err);
    if (!r->geom)
        return err->code;
    w->n++;
    return KD_OK;
}

static enum kd_code areas_build(struct kd_writer *w, struct kd_err *err)
{
    enum kd_code rc;
    size_t i;

    areas_free(w);
    w->stale = 0;
    rc = kd_store_areas_foreach(w->st, KD_LAYER_ZONES, NULL, 1, area_add, w, err);
    if (!rc)
        rc = kd_store_areas_foreach(w->st, KD_LAYER_RESTRICTIONS, NULL, 1, area_add, w, err);
    if (rc || w->n == 0)
        return rc;
    w->tree = GEOSSTRtree_create_r(w->h, 10);
    if (!w->tree)
        return kd_err_set(err, KD_EGEO, "geos.strtree", "cannot create an STRtree");
    for (i = 0; i < w->n; i++)
        GEOSSTRtree_insert_r(w->h, w->tree, w->refs[i].geom, &w->refs[i]);
    return KD_OK;
}

/* Intersecting area of a parcel and an area, 0 when they only touch. Prepared containment
 * first: most parcels lie wholly inside their zone, and then no overlay is computed. */
static double overlap_m2(GEOSContextHandle_t h, const GEOSPreparedGeometry *prep_area,
                         const GEOSGeometry *area, const GEOSGeometry *parcel, double parcel_m2)
{
    GEOSGeometry *x;
    double a = 0;

    if (GEOSPreparedContains_r(h, prep_area, parcel) == 1)
        return parcel_m2;
    if (GEOSPreparedIntersects_r(h, prep_area, parcel) != 1)
        return 0;
    x = GEOSIntersection_r(h, area, parcel);
    if (x) {
        GEOSArea_r(h, x, &a);
        GEOSGeom_destroy_r(h, x);
    }
    return a;
}

struct overlay_q {
    struct kd_writer *w;
    const GEOSGeometry *parcel;
    double parcel_m2;
    struct kd_parcel_prep *prep;
    int failed;
};

static void overlay_hit(void *item, void *ud)
{
    struct area_ref *r = item;
    struct overlay_q *q = ud;
    struct kd_parcel_prep *p = q->prep;
    GEOSContextHandle_t h = q->w->h;
    double a;

    if (q->failed)
        return;
    if (!r->prep)
        r->prep = GEOSPrepare_r(h, r->geom);
    a = overlap_m2(h, r->prep, r->geom, q->parcel, q->parcel_m2);
    if (a < KD_OVERLAY_MIN_M2)
        return;
    if (p->n_ov == p->cap_ov) {
        size_t cap = p->cap_ov ? p->cap_ov * 2 : 8;
        struct kd_overlay_hit *v = realloc(p->ov, cap * sizeof *v);
        if (!v) {
            q->failed = 1;
            return;
        }
        p->ov = v;
        p->cap_ov = cap;
    }
    p->ov[p->n_ov].layer = r->layer;
    p->ov[p->n_ov].area_id = r->id;
    p->ov[p->n_ov].area_m2 = a;
    p->n_ov++;
}

/* Fills the EPSG:3857 copy of wkb (malloc'd into *web). */
static enum kd_code web_copy(struct kd_writer_proj *p, const unsigned char *wkb, size_t len,
                             unsigned char **web, struct kd_err *err)
{
    *web = malloc(len ? len : 1);
    if (!*web)
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    memcpy(*web, wkb, len);
    return kd_xform_wkb(p->to_3857, 0, *web, len, err);
}

enum kd_code kd_writer_ready(struct kd_writer *w, struct kd_err *err)
{
    return w->stale ? areas_build(w, err) : KD_OK;
}

void kd_parcel_prep_fini(struct kd_parcel_prep *p)
{
    if (!p)
        return;
    free(p->web);
    free(p->ov);
    memset(p, 0, sizeof *p);
}

enum kd_code kd_writer_parcel_prepare(struct kd_writer *w, const unsigned char *wkb, size_t len,
                                      const GEOSGeometry *geom, int live,
                                      struct kd_parcel_prep *out, struct kd_err *err)
{
    GEOSGeometry *own = NULL;
    enum kd_code rc;

    out->n_ov = 0;
    if (w->stale)
        return kd_err_set(err, KD_EINVAL, "load.writer", "the writer's area index is stale");
    if (!geom) {
        geom = own = kd_geos_from_wkb(w->g, wkb, len, err);
        if (!geom)
            return err->code;
    }
    GEOSArea_r(w->h, geom, &out->area_m2);
    rc = KD_OK;
    /* what lies on it: kept for live versions only (history answers from geometry) */
    if (!rc && live && w->tree) {
        struct overlay_q q = {w, geom, out->area_m2, out, 0};
        GEOSSTRtree_query_r(w->h, w->tree, geom, overlay_hit, &q);
        if (q.failed)
            rc = kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    if (own)
        GEOSGeom_destroy_r(w->h, own);
    return rc;
}

enum kd_code kd_writer_parcel_project(struct kd_writer_proj *p, const unsigned char *wkb,
                                      size_t len, struct kd_parcel_prep *prep, struct kd_err *err)
{
    enum kd_code rc = kd_geod_area_wkb(p->geod, wkb, len, &prep->geodesic_area_m2, err);

    free(prep->web);
    prep->web = NULL;
    if (!rc)
        rc = web_copy(p, wkb, len, &prep->web, err);
    prep->web_len = len;
    return rc;
}

enum kd_code kd_writer_parcel_commit(struct kd_writer *w, struct kd_parcel_new *p,
                                     const struct kd_parcel_prep *prep, int64_t *id,
                                     struct kd_err *err)
{
    enum kd_code rc;
    int64_t pid;
    size_t i;

    p->area_m2 = prep->area_m2;
    p->geodesic_area_m2 = prep->geodesic_area_m2;
    p->wkb_3857 = prep->web;
    p->wkb_3857_len = prep->web_len;
    rc = kd_store_parcel_insert(w->st, p, &pid, err);
    p->wkb_3857 = NULL;
    for (i = 0; !rc && i < prep->n_ov; i++)
        rc = kd_store_overlay_put(w->st, pid, prep->ov[i].layer, prep->ov[i].area_id,
                                  prep->ov[i].area_m2, err);
    if (!rc && id)
        *id = pid;
    return rc;
}

enum kd_code kd_writer_parcel(struct kd_writer *w, struct kd_parcel_new *p,
                              const GEOSGeometry *geom, int64_t *id, struct kd_err *err)
{
    struct kd_parcel_prep prep;
    enum kd_code rc;

    memset(&prep, 0, sizeof prep);
    rc = kd_writer_ready(w, err);
    if (!rc)
        rc =
            kd_writer_parcel_prepare(w, p->wkb_cad, p->wkb_cad_len, geom, !p->valid_to, &prep, err);
    if (!rc)
        rc = kd_writer_parcel_project(&w->proj, p->wkb_cad, p->wkb_cad_len, &prep, err);
    if (!rc)
        rc = kd_writer_parcel_commit(w, p, &prep, id, err);
    kd_parcel_prep_fini(&prep);
    return rc;
}

struct area_overlay_q {
    struct kd_writer *w;
    enum kd_layer layer;
    int64_t area_id;
    const GEOSGeometry *area;
    const GEOSPreparedGeometry *prep;
};

static enum kd_code area_parcel_hit(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct area_overlay_q *q = ud;
    GEOSGeometry *pg = kd_geos_from_wkb(q->w->g, p->wkb, p->wkb_len, err);
    double a;

    if (!pg)
        return err->code;
    a = overlap_m2(q->w->h, q->prep, q->area, pg, p->area_m2);
    GEOSGeom_destroy_r(q->w->h, pg);
    if (a < KD_OVERLAY_MIN_M2)
        return KD_OK;
    return kd_store_overlay_put(q->w->st, p->id, q->layer, q->area_id, a, err);
}

enum kd_code kd_writer_area(struct kd_writer *w, struct kd_area_new *a, const GEOSGeometry *geom,
                            int64_t *id, struct kd_err *err)
{
    GEOSGeometry *own = NULL;
    unsigned char *web = NULL;
    enum kd_code rc;
    int64_t aid;

    rc = web_copy(&w->proj, a->wkb_cad, a->wkb_cad_len, &web, err);
    if (rc)
        goto out;
    a->wkb_3857 = web;
    a->wkb_3857_len = a->wkb_cad_len;
    rc = kd_store_area_insert(w->st, a, &aid, err);
    a->wkb_3857 = NULL;
    if (rc)
        goto out;
    if (id)
        *id = aid;
    if (a->layer == KD_LAYER_ZONES || a->layer == KD_LAYER_RESTRICTIONS) {
        struct area_overlay_q q = {w, a->layer, aid, geom, NULL};
        double box[4];
        w->stale = 1;
        if (!geom) {
            geom = own = kd_geos_from_wkb(w->g, a->wkb_cad, a->wkb_cad_len, err);
            if (!geom) {
                rc = err->code;
                goto out;
            }
            q.area = geom;
        }
        q.prep = GEOSPrepare_r(w->h, geom);
        rc = kd_wkb_box(a->wkb_cad, a->wkb_cad_len, box, err);
        if (!rc)
            rc = kd_store_parcels_in_box(w->st, box, 1, area_parcel_hit, &q, err);
        GEOSPreparedGeom_destroy_r(w->h, q.prep);
    }
out:
    free(web);
    if (own)
        GEOSGeom_destroy_r(w->h, own);
    return rc;
}
