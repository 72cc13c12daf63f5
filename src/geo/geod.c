/* SPDX-License-Identifier: Apache-2.0 */
/* Geodesic areas: a transverse Mercator projection scales areas by up to 0.17 % over
 * Uzbekistan (DOMAIN.md), more than the area tolerances, so declared areas are compared with
 * the area on the ellipsoid. Rings are taken back to the office CRS's own geographic CRS (an
 * exact inverse projection, no datum change) and measured with PROJ's geod_polygonarea. */
#include "geo_int.h"

#include <geodesic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kd_geod {
    struct kd_geo *g;
    PJ *to_geog; /* office CRS -> its geographic CRS, lon/lat degrees */
    struct geod_geodesic geod;
    double *lon, *lat;
    size_t cap;
    double sum;
    struct kd_err *err;
};

enum kd_code kd_geod_new(struct kd_geo *g, int srid, struct kd_geod **out, struct kd_err *err)
{
    struct kd_geod *gd = calloc(1, sizeof *gd);
    PJ *crs = NULL, *geog = NULL, *ell = NULL, *op = NULL;
    char code[16];
    double a = 0, invf = 0;
    enum kd_code rc = KD_OK;

    if (!gd)
        return kd_err_set(err, KD_ENOMEM, "geo.nomem", "out of memory");
    gd->g = g;
    snprintf(code, sizeof code, "%d", srid);
    crs = proj_create_from_database(g->proj, "EPSG", code, PJ_CATEGORY_CRS, 0, NULL);
    geog = crs ? proj_crs_get_geodetic_crs(g->proj, crs) : NULL;
    ell = geog ? proj_get_ellipsoid(g->proj, geog) : NULL;
    if (!ell || !proj_ellipsoid_get_parameters(g->proj, ell, &a, NULL, NULL, &invf)) {
        rc = kd_err_set(err, KD_EGEO, "crs.unknown", "EPSG:%d has no ellipsoid PROJ knows", srid);
        goto out;
    }
    geod_init(&gd->geod, a, invf > 0 ? 1.0 / invf : 0.0);
    op = proj_create_crs_to_crs_from_pj(g->proj, crs, geog, NULL, NULL);
    gd->to_geog = op ? proj_normalize_for_visualization(g->proj, op) : NULL;
    if (!gd->to_geog)
        rc = kd_err_set(err, KD_EGEO, "op.create", "no inverse projection for EPSG:%d", srid);
out:
    proj_destroy(op);
    proj_destroy(ell);
    proj_destroy(geog);
    proj_destroy(crs);
    if (rc) {
        kd_geod_free(gd);
        return rc;
    }
    *out = gd;
    return KD_OK;
}

void kd_geod_free(struct kd_geod *gd)
{
    if (!gd)
        return;
    proj_destroy(gd->to_geog);
    free(gd->lon);
    free(gd->lat);
    free(gd);
}

static int ring_fn(void *ud, unsigned char *p, uint32_t n, int swap, int ring)
{
    struct kd_geod *gd = ud;
    double area = 0, perim = 0;
    uint32_t i;

    if (ring < 0 || swap) {
        kd_err_set(gd->err, KD_EINVAL, "geod.type", "geodesic area needs little-endian polygons");
        return -1;
    }
    if (n > gd->cap) {
        double *lon = realloc(gd->lon, n * sizeof *lon), *lat;
        if (lon)
            gd->lon = lon;
        lat = realloc(gd->lat, n * sizeof *lat);
        if (lat)
            gd->lat = lat;
        if (!lon || !lat) {
            kd_err_set(gd->err, KD_ENOMEM, "geo.nomem", "out of memory");
            return -1;
        }
        gd->cap = n;
    }
    for (i = 0; i < n; i++) {
        memcpy(&gd->lon[i], p + 16 * (size_t)i, 8);
        memcpy(&gd->lat[i], p + 16 * (size_t)i + 8, 8);
    }
    proj_trans_generic(gd->to_geog, PJ_FWD, gd->lon, sizeof(double), n, gd->lat, sizeof(double), n,
                       NULL, 0, 0, NULL, 0, 0);
    for (i = 0; i < n; i++)
        if (!isfinite(gd->lon[i]) || !isfinite(gd->lat[i]) || gd->lon[i] == HUGE_VAL) {
            kd_err_set(gd->err, KD_EGEO, "geod.transform",
                       "a vertex lies outside the office CRS's domain");
            return -1;
        }
    if (n >= 2 && gd->lon[0] == gd->lon[n - 1] && gd->lat[0] == gd->lat[n - 1])
        n--; /* geod_polygonarea closes the ring itself */
    geod_polygonarea(&gd->geod, gd->lat, gd->lon, (int)n, &area, &perim);
    gd->sum += ring == 0 ? fabs(area) : -fabs(area);
    return 0;
}

enum kd_code kd_geod_area_wkb(struct kd_geod *gd, const unsigned char *wkb, size_t len,
                              double *area_m2, struct kd_err *err)
{
    gd->sum = 0;
    gd->err = err;
    if (kd_wkb_walk((unsigned char *)(uintptr_t)wkb, len, ring_fn, gd)) {
        if (!err->code)
            kd_err_set(err, KD_EINVAL, "wkb.malformed", "malformed WKB geometry");
        return err->code;
    }
    *area_m2 = gd->sum > 0 ? gd->sum : 0;
    return KD_OK;
}
