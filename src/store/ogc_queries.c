/* SPDX-License-Identifier: Apache-2.0 */
/* The reads behind OGC API - Features: a selection of a layer (live or as of a time, with
 * equality filters) counted, paged in id order, read by ids, or scanned through the layer's
 * R*Tree for a box; a layer's extent from the root node of that R*Tree; a read snapshot.
 * SQL text is built here from fixed pieces only (table and column names from the whitelists
 * below, every value bound), and statements are prepared per call, as lookup_queries.c
 * explains (caching them needs slots in struct kd_store): a call prepares one statement,
 * whatever the number of rows. Geometries are read as SpatiaLite blobs and turned into WKB
 * (kd_store_blob_to_wkb, blob.c) only for the rows that need them. */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parameter numbers, fixed so that each piece of SQL can be written once: ?1 the time,
 * ?2.. the filters (two per filter), ?10..?13 the box, ?14 limit, ?15 offset. */
enum { P_TIME = 1, P_EQ = 2, P_BOX = 10, P_LIMIT = 14, P_OFFSET = 15 };

struct layer_sql {
    const char *table, *kind, *extra;
    const char *const *filterable;
};

static const char *const parcel_filters[] = {"number", "land_category", "land_use", NULL};
static const char *const area_filters[] = {"code", "kind", NULL};
static const char *const admin_filters[] = {"code", "level", "parent_code", NULL};

static const struct layer_sql *layer_sql(enum kd_layer l)
{
    static const struct layer_sql t[] = {
        [KD_LAYER_PARCELS] = {"parcels", NULL, NULL, parcel_filters},
        [KD_LAYER_ZONES] = {"zones", "kind", "permitted_uses", area_filters},
        [KD_LAYER_RESTRICTIONS] = {"restrictions", "kind", "extra", area_filters},
        [KD_LAYER_ADMIN_UNITS] = {"admin_units", "level", "parent_code", admin_filters},
    };
    return (unsigned)l <= KD_LAYER_ADMIN_UNITS ? &t[l] : NULL;
}

int kd_store_ogc_filterable(enum kd_layer layer, const char *column)
{
    const struct layer_sql *ls = layer_sql(layer);
    size_t i;

    for (i = 0; ls && column && ls->filterable[i]; i++)
        if (strcmp(ls->filterable[i], column) == 0)
            return 1;
    return 0;
}

/* The columns read: parcels as PARCEL_COLS (kd_store_parcel_from_row), areas as areas.c reads
 * them, then the raw geometry blobs asked for (NULL for the others): geom_cad at column
 * COL_CAD of the layer and geom_3857 after it. */
static int col_cad(enum kd_layer l)
{
    return l == KD_LAYER_PARCELS ? 13 : 9;
}

static void add_select(struct kd_buf *b, const struct layer_sql *ls, int with_cad, int with_3857)
{
    const char *cad = with_cad ? "p.geom_cad" : "NULL", *m = with_3857 ? "p.geom_3857" : "NULL";

    if (!ls->kind)
        kd_buf_addf(b, "SELECT " PARCEL_COLS ", %s, %s FROM parcels p", cad, m);
    else
        kd_buf_addf(b,
                    "SELECT p.id, p.code, p.%s, p.name, p.%s, p.valid_from, p.valid_to, "
                    "p.source, p.content_hash, %s, %s FROM %s p",
                    ls->kind, ls->extra, cad, m, ls->table);
}

/* " WHERE" or " AND" and the time and filter conditions. */
static enum kd_code add_where(struct kd_buf *b, const struct layer_sql *ls,
                              const struct kd_store_ogc_sel *s, const char *lead,
                              struct kd_err *err)
{
    size_t i;

    kd_buf_adds(b, lead);
    kd_buf_adds(b, s->as_of ? " p.valid_from <= ?1 AND (p.valid_to IS NULL OR p.valid_to > ?1)"
                            : " p.valid_to IS NULL");
    if (s->n_eq > KD_STORE_OGC_MAX_EQ)
        return kd_err_set(err, KD_EINVAL, "store.column", "more than %d filters",
                          KD_STORE_OGC_MAX_EQ);
    for (i = 0; i < s->n_eq; i++) {
        if (!kd_store_ogc_filterable(s->layer, s->eq_col[i]))
            return kd_err_set(err, KD_EINVAL, "store.column", "%s cannot be filtered on '%s'",
                              ls->table, s->eq_col[i] ? s->eq_col[i] : "");
        /* the name is one of the whitelist's: safe to write into the SQL */
        kd_buf_addf(b, " AND p.%s IN (?%d, ?%d)", s->eq_col[i], P_EQ + 2 * (int)i,
                    P_EQ + 2 * (int)i + 1);
    }
    return KD_OK;
}

static void bind_sel(sqlite3_stmt *q, const struct kd_store_ogc_sel *s)
{
    size_t i;

    if (s->as_of)
        sqlite3_bind_text(q, P_TIME, s->as_of, -1, SQLITE_STATIC);
    for (i = 0; i < s->n_eq; i++) {
        const char *alt = s->eq_alt[i] ? s->eq_alt[i] : s->eq_val[i];
        kd_store_bind_text(q, P_EQ + 2 * (int)i, s->eq_val[i]);
        kd_store_bind_text(q, P_EQ + 2 * (int)i + 1, alt);
    }
}

static const struct layer_sql *sel_layer(const struct kd_store_ogc_sel *s, struct kd_err *err)
{
    const struct layer_sql *ls = layer_sql(s->layer);

    if (!ls)
        kd_err_set(err, KD_EINVAL, "store.layer", "%s is not a feature layer",
                   kd_layer_name(s->layer));
    return ls;
}

/* Prepares the SQL built in b (or fails with its allocation). */
static sqlite3_stmt *prepare_buf(struct kd_store *st, struct kd_buf *b, struct kd_err *err)
{
    if (b->failed) {
        kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
        return NULL;
    }
    return kd_store_prepare_cached(st, b->data, err);
}

/* ---- geometry blobs ------------------------------------------------------------------------ */

static double le64f(const unsigned char *p)
{
    uint64_t u = 0;
    double v;
    int i;

    for (i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    memcpy(&v, &u, sizeof v);
    return v;
}

/* ---- rows ---------------------------------------------------------------------------------- */

struct kd_store_ogc_row {
    struct kd_store *st;
    sqlite3_stmt *q;
    enum kd_layer layer;
    int64_t id;
    double box[4];
    struct kd_buf wkb[2]; /* converted geometry: [0] geom_cad, [1] geom_3857 */
    int have[2];
    /* the records handed out borrow wkb[] for their geometry: their wkb pointer is cleared
     * before anything frees them */
    struct kd_parcel p;
    struct kd_area a;
};

static void row_init(struct kd_store_ogc_row *row, struct kd_store *st, sqlite3_stmt *q,
                     enum kd_layer layer)
{
    memset(row, 0, sizeof *row);
    row->st = st, row->q = q, row->layer = layer;
    kd_buf_init(&row->wkb[0]);
    kd_buf_init(&row->wkb[1]);
    kd_parcel_init(&row->p);
    kd_area_init(&row->a);
}

static void row_fini(struct kd_store_ogc_row *row)
{
    row->p.wkb = NULL, row->a.wkb = NULL;
    kd_parcel_fini(&row->p);
    kd_area_fini(&row->a);
    kd_buf_fini(&row->wkb[0]);
    kd_buf_fini(&row->wkb[1]);
}

/* Takes the statement's current row: id, and the box from the geom_cad blob's header (its
 * MBR, exact doubles) when that blob was selected. */
static void row_take(struct kd_store_ogc_row *row)
{
    const unsigned char *b = sqlite3_column_blob(row->q, col_cad(row->layer));
    int n = sqlite3_column_bytes(row->q, col_cad(row->layer));

    row->id = sqlite3_column_int64(row->q, 0);
    row->have[0] = row->have[1] = 0;
    row->box[0] = row->box[1] = -INFINITY, row->box[2] = row->box[3] = INFINITY;
    if (b && n >= 39 && b[0] == 0x00 && b[1] == 0x01 && b[38] == 0x7C) {
        row->box[0] = le64f(b + 6), row->box[1] = le64f(b + 14);
        row->box[2] = le64f(b + 22), row->box[3] = le64f(b + 30);
    }
}

int64_t kd_store_ogc_row_id(const struct kd_store_ogc_row *row)
{
    return row->id;
}

void kd_store_ogc_row_box(const struct kd_store_ogc_row *row, double box[4])
{
    memcpy(box, row->box, sizeof row->box);
}

enum kd_code kd_store_ogc_row_wkb(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                  const unsigned char **wkb, size_t *len, struct kd_err *err)
{
    int k = geom == KD_STORE_OGC_GEOM_3857;
    int col = col_cad(row->layer) + k;
    const unsigned char *b;
    int n;

    *wkb = NULL, *len = 0;
    if (geom == KD_STORE_OGC_NO_GEOM)
        return KD_OK;
    if (!row->have[k]) {
        b = sqlite3_column_blob(row->q, col);
        n = sqlite3_column_bytes(row->q, col);
        if (!b || n <= 0) {
            kd_buf_reset(&row->wkb[k]);
        } else if (kd_store_blob_to_wkb(b, (size_t)n, &row->wkb[k])) {
            return row->wkb[k].failed
                       ? kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory")
                       : kd_err_set(err, KD_EINVAL, "store.geometry",
                                    "%s row %lld: a geometry blob SpatiaLite cannot read",
                                    kd_layer_name(row->layer), (long long)row->id);
        }
        row->have[k] = 1;
    }
    if (row->wkb[k].len) {
        *wkb = (const unsigned char *)row->wkb[k].data;
        *len = row->wkb[k].len;
    }
    return KD_OK;
}

enum kd_code kd_store_ogc_row_parcel(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                     const struct kd_parcel **p, struct kd_err *err)
{
    const unsigned char *wkb;
    size_t len;
    enum kd_code rc;

    row->p.wkb = NULL; /* borrowed from row->wkb: not the record's to free */
    if (row->layer != KD_LAYER_PARCELS)
        return kd_err_set(err, KD_EINVAL, "store.layer", "not a parcel row");
    if ((rc = kd_store_parcel_from_row(row->q, 0, &row->p, err)) ||
        (rc = kd_store_ogc_row_wkb(row, geom, &wkb, &len, err)))
        return rc;
    row->p.wkb = (unsigned char *)wkb, row->p.wkb_len = len;
    *p = &row->p;
    return KD_OK;
}

enum kd_code kd_store_ogc_row_area(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                                   const struct kd_area **a, struct kd_err *err)
{
    sqlite3_stmt *q = row->q;
    struct kd_area *ar = &row->a;
    const unsigned char *wkb;
    size_t len;
    enum kd_code rc;

    if (row->layer == KD_LAYER_PARCELS || !layer_sql(row->layer))
        return kd_err_set(err, KD_EINVAL, "store.layer", "not an area row");
    ar->wkb = NULL;
    kd_area_init(ar);
    ar->layer = row->layer;
    ar->id = sqlite3_column_int64(q, 0);
    kd_store_col_text(q, 1, ar->code, sizeof ar->code);
    kd_store_col_text(q, 2, ar->kind, sizeof ar->kind);
    kd_store_col_text(q, 3, ar->name, sizeof ar->name);
    kd_store_col_text(q, 4, ar->extra, sizeof ar->extra);
    kd_store_col_text(q, 5, ar->valid_from, sizeof ar->valid_from);
    kd_store_col_text(q, 6, ar->valid_to, sizeof ar->valid_to);
    kd_store_col_text(q, 7, ar->source, sizeof ar->source);
    ar->content_hash = (uint64_t)sqlite3_column_int64(q, 8);
    if ((rc = kd_store_ogc_row_wkb(row, geom, &wkb, &len, err)))
        return rc;
    ar->wkb = (unsigned char *)wkb, ar->wkb_len = len;
    *a = ar;
    return KD_OK;
}

/* Hands the row to the callback of its kind, with the geometry asked. */
static enum kd_code emit(struct kd_store_ogc_row *row, enum kd_store_ogc_geom geom,
                         kd_parcel_cb pcb, kd_area_cb acb, void *ud, struct kd_err *err)
{
    const struct kd_parcel *p;
    const struct kd_area *a;
    enum kd_code rc;

    row_take(row);
    if (row->layer == KD_LAYER_PARCELS)
        return (rc = kd_store_ogc_row_parcel(row, geom, &p, err)) ? rc : pcb(ud, p, err);
    return (rc = kd_store_ogc_row_area(row, geom, &a, err)) ? rc : acb(ud, a, err);
}

static int callbacks_ok(enum kd_layer l, kd_parcel_cb pcb, kd_area_cb acb)
{
    return l == KD_LAYER_PARCELS ? pcb != NULL : acb != NULL;
}

/* ---- the queries ------------------------------------------------------------------------- */

enum kd_code kd_store_ogc_count(struct kd_store *st, const struct kd_store_ogc_sel *s, int64_t *n,
                                struct kd_err *err)
{
    const struct layer_sql *ls = sel_layer(s, err);
    struct kd_buf b;
    sqlite3_stmt *q = NULL;
    enum kd_code rc;

    if (!ls)
        return err->code;
    kd_buf_init(&b);
    kd_buf_addf(&b, "SELECT count(*) FROM %s p", ls->table);
    rc = add_where(&b, ls, s, " WHERE", err);
    if (!rc && !(q = prepare_buf(st, &b, err)))
        rc = err->code;
    if (!rc) {
        bind_sel(q, s);
        if (sqlite3_step(q) == SQLITE_ROW)
            *n = sqlite3_column_int64(q, 0);
        else
            rc = kd_store_fail(st, "store.query", "counting features failed", err);
    }
    kd_store_release(st, q);
    kd_buf_fini(&b);
    return rc;
}

enum kd_code kd_store_ogc_page(struct kd_store *st, const struct kd_store_ogc_sel *s,
                               int64_t offset, int64_t limit, enum kd_store_ogc_geom geom,
                               kd_parcel_cb pcb, kd_area_cb acb, void *ud, struct kd_err *err)
{
    const struct layer_sql *ls = sel_layer(s, err);
    struct kd_store_ogc_row row;
    struct kd_buf b;
    sqlite3_stmt *q = NULL;
    enum kd_code rc;
    int step;

    if (!ls)
        return err->code;
    if (!callbacks_ok(s->layer, pcb, acb))
        return kd_err_set(err, KD_EINVAL, "store.layer", "no callback for %s", ls->table);
    kd_buf_init(&b);
    add_select(&b, ls, geom == KD_STORE_OGC_GEOM_CAD, geom == KD_STORE_OGC_GEOM_3857);
    rc = add_where(&b, ls, s, " WHERE", err);
    kd_buf_addf(&b, " ORDER BY p.id LIMIT ?%d OFFSET ?%d", P_LIMIT, P_OFFSET);
    if (!rc && !(q = prepare_buf(st, &b, err)))
        rc = err->code;
    row_init(&row, st, q, s->layer);
    if (!rc) {
        bind_sel(q, s);
        sqlite3_bind_int64(q, P_LIMIT, limit);
        sqlite3_bind_int64(q, P_OFFSET, offset);
        while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW)
            rc = emit(&row, geom, pcb, acb, ud, err);
        if (!rc && step != SQLITE_DONE)
            rc = kd_store_fail(st, "store.query", "reading features failed", err);
    }
    row_fini(&row);
    kd_store_release(st, q);
    kd_buf_fini(&b);
    return rc;
}

enum kd_code kd_store_ogc_by_ids(struct kd_store *st, enum kd_layer layer, const int64_t *ids,
                                 size_t n, enum kd_store_ogc_geom geom, kd_parcel_cb pcb,
                                 kd_area_cb acb, void *ud, struct kd_err *err)
{
    const struct layer_sql *ls = layer_sql(layer);
    struct kd_store_ogc_row row;
    struct kd_buf b;
    sqlite3_stmt *q = NULL;
    enum kd_code rc = KD_OK;
    size_t i;
    int step;

    if (!ls)
        return kd_err_set(err, KD_EINVAL, "store.layer", "%s is not a feature layer",
                          kd_layer_name(layer));
    if (!callbacks_ok(layer, pcb, acb))
        return kd_err_set(err, KD_EINVAL, "store.layer", "no callback for %s", ls->table);
    if (!n)
        return KD_OK;
    kd_buf_init(&b);
    add_select(&b, ls, geom == KD_STORE_OGC_GEOM_CAD, geom == KD_STORE_OGC_GEOM_3857);
    kd_buf_adds(&b, " WHERE p.id = ?1");
    if (!(q = prepare_buf(st, &b, err)))
        rc = err->code;
    row_init(&row, st, q, layer);
    /* one statement stepped per id: a rowid lookup each, no sort and no IN list to build */
    for (i = 0; !rc && i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, ids[i]);
        step = sqlite3_step(q);
        if (step == SQLITE_ROW)
            rc = emit(&row, geom, pcb, acb, ud, err);
        else if (step != SQLITE_DONE)
            rc = kd_store_fail(st, "store.query", "reading features failed", err);
    }
    row_fini(&row);
    kd_store_release(st, q);
    kd_buf_fini(&b);
    return rc;
}

enum kd_code kd_store_ogc_scan(struct kd_store *st, const struct kd_store_ogc_sel *s,
                               const double box[4], enum kd_store_ogc_geom geom,
                               kd_store_ogc_row_cb cb, void *ud, struct kd_err *err)
{
    const struct layer_sql *ls = sel_layer(s, err);
    struct kd_store_ogc_row row;
    struct kd_buf b;
    sqlite3_stmt *q = NULL;
    enum kd_code rc;
    int i, step;

    if (!ls)
        return err->code;
    if (kd_store_bulk_flush(st, (int)s->layer, err))
        return err->code;
    kd_buf_init(&b);
    add_select(&b, ls, 1, geom == KD_STORE_OGC_GEOM_3857);
    kd_buf_addf(&b,
                " JOIN idx_%s_geom_cad r ON r.pkid = p.id WHERE r.xmin <= ?%d AND r.xmax >= ?%d "
                "AND r.ymin <= ?%d AND r.ymax >= ?%d",
                ls->table, P_BOX + 2, P_BOX, P_BOX + 3, P_BOX + 1);
    rc = add_where(&b, ls, s, " AND", err);
    if (!rc && !(q = prepare_buf(st, &b, err)))
        rc = err->code;
    row_init(&row, st, q, s->layer);
    if (!rc) {
        bind_sel(q, s);
        for (i = 0; i < 4; i++)
            sqlite3_bind_double(q, P_BOX + i, box[i]);
        while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
            row_take(&row);
            rc = cb(ud, &row, err);
        }
        if (!rc && step != SQLITE_DONE)
            rc = kd_store_fail(st, "store.query", "reading features in a box failed", err);
    }
    row_fini(&row);
    kd_store_release(st, q);
    kd_buf_fini(&b);
    return rc;
}

enum kd_code kd_store_ogc_snapshot_begin(struct kd_store *st, int *started, struct kd_err *err)
{
    *started = 0;
    if (!sqlite3_get_autocommit(st->db))
        return KD_OK; /* inside a transaction already: that one is the snapshot */
    if (kd_store_exec(st, "BEGIN", err))
        return err->code;
    *started = 1;
    return KD_OK;
}

void kd_store_ogc_snapshot_end(struct kd_store *st, int started)
{
    if (started && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL); /* only reads: nothing to lose */
}

/* A big-endian 32-bit float of an R*Tree node (SQLite's rtree.c writes them so). */
static double node_coord(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

enum kd_code kd_store_ogc_extent(struct kd_store *st, enum kd_layer layer, double box[4],
                                 int *empty, struct kd_err *err)
{
    const struct layer_sql *ls = layer_sql(layer);
    char sql[160];
    sqlite3_stmt *q;
    enum kd_code rc = KD_OK;
    int step;

    if (!ls)
        return kd_err_set(err, KD_EINVAL, "store.layer", "%s is not a feature layer",
                          kd_layer_name(layer));
    if (kd_store_bulk_flush(st, (int)layer, err))
        return err->code;
    /* the root node (number 1) holds the boxes of its children, which together cover every
     * row: its layout is SQLite's (rtree.c): a 2-byte depth, a 2-byte cell count, then cells
     * of an 8-byte id and 2 x 2 big-endian float32 (xmin, xmax, ymin, ymax) */
    snprintf(sql, sizeof sql, "SELECT data FROM idx_%s_geom_cad_node WHERE nodeno = 1", ls->table);
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    *empty = 1;
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        const unsigned char *d = sqlite3_column_blob(q, 0);
        size_t len = (size_t)sqlite3_column_bytes(q, 0), n, i;
        double e[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        n = d && len >= 4 ? (size_t)d[2] << 8 | d[3] : 0;
        if (4 + n * 24 > len) {
            rc = kd_err_set(err, KD_ESTORE, "store.query", "the %s index has an unexpected root",
                            ls->table);
            n = 0;
        }
        for (i = 0; i < n; i++) {
            const unsigned char *c = d + 4 + i * 24 + 8;
            e[0] = fmin(e[0], node_coord(c));
            e[2] = fmax(e[2], node_coord(c + 4));
            e[1] = fmin(e[1], node_coord(c + 8));
            e[3] = fmax(e[3], node_coord(c + 12));
        }
        if (n && e[0] <= e[2] && e[1] <= e[3]) {
            memcpy(box, e, sizeof e);
            *empty = 0;
        }
    } else if (step != SQLITE_DONE) {
        rc = kd_store_fail(st, "store.query", "reading the index root failed", err);
    }
    sqlite3_finalize(q);
    return rc;
}
