/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the store shared by its files: the connection struct and its lazily
 * prepared statements. Nothing outside src/store includes this. */
#ifndef KADASTR_STORE_INT_H
#define KADASTR_STORE_INT_H

#include "kadastr/store.h"

#include <sqlite3.h>

/* The columns every parcel read returns (parcel_from_row in parcels.c reads them), and
 * the as-of condition on ?2. */
#define PARCEL_COLS                                                                                \
    "p.id, p.number, p.land_category, p.land_use, p.address, p.declared_area_m2, p.area_m2, "      \
    "p.geodesic_area_m2, p.valid_from, p.valid_to, p.operation, p.source, p.content_hash"
#define ASOF "p.valid_from <= ?2 AND (p.valid_to IS NULL OR p.valid_to > ?2)"

/* Statements prepared once per connection, on first use. */
enum stmt_id {
    Q_SNAP_BEGIN,
    Q_SNAP_END,
    Q_META_GET,
    Q_META_SET,
    Q_OP_GET,
    Q_OP_PUT,
    Q_PARCEL_INSERT,
    Q_PARCEL_RETIRE,
    Q_LINEAGE_ADD,
    Q_PARCEL_LIVE,
    Q_PARCEL_ASOF,
    Q_PARCEL_LIVE_G,
    Q_PARCEL_ASOF_G,
    Q_PARCEL_ID,
    Q_PARCEL_ID_G,
    Q_PARCEL_BOX,
    Q_PARCEL_BOX_G,
    Q_PARCEL_VERSIONS,
    Q_PARCEL_VERSIONS_G,
    Q_LINEAGE_PARENTS,
    Q_LINEAGE_CHILDREN,
    Q_AREA_EXISTS,
    Q_OVERLAY_PUT,
    Q_OVERLAYS_OF,
    Q_PARTY_GET,
    Q_PARTY_INSERT,
    Q_RIGHT_FIND,
    Q_RIGHT_INSERT,
    Q_RIGHTS_OF,
    Q_APP_PUT,
    Q_RTREE_PARCEL_CAD,
    Q_RTREE_PARCEL_3857,
    Q_ANSWER_GET,
    Q_ANSWER_PUT,
    Q_COUNT
};

/* Parcel index boxes gathered for a bulk-built R*Tree (rtree_bulk.c). */
struct kd_store_bulk {
    int active;
    int64_t *ids;
    double *box_cad, *box_3857; /* 4 per id: W,S,E,N */
    size_t n, cap;
};

/* A statement built at run time (OGC queries: the SQL depends on the filters asked), kept
 * by its text so that the next request of the same shape skips SQLite's parser. */
#define KD_STMT_CACHE 16
struct kd_stmt_slot {
    char *sql;
    sqlite3_stmt *q;
    unsigned long used; /* tick of last use: the least recently used slot is replaced */
    int busy;           /* handed out and not yet released */
};

struct kd_store {
    sqlite3 *db;
    void *splite_cache; /* SpatiaLite's per-connection cache */
    enum kd_store_mode mode;
    struct kd_store_config cfg;
    int version_found;
    sqlite3_stmt *q[Q_COUNT];
    sqlite3_stmt *q_area_insert[KD_N_LAYERS];
    sqlite3_stmt *q_area_box[KD_N_LAYERS];
    sqlite3_stmt *q_area_rtree[KD_N_LAYERS][2];
    struct kd_buf blob_cad, blob_3857;      /* reused for every insert */
    struct kd_store_bulk bulk[KD_N_LAYERS]; /* geometry layers only */
    struct kd_stmt_slot sc[KD_STMT_CACHE];
    unsigned long sc_tick;
};

/* Returns the prepared statement id (reset, bindings cleared), or NULL with err set. */
sqlite3_stmt *kd_store_stmt(struct kd_store *st, enum stmt_id id, struct kd_err *err);
/* Prepares sql, or hands out the statement kept for the same text (reset, no bindings).
 * Give it back with kd_store_release. A statement already handed out is not shared: a
 * second one is prepared then. */
sqlite3_stmt *kd_store_prepare_cached(struct kd_store *st, const char *sql, struct kd_err *err);
/* Gives back a statement of kd_store_prepare_cached (kept for reuse) or of kd_store_prepare
 * (finalized). Accepts NULL. */
void kd_store_release(struct kd_store *st, sqlite3_stmt *q);
/* Prepares arbitrary SQL (not cached). */
sqlite3_stmt *kd_store_prepare(struct kd_store *st, const char *sql, struct kd_err *err);
/* Runs SQL without results. */
enum kd_code kd_store_exec(struct kd_store *st, const char *sql, struct kd_err *err);
/* Sets a KD_ESTORE error from the connection's last message. */
enum kd_code kd_store_fail(struct kd_store *st, const char *key, const char *what,
                           struct kd_err *err);

/* schema.c */
enum kd_code kd_store_schema_apply(struct kd_store *st, int from, int to,
                                   const struct kd_store_config *cfg, struct kd_err *err);

/* blob.c: ISO WKB (Polygon/MultiPolygon, little endian, 2D) -> SpatiaLite MultiPolygon
 * blob in out; OUT box (W,S,E,N). Returns 0, or -1 when the WKB is not such a geometry. */
int kd_store_blob_from_wkb(const unsigned char *wkb, size_t len, int srid, struct kd_buf *out,
                           double box[4]);
/* A SpatiaLite geometry blob as ISO WKB in out (reset first). The blobs kadastr writes are
 * turned back in C; any other (a Polygon class, compressed, Z) goes through SpatiaLite's
 * reader. Returns 0, or -1 (not a geometry blob SpatiaLite reads, or out of memory:
 * out->failed). */
int kd_store_blob_to_wkb(const unsigned char *b, size_t n, struct kd_buf *out);
/* Writes a geometry's two blobs for an insert and, after it, its R*Tree rows. */
enum kd_code kd_store_geoms_bind(struct kd_store *st, sqlite3_stmt *q, int col_cad,
                                 const unsigned char *wkb_cad, size_t cad_len,
                                 const unsigned char *wkb_3857, size_t len_3857, double box_cad[4],
                                 double box_3857[4], struct kd_err *err);
enum kd_code kd_store_rtree_put(struct kd_store *st, sqlite3_stmt *q, int64_t id,
                                const double box[4], struct kd_err *err);

/* rtree_bulk.c: gather a row's boxes while its layer is in bulk mode; write the R*Trees
 * (before COMMIT, or before anything reads them). */
enum kd_code kd_store_bulk_add(struct kd_store *st, enum kd_layer layer, int64_t id,
                               const double box_cad[4], const double box_3857[4],
                               struct kd_err *err);
/* layer: the one a read is about to use, or -1 for all (before COMMIT). */
enum kd_code kd_store_bulk_flush(struct kd_store *st, int layer, struct kd_err *err);
void kd_store_bulk_cancel(struct kd_store *st);
void kd_store_bulk_fini(struct kd_store *st);

/* Steps a lineage query (kind, id, number, valid_from) into cb; resets q (parcels.c). */
enum kd_code kd_store_each_lineage(struct kd_store *st, sqlite3_stmt *q, kd_lineage_cb cb, void *ud,
                                   struct kd_err *err);
/* The SpatiaLite blob of column col as ISO WKB, malloc'd into *wkb (NULL and 0 for a NULL
 * column). Errors: "store.geometry" naming table and id, "store.nomem" (parcels.c). */
enum kd_code kd_store_col_wkb(sqlite3_stmt *q, int col, unsigned char **wkb, size_t *len,
                              const char *table, int64_t id, struct kd_err *err);
/* Reads a row of PARCEL_COLS (+ the geom_cad blob at column 13 when with_geom) into p
 * (parcels.c). */
enum kd_code kd_store_parcel_from_row(sqlite3_stmt *q, int with_geom, struct kd_parcel *p,
                                      struct kd_err *err);

/* Binds text or NULL. */
void kd_store_bind_text(sqlite3_stmt *q, int i, const char *s);
/* Copies a text column into a fixed buffer ("" when NULL). */
void kd_store_col_text(sqlite3_stmt *q, int i, char *dst, size_t size);

#endif
