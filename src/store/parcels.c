/* SPDX-License-Identifier: Apache-2.0 */
/* Parcel versions: insert, retire, lineage and the reads (by number, as of a time, by box,
 * history). A parcel is never deleted; "live" means valid_to IS NULL. */
#include "store_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kd_parcel_init(struct kd_parcel *p)
{
    memset(p, 0, sizeof *p);
    p->declared_area_m2 = NAN;
}

void kd_parcel_fini(struct kd_parcel *p)
{
    if (p) {
        free(p->wkb);
        p->wkb = NULL;
        p->wkb_len = 0;
    }
}

static void bind_opt_double(sqlite3_stmt *q, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_double(q, i, v);
}

enum kd_code kd_store_parcel_insert(struct kd_store *st, const struct kd_parcel_new *p, int64_t *id,
                                    struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_PARCEL_INSERT, err);
    double box_cad[4], box_3857[4];
    enum kd_code rc = KD_OK;
    int64_t pid = 0;
    int s;

    if (!q)
        return err->code;
    rc = kd_store_geoms_bind(st, q, 14, p->wkb_cad, p->wkb_cad_len, p->wkb_3857, p->wkb_3857_len,
                             box_cad, box_3857, err);
    if (rc)
        return rc;
    sqlite3_bind_text(q, 1, p->number, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 2, p->land_category);
    kd_store_bind_text(q, 3, p->land_use);
    kd_store_bind_text(q, 4, p->address);
    bind_opt_double(q, 5, p->declared_area_m2);
    sqlite3_bind_double(q, 6, p->area_m2);
    sqlite3_bind_double(q, 7, p->geodesic_area_m2);
    sqlite3_bind_text(q, 8, p->valid_from, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 9, p->valid_to);
    sqlite3_bind_text(q, 10, p->operation, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 11, p->source);
    kd_store_bind_text(q, 12, p->source_fid);
    sqlite3_bind_int64(q, 13, (sqlite3_int64)p->content_hash);
    s = sqlite3_step(q);
    if (s == SQLITE_DONE) {
        pid = sqlite3_last_insert_rowid(st->db);
    } else if (s == SQLITE_CONSTRAINT_UNIQUE) {
        rc = kd_err_set(err, KD_EINVAL, "store.duplicate_live",
                        "cadastral number %s is already live in the register", p->number);
    } else {
        rc = kd_store_fail(st, "store.insert", "inserting a parcel failed", err);
    }
    sqlite3_reset(q);
    if (rc)
        return rc;
    if (st->bulk[KD_LAYER_PARCELS].active) {
        rc = kd_store_bulk_add(st, KD_LAYER_PARCELS, pid, box_cad, box_3857, err);
        if (!rc && id)
            *id = pid;
        return rc;
    }
    q = kd_store_stmt(st, Q_RTREE_PARCEL_CAD, err);
    rc = q ? kd_store_rtree_put(st, q, pid, box_cad, err) : err->code;
    if (!rc) {
        q = kd_store_stmt(st, Q_RTREE_PARCEL_3857, err);
        rc = q ? kd_store_rtree_put(st, q, pid, box_3857, err) : err->code;
    }
    if (!rc && id)
        *id = pid;
    return rc;
}

enum kd_code kd_store_parcel_retire(struct kd_store *st, int64_t id, const char *valid_to,
                                    struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_PARCEL_RETIRE, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, valid_to, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "retiring a parcel failed", err);
    else if (sqlite3_changes(st->db) != 1)
        rc = kd_err_set(err, KD_ENOTFOUND, "parcel.not_live", "parcel version %lld is not live",
                        (long long)id);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_lineage_add(struct kd_store *st, int64_t child_id, int64_t parent_id,
                                  const char *kind, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_LINEAGE_ADD, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, child_id);
    sqlite3_bind_int64(q, 2, parent_id);
    sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "recording lineage failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_col_wkb(sqlite3_stmt *q, int col, unsigned char **wkb, size_t *len,
                              const char *table, int64_t id, struct kd_err *err)
{
    const unsigned char *b = sqlite3_column_blob(q, col);
    int n = sqlite3_column_bytes(q, col);
    struct kd_buf out;

    *wkb = NULL, *len = 0;
    if (!b || n <= 0)
        return KD_OK;
    kd_buf_init(&out);
    if (kd_store_blob_to_wkb(b, (size_t)n, &out)) {
        int nomem = out.failed;
        kd_buf_fini(&out);
        return nomem ? kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory")
                     : kd_err_set(err, KD_EINVAL, "store.geometry",
                                  "%s row %lld: a geometry blob SpatiaLite cannot read", table,
                                  (long long)id);
    }
    *wkb = (unsigned char *)out.data; /* the record owns it now (free) */
    *len = out.len;
    return KD_OK;
}

enum kd_code kd_store_parcel_from_row(sqlite3_stmt *q, int with_geom, struct kd_parcel *p,
                                      struct kd_err *err)
{
    kd_parcel_fini(p);
    kd_parcel_init(p);
    p->id = sqlite3_column_int64(q, 0);
    kd_store_col_text(q, 1, p->number, sizeof p->number);
    kd_store_col_text(q, 2, p->land_category, sizeof p->land_category);
    kd_store_col_text(q, 3, p->land_use, sizeof p->land_use);
    kd_store_col_text(q, 4, p->address, sizeof p->address);
    p->declared_area_m2 =
        sqlite3_column_type(q, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 5);
    p->area_m2 = sqlite3_column_double(q, 6);
    p->geodesic_area_m2 = sqlite3_column_double(q, 7);
    kd_store_col_text(q, 8, p->valid_from, sizeof p->valid_from);
    kd_store_col_text(q, 9, p->valid_to, sizeof p->valid_to);
    kd_store_col_text(q, 10, p->operation, sizeof p->operation);
    kd_store_col_text(q, 11, p->source, sizeof p->source);
    p->content_hash = (uint64_t)sqlite3_column_int64(q, 12);
    if (with_geom)
        return kd_store_col_wkb(q, 13, &p->wkb, &p->wkb_len, "parcels", p->id, err);
    return KD_OK;
}

static enum kd_code get_one(struct kd_store *st, sqlite3_stmt *q, int with_geom,
                            struct kd_parcel *out, const char *what, struct kd_err *err)
{
    enum kd_code rc;

    switch (sqlite3_step(q)) {
    case SQLITE_ROW:
        rc = kd_store_parcel_from_row(q, with_geom, out, err);
        break;
    case SQLITE_DONE:
        rc = kd_err_set(err, KD_ENOTFOUND, "parcel.not_found", "no parcel %s", what);
        break;
    default:
        rc = kd_store_fail(st, "store.query", "parcel lookup failed", err);
    }
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_parcel_get(struct kd_store *st, const char *number, const char *as_of,
                                 int with_geom, struct kd_parcel *out, struct kd_err *err)
{
    enum stmt_id id = as_of ? (with_geom ? Q_PARCEL_ASOF_G : Q_PARCEL_ASOF)
                            : (with_geom ? Q_PARCEL_LIVE_G : Q_PARCEL_LIVE);
    sqlite3_stmt *q = kd_store_stmt(st, id, err);
    char what[160];

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    if (as_of)
        sqlite3_bind_text(q, 2, as_of, -1, SQLITE_STATIC);
    kd_snprintf(what, sizeof what, "has cadastral number %s%s%s", number, as_of ? " as of " : "",
                as_of ? as_of : "");
    return get_one(st, q, with_geom, out, what, err);
}

enum kd_code kd_store_parcel_get_id(struct kd_store *st, int64_t pid, int with_geom,
                                    struct kd_parcel *out, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, with_geom ? Q_PARCEL_ID_G : Q_PARCEL_ID, err);

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, pid);
    return get_one(st, q, with_geom, out, "has this id", err);
}

/* Steps q, handing each row to cb. Resets q. */
static enum kd_code each_row(struct kd_store *st, sqlite3_stmt *q, int with_geom, kd_parcel_cb cb,
                             void *ud, struct kd_err *err)
{
    struct kd_parcel p;
    enum kd_code rc = KD_OK;
    int s;

    kd_parcel_init(&p);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        rc = kd_store_parcel_from_row(q, with_geom, &p, err);
        if (!rc)
            rc = cb(ud, &p, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading parcels failed", err);
    kd_parcel_fini(&p);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_parcels_foreach(struct kd_store *st, const char *as_of, int with_geom,
                                      kd_parcel_cb cb, void *ud, struct kd_err *err)
{
    sqlite3_stmt *q;
    enum kd_code rc;
    const char *sql;

    if (as_of)
        sql = with_geom ? "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p WHERE "
                          "?1 IS NULL AND " ASOF " ORDER BY p.id"
                        : "SELECT " PARCEL_COLS " FROM parcels p WHERE ?1 IS NULL AND " ASOF
                          " ORDER BY p.id";
    else
        sql = with_geom ? "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p WHERE "
                          "p.valid_to IS NULL ORDER BY p.id"
                        : "SELECT " PARCEL_COLS " FROM parcels p WHERE p.valid_to IS NULL "
                          "ORDER BY p.id";
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    if (as_of)
        sqlite3_bind_text(q, 2, as_of, -1, SQLITE_STATIC);
    rc = each_row(st, q, with_geom, cb, ud, err);
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_parcels_in_box(struct kd_store *st, const double box[4], int with_geom,
                                     kd_parcel_cb cb, void *ud, struct kd_err *err)
{
    sqlite3_stmt *q;
    int i;

    if (kd_store_bulk_flush(st, KD_LAYER_PARCELS, err))
        return err->code;
    q = kd_store_stmt(st, with_geom ? Q_PARCEL_BOX_G : Q_PARCEL_BOX, err);
    if (!q)
        return err->code;
    for (i = 0; i < 4; i++)
        sqlite3_bind_double(q, i + 1, box[i]);
    return each_row(st, q, with_geom, cb, ud, err);
}

enum kd_code kd_store_parcel_versions(struct kd_store *st, const char *number, int with_geom,
                                      kd_parcel_cb cb, void *ud, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, with_geom ? Q_PARCEL_VERSIONS_G : Q_PARCEL_VERSIONS, err);

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    return each_row(st, q, with_geom, cb, ud, err);
}

enum kd_code kd_store_parcels_count(struct kd_store *st, const char *as_of, int64_t *n,
                                    struct kd_err *err)
{
    sqlite3_stmt *q =
        kd_store_prepare(st,
                         as_of ? "SELECT count(*) FROM parcels p WHERE ?1 IS NULL AND " ASOF
                               : "SELECT count(*) FROM parcels p WHERE p.valid_to IS NULL",
                         err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    if (as_of)
        sqlite3_bind_text(q, 2, as_of, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        rc = kd_store_fail(st, "store.query", "counting parcels failed", err);
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_each_lineage(struct kd_store *st, sqlite3_stmt *q, kd_lineage_cb cb, void *ud,
                                   struct kd_err *err)
{
    struct kd_lineage l;
    enum kd_code rc = KD_OK;
    int s;

    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&l, 0, sizeof l);
        kd_store_col_text(q, 0, l.kind, sizeof l.kind);
        l.other_id = sqlite3_column_int64(q, 1);
        kd_store_col_text(q, 2, l.other_number, sizeof l.other_number);
        kd_store_col_text(q, 3, l.other_valid_from, sizeof l.other_valid_from);
        rc = cb(ud, &l, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading lineage failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_lineage_parents(struct kd_store *st, int64_t pid, kd_lineage_cb cb, void *ud,
                                      struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_LINEAGE_PARENTS, err);

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, pid);
    return kd_store_each_lineage(st, q, cb, ud, err);
}
