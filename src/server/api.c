/* SPDX-License-Identifier: Apache-2.0 */
/* The cadastre API under /api/v1 and /health: a parcel with its areas, zones, restrictions
 * and rights (kinds and shares only: names, PINFL and STIR are for the registration roles),
 * what lies at a point, neighbours and history. Routes build bodies into the answer; the
 * server adds headers, validators and compression. */
#include "server_int.h"

#include "kadastr/cadastre.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GEOJSON "application/geo+json"
#define JSON "application/json"

static const char *const no_args[] = {NULL};

static int atoi_safe(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

static void not_found(struct req *r, struct answer *a)
{
    kd_answer_problem(r, a, 404, "http.not_found", NULL,
                      (const char *const[]){"path", r->path, NULL});
}

/* Normalizes a cadastral number from the path; on failure a 400 naming the rule. */
static int path_number(struct req *r, struct worker *w, struct answer *a, const char *in,
                       char out[KD_CADNUM_MAX])
{
    struct kd_err err;

    kd_err_init(&err);
    if (kd_cadnum_normalize(w->numfmt, in, out, &err) == KD_OK)
        return 0;
    kd_answer_problem(r, a, 400, err.key, "number", (const char *const[]){"value", in, NULL});
    return -1;
}

/* Checks that the database answers (a read of its metadata: cheap enough to poll) and says
 * what the worker serves: the count of live parcels is the one taken when it opened the
 * database (a count over a million rows per probe would make the probe the load). */
static void health(struct req *r, struct worker *w, struct answer *a)
{
    struct kd_err err;
    char version[16];

    if (kd_req_check_args(r, a, no_args))
        return;
    kd_err_init(&err);
    if (kd_store_meta_get(w->st, "schema_version", version, sizeof version, &err)) {
        kd_answer_failed(r, a, &err);
        return;
    }
    a->content_type = JSON;
    kd_buf_addf(&a->body,
                "{\"status\":\"ok\",\"parcels_live\":%lld,\"office_srid\":%d,"
                "\"schema_version\":%d}",
                (long long)w->n_live, w->srid, atoi_safe(version));
}

/* The anonymous answer prepared since the register last changed (one row), else made from the
 * register by the same function (kd_answer_parcel). */
static void parcel(struct req *r, struct worker *w, struct answer *a, const char *num)
{
    char number[KD_CADNUM_MAX];
    struct kd_parcel p;
    struct kd_err err;
    enum kd_code rc;
    int found = 0;

    if (kd_req_check_args(r, a, no_args) || path_number(r, w, a, num, number))
        return;
    kd_err_init(&err);
    /* one statement: a snapshot of its own */
    if (w->answers && kd_store_answer_get(w->st, number, &a->body, &found, &err)) {
        kd_answer_failed(r, a, &err);
        return;
    }
    if (found) {
        a->content_type = GEOJSON;
        return;
    }
    /* from the register: its three queries in one snapshot */
    if (kd_store_snapshot_begin(w->st, &err)) {
        kd_answer_problem(r, a, 503, "store.unavailable", NULL, NULL);
        return;
    }
    kd_parcel_init(&p);
    rc = kd_store_parcel_get(w->st, number, NULL, 1, &p, &err);
    if (rc == KD_ENOTFOUND)
        kd_answer_problem(r, a, 404, "parcel.not_found", NULL,
                          (const char *const[]){"number", number, NULL});
    else if (rc || kd_answer_parcel(w->st, w->to_4326, &p, &a->body, &err))
        kd_answer_failed(r, a, &err);
    else
        a->content_type = GEOJSON;
    kd_parcel_fini(&p);
    kd_store_snapshot_end(w->st);
}

/* A FeatureCollection of hits (records with geometry kept by the lookup). */
static int hits_collection(struct worker *w, const struct kd_hits *h, struct kd_buf *out,
                           struct kd_err *err)
{
    struct kd_lookup_json_opts o = {w->to_4326, NULL, 1, 0, 1, 7};
    size_t i;

    kd_buf_adds(out, "{\"type\":\"FeatureCollection\",\"numberReturned\":");
    kd_buf_addf(out, "%zu,\"features\":[", h->n);
    for (i = 0; i < h->n; i++) {
        if (i)
            kd_buf_adds(out, ",");
        if (!h->v[i].parcel) {
            kd_err_set(err, KD_ESTORE, "store.query", "a hit came without its record");
            return -1;
        }
        if (kd_lookup_json_feature(w->st, &o, h->v[i].parcel, &h->v[i], out, err))
            return -1;
    }
    kd_buf_adds(out, "]");
    return 0;
}

static void neighbours(struct req *r, struct worker *w, struct answer *a, const char *num)
{
    char number[KD_CADNUM_MAX];
    struct kd_hits h;
    struct kd_err err;
    enum kd_code rc;

    if (kd_req_check_args(r, a, no_args) || path_number(r, w, a, num, number))
        return;
    kd_hits_init(&h);
    h.keep = KD_HITS_KEEP_GEOM;
    kd_err_init(&err);
    rc = kd_lookup_neighbours(w->st, w->g, number, NULL, KD_LOOKUP_GAP_TOL_M, &h, &err);
    if (rc == KD_ENOTFOUND) {
        kd_answer_problem(r, a, 404, "parcel.not_found", NULL,
                          (const char *const[]){"number", number, NULL});
    } else if (rc || hits_collection(w, &h, &a->body, &err)) {
        kd_answer_failed(r, a, &err);
    } else {
        a->content_type = GEOJSON;
        kd_buf_adds(&a->body, ",\"cadastral_number\":");
        kd_buf_add_json_str(&a->body, number);
        kd_buf_addf(&a->body, ",\"gap_tolerance_m\":%.2f}", KD_LOOKUP_GAP_TOL_M);
    }
    kd_hits_fini(&h);
}

static void history(struct req *r, struct worker *w, struct answer *a, const char *num)
{
    char number[KD_CADNUM_MAX];
    struct kd_history h;
    struct kd_err err;
    enum kd_code rc;
    size_t i;

    if (kd_req_check_args(r, a, no_args) || path_number(r, w, a, num, number))
        return;
    memset(&h, 0, sizeof h);
    kd_err_init(&err);
    rc = kd_lookup_history(w->st, number, &h, &err);
    if (rc == KD_ENOTFOUND) {
        kd_answer_problem(r, a, 404, "parcel.not_found", NULL,
                          (const char *const[]){"number", number, NULL});
        return;
    }
    if (rc) {
        kd_answer_failed(r, a, &err);
        return;
    }
    a->content_type = JSON;
    kd_buf_adds(&a->body, "{\"cadastral_number\":");
    kd_buf_add_json_str(&a->body, number);
    kd_buf_adds(&a->body, ",\"versions\":[");
    for (i = 0; i < h.n; i++) {
        const struct kd_parcel *p = &h.v[i].parcel;
        kd_buf_adds(&a->body, i ? ",{\"valid_from\":" : "{\"valid_from\":");
        kd_buf_add_json_str(&a->body, p->valid_from);
        kd_buf_adds(&a->body, ",\"valid_to\":");
        if (p->valid_to[0])
            kd_buf_add_json_str(&a->body, p->valid_to);
        else
            kd_buf_adds(&a->body, "null");
        kd_buf_adds(&a->body, ",\"operation\":");
        kd_buf_add_json_str(&a->body, p->operation);
        kd_buf_adds(&a->body, ",\"area_m2\":");
        kd_buf_add_fixed(&a->body, p->area_m2, 2);
        kd_buf_adds(&a->body, ",\"parents\":");
        kd_lookup_json_lineage(&a->body, h.v[i].parents, h.v[i].n_parents);
        kd_buf_adds(&a->body, ",\"children\":");
        kd_lookup_json_lineage(&a->body, h.v[i].children, h.v[i].n_children);
        kd_buf_adds(&a->body, "}");
    }
    kd_buf_adds(&a->body, "]}");
    kd_history_fini(&h);
}

/* A finite number from a query argument; on failure a 400 naming the parameter. */
static int arg_number(struct req *r, struct answer *a, const char *name, double *v)
{
    const char *s = kd_req_arg(r, name);
    char *end;

    if (!s) {
        kd_answer_problem(r, a, 400, "query.missing_parameter", name,
                          (const char *const[]){"param", name, NULL});
        return -1;
    }
    errno = 0;
    *v = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(*v)) {
        kd_answer_problem(r, a, 400, "query.bad_number", name,
                          (const char *const[]){"param", name, "value", s, NULL});
        return -1;
    }
    return 0;
}

struct areas_at {
    const GEOSGeometry *pt;
    struct kd_geo *g;
    struct kd_buf *out;
    int n;
};

static enum kd_code area_at(void *ud, const struct kd_area *ar, struct kd_err *err)
{
    struct areas_at *q = ud;
    GEOSGeometry *geom = kd_geos_from_wkb(q->g, ar->wkb, ar->wkb_len, err);
    char hit;

    if (!geom)
        return err->code;
    hit = GEOSIntersects_r(kd_geo_geos(q->g), geom, q->pt);
    GEOSGeom_destroy_r(kd_geo_geos(q->g), geom);
    if (hit != 1)
        return KD_OK;
    kd_buf_adds(q->out, q->n++ ? ",{\"code\":" : "{\"code\":");
    kd_buf_add_json_str(q->out, ar->code);
    kd_buf_adds(q->out, ",\"kind\":");
    kd_buf_add_json_str(q->out, ar->kind);
    kd_buf_adds(q->out, ",\"name\":");
    if (ar->name[0])
        kd_buf_add_json_str(q->out, ar->name);
    else
        kd_buf_adds(q->out, "null");
    kd_buf_adds(q->out, "}");
    return KD_OK;
}

static void lookup(struct req *r, struct worker *w, struct answer *a)
{
    static const char *const allowed[] = {"lon", "lat", "x", "y", "crs", NULL};
    /* the shared index when there is one; else the store's R*Tree and GEOS */
    const struct kd_shape_index *idx = w->shapes ? w->shapes->idx : NULL;
    double x, y, lon = 0, lat = 0;
    struct kd_xform *xf = NULL;
    struct kd_hits h;
    struct kd_err err;
    GEOSGeometry *pt = NULL;
    const char *crs = kd_req_arg(r, "crs");
    int by_lonlat = kd_req_arg(r, "x") == NULL && kd_req_arg(r, "y") == NULL;
    enum kd_code rc;

    if (kd_req_check_args(r, a, allowed))
        return;
    if (by_lonlat ? (arg_number(r, a, "lon", &x) || arg_number(r, a, "lat", &y))
                  : (arg_number(r, a, "x", &x) || arg_number(r, a, "y", &y)))
        return;
    kd_err_init(&err);
    if (!by_lonlat && crs) {
        int srid;
        if (kd_crs_parse_epsg(crs, &srid, &err) ||
            kd_xform_epsg(w->g, srid, w->srid, kd_store_config(w->st)->area, &xf, &err)) {
            char supported[64];
            kd_snprintf(supported, sizeof supported, "EPSG:4326, EPSG:3857, EPSG:%d", w->srid);
            kd_answer_problem(r, a, 400, "query.bad_crs", "crs",
                              (const char *const[]){"value", crs, "supported", supported, NULL});
            return;
        }
    } else if (by_lonlat && (x < -180 || x > 180 || y < -90 || y > 90)) {
        char v[64];
        kd_snprintf(v, sizeof v, "%.7f,%.7f", x, y);
        kd_answer_problem(r, a, 400, "query.bad_point", "lon",
                          (const char *const[]){"value", v, NULL});
        return;
    }
    lon = x, lat = y;
    if ((by_lonlat || xf) && kd_xform_points(by_lonlat ? w->from_4326 : xf, 0, &x, &y, 1, &err)) {
        char v[64];
        kd_snprintf(v, sizeof v, "%.7f,%.7f", lon, lat);
        kd_xform_free(xf);
        kd_answer_problem(r, a, 400, "query.bad_point", by_lonlat ? "lon" : "x",
                          (const char *const[]){"value", v, NULL});
        return;
    }
    kd_xform_free(xf);
    kd_hits_init(&h);
    h.keep = KD_HITS_KEEP_GEOM;
    if (idx)
        rc = kd_shape_index_parcels_at(idx, w->st, w->g, x, y, &h, &err);
    else
        rc = kd_lookup_point(w->st, w->g, NULL, x, y, &h, &err);
    if (rc == KD_ENOTFOUND) {
        rc = KD_OK; /* no parcel here: still the zones and restrictions */
        h.n = 0;
    }
    if (rc || hits_collection(w, &h, &a->body, &err)) {
        kd_answer_failed(r, a, &err);
        kd_hits_fini(&h);
        return;
    }
    kd_hits_fini(&h);
    /* the zones and restrictions at the point itself */
    if (idx) {
        kd_buf_adds(&a->body, ",\"zones\":[");
        rc = kd_shape_index_areas_at(idx, w->g, KD_LAYER_ZONES, x, y, &a->body, &err);
        kd_buf_adds(&a->body, "],\"restrictions\":[");
        if (!rc)
            rc = kd_shape_index_areas_at(idx, w->g, KD_LAYER_RESTRICTIONS, x, y, &a->body, &err);
        kd_buf_adds(&a->body, "]");
    } else {
        double box[4] = {x, y, x, y};
        struct areas_at q = {NULL, w->g, &a->body, 0};
        q.pt = pt = GEOSGeom_createPointFromXY_r(kd_geo_geos(w->g), x, y);
        kd_buf_adds(&a->body, ",\"zones\":[");
        rc = pt ? kd_store_areas_in_box(w->st, KD_LAYER_ZONES, box, area_at, &q, &err)
                : kd_err_set(&err, KD_EGEO, "geos.point", "cannot make a point");
        kd_buf_adds(&a->body, "],\"restrictions\":[");
        q.n = 0;
        if (!rc)
            rc = kd_store_areas_in_box(w->st, KD_LAYER_RESTRICTIONS, box, area_at, &q, &err);
        kd_buf_adds(&a->body, "]");
    }
    if (pt)
        GEOSGeom_destroy_r(kd_geo_geos(w->g), pt);
    if (rc) {
        kd_answer_failed(r, a, &err);
        return;
    }
    kd_buf_addf(&a->body, ",\"x\":%.3f,\"y\":%.3f,\"office_srid\":%d}", x, y, w->srid);
    a->content_type = GEOJSON;
}

/* Every route but the parcel's, inside one read snapshot. */
static void route(struct req *r, struct worker *w, struct answer *a)
{
    const char *path = r->path;
    static const char prefix[] = "/api/v1/parcels/";

    /* OGC API - Features: /, /conformance and /collections/... (ogc.c) */
    if (kd_ogc_route(r, w, a))
        return;
    if (strcmp(path, "/health") == 0) {
        health(r, w, a);
    } else if (strcmp(path, "/metrics") == 0) {
        if (!kd_req_check_args(r, a, no_args))
            kd_metrics_answer(r->srv, a);
    } else if (strcmp(path, "/api/v1/lookup") == 0) {
        lookup(r, w, a);
    } else if (strncmp(path, prefix, sizeof prefix - 1) == 0 && path[sizeof prefix - 1]) {
        const char *rest = path + sizeof prefix - 1;
        const char *slash = strrchr(rest, '/');
        char num[256];

        if ((size_t)(slash - rest) >= sizeof num || slash == rest) {
            not_found(r, a);
            return;
        }
        memcpy(num, rest, (size_t)(slash - rest));
        num[slash - rest] = '\0';
        if (strcmp(slash, "/neighbours") == 0 || strcmp(slash, "/neighbors") == 0)
            neighbours(r, w, a, num);
        else if (strcmp(slash, "/history") == 0)
            history(r, w, a, num);
        else
            not_found(r, a);
    } else {
        not_found(r, a);
    }
}

void kd_api_route(struct req *r, struct worker *w, struct answer *a)
{
    static const char prefix[] = "/api/v1/parcels/";
    const char *path = r->path;
    struct kd_err err;

    /* the parcel route takes its snapshot itself: its prepared answer is one statement */
    if (strncmp(path, prefix, sizeof prefix - 1) == 0 && path[sizeof prefix - 1] &&
        !strchr(path + sizeof prefix - 1, '/')) {
        parcel(r, w, a, path + sizeof prefix - 1);
        return;
    }
    kd_err_init(&err);
    if (kd_store_snapshot_begin(w->st, &err)) {
        kd_answer_problem(r, a, 503, "store.unavailable", NULL, NULL);
        return;
    }
    route(r, w, a);
    kd_store_snapshot_end(w->st);
}
