/* SPDX-License-Identifier: Apache-2.0 */
/* ingest: `kadastr load`. Reads anything GDAL reads (also inside .zip, .tar.gz, .tar.bz2),
 * maps source fields to kadastr's, transforms to the office CRS with the operation chosen
 * once per source CRS, validates every feature with GEOS, and writes one transaction over
 * all sources of a command: all of it lands, or none of it. Rejected features are counted
 * by reason and written to a rejects file. */
#ifndef KADASTR_INGEST_H
#define KADASTR_INGEST_H

#include "kadastr/core.h"
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <signal.h>

/* Why a feature was rejected: the first that applies, in this order (docs/cli.md). */
enum kd_reason {
    KD_R_NULL_GEOMETRY = 0, /* null or empty */
    KD_R_WRONG_TYPE,        /* not a Polygon or MultiPolygon */
    KD_R_INVALID_GEOMETRY,  /* GEOS's reason and location, in the office CRS */
    KD_R_MISSING_NUMBER,    /* parcels and rights: no cadastral number */
    KD_R_BAD_NUMBER,        /* not in the register's number format */
    KD_R_DUPLICATE_NUMBER,  /* shared within the command, or live already and different */
    KD_R_BAD_DECLARED_AREA, /* zero or negative */
    KD_R_MISSING_CODE,      /* zones, restrictions, admin units: no code */
    KD_R_MISSING_FIELD,     /* a required attribute is empty */
    KD_R_BAD_PARTY_ID,      /* not a 14-digit PINFL or 9-digit STIR */
    KD_R_BAD_SHARE,         /* not an exact fraction in (0, 1] */
    KD_R_BAD_DATE,          /* not YYYY-MM-DD, or in the future */
    KD_R_UNKNOWN_PARCEL,    /* rights: no live parcel with that number */
    KD_R_UNKNOWN_PARTY,     /* rights: no party with that PINFL/STIR */
    KD_R_CONFLICT,          /* contradicts what the register holds */
    KD_R_FIELD_TOO_LONG,    /* a text longer than the register keeps (never cut) */
    KD_R_COUNT
};
const char *kd_reason_name(enum kd_reason r);

struct kd_load_counts {
    long read, loaded, unchanged, rejected, repaired, replaced, warnings;
    long by_reason[KD_R_COUNT];
};

struct kd_load_source {
    char name[512]; /* as given on the command line */
    char layer[128];
    struct kd_load_counts counts;
};

struct kd_load_result {
    struct kd_load_counts total;
    struct kd_load_source *sources; /* n_sources entries */
    int n_sources;
    char source_crs[256];    /* of the last source */
    struct kd_store_op op;   /* the operation used (the last source's) */
    char rejects_path[1024]; /* "" when nothing was rejected */
    char repaired_ids[2048]; /* "source:fid, ..." of repaired features (cut when long) */
    double seconds;
};
void kd_load_result_fini(struct kd_load_result *r);

enum kd_dup_policy {
    KD_DUP_DEFAULT = 0, /* the mapping's choice, else reject */
    KD_DUP_REJECT,
    KD_DUP_MERGE
};

struct kd_load_opts {
    enum kd_layer as;    /* what the sources hold */
    const char *layer;   /* --layer, or NULL */
    const char *mapping; /* --mapping file, or NULL */
    const char *s_srs;   /* --s-srs, or NULL */
    int repair;          /* --repair */
    int replace;         /* --replace */
    const char *rejects; /* --rejects FILE (.gpkg or .geojson), or NULL for a default
                            next to the database */
    const char *db_path; /* to place the default rejects file */
    /* Progress, called every few hundred features (may be NULL). */
    void (*progress)(void *ud, long done, long total);
    void *progress_ud;
    /* Set by a signal handler: the load stops, rolls back and returns KD_EINTERRUPTED. */
    volatile sig_atomic_t *interrupted;
    /* Informational lines for the user ("transformation: ..."); may be NULL. */
    void (*note)(void *ud, const char *line);
    void *note_ud;
};

/* Loads sources into st (opened KD_STORE_RW) as one transaction. OUT res (fini it) also on
 * error, for what was counted. Errors (the database is unchanged): KD_EINVAL/KD_EIO/KD_EGEO
 * with keys "load.open", "load.layer", "load.no_crs", "load.cut_number", "mapping.*", ...;
 * KD_EINTERRUPTED. A load with rejected features is not an error (check res->total). */
enum kd_code kd_load(struct kd_store *st, struct kd_geo *g, const char *const *sources,
                     int n_sources, const struct kd_load_opts *opts, struct kd_load_result *res,
                     struct kd_err *err) KD_WUR;

/* ---- the write path shared by load and sample --------------------------------------------- */

/* A writer for one store connection inside a write transaction. It computes areas (planar
 * in the office CRS, geodesic), the EPSG:3857 copy and the overlay cache. OUT w
 * (kd_writer_close). */
struct kd_writer;
enum kd_code kd_writer_open(struct kd_store *st, struct kd_geo *g, struct kd_writer **w,
                            struct kd_err *err) KD_WUR;
void kd_writer_close(struct kd_writer *w);
/* A parcel's write in three steps, so that the work can run on two threads: prepare (GEOS
 * on the writer's handle: planar area, overlays), project (PROJ on a kd_writer_proj of the
 * thread that runs it: geodesic area, EPSG:3857 copy) and commit (the store).
 * kd_writer_ready (store reads) must have run since the last area was written. */
struct kd_overlay_hit {
    enum kd_layer layer;
    int64_t area_id;
    double area_m2;
};
struct kd_parcel_prep {
    double area_m2, geodesic_area_m2;
    unsigned char *web; /* the EPSG:3857 copy */
    size_t web_len;
    struct kd_overlay_hit *ov; /* the zones and restrictions it lies on (live versions) */
    size_t n_ov, cap_ov;
};
void kd_parcel_prep_fini(struct kd_parcel_prep *p);
enum kd_code kd_writer_ready(struct kd_writer *w, struct kd_err *err) KD_WUR;
/* wkb: a valid MultiPolygon (or Polygon) in the office CRS; geom: the same in GEOS, or
 * NULL. OUT prep (zero it first; reusable; kd_parcel_prep_fini). */
enum kd_code kd_writer_parcel_prepare(struct kd_writer *w, const unsigned char *wkb, size_t len,
                                      const GEOSGeometry *geom, int live,
                                      struct kd_parcel_prep *prep, struct kd_err *err) KD_WUR;
/* The PROJ side for one thread (its own PROJ context). OUT p (kd_writer_proj_free). */
struct kd_writer_proj;
enum kd_code kd_writer_proj_new(struct kd_writer *w, struct kd_writer_proj **p,
                                struct kd_err *err) KD_WUR;
void kd_writer_proj_free(struct kd_writer_proj *p);
enum kd_code kd_writer_parcel_project(struct kd_writer_proj *p, const unsigned char *wkb,
                                      size_t len, struct kd_parcel_prep *prep,
                                      struct kd_err *err) KD_WUR;
/* Inserts p (its areas and 3857 copy from prep) and its overlays. OUT id. Errors: those of
 * kd_store_parcel_insert ("store.duplicate_live" leaves nothing written). */
enum kd_code kd_writer_parcel_commit(struct kd_writer *w, struct kd_parcel_new *p,
                                     const struct kd_parcel_prep *prep, int64_t *id,
                                     struct kd_err *err) KD_WUR;
/* Inserts a parcel version. p->wkb_cad: a valid MultiPolygon in the office CRS; geom: the
 * same as a GEOS geometry of g's handle, or NULL to read it from the WKB. The writer sets
 * p->area_m2 and p->geodesic_area_m2 (and uses its own EPSG:3857 copy); a live version
 * (valid_to NULL) gets its overlays. OUT id (may be NULL). */
enum kd_code kd_writer_parcel(struct kd_writer *w, struct kd_parcel_new *p,
                              const GEOSGeometry *geom, int64_t *id, struct kd_err *err) KD_WUR;
/* Inserts a zone, restriction or admin unit (a->wkb_cad as above); a zone or restriction
 * gets its overlays with the live parcels in its box. OUT id (may be NULL). */
enum kd_code kd_writer_area(struct kd_writer *w, struct kd_area_new *a, const GEOSGeometry *geom,
                            int64_t *id, struct kd_err *err) KD_WUR;

#endif
