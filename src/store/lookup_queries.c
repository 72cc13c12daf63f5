/* SPDX-License-Identifier: Apache-2.0 */
/* Reads the cadastre module's lookups need beyond the core parcel reads: the R*Tree box
 * query as of a date, lineage children, rights as of a date, and every right of a moment in
 * one ordered pass (export's summaries). The live variants of the first and third, and the
 * lineage children, use the connection's cached statements (store.c). The as-of variants are
 * prepared per call: they serve one-shot questions and one whole-layer pass, not a
 * per-point hot path. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* The columns of a right and its party, in Q_RIGHTS_OF's order (store.c); row_right reads
 * them. */
#define RIGHT_COLS                                                                                 \
    "r.id, r.number, p.id, p.party_id, p.kind, p.name, r.kind, r.share_num, r.share_den, "         \
    "r.document, r.document_date, r.registered_on, r.valid_from, r.valid_to"

static void row_right(sqlite3_stmt *q, struct kd_right *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    kd_store_col_text(q, 1, r->number, sizeof r->number);
    r->party.id = sqlite3_column_int64(q, 2);
    kd_store_col_text(q, 3, r->party.party_id, sizeof r->party.party_id);
    kd_store_col_text(q, 4, r->party.kind, sizeof r->party.kind);
    kd_store_col_text(q, 5, r->party.name, sizeof r->party.name);
    kd_store_col_text(q, 6, r->kind, sizeof r->kind);
    r->share.num = sqlite3_column_int64(q, 7);
    r->share.den = sqlite3_column_int64(q, 8);
    kd_store_col_text(q, 9, r->document, sizeof r->document);
    kd_store_col_text(q, 10, r->document_date, sizeof r->document_date);
    kd_store_col_text(q, 11, r->registered_on, sizeof r->registered_on);
    kd_store_col_text(q, 12, r->valid_from, sizeof r->valid_from);
    kd_store_col_text(q, 13, r->valid_to, sizeof r->valid_to);
}

/* Steps q (prepared here) to the end, handing each right to cb; finalizes q. */
static enum kd_code each_right(struct kd_store *st, sqlite3_stmt *q, kd_right_cb cb, void *ud,
                               struct kd_err *err)
{
    struct kd_right r;
    enum kd_code rc = KD_OK;
    int s;

    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        row_right(q, &r);
        rc = cb(ud, &r, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading rights failed", err);
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_parcels_in_box_at(struct kd_store *st, const double box[4], const char *as_of,
                                        int with_geom, kd_parcel_cb cb, void *ud,
                                        struct kd_err *err)
{
    sqlite3_stmt *q;
    struct kd_parcel p;
    enum kd_code rc = KD_OK;
    int i, s;

    if (!as_of)
        return kd_store_parcels_in_box(st, box, with_geom, cb, ud, err);
    if (kd_store_bulk_flush(st, KD_LAYER_PARCELS, err))
        return err->code;
    /* the R*Tree indexes every version, live or not: the time condition picks the versions */
    q = kd_store_prepare(st,
                         with_geom ? "SELECT " PARCEL_COLS ", p.geom_cad "
                                     "FROM idx_parcels_geom_cad r JOIN parcels p ON p.id = "
                                     "r.pkid WHERE r.xmin <= ?3 AND r.xmax >= ?1 AND r.ymin <= "
                                     "?4 AND r.ymax >= ?2 AND p.valid_from <= ?5 AND "
                                     "(p.valid_to IS NULL OR p.valid_to > ?5)"
                                   : "SELECT " PARCEL_COLS " FROM idx_parcels_geom_cad r "
                                     "JOIN parcels p ON p.id = r.pkid WHERE r.xmin <= ?3 AND "
                                     "r.xmax >= ?1 AND r.ymin <= ?4 AND r.ymax >= ?2 AND "
                                     "p.valid_from <= ?5 AND (p.valid_to IS NULL OR "
                                     "p.valid_to > ?5)",
                         err);
    if (!q)
        return err->code;
    for (i = 0; i < 4; i++)
        sqlite3_bind_double(q, i + 1, box[i]);
    sqlite3_bind_text(q, 5, as_of, -1, SQLITE_STATIC);
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
    sqlite3_finalize(q);
    return rc;
}

enum kd_code kd_store_lineage_children(struct kd_store *st, int64_t id, kd_lineage_cb cb, void *ud,
                                       struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_LINEAGE_CHILDREN, err);

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, id);
    return kd_store_each_lineage(st, q, cb, ud, err);
}

enum kd_code kd_store_rights_at(struct kd_store *st, const char *number, const char *as_of,
                                kd_right_cb cb, void *ud, struct kd_err *err)
{
    sqlite3_stmt *q;

    if (!as_of)
        return kd_store_rights_of(st, number, cb, ud, err);
    q = kd_store_prepare(st,
                         "SELECT " RIGHT_COLS " FROM rights r JOIN parties p ON p.id = r.party "
                         "WHERE r.number = ?1 AND r.valid_from <= ?2 AND (r.valid_to IS NULL OR "
                         "r.valid_to > ?2) ORDER BY r.kind, p.party_id",
                         err);
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, as_of, -1, SQLITE_STATIC);
    return each_right(st, q, cb, ud, err);
}

enum kd_code kd_store_rights_all_at(struct kd_store *st, const char *as_of, kd_right_cb cb,
                                    void *ud, struct kd_err *err)
{
    /* one pass and one sort, instead of a statement per parcel: ?1 NULL selects the live
     * rights, else those current at ?1 */
    sqlite3_stmt *q = kd_store_prepare(
        st,
        "SELECT " RIGHT_COLS " FROM rights r JOIN parties p ON p.id = r.party "
        "WHERE CASE WHEN ?1 IS NULL THEN r.valid_to IS NULL ELSE r.valid_from <= ?1 "
        "AND (r.valid_to IS NULL OR r.valid_to > ?1) END "
        "ORDER BY r.number, r.kind, p.party_id",
        err);

    if (!q)
        return err->code;
    if (as_of)
        sqlite3_bind_text(q, 1, as_of, -1, SQLITE_STATIC);
    return each_right(st, q, cb, ud, err);
}
