/* SPDX-License-Identifier: Apache-2.0 */
/* One thread's GIS handles (a PROJ context and a GEOS handle, messages caught on that
 * thread) and the GEOS helpers the loader and lookups share: WKB in and out, validity with
 * its reason and place, and MakeValid with the STRUCTURE method. */
#include "geo_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void geos_msg_r(const char *msg, void *ud)
{
    struct kd_geo *g = ud;

    kd_strlcpy(g->geos_msg, msg, sizeof g->geos_msg);
}

enum kd_code kd_geo_new(struct kd_geo **out, struct kd_err *err)
{
    struct kd_geo *g = calloc(1, sizeof *g);

    if (!g)
        return kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
    g->proj = proj_context_create();
    g->geos = GEOS_init_r();
    if (!g->proj || !g->geos) {
        kd_geo_free(g);
        return kd_err_set(err, KD_EGEO, "geo.init", "cannot create PROJ/GEOS contexts");
    }
    /* PROJ logs to stderr by default; we read errors from the context instead */
    proj_log_level(g->proj, PJ_LOG_NONE);
    GEOSContext_setErrorMessageHandler_r(g->geos, geos_msg_r, g);
    GEOSContext_setNoticeMessageHandler_r(g->geos, NULL, NULL);
    g->wkb_reader = GEOSWKBReader_create_r(g->geos);
    g->wkb_writer = GEOSWKBWriter_create_r(g->geos);
    if (!g->wkb_reader || !g->wkb_writer) {
        kd_geo_free(g);
        return kd_err_set(err, KD_EGEO, "geo.init", "cannot create GEOS WKB reader/writer");
    }
    GEOSWKBWriter_setByteOrder_r(g->geos, g->wkb_writer, GEOS_WKB_NDR);
    GEOSWKBWriter_setOutputDimension_r(g->geos, g->wkb_writer, 2);
    *out = g;
    return KD_OK;
}

void kd_geo_free(struct kd_geo *g)
{
    if (!g)
        return;
    if (g->wkb_reader)
        GEOSWKBReader_destroy_r(g->geos, g->wkb_reader);
    if (g->wkb_writer)
        GEOSWKBWriter_destroy_r(g->geos, g->wkb_writer);
    if (g->geos)
        GEOS_finish_r(g->geos);
    if (g->proj)
        proj_context_destroy(g->proj);
    free(g);
}

GEOSContextHandle_t kd_geo_geos(struct kd_geo *g)
{
    return g->geos;
}

PJ_CONTEXT *kd_geo_proj(struct kd_geo *g)
{
    return g->proj;
}

const char *kd_geo_geos_msg(struct kd_geo *g)
{
    return g->geos_msg;
}

GEOSGeometry *kd_geos_from_wkb(struct kd_geo *g, const unsigned char *wkb, size_t len,
                               struct kd_err *err)
{
    GEOSGeometry *geom;

    g->geos_msg[0] = '\0';
    geom = GEOSWKBReader_read_r(g->geos, g->wkb_reader, wkb, len);
    if (!geom)
        kd_err_set(err, KD_EGEO, "geos.read", "GEOS cannot read the geometry: %s",
                   g->geos_msg[0] ? g->geos_msg : "unknown reason");
    return geom;
}

unsigned char *kd_geos_to_wkb(struct kd_geo *g, const GEOSGeometry *geom, size_t *len,
                              struct kd_err *err)
{
    unsigned char *gbuf, *out;
    size_t n = 0;

    gbuf = GEOSWKBWriter_write_r(g->geos, g->wkb_writer, geom, &n);
    if (!gbuf) {
        kd_err_set(err, KD_EGEO, "geos.write", "GEOS cannot write the geometry: %s", g->geos_msg);
        return NULL;
    }
    /* GEOS's buffer must go back through GEOSFree_r: hand the caller a malloc'd copy */
    out = malloc(n ? n : 1);
    if (out) {
        memcpy(out, gbuf, n);
        *len = n;
    } else {
        kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
    }
    GEOSFree_r(g->geos, gbuf);
    return out;
}

int kd_geos_validity(struct kd_geo *g, const GEOSGeometry *geom, char *reason, size_t size,
                     double *x, double *y)
{
    char *why = NULL;
    GEOSGeometry *where = NULL;
    char v;

    v = GEOSisValidDetail_r(g->geos, geom, 0, &why, &where);
    if (v == 1)
        return 1;
    if (v != 0) {
        kd_snprintf(reason, size, "GEOS failed to check validity: %s", g->geos_msg);
        return -1;
    }
    kd_strlcpy(reason, why ? why : "invalid geometry", size);
    *x = *y = 0;
    if (where) {
        GEOSGeomGetX_r(g->geos, where, x);
        GEOSGeomGetY_r(g->geos, where, y);
        GEOSGeom_destroy_r(g->geos, where);
    }
    GEOSFree_r(g->geos, why);
    return 0;
}

/* Appends the polygons of geom (clones) to polys. */
static int collect_polygons(GEOSContextHandle_t h, const GEOSGeometry *geom, GEOSGeometry ***polys,
                            size_t *n, size_t *cap)
{
    int type = GEOSGeomTypeId_r(h, geom);
    int i, k;

    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, geom))
            return 0;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 4;
            GEOSGeometry **p = realloc(*polys, nc * sizeof *p);
            if (!p)
                return -1;
            *polys = p;
            *cap = nc;
        }
        (*polys)[(*n)++] = GEOSGeom_clone_r(h, geom);
        return 0;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        k = GEOSGetNumGeometries_r(h, geom);
        for (i = 0; i < k; i++)
            if (collect_polygons(h, GEOSGetGeometryN_r(h, geom, i), polys, n, cap))
                return -1;
    }
    return 0;
}

static GEOSGeometry *multi_of(GEOSContextHandle_t h, const GEOSGeometry *geom)
{
    GEOSGeometry **polys = NULL, *out = NULL;
    size_t n = 0, cap = 0, i;

    if (collect_polygons(h, geom, &polys, &n, &cap) == 0 && n > 0)
        out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)n);
    if (!out)
        for (i = 0; i < n; i++)
            GEOSGeom_destroy_r(h, polys[i]);
    free(polys);
    return out;
}

GEOSGeometry *kd_geos_make_valid_polygonal(struct kd_geo *g, const GEOSGeometry *geom)
{
    GEOSMakeValidParams *params = GEOSMakeValidParams_create_r(g->geos);
    GEOSGeometry *fixed, *out = NULL;

    if (!params)
        return NULL;
    /* STRUCTURE keeps areas as areas; LINEWORK (the default) leaves polygon + line
     * collections for half of Cambridge's invalid parcels (LIBRARY-NOTES.md) */
    GEOSMakeValidParams_setMethod_r(g->geos, params, GEOS_MAKE_VALID_STRUCTURE);
    GEOSMakeValidParams_setKeepCollapsed_r(g->geos, params, 0);
    fixed = GEOSMakeValidWithParams_r(g->geos, geom, params);
    GEOSMakeValidParams_destroy_r(g->geos, params);
    if (!fixed)
        return NULL;
    out = multi_of(g->geos, fixed);
    GEOSGeom_destroy_r(g->geos, fixed);
    return out;
}

GEOSGeometry *kd_geos_to_multipolygon(struct kd_geo *g, const GEOSGeometry *geom)
{
    int type = GEOSGeomTypeId_r(g->geos, geom);

    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON)
        return NULL;
    if (type == GEOS_MULTIPOLYGON)
        return GEOSGeom_clone_r(g->geos, geom);
    return multi_of(g->geos, geom);
}
