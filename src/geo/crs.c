/* SPDX-License-Identifier: Apache-2.0 */
/* CRS checks and the choice of coordinate operation. PROJ ranks candidates by comparing
 * bounding boxes, so the data's own extent is no guide (the Russia-only Pulkovo 1942 to
 * WGS 84 (20) box contains Tashkent): we ask for operations whose area of use strictly
 * contains the whole office area and take the first PROJ can instantiate. The choice is
 * made once per source CRS and then stored, so every later load uses the same one. */
#include "geo_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kd_code kd_crs_parse_epsg(const char *s, int *srid, struct kd_err *err)
{
    const char *p = s;
    char *end;
    long v;

    if (strncmp(p, "EPSG:", 5) == 0 || strncmp(p, "epsg:", 5) == 0)
        p += 5;
    errno = 0;
    v = strtol(p, &end, 10);
    if (p[0] < '0' || p[0] > '9' || *end || errno || v <= 0 || v > 999999) {
        kd_err_set(err, KD_EINVAL, "crs.syntax", "'%s' is not an EPSG code", s);
        kd_err_hint(err, "write the CRS as EPSG:NNNN, e.g. EPSG:32642");
        return KD_EINVAL;
    }
    *srid = (int)v;
    return KD_OK;
}

static PJ *epsg_crs(struct kd_geo *g, int srid)
{
    char code[16];

    snprintf(code, sizeof code, "%d", srid);
    return proj_create_from_database(g->proj, "EPSG", code, PJ_CATEGORY_CRS, 0, NULL);
}

void kd_crs_name(struct kd_geo *g, int srid, char *out, size_t size)
{
    PJ *crs = epsg_crs(g, srid);

    kd_strlcpy(out, crs && proj_get_name(crs) ? proj_get_name(crs) : "", size);
    proj_destroy(crs);
}

enum kd_code kd_crs_check_office(struct kd_geo *g, int srid, struct kd_err *err)
{
    PJ *crs = epsg_crs(g, srid), *cs = NULL;
    enum kd_code rc = KD_OK;
    PJ_TYPE type;
    int i, n;

    if (!crs) {
        kd_err_set(err, KD_EINVAL, "crs.unknown", "EPSG:%d is not a CRS PROJ knows", srid);
        kd_err_hint(err, "use a projected CRS in metres, e.g. EPSG:32642 (UTM 42N)");
        return KD_EINVAL;
    }
    type = proj_get_type(crs);
    if (type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS ||
        type == PJ_TYPE_GEOCENTRIC_CRS) {
        kd_err_set(err, KD_EINVAL, "crs.geographic",
                   "EPSG:%d (%s) is geographic: areas and tolerances need metres", srid,
                   proj_get_name(crs));
        kd_err_hint(err, "choose the office's projected CRS, e.g. EPSG:32642 (UTM 42N) or "
                         "EPSG:28412 (SK-42 Gauss-Kruger zone 12)");
        rc = KD_EINVAL;
        goto out;
    }
    if (type != PJ_TYPE_PROJECTED_CRS) {
        kd_err_set(err, KD_EINVAL, "crs.not_projected", "EPSG:%d (%s) is not a projected CRS", srid,
                   proj_get_name(crs));
        kd_err_hint(err, "choose a projected CRS in metres, e.g. EPSG:32642");
        rc = KD_EINVAL;
        goto out;
    }
    cs = proj_crs_get_coordinate_system(g->proj, crs);
    n = cs ? proj_cs_get_axis_count(g->proj, cs) : 0;
    for (i = 0; i < n; i++) {
        double factor = 0;
        const char *unit = NULL;
        proj_cs_get_axis_info(g->proj, cs, i, NULL, NULL, NULL, &factor, &unit, NULL, NULL);
        if (factor != 1.0) {
            kd_err_set(err, KD_EINVAL, "crs.units", "EPSG:%d (%s) is in %s, not metres", srid,
                       proj_get_name(crs), unit ? unit : "other units");
            kd_err_hint(err, "choose the variant of the CRS in metres");
            rc = KD_EINVAL;
            goto out;
        }
    }
out:
    proj_destroy(cs);
    proj_destroy(crs);
    return rc;
}

void kd_op_choice_fini(struct kd_op_choice *c)
{
    if (c) {
        free(c->definition);
        c->definition = NULL;
    }
}

/* Names the datum transformation steps of op ("A (EPSG:n) + B"), "" when none. */
static void transformation_steps(PJ_CONTEXT *ctx, PJ *op, char *out, size_t size)
{
    int i, n = proj_get_type(op) == PJ_TYPE_CONCATENATED_OPERATION
                   ? proj_concatoperation_get_step_count(ctx, op)
                   : 1;

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        PJ *step = proj_get_type(op) == PJ_TYPE_CONCATENATED_OPERATION
                       ? proj_concatoperation_get_step(ctx, op, i)
                       : proj_clone(ctx, op);
        PJ_TYPE t = step ? proj_get_type(step) : PJ_TYPE_UNKNOWN;
        if (step && t != PJ_TYPE_CONVERSION) {
            const char *name = proj_get_name(step);
            const char *code = proj_get_id_code(step, 0);
            const char *auth = proj_get_id_auth_name(step, 0);
            char piece[256];
            if (name && strncmp(name, "Inverse of ", 11) == 0)
                name += 11;
            /* an inverted step has no id of its own: find the forward one by name */
            if (!code && name) {
                PJ_TYPE types[] = {PJ_TYPE_TRANSFORMATION};
                PJ_OBJ_LIST *l = proj_create_from_name(ctx, "EPSG", name, types, 1, 1, 1, NULL);
                PJ *fw = l && proj_list_get_count(l) > 0 ? proj_list_get(ctx, l, 0) : NULL;
                if (fw && proj_get_id_code(fw, 0))
                    snprintf(piece, sizeof piece, "%s (EPSG:%s)", name, proj_get_id_code(fw, 0));
                else
                    snprintf(piece, sizeof piece, "%s", name);
                proj_destroy(fw);
                proj_list_destroy(l);
            } else {
                /* an inverted step is identified as INVERSE(EPSG):1188 */
                char a[64];
                kd_strlcpy(a, auth ? auth : "?", sizeof a);
                if (strncmp(a, "INVERSE(", 8) == 0 && a[strlen(a) - 1] == ')') {
                    memmove(a, a + 8, strlen(a + 8) + 1);
                    a[strlen(a) - 1] = '\0';
                }
                snprintf(piece, sizeof piece, "%s (%s:%s)", name ? name : "?", a,
                         code ? code : "?");
            }
            {
                char joined[512];
                snprintf(joined, sizeof joined, "%s%s%s", out, out[0] ? " + " : "", piece);
                kd_strlcpy(out, joined, size);
            }
        }
        proj_destroy(step);
    }
}

/* Fills c from op (normalized for visualization) and says whether it is usable. */
static int describe(struct kd_geo *g, PJ *op, struct kd_op_choice *c)
{
    PJ *norm = proj_normalize_for_visualization(g->proj, op);
    const char *def;

    if (!norm)
        return -1;
    def = proj_as_proj_string(g->proj, norm, PJ_PROJ_5, NULL);
    if (!def) {
        proj_destroy(norm);
        return -1;
    }
    memset(c, 0, sizeof *c);
    c->definition = strdup(def);
    kd_strlcpy(c->name, proj_get_name(op) ? proj_get_name(op) : "", sizeof c->name);
    transformation_steps(g->proj, op, c->transformation, sizeof c->transformation);
    c->accuracy_m = proj_coordoperation_get_accuracy(g->proj, op);
    if (c->accuracy_m < 0 && !c->transformation[0])
        c->accuracy_m = 0; /* conversions only: exact */
    c->ballpark = proj_coordoperation_has_ballpark_transformation(g->proj, op);
    proj_destroy(norm);
    return c->definition ? 0 : -1;
}

static PJ_OBJ_LIST *candidates(struct kd_geo *g, PJ *src, PJ *dst, const double *area,
                               PROJ_SPATIAL_CRITERION crit)
{
    PJ_OPERATION_FACTORY_CONTEXT *f = proj_create_operation_factory_context(g->proj, NULL);
    PJ_OBJ_LIST *l;

    if (!f)
        return NULL;
    if (area)
        proj_operation_factory_context_set_area_of_interest(g->proj, f, area[0], area[1], area[2],
                                                            area[3]);
    proj_operation_factory_context_set_spatial_criterion(g->proj, f, crit);
    proj_operation_factory_context_set_grid_availability_use(
        g->proj, f, PROJ_GRID_AVAILABILITY_USED_FOR_SORTING);
    l = proj_create_operations(g->proj, src, dst, f);
    proj_operation_factory_context_destroy(f);
    return l;
}

/* The first candidate of l that PROJ can instantiate (skip_ballpark: and that is not a
 * ballpark). PROJ has already kept only those whose area of use (that of their datum
 * steps: conversions do not narrow it) contains the area of interest when asked for strict
 * containment; a ballpark's area is the world, so it always qualifies there. */
static int first_usable(struct kd_geo *g, PJ_OBJ_LIST *l, int skip_ballpark, struct kd_op_choice *c)
{
    int i, n = l ? proj_list_get_count(l) : 0;

    for (i = 0; i < n; i++) {
        PJ *op = proj_list_get(g->proj, l, i);
        int ok = op && proj_coordoperation_is_instantiable(g->proj, op) &&
                 !(skip_ballpark && proj_coordoperation_has_ballpark_transformation(g->proj, op)) &&
                 describe(g, op, c) == 0;
        proj_destroy(op);
        if (ok)
            return 0;
    }
    return -1;
}

enum kd_code kd_op_choose(struct kd_geo *g, const char *src_def, int dst_srid,
                          const double office_area[4], const double *data_area,
                          struct kd_op_choice *c, struct kd_err *err)
{
    PJ *src = proj_create(g->proj, src_def), *dst = epsg_crs(g, dst_srid);
    PJ_OBJ_LIST *l = NULL;
    enum kd_code rc = KD_OK;

    memset(c, 0, sizeof *c);
    if (!src) {
        kd_err_set(err, KD_EGEO, "crs.unknown", "PROJ does not know the CRS %s", src_def);
        kd_err_hint(err, "name the source CRS with --s-srs EPSG:NNNN");
        rc = KD_EGEO;
        goto out;
    }
    if (!dst) {
        kd_err_set(err, KD_EGEO, "crs.unknown", "PROJ does not know the CRS EPSG:%d", dst_srid);
        kd_err_hint(err, "use a CRS from the EPSG registry (projinfo EPSG:NNNN shows it)");
        rc = KD_EGEO;
        goto out;
    }
    if (proj_is_equivalent_to(src, dst, PJ_COMP_EQUIVALENT)) {
        c->definition = strdup("+proj=noop");
        kd_strlcpy(c->name, "none (the data is in the office CRS)", sizeof c->name);
        c->covers_office = 1;
        if (!c->definition)
            rc = kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
        goto out;
    }
    l = candidates(g, src, dst, office_area, PROJ_SPATIAL_CRITERION_STRICT_CONTAINMENT);
    if (first_usable(g, l, 1, c) == 0) {
        c->covers_office = 1;
        goto warn;
    }
    proj_list_destroy(l);
    l = candidates(g, src, dst, data_area, PROJ_SPATIAL_CRITERION_PARTIAL_INTERSECTION);
    if (first_usable(g, l, 0, c) != 0) {
        kd_err_set(err, KD_EGEO, "op.none", "PROJ has no usable operation from %s to EPSG:%d",
                   src_def, dst_srid);
        kd_err_hint(err, "install the PROJ grids it needs (proj-data), or check --s-srs");
        rc = KD_EGEO;
        goto out;
    }
    if (c->ballpark)
        snprintf(c->warning, sizeof c->warning,
                 "no operation's area of use contains the office area and only a ballpark "
                 "operation exists: errors of tens or hundreds of metres");
    else
        snprintf(c->warning, sizeof c->warning,
                 "no operation's area of use contains the office area; using PROJ's best for "
                 "the data's extent (stated accuracy %.1f m)",
                 c->accuracy_m);
warn:
    if (!c->warning[0]) {
        if (c->ballpark)
            snprintf(c->warning, sizeof c->warning,
                     "only a ballpark operation exists: errors of tens or hundreds of metres");
        else if (c->accuracy_m > 1.0)
            snprintf(c->warning, sizeof c->warning,
                     "stated accuracy %.1f m is worse than 1 m: fine for maps, not for legal "
                     "boundaries",
                     c->accuracy_m);
        else if (c->accuracy_m < 0)
            snprintf(c->warning, sizeof c->warning, "the operation's accuracy is unknown");
    }
out:
    proj_list_destroy(l);
    proj_destroy(src);
    proj_destroy(dst);
    return rc;
}

enum kd_code kd_xform_new(struct kd_geo *g, const char *definition, struct kd_xform **out,
                          struct kd_err *err)
{
    struct kd_xform *xf = calloc(1, sizeof *xf);

    if (!xf)
        return kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
    xf->g = g;
    xf->op = proj_create(g->proj, definition);
    xf->definition = strdup(definition);
    if (!xf->definition) {
        proj_destroy(xf->op);
        free(xf);
        return kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
    }
    if (!xf->op) {
        free(xf->definition);
        kd_err_set(err, KD_EGEO, "op.create", "PROJ cannot create the operation '%s': %s",
                   definition, proj_context_errno_string(g->proj, proj_context_errno(g->proj)));
        free(xf);
        return KD_EGEO;
    }
    *out = xf;
    return KD_OK;
}

enum kd_code kd_xform_epsg(struct kd_geo *g, int src_srid, int dst_srid,
                           const double office_area[4], struct kd_xform **xf, struct kd_err *err)
{
    struct kd_op_choice c;
    char src[32];
    enum kd_code rc;

    snprintf(src, sizeof src, "EPSG:%d", src_srid);
    rc = kd_op_choose(g, src, dst_srid, office_area, office_area, &c, err);
    if (!rc)
        rc = kd_xform_new(g, c.definition, xf, err);
    kd_op_choice_fini(&c);
    return rc;
}

const char *kd_xform_definition(const struct kd_xform *xf)
{
    return xf->definition;
}

void kd_xform_free(struct kd_xform *xf)
{
    if (xf) {
        proj_destroy(xf->op);
        free(xf->definition);
        free(xf);
    }
}

enum kd_code kd_xform_points(struct kd_xform *xf, int inverse, double *x, double *y, size_t n,
                             struct kd_err *err)
{
    size_t i;

    proj_errno_reset(xf->op);
    proj_trans_generic(xf->op, inverse ? PJ_INV : PJ_FWD, x, sizeof *x, n, y, sizeof *y, n, NULL, 0,
                       0, NULL, 0, 0);
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]) || x[i] == HUGE_VAL)
            return kd_err_set(err, KD_EGEO, "op.failed",
                              "the coordinate operation failed for a point (%s)",
                              proj_context_errno_string(xf->g->proj, proj_errno(xf->op)));
    return KD_OK;
}

struct wkb_ctx {
    struct kd_xform *xf;
    int inverse;
    struct kd_err *err;
    double buf[512];
};

static int xform_fn(void *ud, unsigned char *p, uint32_t n, int swap, int ring)
{
    struct wkb_ctx *w = ud;
    uint32_t done = 0;

    (void)ring;
    if (swap) {
        kd_err_set(w->err, KD_EINVAL, "wkb.byte_order", "big-endian WKB is not transformed");
        return -1;
    }
    /* in place, in chunks: x and y are interleaved, stride 16 bytes */
    while (done < n) {
        uint32_t k = n - done < 256 ? n - done : 256, i;
        for (i = 0; i < k; i++) {
            memcpy(&w->buf[i], p + 16 * (size_t)(done + i), 8);
            memcpy(&w->buf[256 + i], p + 16 * (size_t)(done + i) + 8, 8);
        }
        if (kd_xform_points(w->xf, w->inverse, w->buf, w->buf + 256, k, w->err))
            return -1;
        for (i = 0; i < k; i++) {
            memcpy(p + 16 * (size_t)(done + i), &w->buf[i], 8);
            memcpy(p + 16 * (size_t)(done + i) + 8, &w->buf[256 + i], 8);
        }
        done += k;
    }
    return 0;
}

enum kd_code kd_xform_wkb(struct kd_xform *xf, int inverse, unsigned char *wkb, size_t len,
                          struct kd_err *err)
{
    struct wkb_ctx w;

    w.xf = xf;
    w.inverse = inverse;
    w.err = err;
    if (kd_wkb_walk(wkb, len, xform_fn, &w)) {
        kd_err_set(err, KD_EINVAL, "wkb.malformed", "malformed WKB geometry");
        return err->code;
    }
    return KD_OK;
}

enum kd_code kd_xform_box(struct kd_xform *xf, int inverse, const double in[4], double out[4],
                          struct kd_err *err)
{
    /* each edge sampled at 21 points (proj_trans_bounds needs an operation that knows its
     * CRSs, which a stored pipeline does not) */
    enum { PER = 20, N = 4 * PER };
    double x[N], y[N], w = in[0], s = in[1], e = in[2], n = in[3];
    int i;

    if (!(w <= e) || !(s <= n) || !isfinite(w) || !isfinite(s) || !isfinite(e) || !isfinite(n))
        return kd_err_set(err, KD_EINVAL, "op.box", "the box %g,%g,%g,%g is empty or not finite", w,
                          s, e, n);
    for (i = 0; i < PER; i++) {
        double t = (double)i / PER;
        /* (1-t)a + tb never overflows, unlike a + t(b-a) */
        x[i] = (1 - t) * w + t * e, y[i] = s;
        x[PER + i] = e, y[PER + i] = (1 - t) * s + t * n;
        x[2 * PER + i] = (1 - t) * e + t * w, y[2 * PER + i] = n;
        x[3 * PER + i] = w, y[3 * PER + i] = (1 - t) * n + t * s;
    }
    if (kd_xform_points(xf, inverse, x, y, N, err))
        return err->code;
    out[0] = out[1] = INFINITY;
    out[2] = out[3] = -INFINITY;
    for (i = 0; i < N; i++) {
        out[0] = fmin(out[0], x[i]);
        out[1] = fmin(out[1], y[i]);
        out[2] = fmax(out[2], x[i]);
        out[3] = fmax(out[3], y[i]);
    }
    return KD_OK;
}

enum kd_code kd_crs_box_lonlat(struct kd_geo *g, const char *src, const double in[4], double out[4],
                               struct kd_err *err)
{
    PJ *op = proj_create_crs_to_crs(g->proj, src, "EPSG:4326", NULL), *norm;
    int ok;

    norm = op ? proj_normalize_for_visualization(g->proj, op) : NULL;
    ok = norm && proj_trans_bounds(g->proj, norm, PJ_FWD, in[0], in[1], in[2], in[3], &out[0],
                                   &out[1], &out[2], &out[3], 21);
    proj_destroy(norm);
    proj_destroy(op);
    if (!ok)
        return kd_err_set(err, KD_EGEO, "op.failed",
                          "the data's extent cannot be expressed in lon/lat");
    return KD_OK;
}

enum kd_code kd_crs_area_of_use(struct kd_geo *g, int srid, double area[4], struct kd_err *err)
{
    PJ *crs = epsg_crs(g, srid);
    int ok = crs &&
             proj_get_area_of_use(g->proj, crs, &area[0], &area[1], &area[2], &area[3], NULL) &&
             area[0] > -1000;

    proj_destroy(crs);
    if (!ok)
        return kd_err_set(err, KD_EGEO, "crs.no_area", "EPSG:%d states no area of use", srid);
    return KD_OK;
}
