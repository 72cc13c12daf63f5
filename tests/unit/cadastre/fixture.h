/* SPDX-License-Identifier: Apache-2.0 */
/* Test registers for the cadastre module, written through the store API (no loader needed):
 * a grid of square parcels of 20 m in EPSG:32642 near Tashkent (E 523000, N 4573000) and a
 * few special parcels beside it: a triangle whose bounding box meets boxes its shape does
 * not, two parcels 0.03 m and 0.1 m away from a third, and a split then corrected parcel
 * with its lineage. Header-only (static functions): each test program includes it. */
#ifndef KADASTR_TEST_CADASTRE_FIXTURE_H
#define KADASTR_TEST_CADASTRE_FIXTURE_H

#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FX_SRID 32642
#define FX_X0 523000.0
#define FX_Y0 4573000.0
#define FX_CELL 20.0
#define FX_FROM "2020-01-01T00:00:00Z"

/* The special parcels (outside the grid, east of it). */
#define FX_TRIANGLE "10:27:01:02:04:0001" /* (524000,4573000) (524020,4573000) (524000,4573020) */
#define FX_A "10:27:01:02:04:0002"        /* [524100, 524120] x [4573000, 4573020] */
#define FX_B "10:27:01:02:04:0003"        /* 0.03 m east of A */
#define FX_C "10:27:01:02:04:0004"        /* 0.1 m west of A */
#define FX_PARENT "10:27:01:02:05:0001"   /* [524200, 524240], split on 2022-06-01 */
#define FX_CHILD1 "10:27:01:02:05:0002"   /* [524200, 524220], corrected on 2023-03-01 */
#define FX_CHILD2 "10:27:01:02:05:0003"   /* [524220, 524240] */
#define FX_SPLIT_AT "2022-06-01T00:00:00Z"
#define FX_CORRECTED_AT "2023-03-01T00:00:00Z"
#define FX_N_SPECIAL_LIVE 6 /* triangle, A, B, C, child1 (corrected), child2 */

struct fx {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_xform *to_3857;
    struct kd_geod *gd;
    struct kd_err err;
};

/* The cadastral number of grid parcel k (1-based): 10:26:01:02:03:0001 .. 9999, then the
 * mavze and massiv groups count on. */
static void fx_number(long k, char out[KD_CADNUM_MAX])
{
    long n = k - 1, blk = n / 9999;

    snprintf(out, KD_CADNUM_MAX, "10:26:01:%02ld:%02ld:%04ld", 2 + (3 + blk) / 100, (3 + blk) % 100,
             n % 9999 + 1);
}

/* Creates a new register at path (an old file is removed) and opens it for writing inside
 * one transaction. */
static enum kd_code fx_open(struct fx *f, const char *path)
{
    struct kd_store_config cfg = {FX_SRID, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};
    char side[4096];

    memset(f, 0, sizeof *f);
    kd_err_init(&f->err);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    if (kd_store_create(path, &cfg, 0, &f->err) ||
        kd_store_open(path, KD_STORE_RW, &f->st, &f->err) || kd_geo_new(&f->g, &f->err) ||
        kd_xform_epsg(f->g, FX_SRID, 3857, cfg.area, &f->to_3857, &f->err) ||
        kd_geod_new(f->g, FX_SRID, &f->gd, &f->err) || kd_store_begin(f->st, &f->err))
        return f->err.code;
    return KD_OK;
}

static enum kd_code fx_close(struct fx *f)
{
    enum kd_code rc = f->err.code;

    if (f->st) {
        if (!rc)
            rc = kd_store_commit(f->st, &f->err);
        else
            kd_store_rollback(f->st);
    }
    kd_geod_free(f->gd);
    kd_xform_free(f->to_3857);
    kd_geo_free(f->g);
    kd_store_close(f->st);
    f->st = NULL, f->g = NULL, f->gd = NULL, f->to_3857 = NULL;
    return rc;
}

/* Inserts a parcel version from WKT (office CRS). OUT id (may be NULL). */
static enum kd_code fx_parcel_wkt(struct fx *f, const char *number, const char *wkt,
                                  const char *valid_from, const char *operation, int64_t *id)
{
    GEOSContextHandle_t h = kd_geo_geos(f->g);
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *geom = rd ? GEOSWKTReader_read_r(h, rd, wkt) : NULL, *multi = NULL;
    struct kd_parcel_new p;
    unsigned char *wkb = NULL, *wkb3857 = NULL;
    size_t len = 0;
    double area = 0, geod = 0;
    enum kd_code rc = KD_OK;

    memset(&p, 0, sizeof p);
    multi = geom ? kd_geos_to_multipolygon(f->g, geom) : NULL;
    if (!multi) {
        rc = kd_err_set(&f->err, KD_EINVAL, "fixture.wkt", "bad fixture WKT %s", wkt);
        goto out;
    }
    wkb = kd_geos_to_wkb(f->g, multi, &len, &f->err);
    wkb3857 = wkb ? malloc(len) : NULL;
    if (!wkb3857) {
        rc = kd_err_set(&f->err, KD_ENOMEM, "fixture.nomem", "out of memory");
        goto out;
    }
    memcpy(wkb3857, wkb, len);
    GEOSArea_r(h, multi, &area);
    if ((rc = kd_xform_wkb(f->to_3857, 0, wkb3857, len, &f->err)) ||
        (rc = kd_geod_area_wkb(f->gd, wkb, len, &geod, &f->err)))
        goto out;
    p.number = number;
    p.land_category = "settlements";
    p.land_use = "residential";
    p.address = "Toshkent, Yunusobod";
    p.declared_area_m2 = NAN;
    p.area_m2 = area;
    p.geodesic_area_m2 = geod;
    p.valid_from = valid_from;
    p.operation = operation;
    p.source = "fixture";
    p.content_hash = kd_hash64(0, wkt, strlen(wkt));
    p.wkb_cad = wkb;
    p.wkb_cad_len = len;
    p.wkb_3857 = wkb3857;
    p.wkb_3857_len = len;
    rc = kd_store_parcel_insert(f->st, &p, id, &f->err);
out:
    free(wkb);
    free(wkb3857);
    if (multi)
        GEOSGeom_destroy_r(h, multi);
    if (geom)
        GEOSGeom_destroy_r(h, geom);
    if (rd)
        GEOSWKTReader_destroy_r(h, rd);
    return rc;
}

static enum kd_code fx_rect(struct fx *f, const char *number, double x0, double y0, double x1,
                            double y1, const char *valid_from, const char *operation, int64_t *id)
{
    char wkt[512];

    snprintf(wkt, sizeof wkt, "POLYGON((%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f))", x0,
             y0, x1, y0, x1, y1, x0, y1, x0, y0);
    return fx_parcel_wkt(f, number, wkt, valid_from, operation, id);
}

/* nx * ny squares of FX_CELL metres from (FX_X0, FX_Y0), row by row from the south-west;
 * parcel (i, j) is number j * nx + i + 1. */
static enum kd_code fx_grid(struct fx *f, int nx, int ny)
{
    char num[KD_CADNUM_MAX];
    int i, j;

    for (j = 0; j < ny; j++)
        for (i = 0; i < nx; i++) {
            fx_number((long)j * nx + i + 1, num);
            if (fx_rect(f, num, FX_X0 + i * FX_CELL, FX_Y0 + j * FX_CELL, FX_X0 + (i + 1) * FX_CELL,
                        FX_Y0 + (j + 1) * FX_CELL, FX_FROM, "load", NULL))
                return f->err.code;
        }
    return KD_OK;
}

/* kd_store_party_put as of commit 4b82044 returns KD_ENOTFOUND (left over from its lookup)
 * after a successful insert, with err unset: accept that until it is fixed. */
static enum kd_code party_put(struct fx *f, const struct kd_party *p, int64_t *id)
{
    int status = -1;
    enum kd_code rc = kd_store_party_put(f->st, p, "fixture", id, &status, &f->err);

    if (rc == KD_ENOTFOUND && f->err.code == KD_OK && status == 0)
        rc = KD_OK;
    if (rc && !f->err.code)
        kd_err_set(&f->err, rc, "fixture.party", "cannot write party %s", p->party_id);
    return rc;
}

/* The special parcels, a zone and a restriction on parcel 1, and two owners of parcel 1. */
static enum kd_code fx_specials(struct fx *f)
{
    int64_t parent, c1, c1b, c2, zone, restr, party_a, party_b, p1;
    struct kd_area_new a;
    struct kd_party pa;
    struct kd_right r;
    struct kd_parcel p;
    char num[KD_CADNUM_MAX];
    int status;
    const char *zone_wkt = "POLYGON((523000 4573000,523400 4573000,523400 4573400,"
                           "523000 4573400,523000 4573000))";

    if (fx_parcel_wkt(f, FX_TRIANGLE,
                      "POLYGON((524000 4573000,524020 4573000,524000 4573020,524000 4573000))",
                      FX_FROM, "load", NULL) ||
        fx_rect(f, FX_A, 524100, 4573000, 524120, 4573020, FX_FROM, "load", NULL) ||
        fx_rect(f, FX_B, 524120.03, 4573000, 524140.03, 4573020, FX_FROM, "load", NULL) ||
        fx_rect(f, FX_C, 524079.9, 4573000, 524099.9, 4573020, FX_FROM, "load", NULL))
        return f->err.code;
    /* history: a parcel split in two, then one half corrected */
    if (fx_rect(f, FX_PARENT, 524200, 4573000, 524240, 4573020, FX_FROM, "load", &parent) ||
        kd_store_parcel_retire(f->st, parent, FX_SPLIT_AT, &f->err) ||
        fx_rect(f, FX_CHILD1, 524200, 4573000, 524220, 4573020, FX_SPLIT_AT, "split", &c1) ||
        fx_rect(f, FX_CHILD2, 524220, 4573000, 524240, 4573020, FX_SPLIT_AT, "split", &c2) ||
        kd_store_lineage_add(f->st, c1, parent, "split-of", &f->err) ||
        kd_store_lineage_add(f->st, c2, parent, "split-of", &f->err) ||
        kd_store_parcel_retire(f->st, c1, FX_CORRECTED_AT, &f->err) ||
        fx_rect(f, FX_CHILD1, 524200, 4573000, 524219.5, 4573020, FX_CORRECTED_AT, "correction",
                &c1b) ||
        kd_store_lineage_add(f->st, c1b, c1, "correction-of", &f->err))
        return f->err.code;

    /* what lies on grid parcel 1, and who holds it */
    fx_number(1, num);
    kd_parcel_init(&p);
    if (kd_store_parcel_get(f->st, num, NULL, 0, &p, &f->err))
        return f->err.code;
    p1 = p.id;
    {
        GEOSContextHandle_t h = kd_geo_geos(f->g);
        GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
        GEOSGeometry *zg = GEOSWKTReader_read_r(h, rd, zone_wkt);
        GEOSGeometry *zm = kd_geos_to_multipolygon(f->g, zg);
        size_t len = 0;
        unsigned char *wkb = kd_geos_to_wkb(f->g, zm, &len, &f->err);
        unsigned char *w3857 = wkb ? malloc(len) : NULL;
        enum kd_code rc = KD_OK;
        if (w3857) {
            memcpy(w3857, wkb, len);
            rc = kd_xform_wkb(f->to_3857, 0, w3857, len, &f->err);
        }
        memset(&a, 0, sizeof a);
        a.wkb_cad = wkb, a.wkb_cad_len = len, a.wkb_3857 = w3857, a.wkb_3857_len = len;
        a.valid_from = FX_FROM, a.source = "fixture";
        a.layer = KD_LAYER_ZONES, a.code = "R1", a.kind = "base", a.name = "Residential";
        a.extra = "residential,commercial";
        if (!rc && w3857)
            rc = kd_store_area_insert(f->st, &a, &zone, &f->err);
        a.layer = KD_LAYER_RESTRICTIONS, a.code = "WP-001", a.kind = "water_protection";
        a.name = "Bozsu canal", a.extra = NULL;
        if (!rc && w3857)
            rc = kd_store_area_insert(f->st, &a, &restr, &f->err);
        a.layer = KD_LAYER_ADMIN_UNITS, a.code = "10:26:01:02:03", a.kind = "mavze";
        a.name = "Mavze 3", a.extra = "10:26:01:02";
        if (!rc && w3857)
            rc = kd_store_area_insert(f->st, &a, NULL, &f->err);
        free(wkb);
        free(w3857);
        GEOSGeom_destroy_r(h, zm);
        GEOSGeom_destroy_r(h, zg);
        GEOSWKTReader_destroy_r(h, rd);
        if (rc || !w3857)
            return kd_err_set(&f->err, KD_EGEO, "fixture.area", "cannot write the zone");
    }
    if (kd_store_overlay_put(f->st, p1, KD_LAYER_ZONES, zone, 400.0, &f->err) ||
        kd_store_overlay_put(f->st, p1, KD_LAYER_RESTRICTIONS, restr, 120.5, &f->err))
        return f->err.code;
    memset(&pa, 0, sizeof pa);
    kd_strlcpy(pa.party_id, "31507826540017", sizeof pa.party_id);
    kd_strlcpy(pa.kind, "person", sizeof pa.kind);
    kd_strlcpy(pa.name, "Aliyev Anvar", sizeof pa.name);
    if (party_put(f, &pa, &party_a))
        return f->err.code;
    kd_strlcpy(pa.party_id, "42003958120034", sizeof pa.party_id);
    kd_strlcpy(pa.name, "Karimova \"Dilnoza\"", sizeof pa.name);
    if (party_put(f, &pa, &party_b))
        return f->err.code;
    memset(&r, 0, sizeof r);
    kd_strlcpy(r.number, num, sizeof r.number);
    kd_strlcpy(r.kind, "ownership", sizeof r.kind);
    r.share.num = 1, r.share.den = 2;
    kd_strlcpy(r.valid_from, FX_FROM, sizeof r.valid_from);
    if (kd_store_right_put(f->st, &r, party_a, "fixture", &status, &f->err) ||
        kd_store_right_put(f->st, &r, party_b, "fixture", &status, &f->err))
        return f->err.code;
    return KD_OK;
}

/* The whole fixture region: an nx * ny grid and the specials. */
/* (not every test program writes a whole region) */
__attribute__((unused)) static enum kd_code fx_write(const char *path, int nx, int ny,
                                                     struct kd_err *err)
{
    struct fx f;
    enum kd_code rc;

    rc = fx_open(&f, path);
    if (!rc)
        rc = fx_grid(&f, nx, ny);
    if (!rc)
        rc = fx_specials(&f);
    rc = fx_close(&f);
    if (rc && err)
        *err = f.err;
    return rc;
}

#endif
