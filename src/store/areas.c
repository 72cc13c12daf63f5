/* SPDX-License-Identifier: Apache-2.0 */
/* Zones, restrictions and admin units share one shape (code, kind, name, one extra text,
 * geometry): one set of functions serves the three tables. Also the overlay cache: the
 * zones and restrictions on each live parcel with the intersecting area, kept at write time. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column names per layer: table, kind column, extra column. */
static int area_cols(enum kd_layer l, const char **table, const char **kind, const char **extra)
{
    switch (l) {
    case KD_LAYER_ZONES:
        *table = "zones", *kind = "kind", *extra = "permitted_uses";
        return 0;
    case KD_LAYER_RESTRICTIONS:
        *table = "restrictions", *kind = "kind", *extra = "extra";
        return 0;
    case KD_LAYER_ADMIN_UNITS:
        *table = "admin_units", *kind = "level", *extra = "parent_code";
        return 0;
    default:
        return -1;
    }
}

static enum kd_code bad_layer(enum kd_layer l, struct kd_err *err)
{
    return kd_err_set(err, KD_EINVAL, "store.layer", "%s is not an area layer", kd_layer_name(l));
}

void kd_area_init(struct kd_area *a)
{
    memset(a, 0, sizeof *a);
}

void kd_area_fini(struct kd_area *a)
{
    if (a) {
        free(a->wkb);
        a->wkb = NULL;
        a->wkb_len = 0;
    }
}

enum kd_code kd_store_area_insert(struct kd_store *st, const struct kd_area_new *a, int64_t *id,
                                  struct kd_err *err)
{
    const char *table, *kind, *extra;
    double box_cad[4], box_3857[4];
    sqlite3_stmt *q;
    enum kd_code rc = KD_OK;
    int64_t aid = 0;
    int c;

    if (area_cols(a->layer, &table, &kind, &extra))
        return bad_layer(a->layer, err);
    for (c = 0; c < 2; c++)
        if (!st->q_area_rtree[a->layer][c]) {
            char sql[200];
            snprintf(sql, sizeof sql,
                     "INSERT INTO idx_%s_%s(pkid, xmin, xmax, ymin, ymax) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
                     table, c ? "geom_3857" : "geom_cad");
            st->q_area_rtree[a->layer][c] = kd_store_prepare(st, sql, err);
            if (!st->q_area_rtree[a->layer][c])
                return err->code;
        }
    q = st->q_area_insert[a->layer];
    if (!q) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO %s(code, %s, name, %s, valid_from, source, source_fid, "
                 "content_hash, geom_cad, geom_3857) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                 "?9, ?10)",
                 table, kind, extra);
        q = st->q_area_insert[a->layer] = kd_store_prepare(st, sql, err);
        if (!q)
            return err->code;
    }
    sqlite3_bind_text(q, 1, a->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, a->kind ? a->kind : "", -1, SQLITE_STATIC);
    kd_store_bind_text(q, 3, a->name);
    kd_store_bind_text(q, 4, a->extra);
    sqlite3_bind_text(q, 5, a->valid_from, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 6, a->source);
    kd_store_bind_text(q, 7, a->source_fid);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)a->content_hash);
    rc = kd_store_geoms_bind(st, q, 9, a->wkb_cad, a->wkb_cad_len, a->wkb_3857, a->wkb_3857_len,
                             box_cad, box_3857, err);
    if (!rc) {
        if (sqlite3_step(q) == SQLITE_DONE)
            aid = sqlite3_last_insert_rowid(st->db);
        else
            rc = kd_store_fail(st, "store.insert", "inserting an area failed", err);
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (!rc && st->bulk[a->layer].active)
        rc = kd_store_bulk_add(st, a->layer, aid, box_cad, box_3857, err);
    else if (!rc)
        rc = kd_store_rtree_put(st, st->q_area_rtree[a->layer][0], aid, box_cad, err);
    if (!rc && !st->bulk[a->layer].active)
        rc = kd_store_rtree_put(st, st->q_area_rtree[a->layer][1], aid, box_3857, err);
    if (!rc && id)
        *id = aid;
    return rc;
}

enum kd_code kd_store_area_exists(struct kd_store *st, enum kd_layer layer, const char *code,
                                  const char *kind, uint64_t content_hash, int *found,
                                  struct kd_err *err)
{
    const char *table, *kcol, *extra;
    char sql[256];
    sqlite3_stmt *q;
    enum kd_code rc = KD_OK;
    int s;

    if (area_cols(layer, &table, &kcol, &extra))
        return bad_layer(layer, err);
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM %s WHERE code = ?1 AND %s = ?2 AND content_hash = ?3 "
             "AND valid_to IS NULL LIMIT 1",
             table, kcol);
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, kind ? kind : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)content_hash);
    s = sqlite3_step(q);
    if (s == SQLITE_ROW || s == SQLITE_DONE)
        *found = s == SQLITE_ROW;
    else
        rc = kd_store_fail(st, "store.query", "looking for an area failed", err);
    sqlite3_finalize(q);
    return rc;
}

static enum kd_code area_from_row(sqlite3_stmt *q, enum kd_layer l, int with_geom,
                                  struct kd_area *a, struct kd_err *err)
{
    kd_area_fini(a);
    kd_area_init(a);
    a->layer = l;
    a->id = sqlite3_column_int64(q, 0);
    kd_store_col_text(q, 1, a->code, sizeof a->code);
    kd_store_col_text(q, 2, a->kind, sizeof a->kind);
    kd_store_col_text(q, 3, a->name, sizeof a->name);
    kd_store_col_text(q, 4, a->extra, sizeof a->extra);
    kd_store_col_text(q, 5, a->valid_from, sizeof a->valid_from);
    kd_store_col_text(q, 6, a->valid_to, sizeof a->valid_to);
    kd_store_col_text(q, 7, a->source, sizeof a->source);
    a->content_hash = (uint64_t)sqlite3_column_int64(q, 8);
    if (with_geom)
        return kd_store_col_wkb(q, 9, &a->wkb, &a->wkb_len, kd_layer_name(a->layer), a->id, err);
    return KD_OK;
}

static enum kd_code each_area(struct kd_store *st, sqlite3_stmt *q, enum kd_layer l, int with_geom,
                              kd_area_cb cb, void *ud, struct kd_err *err)
{
    struct kd_area a;
    enum kd_code rc = KD_OK;
    int s;

    kd_area_init(&a);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        rc = area_from_row(q, l, with_geom, &a, err);
        if (!rc)
            rc = cb(ud, &a, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading areas failed", err);
    kd_area_fini(&a);
    sqlite3_reset(q);
    return rc;
}

#define AREA_SELECT                                                                                \
    "SELECT a.id, a.code, a.%s, a.name, a.%s, a.valid_from, a.valid_to, a.source, "                \
    "a.content_hash, %s FROM %s a "

enum kd_code kd_store_areas_foreach(struct kd_store *st, enum kd_layer layer, const char *as_of,
                                    int with_geom, kd_area_cb cb, void *ud, struct kd_err *err)
{
    const char *table, *kind, *extra;
    char sql[512];
    sqlite3_stmt *q;
    enum kd_code rc;

    if (area_cols(layer, &table, &kind, &extra))
        return bad_layer(layer, err);
    snprintf(sql, sizeof sql, AREA_SELECT "WHERE %s ORDER BY a.id", kind, extra,
             with_geom ? "a.geom_cad" : "NULL", table,
             as_of ? "a.valid_from <= ?1 AND (a.valid_to IS NULL OR a.valid_to > ?1)"
                   : "a.valid_to IS NULL");
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    if (as_of)
        sqlite3_bind_text(q, 1, as_of, -1, SQLITE_STATIC);
    rc = each_area(st, q, layer, with_geom, cb, ud, err);
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_areas_in_box(struct kd_store *st, enum kd_layer layer, const double box[4],
                                   kd_area_cb cb, void *ud, struct kd_err *err)
{
    const char *table, *kind, *extra;
    sqlite3_stmt *q;
    int i;

    if (area_cols(layer, &table, &kind, &extra))
        return bad_layer(layer, err);
    if (kd_store_bulk_flush(st, (int)layer, err))
        return err->code;
    q = st->q_area_box[layer];
    if (!q) {
        char sql[640];
        snprintf(sql, sizeof sql,
                 AREA_SELECT "JOIN idx_%s_geom_cad r ON r.pkid = a.id WHERE r.xmin <= ?3 "
                             "AND r.xmax >= ?1 AND r.ymin <= ?4 AND r.ymax >= ?2 "
                             "AND a.valid_to IS NULL ORDER BY a.id",
                 kind, extra, "a.geom_cad", table, table);
        q = st->q_area_box[layer] = kd_store_prepare(st, sql, err);
        if (!q)
            return err->code;
    }
    for (i = 0; i < 4; i++)
        sqlite3_bind_double(q, i + 1, box[i]);
    return each_area(st, q, layer, 1, cb, ud, err);
}

enum kd_code kd_store_areas_count(struct kd_store *st, enum kd_layer layer, int64_t *n,
                                  struct kd_err *err)
{
    const char *table, *kind, *extra;
    char sql[128];
    sqlite3_stmt *q;
    enum kd_code rc = KD_OK;

    if (area_cols(layer, &table, &kind, &extra))
        return bad_layer(layer, err);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE valid_to IS NULL", table);
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        rc = kd_store_fail(st, "store.query", "counting failed", err);
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_overlay_put(struct kd_store *st, int64_t parcel_id, enum kd_layer layer,
                                  int64_t area_id, double area_m2, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_OVERLAY_PUT, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, parcel_id);
    sqlite3_bind_text(q, 2, kd_layer_name(layer), -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, area_id);
    sqlite3_bind_double(q, 4, area_m2);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "recording an overlay failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_overlays_of(struct kd_store *st, int64_t parcel_id, kd_overlay_cb cb,
                                  void *ud, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_OVERLAYS_OF, err);
    struct kd_overlay o;
    enum kd_code rc = KD_OK;
    char layer[32];
    int s;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, parcel_id);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&o, 0, sizeof o);
        kd_store_col_text(q, 0, layer, sizeof layer);
        o.layer = strcmp(layer, "zones") == 0 ? KD_LAYER_ZONES : KD_LAYER_RESTRICTIONS;
        o.area_id = sqlite3_column_int64(q, 1);
        kd_store_col_text(q, 2, o.code, sizeof o.code);
        kd_store_col_text(q, 3, o.kind, sizeof o.kind);
        kd_store_col_text(q, 4, o.name, sizeof o.name);
        o.area_m2 = sqlite3_column_double(q, 5);
        rc = cb(ud, &o, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading overlays failed", err);
    sqlite3_reset(q);
    return rc;
}
