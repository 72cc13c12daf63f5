/* SPDX-License-Identifier: Apache-2.0 */
/* sample: a deterministic, realistic region near Tashkent, generated in EPSG:32642 (UTM 42N,
 * metres) and handed record by record to a sink. The generator knows nothing of where the
 * records go: the store (kadastr sample DB) or a GeoPackage (--export) are sinks. */
#ifndef KADASTR_SAMPLE_H
#define KADASTR_SAMPLE_H

#include "kadastr/core.h"

#define KD_SAMPLE_SRID 32642

/* Geometries are ISO WKB, little endian, 2D, in EPSG:32642, borrowed for the call only.
 * Strings are borrowed for the call only; NULL means absent. */
struct kd_sample_admin_unit {
    const char *code;  /* "10", "10:26", "10:26:01:02", "10:26:01:02:03" */
    const char *level; /* "region", "district", "zone", "massiv", "mavze" */
    const char *name;
    const char *parent_code; /* NULL for the region */
    const unsigned char *wkb;
    size_t wkb_len;
};

struct kd_sample_parcel {
    const char *cadastral_number; /* uz format, 6 groups */
    const char *land_category;    /* one of the 8 categories of DOMAIN.md, snake_case */
    const char *land_use;
    const char *address;
    double declared_area_m2; /* > 0 */
    const char *valid_from;  /* register time "YYYY-MM-DDTHH:MM:SSZ" */
    const char *valid_to;    /* NULL: live */
    const char *operation;   /* "create", "split", "merge", "correction" */
    /* lineage: numbers of the parent versions retired at valid_from (split-of: 1 parent,
     * merge-of: 2+, correction: the same number) */
    const char *const *parents;
    size_t n_parents;
    const unsigned char *wkb; /* MultiPolygon */
    size_t wkb_len;
};

struct kd_sample_area { /* a zone or a restriction */
    const char *code;   /* zone code ("R1") or restriction code ("WP-001") */
    const char *kind;   /* zones: "base"; restrictions: "water_protection",
                           "utility_corridor", "heritage" */
    const char *name;
    const char *permitted_uses; /* zones: land uses separated by ',' ; restrictions: NULL */
    const unsigned char *wkb;   /* Polygon or MultiPolygon */
    size_t wkb_len;
};

struct kd_sample_party {
    const char *kind;  /* "person" or "organisation" */
    const char *pinfl; /* person: 14 digits with a valid check digit; else NULL */
    const char *stir;  /* organisation: 9 digits; else NULL */
    const char *name;
};

struct kd_sample_right {
    const char *cadastral_number; /* a live parcel */
    const char *party_id;         /* the party's PINFL or STIR */
    const char *kind;             /* ZRU-803 kind, snake_case: "ownership", "lease", ... */
    const char *share;            /* exact fraction "1/2" */
    const char *document;         /* source document reference */
    const char *document_date;    /* "YYYY-MM-DD" */
    const char *registered_on;    /* "YYYY-MM-DD" legal registration date */
};

struct kd_sample_application {
    const char *number; /* "APP-2024-000123" */
    const char *kind;   /* "registration", "split", "merge", "correction" */
    const char *cadastral_number;
    const char *status;       /* "submitted", "in_review", "approved", "rejected" */
    const char *submitted_at; /* register time */
};

/* Every callback returns KD_OK to go on, or an error (already in err) to stop generation.
 * Order of calls: admin units (parents first), zones, restrictions, parties, parcels
 * (historic versions before the versions that replace them), rights, applications. */
struct kd_sample_sink {
    void *ud;
    enum kd_code (*admin_unit)(void *ud, const struct kd_sample_admin_unit *a, struct kd_err *err);
    enum kd_code (*zone)(void *ud, const struct kd_sample_area *z, struct kd_err *err);
    enum kd_code (*restriction)(void *ud, const struct kd_sample_area *r, struct kd_err *err);
    enum kd_code (*party)(void *ud, const struct kd_sample_party *p, struct kd_err *err);
    enum kd_code (*parcel)(void *ud, const struct kd_sample_parcel *p, struct kd_err *err);
    enum kd_code (*right)(void *ud, const struct kd_sample_right *r, struct kd_err *err);
    enum kd_code (*application)(void *ud, const struct kd_sample_application *a,
                                struct kd_err *err);
};

struct kd_sample_opts {
    long n_parcels; /* live parcels to generate, >= 1 */
    uint64_t seed;  /* same n and seed: the same region, byte for byte */
};

struct kd_sample_stats {
    long n_admin_units, n_zones, n_restrictions, n_parties, n_parcels_live, n_parcels_historic,
        n_rights, n_applications;
};

/* Generates the region into sink. OUT stats (may be NULL). Errors: those of the sink,
 * KD_EINVAL "sample.n_parcels", KD_ENOMEM. Single-threaded; reentrant (no globals). */
enum kd_code kd_sample_generate(const struct kd_sample_opts *opts,
                                const struct kd_sample_sink *sink, struct kd_sample_stats *stats,
                                struct kd_err *err) KD_WUR;

/* A sink writing a GeoPackage with layers parcels (live), zones, restrictions, admin_units
 * (geometries transformed from EPSG:32642 to crs, e.g. "EPSG:28412") and attribute tables
 * parties and rights, with kadastr's own field names (docs/formats.md), so that
 * `kadastr load` reads it without a mapping file. */
struct kd_sample_gpkg;
enum kd_code kd_sample_gpkg_open(const char *path, const char *crs, struct kd_sample_gpkg **out,
                                 struct kd_err *err) KD_WUR;
/* Fills sink with callbacks writing to g. */
void kd_sample_gpkg_sink(struct kd_sample_gpkg *g, struct kd_sample_sink *sink);
/* Commits and closes; on error the file is removed. Accepts NULL. */
enum kd_code kd_sample_gpkg_close(struct kd_sample_gpkg *g, struct kd_err *err) KD_WUR;
/* Closes without committing and removes the file. Accepts NULL. */
void kd_sample_gpkg_abort(struct kd_sample_gpkg *g);

/* A sink writing into the register (st inside a write transaction) through kd_writer, as
 * `load` does, reprojecting from EPSG:32642 to the office CRS when they differ. */
struct kd_store;
struct kd_geo;
struct kd_sample_store;
enum kd_code kd_sample_store_open(struct kd_store *st, struct kd_geo *g,
                                  struct kd_sample_store **out, struct kd_err *err) KD_WUR;
void kd_sample_store_sink(struct kd_sample_store *s, struct kd_sample_sink *sink);
void kd_sample_store_close(struct kd_sample_store *s);

#endif
