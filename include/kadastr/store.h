/* SPDX-License-Identifier: Apache-2.0 */
/* store: the register database. One struct kd_store is one connection, used by one thread
 * at a time. Callers see records and callbacks, never SQL or SQLite types, so that another
 * backend (PostGIS) can sit behind this header. Geometries cross this interface as ISO WKB
 * (little endian, 2D): geom_cad in the office CRS, geom_3857 in EPSG:3857. */
#ifndef KADASTR_STORE_H
#define KADASTR_STORE_H

#include "kadastr/core.h"

#include <stdint.h>

/* The schema version this binary writes. Older databases are migrated when opened for
 * writing; newer ones are refused. */
#define KD_STORE_SCHEMA_VERSION 4

struct kd_store;

enum kd_store_mode {
    KD_STORE_RO, /* read-only: lookups, export, the server's workers */
    KD_STORE_RW  /* read-write: load, sample, migrations */
};

/* The office's settings, fixed at init. */
struct kd_store_config {
    int srid;              /* EPSG code of the office CRS (projected, metres) */
    enum kd_numfmt numfmt; /* cadastral number format */
    double area[4];        /* the office area, lon/lat degrees: west, south, east, north */
};

enum kd_layer {
    KD_LAYER_PARCELS = 0,
    KD_LAYER_ZONES,
    KD_LAYER_RESTRICTIONS,
    KD_LAYER_ADMIN_UNITS,
    KD_LAYER_PARTIES,
    KD_LAYER_RIGHTS
};
#define KD_N_LAYERS 6
/* "parcels", "zones", ...; parse returns -1 for an unknown name. */
const char *kd_layer_name(enum kd_layer l);
int kd_layer_parse(const char *s);

/* Creates a new database at path with the current schema (or, for migration tests, an older
 * `version` >= 1; pass 0 for the current one). Refuses an existing file
 * ("store.exists"). The caller has checked that srid is a projected CRS in metres. */
/* Process-wide SQLite settings, called once by a program before anything opens a database
 * (later calls change nothing): no memory statistics (SQLite would take a global mutex on
 * every allocation of every connection: a few percent of a busy server). */
void kd_store_process_init(void);

enum kd_code kd_store_create(const char *path, const struct kd_store_config *cfg, int version,
                             struct kd_err *err) KD_WUR;

/* Opens a database. RW migrates an older schema in one transaction; RO refuses it with
 * "store.old_schema" (hint: open it once for writing, e.g. `kadastr migrate DB`). A newer
 * schema is refused with KD_EVERSION "store.new_schema". OUT st, freed by kd_store_close.
 * Errors: KD_EIO "store.missing", KD_ESTORE "store.open", "store.not_kadastr". */
enum kd_code kd_store_open(const char *path, enum kd_store_mode mode, struct kd_store **st,
                           struct kd_err *err) KD_WUR;
void kd_store_close(struct kd_store *st);

/* The office settings (borrowed while st is open). */
const struct kd_store_config *kd_store_config(const struct kd_store *st);
/* The schema version found at open (before any migration) and now. */
int kd_store_schema_version_found(const struct kd_store *st);

/* One write transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK. */
enum kd_code kd_store_begin(struct kd_store *st, struct kd_err *err) KD_WUR;
enum kd_code kd_store_commit(struct kd_store *st, struct kd_err *err) KD_WUR;
void kd_store_rollback(struct kd_store *st);
/* One read snapshot: every read between begin and end sees the same state of the register
 * (a deferred BEGIN; the read lock is taken by the first read). A server answers each
 * request in one: its queries agree with each other, and SQLite takes and drops its locks
 * once per request instead of once per statement. end never fails the caller: a snapshot
 * with only reads has nothing to lose, so an error there is rolled back. */
enum kd_code kd_store_snapshot_begin(struct kd_store *st, struct kd_err *err) KD_WUR;
void kd_store_snapshot_end(struct kd_store *st);
/* Inside a write transaction: the geometry tables whose indexes are empty (a first load)
 * get them built in bulk when the transaction commits instead of row by row (several times
 * faster for large loads). Reads through an index in the meantime build it first. */
enum kd_code kd_store_bulk_begin(struct kd_store *st, struct kd_err *err) KD_WUR;

/* Free-form metadata (kd_meta table). get: KD_ENOTFOUND when absent; value is cut to size. */
enum kd_code kd_store_meta_get(struct kd_store *st, const char *key, char *value, size_t size,
                               struct kd_err *err) KD_WUR;
enum kd_code kd_store_meta_set(struct kd_store *st, const char *key, const char *value,
                               struct kd_err *err) KD_WUR;

/* ---- coordinate operations chosen per source CRS ------------------------------------------ */

/* Once a source CRS has been transformed to the office CRS, the same operation is used for
 * every later load (ingest decides; the store remembers). Strings owned by the record. */
struct kd_store_op {
    char source_crs[256];     /* the key: the source CRS as the user or the data named it */
    char *definition;         /* PROJ pipeline (malloc'd) */
    char name[512];           /* the whole operation's name */
    char transformation[256]; /* the datum transformation step(s), or "" for conversions */
    double accuracy_m;        /* -1 when unknown */
    char warning[256];
};
void kd_store_op_fini(struct kd_store_op *op);
/* KD_ENOTFOUND when not yet recorded. OUT op (fini it). */
enum kd_code kd_store_op_get(struct kd_store *st, const char *source_crs, struct kd_store_op *op,
                             struct kd_err *err) KD_WUR;
enum kd_code kd_store_op_put(struct kd_store *st, const struct kd_store_op *op,
                             struct kd_err *err) KD_WUR;

/* ---- parcels ------------------------------------------------------------------------------ */

/* A parcel version, as read (fixed-size text; wkb owned: kd_parcel_fini). */
struct kd_parcel {
    int64_t id;
    char number[KD_CADNUM_MAX];
    char land_category[64];
    char land_use[64];
    char address[256];
    double declared_area_m2; /* NAN when absent */
    double area_m2;          /* planar, office CRS */
    double geodesic_area_m2; /* on the office CRS's ellipsoid */
    char valid_from[32];     /* register time */
    char valid_to[32];       /* "" while live */
    char operation[16];      /* "load", "replace", "create", "split", "merge", "correction" */
    char source[256];        /* the file or process it came from */
    uint64_t content_hash;   /* of geometry and attributes, to tell "unchanged" */
    unsigned char *wkb;      /* geom_cad; NULL unless asked for */
    size_t wkb_len;
};
void kd_parcel_init(struct kd_parcel *p);
void kd_parcel_fini(struct kd_parcel *p);

/* A parcel version to insert. Strings may be NULL. */
struct kd_parcel_new {
    const char *number; /* normalized */
    const char *land_category, *land_use, *address;
    double declared_area_m2; /* NAN when absent */
    double area_m2, geodesic_area_m2;
    const char *valid_from;
    const char *valid_to; /* NULL: live */
    const char *operation;
    const char *source, *source_fid;
    uint64_t content_hash;
    const unsigned char *wkb_cad;
    size_t wkb_cad_len;
    const unsigned char *wkb_3857;
    size_t wkb_3857_len;
};

/* Inserts a version. OUT id. Errors: "store.duplicate_live" (a live version of the number
 * exists), "store.insert". */
enum kd_code kd_store_parcel_insert(struct kd_store *st, const struct kd_parcel_new *p, int64_t *id,
                                    struct kd_err *err) KD_WUR;
/* Sets valid_to of a live version. */
enum kd_code kd_store_parcel_retire(struct kd_store *st, int64_t id, const char *valid_to,
                                    struct kd_err *err) KD_WUR;
/* Records lineage: child_id is "split-of", "merge-of", "replaces" or "correction-of"
 * parent_id. */
enum kd_code kd_store_lineage_add(struct kd_store *st, int64_t child_id, int64_t parent_id,
                                  const char *kind, struct kd_err *err) KD_WUR;
/* The version of number current at register time as_of (NULL: the live one).
 * with_geom: also read its WKB. Errors: KD_ENOTFOUND "parcel.not_found". */
enum kd_code kd_store_parcel_get(struct kd_store *st, const char *number, const char *as_of,
                                 int with_geom, struct kd_parcel *out, struct kd_err *err) KD_WUR;
enum kd_code kd_store_parcel_get_id(struct kd_store *st, int64_t id, int with_geom,
                                    struct kd_parcel *out, struct kd_err *err) KD_WUR;

/* Callbacks get borrowed records valid for the call; return KD_OK to go on. */
typedef enum kd_code (*kd_parcel_cb)(void *ud, const struct kd_parcel *p, struct kd_err *err);

/* Every parcel version current at as_of (NULL: the live register), in id order. */
enum kd_code kd_store_parcels_foreach(struct kd_store *st, const char *as_of, int with_geom,
                                      kd_parcel_cb cb, void *ud, struct kd_err *err) KD_WUR;
/* Live parcels whose bounding box meets the box (office CRS), through the R*Tree. */
enum kd_code kd_store_parcels_in_box(struct kd_store *st, const double box[4], int with_geom,
                                     kd_parcel_cb cb, void *ud, struct kd_err *err) KD_WUR;
/* Every version ever registered under number, oldest first. */
enum kd_code kd_store_parcel_versions(struct kd_store *st, const char *number, int with_geom,
                                      kd_parcel_cb cb, void *ud, struct kd_err *err) KD_WUR;
/* Number of parcel versions current at as_of (NULL: live). */
enum kd_code kd_store_parcels_count(struct kd_store *st, const char *as_of, int64_t *n,
                                    struct kd_err *err) KD_WUR;

/* ---- prepared answers (schema v4; src/store/answers.c) ------------------------------------ */

/* The anonymous answer of a live parcel is kept as bytes; the triggers of the schema clear
 * it in the same transaction as any change to what it shows. The store keeps the bytes;
 * cadastre makes them (kd_answers_step), after the write that cleared them. */

/* Appends the prepared answer of the live parcel numbered number to out. *found is 0 when
 * there is none (no such live parcel, or its answer is cleared and not yet prepared again):
 * the caller answers from the register then. */
enum kd_code kd_store_answer_get(struct kd_store *st, const char *number, struct kd_buf *out,
                                 int *found, struct kd_err *err) KD_WUR;
/* Keeps the answer of live parcel version parcel_id. */
enum kd_code kd_store_answer_put(struct kd_store *st, int64_t parcel_id, const void *body,
                                 size_t len, struct kd_err *err) KD_WUR;
/* Inside a write transaction: calls cb (with geometry) for up to max live parcels whose
 * answer is missing: the cleared ones, then those added since the last pass, in id order
 * (cleared answers of retired versions are dropped). cb is expected to kd_store_answer_put.
 * OUT more: 1 when there may be more (call again). */
enum kd_code kd_store_answers_pending(struct kd_store *st, long max, kd_parcel_cb cb, void *ud,
                                      int *more, struct kd_err *err) KD_WUR;
/* The connection's data version (PRAGMA data_version): it changes when another connection
 * commits, so a poller knows when to look again. */
enum kd_code kd_store_data_version(struct kd_store *st, int64_t *v, struct kd_err *err) KD_WUR;
/* A connection for background writes (the server's): a small page cache, and a write lock
 * waited for 250 ms, not 5 s, so that its thread stays quick to stop. */
enum kd_code kd_store_background(struct kd_store *st, struct kd_err *err) KD_WUR;
/* Drops every answer (they were made by another transformation, or another format): the
 * next kd_store_answers_pending hands out every live parcel. */
enum kd_code kd_store_answers_clear(struct kd_store *st, struct kd_err *err) KD_WUR;

struct kd_lineage {
    char kind[16]; /* "split-of", "merge-of", "replaces", "correction-of" */
    int64_t other_id;
    char other_number[KD_CADNUM_MAX];
    char other_valid_from[32];
};
typedef enum kd_code (*kd_lineage_cb)(void *ud, const struct kd_lineage *l, struct kd_err *err);
/* The parents of a version (what it was made from). */
enum kd_code kd_store_lineage_parents(struct kd_store *st, int64_t id, kd_lineage_cb cb, void *ud,
                                      struct kd_err *err) KD_WUR;

/* ---- zones, restrictions, admin units ----------------------------------------------------- */

struct kd_area {
    enum kd_layer layer;
    int64_t id;
    char code[128];
    char kind[64]; /* zones: "base", "overlay", ...; restrictions: "water_protection", ...;
                      admin units: the level */
    char name[256];
    char extra[512]; /* zones: permitted uses; admin units: parent code */
    char valid_from[32];
    char valid_to[32];
    char source[256];
    uint64_t content_hash;
    unsigned char *wkb; /* geom_cad when asked for */
    size_t wkb_len;
};
void kd_area_init(struct kd_area *a);
void kd_area_fini(struct kd_area *a);

struct kd_area_new {
    enum kd_layer layer; /* zones, restrictions or admin units */
    const char *code, *kind, *name, *extra;
    const char *valid_from, *source, *source_fid;
    uint64_t content_hash;
    const unsigned char *wkb_cad;
    size_t wkb_cad_len;
    const unsigned char *wkb_3857;
    size_t wkb_3857_len;
};
enum kd_code kd_store_area_insert(struct kd_store *st, const struct kd_area_new *a, int64_t *id,
                                  struct kd_err *err) KD_WUR;
/* Is there a live area of the layer with this code, kind and content hash? OUT found. */
enum kd_code kd_store_area_exists(struct kd_store *st, enum kd_layer layer, const char *code,
                                  const char *kind, uint64_t content_hash, int *found,
                                  struct kd_err *err) KD_WUR;
typedef enum kd_code (*kd_area_cb)(void *ud, const struct kd_area *a, struct kd_err *err);
enum kd_code kd_store_areas_foreach(struct kd_store *st, enum kd_layer layer, const char *as_of,
                                    int with_geom, kd_area_cb cb, void *ud,
                                    struct kd_err *err) KD_WUR;
/* Live areas of a layer whose box meets the box (office CRS), with geometry, in id order. */
enum kd_code kd_store_areas_in_box(struct kd_store *st, enum kd_layer layer, const double box[4],
                                   kd_area_cb cb, void *ud, struct kd_err *err) KD_WUR;
enum kd_code kd_store_areas_count(struct kd_store *st, enum kd_layer layer, int64_t *n,
                                  struct kd_err *err) KD_WUR;

/* ---- what lies on a parcel (kept at write time) -------------------------------------------- */

struct kd_overlay {
    enum kd_layer layer; /* zones or restrictions */
    int64_t area_id;
    char code[128];
    char kind[64];
    char name[256];
    double area_m2; /* intersection area, office CRS */
};
typedef enum kd_code (*kd_overlay_cb)(void *ud, const struct kd_overlay *o, struct kd_err *err);
enum kd_code kd_store_overlay_put(struct kd_store *st, int64_t parcel_id, enum kd_layer layer,
                                  int64_t area_id, double area_m2, struct kd_err *err) KD_WUR;
enum kd_code kd_store_overlays_of(struct kd_store *st, int64_t parcel_id, kd_overlay_cb cb,
                                  void *ud, struct kd_err *err) KD_WUR;

/* ---- parties and rights ------------------------------------------------------------------- */

struct kd_party {
    int64_t id;
    char party_id[16]; /* PINFL (14) or STIR (9) */
    char kind[16];     /* "person", "organisation" */
    char name[256];
};
/* Inserts a party or finds the same one. OUT id; OUT status: 0 inserted, 1 unchanged.
 * A different name under a known PINFL/STIR is "party.conflict". */
enum kd_code kd_store_party_put(struct kd_store *st, const struct kd_party *p, const char *source,
                                int64_t *id, int *status, struct kd_err *err) KD_WUR;
/* KD_ENOTFOUND "party.not_found". */
enum kd_code kd_store_party_get(struct kd_store *st, const char *party_id, struct kd_party *out,
                                struct kd_err *err) KD_WUR;

struct kd_right {
    int64_t id;
    char number[KD_CADNUM_MAX];
    struct kd_party party;
    char kind[48];
    struct kd_frac share;
    char document[256];
    char document_date[32];
    char registered_on[32];
    char valid_from[32];
    char valid_to[32];
};
/* Inserts a right (live) or finds an identical live one. OUT status: 0 inserted,
 * 1 unchanged. The caller has checked the parcel and party. */
enum kd_code kd_store_right_put(struct kd_store *st, const struct kd_right *r, int64_t party_rowid,
                                const char *source, int *status, struct kd_err *err) KD_WUR;
typedef enum kd_code (*kd_right_cb)(void *ud, const struct kd_right *r, struct kd_err *err);
/* Live rights on a parcel number. */
enum kd_code kd_store_rights_of(struct kd_store *st, const char *number, kd_right_cb cb, void *ud,
                                struct kd_err *err) KD_WUR;

/* ---- applications (the registration issue fills these; the sample writes a few) ---------- */
struct kd_application {
    char number[64];
    char kind[32];
    char cadastral_number[KD_CADNUM_MAX];
    char status[32];
    char submitted_at[32];
};
enum kd_code kd_store_application_put(struct kd_store *st, const struct kd_application *a,
                                      struct kd_err *err) KD_WUR;

/* ---- summary ------------------------------------------------------------------------------ */
struct kd_store_summary {
    int64_t n_parcels_live, n_parcels_historic, n_zones, n_restrictions, n_admin_units, n_parties,
        n_rights, n_applications;
    double live_extent[4]; /* office CRS; all 0 when empty */
};
enum kd_code kd_store_summary(struct kd_store *st, struct kd_store_summary *out,
                              struct kd_err *err) KD_WUR;

/* ---- lookup queries (src/store/lookup_queries.c; for the cadastre module) ----------------- */

/* Parcels current at as_of (NULL: live) whose bounding box meets the box (office CRS),
 * through the R*Tree. */
enum kd_code kd_store_parcels_in_box_at(struct kd_store *st, const double box[4], const char *as_of,
                                        int with_geom, kd_parcel_cb cb, void *ud,
                                        struct kd_err *err) KD_WUR;
/* The children of a version (what was made from it); l->kind is the child's relation
 * ("split-of", ...), l->other_* describe the child. In child number order. */
enum kd_code kd_store_lineage_children(struct kd_store *st, int64_t id, kd_lineage_cb cb, void *ud,
                                       struct kd_err *err) KD_WUR;
/* Rights on a parcel number current at as_of (NULL: live, as kd_store_rights_of), ordered
 * by kind then party id. */
enum kd_code kd_store_rights_at(struct kd_store *st, const char *number, const char *as_of,
                                kd_right_cb cb, void *ud, struct kd_err *err) KD_WUR;
/* Every right current at as_of (NULL: live), with its party, in one query: ordered by parcel
 * number, then kind, then party id (each number's rights in kd_store_rights_at's order).
 * For whole-layer passes (export), where a query per parcel would cost more than the
 * export. */
enum kd_code kd_store_rights_all_at(struct kd_store *st, const char *as_of, kd_right_cb cb,
                                    void *ud, struct kd_err *err) KD_WUR;

/* ---- OGC API - Features reads (src/store/ogc_queries.c; for the server's OGC API) -------- */

/* At most this many equality filters in one selection. */
#define KD_STORE_OGC_MAX_EQ 4

/* Which rows of a layer an OGC API request reads. */
struct kd_store_ogc_sel {
    enum kd_layer layer; /* parcels, zones, restrictions or admin_units */
    const char *as_of;   /* the versions current at this register time
                            ("YYYY-MM-DDTHH:MM:SSZ"); NULL: the live rows */
    size_t n_eq;         /* equality filters: column eq_col[i] equals eq_val[i] or, when
                            eq_alt[i] is not NULL, eq_alt[i] */
    const char *eq_col[KD_STORE_OGC_MAX_EQ]; /* names kd_store_ogc_filterable accepts */
    const char *eq_val[KD_STORE_OGC_MAX_EQ];
    const char *eq_alt[KD_STORE_OGC_MAX_EQ];
};

/* Which geometry rows carry: none, geom_cad (office CRS) or geom_3857, as ISO WKB in the
 * record's wkb (struct kd_parcel and struct kd_area say geom_cad; here it is the one asked). */
enum kd_store_ogc_geom { KD_STORE_OGC_NO_GEOM = 0, KD_STORE_OGC_GEOM_CAD, KD_STORE_OGC_GEOM_3857 };

/* Can the layer be filtered on this column? parcels: number, land_category, land_use;
 * zones and restrictions: code, kind; admin_units: code, level, parent_code. */
int kd_store_ogc_filterable(enum kd_layer layer, const char *column);

/* The number of rows the selection holds. Errors: KD_EINVAL "store.layer", "store.column";
 * KD_ESTORE. */
enum kd_code kd_store_ogc_count(struct kd_store *st, const struct kd_store_ogc_sel *s, int64_t *n,
                                struct kd_err *err) KD_WUR;
/* The selection's rows in id order, skipping offset and giving at most limit: parcels to
 * pcb (layer parcels), areas to acb (the other layers; the other callback may be NULL). */
enum kd_code kd_store_ogc_page(struct kd_store *st, const struct kd_store_ogc_sel *s,
                               int64_t offset, int64_t limit, enum kd_store_ogc_geom geom,
                               kd_parcel_cb pcb, kd_area_cb acb, void *ud,
                               struct kd_err *err) KD_WUR;
/* The rows with these ids, in the order given (an id that does not exist is skipped). No
 * time or filter condition: the ids come from a selection. */
enum kd_code kd_store_ogc_by_ids(struct kd_store *st, enum kd_layer layer, const int64_t *ids,
                                 size_t n, enum kd_store_ogc_geom geom, kd_parcel_cb pcb,
                                 kd_area_cb acb, void *ud, struct kd_err *err) KD_WUR;

/* A row of a box query, readable during the callback that gets it (kd_store_ogc_scan). */
struct kd_store_ogc_row;
/* Its id, and the exact box of its geometry in the office CRS (W,S,E,N, from the geometry
 * itself: the index's boxes are rounded outwards). */
int64_t kd_store_ogc_row_id(const struct kd_store_ogc_row *row);
void kd_store_ogc_row_box(const struct kd_store_ogc_row *row, double box[4]);
/* Its geometry as ISO WKB (geom_cad or geom_3857), converted when first asked. OUT wkb and
 * len borrowed until the callback returns. Errors: KD_EINVAL "store.geometry" (a blob that is
 * not a geometry), KD_ENOMEM. */
enum kd_code kd_store_ogc_row_wkb(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                  const unsigned char **wkb, size_t *len,
                                  struct kd_err *err) KD_WUR;
/* The whole record, with the geometry asked in its wkb (borrowed: valid until the callback
 * returns; do not free). parcel for the layer parcels, area for the others. */
enum kd_code kd_store_ogc_row_parcel(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                     const struct kd_parcel **p, struct kd_err *err) KD_WUR;
enum kd_code kd_store_ogc_row_area(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                   const struct kd_area **a, struct kd_err *err) KD_WUR;
typedef enum kd_code (*kd_store_ogc_row_cb)(void *ud, struct kd_store_ogc_row *row,
                                            struct kd_err *err);
/* The selection's rows whose index box meets box (office CRS, W,S,E,N), through the layer's
 * R*Tree, in no particular order, each handed to cb. A row costs what the callback reads of
 * it: its id and box come with it, its geometry and record are converted when asked. geom:
 * the geometry the callback may ask for besides geom_cad (KD_STORE_OGC_GEOM_3857 or
 * KD_STORE_OGC_NO_GEOM). */
enum kd_code kd_store_ogc_scan(struct kd_store *st, const struct kd_store_ogc_sel *s,
                               const double box[4], enum kd_store_ogc_geom geom,
                               kd_store_ogc_row_cb cb, void *ud, struct kd_err *err) KD_WUR;

/* One read snapshot over several calls (a count, then the page it counts), and one lock of
 * the database file instead of one per statement step: BEGIN (deferred) ... COMMIT. OUT
 * started: 1 when begin opened the transaction, 0 when one was open already; give it to
 * end, which commits only what begin opened. */
enum kd_code kd_store_ogc_snapshot_begin(struct kd_store *st, int *started,
                                         struct kd_err *err) KD_WUR;
void kd_store_ogc_snapshot_end(struct kd_store *st, int started);

/* The box (office CRS) of every version of the layer ever registered, read from the root of
 * its R*Tree: one row, whatever the size of the layer. SQLite keeps index boxes as 32-bit
 * floats rounded outwards, so it may be larger than the data by that rounding (below a
 * metre in a projected CRS). OUT box; OUT empty = 1 (box untouched) when the layer has no
 * rows. */
enum kd_code kd_store_ogc_extent(struct kd_store *st, enum kd_layer layer, double box[4],
                                 int *empty, struct kd_err *err) KD_WUR;

#endif
