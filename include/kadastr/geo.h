/* SPDX-License-Identifier: Apache-2.0 */
/* geo: PROJ and GEOS behind kadastr's needs. A struct kd_geo is one thread's PROJ context
 * and GEOS handle; everything made from it stays on that thread. Coordinates are always
 * x = easting or longitude (PROJ's normalized, "traditional GIS" order), metres or degrees.
 * Geometries travel as ISO WKB (little endian, 2D). */
#ifndef KADASTR_GEO_H
#define KADASTR_GEO_H

#include "kadastr/core.h"

#include <geos_c.h>
#include <proj.h>

struct kd_geo;

/* OUT g, freed by kd_geo_free. */
enum kd_code kd_geo_new(struct kd_geo **g, struct kd_err *err) KD_WUR;
void kd_geo_free(struct kd_geo *g);
GEOSContextHandle_t kd_geo_geos(struct kd_geo *g);
PJ_CONTEXT *kd_geo_proj(struct kd_geo *g);
/* The last GEOS message on this handle ("" if none). */
const char *kd_geo_geos_msg(struct kd_geo *g);

/* ---- CRS ---------------------------------------------------------------------------------- */

/* Parses "EPSG:NNNN" (or a bare number). Errors: KD_EINVAL "crs.syntax". */
enum kd_code kd_crs_parse_epsg(const char *s, int *srid, struct kd_err *err) KD_WUR;
/* Checks that EPSG:srid exists and is a projected CRS in metres (an office CRS).
 * Errors: KD_EINVAL "crs.unknown", "crs.geographic", "crs.not_projected", "crs.units". */
enum kd_code kd_crs_check_office(struct kd_geo *g, int srid, struct kd_err *err) KD_WUR;
/* A short name of EPSG:srid ("WGS 84 / UTM zone 42N"), or "" when unknown. */
void kd_crs_name(struct kd_geo *g, int srid, char *out, size_t size);

/* The area of use of EPSG:srid, lon/lat W,S,E,N. Errors: KD_EGEO "crs.no_area". */
enum kd_code kd_crs_area_of_use(struct kd_geo *g, int srid, double area[4],
                                struct kd_err *err) KD_WUR;
/* The box (W,S,E,N in the CRS src) in lon/lat degrees, edges densified. */
enum kd_code kd_crs_box_lonlat(struct kd_geo *g, const char *src, const double in[4], double out[4],
                               struct kd_err *err) KD_WUR;

/* ---- choosing and running coordinate operations ------------------------------------------- */

/* The chosen operation from a source CRS to a target CRS (DESIGN: docs/architecture.md,
 * "Choosing a coordinate operation"). */
struct kd_op_choice {
    char *definition;         /* PROJ pipeline, normalized axis order (malloc'd) */
    char name[512];           /* the operation's name */
    char transformation[256]; /* datum transformation steps ("Pulkovo 1942 to WGS 84 (16)
                                 (EPSG:15865)"), "" when only conversions */
    double accuracy_m;        /* PROJ's stated accuracy, 0 for conversions, -1 unknown */
    int ballpark;             /* only a ballpark operation exists */
    int covers_office;        /* the operation's area of use contains the office area */
    char warning[256];        /* "" or why the user should look */
};
void kd_op_choice_fini(struct kd_op_choice *c);

/* Chooses the operation from src (any CRS string PROJ accepts: "EPSG:28412", WKT, PROJJSON)
 * to EPSG:dst_srid: the first candidate, in PROJ's order, whose area of use strictly
 * contains office_area (lon/lat W,S,E,N) and that PROJ can instantiate (its grids are
 * present); when none does, PROJ's best instantiable one for data_area (may be NULL) with a
 * warning. OUT c (fini it). Errors: KD_EGEO "crs.unknown", "op.none". */
enum kd_code kd_op_choose(struct kd_geo *g, const char *src, int dst_srid,
                          const double office_area[4], const double *data_area,
                          struct kd_op_choice *c, struct kd_err *err) KD_WUR;

struct kd_xform;
/* Instantiates a pipeline made by kd_op_choose (or "EPSG:a"->"EPSG:b" via kd_xform_epsg).
 * OUT xf (kd_xform_free). Errors: KD_EGEO "op.create". */
enum kd_code kd_xform_new(struct kd_geo *g, const char *definition, struct kd_xform **xf,
                          struct kd_err *err) KD_WUR;
/* The operation between two EPSG CRSs chosen as kd_op_choose does, for office_area. */
enum kd_code kd_xform_epsg(struct kd_geo *g, int src_srid, int dst_srid,
                           const double office_area[4], struct kd_xform **xf,
                           struct kd_err *err) KD_WUR;
void kd_xform_free(struct kd_xform *xf);
/* The definition the transformation was made from (a PROJ string or pipeline): what decides
 * its output, so a result kept on disk can name the transformation that made it. */
const char *kd_xform_definition(const struct kd_xform *xf);
/* Transforms n points in place (forward, or inverse when inverse != 0).
 * Errors: KD_EGEO "op.failed" with the first failing point. */
enum kd_code kd_xform_points(struct kd_xform *xf, int inverse, double *x, double *y, size_t n,
                             struct kd_err *err) KD_WUR;
/* Transforms every coordinate of a WKB geometry in place. */
enum kd_code kd_xform_wkb(struct kd_xform *xf, int inverse, unsigned char *wkb, size_t len,
                          struct kd_err *err) KD_WUR;
/* Transforms a box (W,S,E,N) with its edges sampled at 21 points each: the box of the
 * transformed outline. Errors: KD_EINVAL "op.box" (empty or not finite), KD_EGEO
 * "op.failed" (a point outside the operation's domain). */
enum kd_code kd_xform_box(struct kd_xform *xf, int inverse, const double in[4], double out[4],
                          struct kd_err *err) KD_WUR;

/* ---- WKB ---------------------------------------------------------------------------------- */

/* Checks the structure of an ISO WKB geometry (2D or with Z/M, which are refused by
 * kd_wkb_type as not 2D). OUT type (1 Point .. 7 GeometryCollection, +1000 Z, +2000 M,
 * +3000 ZM). Errors: KD_EINVAL "wkb.malformed". */
enum kd_code kd_wkb_type(const unsigned char *wkb, size_t len, unsigned *type,
                         struct kd_err *err) KD_WUR;
/* Bounding box of a 2D WKB geometry (W,S,E,N). */
enum kd_code kd_wkb_box(const unsigned char *wkb, size_t len, double box[4],
                        struct kd_err *err) KD_WUR;

/* Each ring of a 2D Polygon or MultiPolygon, in order: fn gets the polygon's index (0 for a
 * Polygon), the ring's index in its polygon (0: the shell, then the holes) and its points
 * decoded to host doubles (x0, y0, x1, y1, ...; valid for the call). A non-zero return from
 * fn stops the walk and is returned. Errors (-1 from the walk itself): malformed WKB, or a
 * geometry that is not a 2D (Multi)Polygon. */
typedef int (*kd_wkb_ring_fn)(void *ud, uint32_t polygon, uint32_t ring, const double *xy,
                              uint32_t n);
int kd_wkb_polygon_rings(const unsigned char *wkb, size_t len, kd_wkb_ring_fn fn, void *ud);

/* A ring of a Polygon or MultiPolygon WKB, read in place (valid while the WKB is). */
struct kd_wkb_ring {
    const unsigned char *xy; /* n points: x,y pairs of doubles in the WKB's byte order */
    uint32_t n;
    int swap;         /* the doubles are not in the host's byte order */
    uint32_t polygon; /* the polygon's index (0 for a Polygon) */
    uint32_t ring;    /* the ring's index in its polygon: 0 the shell, then the holes */
};
/* Point i (< r->n) of a ring, decoded to host doubles. */
void kd_wkb_ring_point(const struct kd_wkb_ring *r, uint32_t i, double *x, double *y);
/* All n points of a ring into x[] and y[] (n doubles each). */
void kd_wkb_ring_xy(const struct kd_wkb_ring *r, double *x, double *y);

/* Writes a 2D Polygon or MultiPolygon WKB as an RFC 7946 geometry object into out:
 * {"type":"Polygon","coordinates":[...]} or {"type":"MultiPolygon","coordinates":[[...]]},
 * where fn writes each ring's coordinates array (its orientation, CRS and decimals are fn's)
 * in order. One pass, in place; bytes after the geometry are not read. Errors: KD_EINVAL
 * "wkb.type" (not a Polygon or MultiPolygon: nothing written), "wkb.malformed" (out may hold
 * part of the geometry: the caller cuts it back), or what fn returns (it stops the walk). */
typedef enum kd_code (*kd_wkb_geojson_ring_fn)(void *ud, const struct kd_wkb_ring *r,
                                               struct kd_buf *out, struct kd_err *err);
enum kd_code kd_wkb_geojson_geometry(const unsigned char *wkb, size_t len,
                                     kd_wkb_geojson_ring_fn fn, void *ud, struct kd_buf *out,
                                     struct kd_err *err) KD_WUR;

/* ---- geodesic area ------------------------------------------------------------------------ */

struct kd_geod;
/* Areas on the ellipsoid of EPSG:srid's geodetic CRS, from geometries in EPSG:srid.
 * OUT gd (kd_geod_free). */
enum kd_code kd_geod_new(struct kd_geo *g, int srid, struct kd_geod **gd,
                         struct kd_err *err) KD_WUR;
void kd_geod_free(struct kd_geod *gd);
/* The geodesic area (m², >= 0) of a Polygon/MultiPolygon WKB in the office CRS: exterior
 * rings minus holes, with PROJ's geod_polygonarea. */
enum kd_code kd_geod_area_wkb(struct kd_geod *gd, const unsigned char *wkb, size_t len,
                              double *area_m2, struct kd_err *err) KD_WUR;

/* ---- GEOS helpers ------------------------------------------------------------------------- */

/* Reads WKB into a GEOS geometry of g's handle (GEOSGeom_destroy_r it). NULL on error. */
GEOSGeometry *kd_geos_from_wkb(struct kd_geo *g, const unsigned char *wkb, size_t len,
                               struct kd_err *err);
/* Writes ISO WKB little endian 2D (free() it). NULL on error. */
unsigned char *kd_geos_to_wkb(struct kd_geo *g, const GEOSGeometry *geom, size_t *len,
                              struct kd_err *err);
/* Why geom is invalid ("Self-intersection at or near point 1 2"), with its location;
 * returns 1 valid, 0 invalid (reason filled), -1 GEOS error. */
int kd_geos_validity(struct kd_geo *g, const GEOSGeometry *geom, char *reason, size_t size,
                     double *x, double *y);
/* MakeValid with the STRUCTURE method, keeping only the polygonal part as a MultiPolygon.
 * Returns a new geometry or NULL (nothing polygonal left, or GEOS failed). */
GEOSGeometry *kd_geos_make_valid_polygonal(struct kd_geo *g, const GEOSGeometry *geom);
/* Returns geom as a MultiPolygon (a new geometry) if it is a Polygon or MultiPolygon. */
GEOSGeometry *kd_geos_to_multipolygon(struct kd_geo *g, const GEOSGeometry *geom);

#endif
