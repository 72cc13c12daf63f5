/* SPDX-License-Identifier: Apache-2.0 */
/* cadastre: answers about the register. Lookups by number, point, area, neighbours and history;
 * an in-memory index of the live parcels for the hot path (many points, many boxes); GeoJSON
 * of a parcel as lookups and the server show it; batches of points (lookup --points);
 * open-data export through GDAL.
 * Geometry is in the office CRS unless a name says otherwise. Every handle here belongs to the
 * thread whose struct kd_geo made it: the HTTP server builds one index per worker. */
#ifndef KADASTR_CADASTRE_H
#define KADASTR_CADASTRE_H

#include "kadastr/core.h"
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <stdint.h>

/* The gap tolerance of check G4 (DOMAIN.md): parcels this close count as neighbours. */
#define KD_LOOKUP_GAP_TOL_M 0.05

/* ---- results ------------------------------------------------------------------------------ */

/* One parcel found by a lookup. Fields a lookup does not compute stay 0 / "". */
struct kd_parcel_hit {
    int64_t id;                 /* the parcel version (store id) */
    char number[KD_CADNUM_MAX]; /* its cadastral number */
    int on_boundary;            /* point lookups: the point lies on the parcel's boundary */
    double distance_m;          /* neighbours: GEOS distance to the parcel asked about */
    double shared_m;            /* neighbours: shared boundary length (docs/cli.md) */
    const char *contact;        /* neighbours: "edge", "corner", "gap" or "overlap" (static
                                   strings); NULL for other lookups */
    struct kd_parcel *parcel;   /* the parcel's record when the list keeps records (below),
                                   else NULL; owned by the list, valid until its next query
                                   or kd_hits_fini */
};

/* What a list of hits keeps beyond numbers and ids. */
enum kd_hits_keep {
    KD_HITS_KEEP_NONE = 0, /* numbers and ids only (the hot path) */
    KD_HITS_KEEP_RECORD,   /* each hit's parcel record, without geometry */
    KD_HITS_KEEP_GEOM      /* each hit's parcel record with its WKB (office CRS) */
};

/* A growable list of hits (hits.c). Queries reset it and refill it, so one list reused
 * across queries allocates only while it grows. Set keep after kd_hits_init to have the
 * store lookups (kd_lookup_point, kd_lookup_area, kd_lookup_neighbours) keep the record they
 * read for each hit in hit->parcel, so that the caller need not read it again; the index
 * queries hold no records and leave hit->parcel NULL. */
struct kd_hits {
    struct kd_parcel_hit *v;
    size_t n, cap;
    enum kd_hits_keep keep;
};
void kd_hits_init(struct kd_hits *h);
void kd_hits_fini(struct kd_hits *h);

/* ---- the in-memory index of live parcels (parcel_index.c) ---------------------------------- */

/* Every parcel version current at a time (normally the live register), as GEOS geometries in
 * a GEOS STRtree, with prepared geometries made on first use. No SQL after the build. */
struct kd_parcel_index;

struct kd_parcel_index_stats {
    size_t n_parcels;
    double build_s;    /* wall time of kd_parcel_index_build */
    size_t heap_bytes; /* heap held after the build (glibc mallinfo2 difference; 0 when not
                          measurable, e.g. under AddressSanitizer); prepared geometries made
                          later add to it */
    size_t n_prepared; /* prepared geometries made so far */
};

/* Reads every parcel current at as_of (NULL: the live register) from st through
 * kd_store_parcels_foreach and indexes it with g's GEOS handle. st is used only during the
 * call. OUT idx, freed by kd_parcel_index_free (on the thread of g, before g is freed).
 * Errors: those of the store; KD_EGEO "geos.read" for a geometry GEOS cannot read,
 * "index.no_geometry" for a parcel without one; KD_ENOMEM "index.nomem". */
enum kd_code kd_parcel_index_build(struct kd_store *st, struct kd_geo *g, const char *as_of,
                                   struct kd_parcel_index **idx, struct kd_err *err) KD_WUR;
void kd_parcel_index_free(struct kd_parcel_index *idx);
void kd_parcel_index_stats(const struct kd_parcel_index *idx, struct kd_parcel_index_stats *out);

/* Parcels covering the point (x, y in the office CRS): out is reset, then holds every parcel
 * whose closure contains the point, in number order; a point on a shared boundary finds
 * both, each with on_boundary = 1. No allocation once out and the index's scratch space have
 * grown. Not reentrant on one index (it keeps scratch space): one query at a time.
 * Errors: KD_EGEO "geos.query", KD_ENOMEM. */
enum kd_code kd_parcel_index_point(struct kd_parcel_index *idx, double x, double y,
                                   struct kd_hits *out, struct kd_err *err) KD_WUR;
/* Parcels intersecting area (a polygon of the index's GEOS handle, office CRS), exactly
 * (GEOS prepared intersects), in number order. */
enum kd_code kd_parcel_index_area(struct kd_parcel_index *idx, const GEOSGeometry *area,
                                  struct kd_hits *out, struct kd_err *err) KD_WUR;
/* Parcels intersecting the rectangle W,S,E,N (office CRS), exactly. Any finite box: it is
 * first clipped to the extent of the indexed parcels. Errors: KD_EINVAL "lookup.box" (empty,
 * inverted or not finite), those of kd_parcel_index_area. */
enum kd_code kd_parcel_index_box(struct kd_parcel_index *idx, const double box[4],
                                 struct kd_hits *out, struct kd_err *err) KD_WUR;

/* ---- the shared index of live shapes (shape_index.c) --------------------------------------- */

/* Every live parcel, zone and restriction as coordinate arrays (office CRS) under a packed
 * R-tree. Immutable once built: any number of threads query one index at once, each with its
 * own store connection and GEOS handle (GEOS decides only the rare point that doubles cannot
 * place within their error bound). About 100 bytes per shape plus 16 per vertex. It answers
 * for the register as it was read: a parcel retired since is not a hit (its record says so). */
struct kd_shape_index;

struct kd_shape_index_stats {
    size_t n_parcels, n_zones, n_restrictions, n_points;
    size_t bytes; /* held by the index */
    double build_s;
};

/* Reads the live shapes of st. Errors: those of the store; KD_EGEO "index.no_geometry",
 * "geos.read" (not a polygon); KD_ENOMEM "index.nomem". */
enum kd_code kd_shape_index_build(struct kd_store *st, struct kd_shape_index **out,
                                  struct kd_err *err) KD_WUR;
void kd_shape_index_free(struct kd_shape_index *idx);
void kd_shape_index_stats(const struct kd_shape_index *idx, struct kd_shape_index_stats *out);
/* As kd_lookup_point on the live register (same hits, same on_boundary, number order): the
 * index finds the parcels, st gives their records (out->keep), g decides near-edge points. */
enum kd_code kd_shape_index_parcels_at(const struct kd_shape_index *idx, struct kd_store *st,
                                       struct kd_geo *g, double x, double y, struct kd_hits *out,
                                       struct kd_err *err) KD_WUR;
/* The zones or restrictions (layer) whose closure holds the point: appends their JSON objects
 * ({"code","kind","name"}), comma-separated, in id order (the order of registration), to
 * out. */
enum kd_code kd_shape_index_areas_at(const struct kd_shape_index *idx, struct kd_geo *g,
                                     enum kd_layer layer, double x, double y, struct kd_buf *out,
                                     struct kd_err *err) KD_WUR;

/* ---- one-shot lookups through the store (lookup.c) ----------------------------------------- */

/* For a single question the index is not worth its build: these ask the store's R*Tree for
 * candidates and test them exactly with GEOS. as_of: NULL for the live register, else a
 * register time ("YYYY-MM-DDTHH:MM:SSZ", see kd_time_parse). They keep each hit's record
 * when out->keep asks (struct kd_hits). */

/* As kd_parcel_index_point. */
enum kd_code kd_lookup_point(struct kd_store *st, struct kd_geo *g, const char *as_of, double x,
                             double y, struct kd_hits *out, struct kd_err *err) KD_WUR;
/* As kd_parcel_index_area. */
enum kd_code kd_lookup_area(struct kd_store *st, struct kd_geo *g, const char *as_of,
                            const GEOSGeometry *area, struct kd_hits *out,
                            struct kd_err *err) KD_WUR;
/* Parcels that touch number's parcel or lie within tol_m of it (GEOS distance <= tol_m), in
 * number order, with distance_m, shared_m and contact filled. shared_m: for parcels that
 * touch, the length of the intersection of the two boundaries (0 for a corner); for parcels
 * apart by a gap, the length of number's boundary within tol_m of the neighbour (it counts up
 * to tol_m extra at each end of the common stretch). Errors: KD_ENOTFOUND
 * "parcel.not_found". */
enum kd_code kd_lookup_neighbours(struct kd_store *st, struct kd_geo *g, const char *number,
                                  const char *as_of, double tol_m, struct kd_hits *out,
                                  struct kd_err *err) KD_WUR;

/* Every version of a number, oldest first, with its lineage both ways. */
struct kd_history_version {
    struct kd_parcel parcel;    /* without geometry */
    struct kd_lineage *parents; /* what this version was made from (kind: "split-of", ...) */
    size_t n_parents;
    struct kd_lineage *children; /* what was made from it (kind as the child states it) */
    size_t n_children;
};
struct kd_history {
    struct kd_history_version *v;
    size_t n;
};
void kd_history_fini(struct kd_history *h);
/* OUT h (kd_history_fini it). Errors: KD_ENOTFOUND "parcel.no_history" when the number was
 * never registered. */
enum kd_code kd_lookup_history(struct kd_store *st, const char *number, struct kd_history *h,
                               struct kd_err *err) KD_WUR;

/* The office CRS's area of use (PROJ), lon/lat degrees W,S,E,N. Errors: KD_EGEO
 * "crs.area_of_use". */
enum kd_code kd_lookup_area_of_use(struct kd_geo *g, int srid, double aou[4],
                                   struct kd_err *err) KD_WUR;
/* The rectangle box (W,S,E,N in xf's source CRS) as a polygon in xf's target CRS: every edge
 * densified to 32 segments before transforming, so that the curved image of a lon/lat box
 * is followed to well under a metre over a district. Any finite box (vertices are
 * interpolated so that none overflows). xf NULL: no transformation. OUT area
 * (GEOSGeom_destroy_r with g's handle), OUT env its envelope (may be NULL).
 * Errors: KD_EINVAL "lookup.box" (empty, inverted or not finite), KD_EGEO "op.failed". */
enum kd_code kd_lookup_box_polygon(struct kd_geo *g, struct kd_xform *xf, const double box[4],
                                   GEOSGeometry **area, double env[4], struct kd_err *err) KD_WUR;

/* Parcels intersecting the rectangle box (W,S,E,N in the CRS in_srid), exactly, boundary
 * contact included (docs/cli.md, "Boxes"). to_office takes in_srid to the office CRS (NULL
 * when in_srid is the office CRS). The box is first clipped to the office CRS's area of use,
 * carried into in_srid with its edges densified (lon/lat input is clipped as it is), so that
 * any finite box works; then it becomes a polygon (kd_lookup_box_polygon) asked of
 * kd_lookup_area. OUT outside: 1 when nothing of the box is left after the clip (out is then
 * empty), else 0. out as kd_lookup_area (it keeps records when out->keep asks).
 * Errors: KD_EINVAL "lookup.box" (empty, inverted or not finite); KD_EGEO "crs.area_of_use";
 * those of taking the area of use into in_srid (not for the office CRS itself: a box in it is
 * then used unclipped), of kd_lookup_box_polygon and of kd_lookup_area. */
enum kd_code kd_lookup_box(struct kd_store *st, struct kd_geo *g, const char *as_of, int in_srid,
                           struct kd_xform *to_office, const double box[4], struct kd_hits *out,
                           int *outside, struct kd_err *err) KD_WUR;

/* ---- GeoJSON (lookup_json.c) --------------------------------------------------------------- */

/* What a parcel feature carries beyond the parcel itself. */
struct kd_lookup_json_opts {
    struct kd_xform *to_4326; /* office CRS -> EPSG:4326 lon/lat (kd_xform_epsg) */
    const char *as_of;        /* rights current at this time (NULL: live) */
    int with_rights;          /* rights on the parcel (kind, share) */
    int with_parties;         /* rights name their parties (the office's own tools only) */
    int with_overlays;        /* zones and restrictions on the parcel (kd_store_overlays_of) */
    int decimals;             /* of lon/lat; 0 means 7 (about 1 cm) */
};

/* Appends an RFC 7946 Feature for parcel p (p->wkb in the office CRS; NULL gives a null
 * geometry): "id" is the cadastral number; properties cadastral_number, land_category,
 * land_use, address, area_m2, geodesic_area_m2, declared_area_m2 (null when absent),
 * valid_from, valid_to (null while live), operation, zones, restrictions and rights as asked,
 * and from hit (may be NULL): the neighbour fields distance_m, shared_boundary_m and contact
 * when hit->contact is set, else on_boundary. Coordinates lon/lat with 7 decimals,
 * exterior rings counter-clockwise. Reads overlays and rights from st. On error out is
 * unchanged (no half feature). Errors: those of the store and of kd_lookup_json_geometry,
 * KD_EGEO "op.failed", KD_ENOMEM "lookup.nomem". */
enum kd_code kd_lookup_json_feature(struct kd_store *st, const struct kd_lookup_json_opts *o,
                                    const struct kd_parcel *p, const struct kd_parcel_hit *hit,
                                    struct kd_buf *out, struct kd_err *err) KD_WUR;
/* Appends the GeoJSON geometry object of a 2D WKB Polygon or MultiPolygon (already in lon/lat)
 * with `decimals` decimals, exterior rings counter-clockwise and holes clockwise. On error
 * out is unchanged. Errors: KD_EINVAL "wkb.malformed", "wkb.type". */
enum kd_code kd_lookup_json_geometry(const unsigned char *wkb, size_t len, int decimals,
                                     struct kd_buf *out, struct kd_err *err) KD_WUR;

/* Appends a lineage list as a JSON array of {"kind","cadastral_number","valid_from"}. */
void kd_lookup_json_lineage(struct kd_buf *out, const struct kd_lineage *l, size_t n);

/* ---- a batch of points (points.c) --------------------------------------------------------- */

/* `kadastr lookup --points` (docs/cli.md): one x,y per input line, exactly one answer line per
 * input line, in order, answered through the in-memory index. CSV answers: `x,y,numbers`
 * (the input's x,y as given, numbers joined by ';', empty when no parcel), `x,y,,error` for a
 * line that is not x,y or cannot be transformed, a first line with a comma and no digit
 * echoed as a header; with json, one JSON object a line. One batch belongs to one thread. */
struct kd_points;

struct kd_points_opts {
    int json;                   /* JSON lines instead of CSV */
    struct kd_xform *to_office; /* the input's CRS -> the office CRS; NULL when the same */
    /* Where the answers go: called with each block of answer lines, in order (len may be 0;
     * data is never NULL). flush: the block must reach its reader now (before a read that
     * may block, before an error stops the batch, at the end). Returns 0, or nonzero to stop
     * the batch. */
    int (*write)(void *ud, const char *data, size_t len, int flush);
    void *write_ud;
};

struct kd_points_stats {
    long n_lines;   /* input lines, each answered (a header included) */
    long n_bad;     /* lines answered with an error (not x,y, not transformable, too long) */
    double seconds; /* wall time of kd_points_run (reading, answering, writing) */
};

/* Opens the input at path ("-": standard input, which is not closed) and refuses what
 * cannot be a file of lines (missing, unreadable, a directory) with the system's reason,
 * before the caller builds an index for nothing. OUT pts, freed by kd_points_close.
 * Errors: KD_EIO "lookup.points_open" (where: path; a hint); KD_ENOMEM "lookup.nomem". */
enum kd_code kd_points_open(const char *path, struct kd_points **pts, struct kd_err *err) KD_WUR;
void kd_points_close(struct kd_points *pts);
/* Reads every line of pts and hands its answer to o->write; input lines are read with
 * read(2) into a 1 MiB buffer (a longer line is answered "line too long") and answers handed
 * on in blocks of about 64 KB. Allocates nothing per point once its buffers have grown. A
 * line that cannot be answered is not an error (it is answered so, and counted in n_bad).
 * OUT stats (may be NULL). Errors, after every answer so far has been handed on: those of
 * kd_parcel_index_point, KD_EIO "lookup.points_read" (where: "NAME: line N", the line not
 * read); KD_EIO "lookup.points_write" when o->write refused (where: "NAME: line N", the last
 * line read); KD_ENOMEM "lookup.nomem" (answers waiting are dropped). */
enum kd_code kd_points_run(struct kd_points *pts, struct kd_parcel_index *idx,
                           const struct kd_points_opts *o, struct kd_points_stats *stats,
                           struct kd_err *err) KD_WUR;
/* Parses s as n numbers separated by commas (spaces and tabs allowed after each) filling the
 * whole string: the x,y of a --points line, a --point or --bbox argument. OUT v[0..n-1], finite.
 * Returns 0, or -1 when s is anything else (v then undefined). */
int kd_points_parse_numbers(const char *s, double *v, int n);

/* ---- prepared answers (answers.c) ----------------------------------------------------------- */

/* The anonymous answer of a parcel, the body of GET /api/v1/parcels/{number}: a Feature
 * (kd_lookup_json_feature) with zones, restrictions and rights (kinds and shares, never
 * parties), lon/lat by to_4326 (office CRS -> EPSG:4326) with 7 decimals. */
enum kd_code kd_answer_parcel(struct kd_store *st, struct kd_xform *to_4326,
                              const struct kd_parcel *p, struct kd_buf *out,
                              struct kd_err *err) KD_WUR;
/* The fingerprint of answers made with to_4326 by this build (16 hex digits): the answer
 * format's version, the transformation's definition and the answer of a fixed parcel.
 * Answers kept with another fingerprint are not served. */
enum kd_code kd_answers_fingerprint(struct kd_store *st, struct kd_xform *to_4326, char out[17],
                                    struct kd_err *err) KD_WUR;
/* Whether the answers kept in st were made as this build makes them with to_4326. */
enum kd_code kd_answers_usable(struct kd_store *st, struct kd_xform *to_4326, int *usable,
                               struct kd_err *err) KD_WUR;
/* A maker of answers on one store connection (opened for writing) and its thread's geo. */
struct kd_answers;
enum kd_code kd_answers_open(struct kd_store *st, struct kd_geo *g, struct kd_answers **a,
                             struct kd_err *err) KD_WUR;
void kd_answers_close(struct kd_answers *a);
/* Inside a write transaction: prepares up to max (0: a large batch) of the answers missing
 * (all of them, first dropped, when the kept fingerprint is not this build's). OUT n (may be
 * NULL) made, more: 1 when there may be more. */
enum kd_code kd_answers_step(struct kd_answers *a, long max, int64_t *n, int *more,
                             struct kd_err *err) KD_WUR;
/* Whether the last step wrote a new fingerprint (readers that found the old one unusable
 * should look again once it commits). */
int kd_answers_renewed(const struct kd_answers *a);
/* Inside a write transaction: every missing answer (kadastr migrate). OUT n (may be NULL). */
enum kd_code kd_answers_prepare(struct kd_store *st, struct kd_geo *g, int64_t *n,
                                struct kd_err *err) KD_WUR;

/* ---- open-data export (export.c) ----------------------------------------------------------- */

struct kd_export_opts {
    enum kd_layer layer; /* parcels, zones, restrictions or admin_units */
    int srid;            /* output CRS; 0: the office CRS */
    const char *as_of;   /* NULL: the live register */
};
struct kd_export_stats {
    long n_features;
    char driver[32]; /* the GDAL driver used */
    int srid;        /* the output CRS */
};
/* Writes the layer to a new file whose extension chooses the format: .gpkg (GeoPackage),
 * .geojson (GeoJSON; RFC 7946 when the CRS is EPSG:4326; a parcel's cadastral number is its
 * feature id, not a property, so that GDAL clients read it intact), .fgb (FlatGeobuf), .csv
 * (CSV, geometry as WKT). Open data: no parties; rights only as "kind share; ..." per parcel
 * (all of them read in one query). One GDAL transaction where the driver has them; a failure
 * removes the partial file. OUT stats (may be NULL). Errors: KD_EINVAL "export.exists",
 * "export.format", "export.layer", "crs.unknown" (the output CRS); KD_EIO "export.create"
 * (where: the path; the hint names a missing or read-only directory), "export.write"; those
 * of the store and geo. */
enum kd_code kd_export_layer(struct kd_store *st, struct kd_geo *g, const char *path,
                             const struct kd_export_opts *o, struct kd_export_stats *stats,
                             struct kd_err *err) KD_WUR;

#endif
