/* SPDX-License-Identifier: Apache-2.0 */
/* Parties (persons by PINFL, organisations by STIR), their rights on parcels, applications,
 * and the summary of a register. Loading the same party or right twice changes nothing. */
#include "store_int.h"

#include <string.h>

enum kd_code kd_store_party_get(struct kd_store *st, const char *party_id, struct kd_party *out,
                                struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_PARTY_GET, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, party_id, -1, SQLITE_STATIC);
    switch (sqlite3_step(q)) {
    case SQLITE_ROW:
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(q, 0);
        kd_store_col_text(q, 1, out->party_id, sizeof out->party_id);
        kd_store_col_text(q, 2, out->kind, sizeof out->kind);
        kd_store_col_text(q, 3, out->name, sizeof out->name);
        break;
    case SQLITE_DONE:
        rc = kd_err_set(err, KD_ENOTFOUND, "party.not_found", "no party %s in the register",
                        party_id);
        break;
    default:
        rc = kd_store_fail(st, "store.query", "party lookup failed", err);
    }
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_party_put(struct kd_store *st, const struct kd_party *p, const char *source,
                                int64_t *id, int *status, struct kd_err *err)
{
    struct kd_party old;
    struct kd_err e2;
    sqlite3_stmt *q;
    enum kd_code rc;
    char now[32];

    kd_err_init(&e2);
    rc = kd_store_party_get(st, p->party_id, &old, &e2);
    if (rc == KD_OK) {
        if (strcmp(old.name, p->name) != 0 || strcmp(old.kind, p->kind) != 0) {
            kd_err_set(err, KD_EINVAL, "party.conflict",
                       "party %s is registered as %s '%s', not %s '%s'", p->party_id, old.kind,
                       old.name, p->kind, p->name);
            kd_err_hint(err, "a PINFL or STIR names one party: correct the source");
            return KD_EINVAL;
        }
        *id = old.id;
        *status = 1;
        return KD_OK;
    }
    if (rc != KD_ENOTFOUND)
        return kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
    rc = KD_OK;
    q = kd_store_stmt(st, Q_PARTY_INSERT, err);
    if (!q)
        return err->code;
    kd_time_now(now);
    sqlite3_bind_text(q, 1, p->party_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, p->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, p->name, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 4, source);
    sqlite3_bind_text(q, 5, now, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = kd_store_fail(st, "store.insert", "inserting a party failed", err);
    } else {
        *id = sqlite3_last_insert_rowid(st->db);
        *status = 0;
    }
    sqlite3_reset(q);
    return rc;
}

static void bind_right(sqlite3_stmt *q, const struct kd_right *r, int64_t party_rowid)
{
    sqlite3_bind_text(q, 1, r->number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, party_rowid);
    sqlite3_bind_text(q, 3, r->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, r->share.num);
    sqlite3_bind_int64(q, 5, r->share.den);
    kd_store_bind_text(q, 6, r->document[0] ? r->document : NULL);
    kd_store_bind_text(q, 7, r->document_date[0] ? r->document_date : NULL);
    kd_store_bind_text(q, 8, r->registered_on[0] ? r->registered_on : NULL);
}

enum kd_code kd_store_right_put(struct kd_store *st, const struct kd_right *r, int64_t party_rowid,
                                const char *source, int *status, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_RIGHT_FIND, err);
    enum kd_code rc = KD_OK;
    char now[32];
    int s;

    if (!q)
        return err->code;
    bind_right(q, r, party_rowid);
    s = sqlite3_step(q);
    sqlite3_reset(q);
    if (s == SQLITE_ROW) {
        *status = 1;
        return KD_OK;
    }
    if (s != SQLITE_DONE)
        return kd_store_fail(st, "store.query", "looking for a right failed", err);
    q = kd_store_stmt(st, Q_RIGHT_INSERT, err);
    if (!q)
        return err->code;
    bind_right(q, r, party_rowid);
    if (r->valid_from[0]) {
        sqlite3_bind_text(q, 9, r->valid_from, -1, SQLITE_STATIC);
    } else {
        kd_time_now(now);
        sqlite3_bind_text(q, 9, now, -1, SQLITE_TRANSIENT);
    }
    kd_store_bind_text(q, 10, source);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.insert", "inserting a right failed", err);
    else
        *status = 0;
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_rights_of(struct kd_store *st, const char *number, kd_right_cb cb, void *ud,
                                struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_RIGHTS_OF, err);
    struct kd_right r;
    enum kd_code rc = KD_OK;
    int s;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(q, 0);
        kd_store_col_text(q, 1, r.number, sizeof r.number);
        r.party.id = sqlite3_column_int64(q, 2);
        kd_store_col_text(q, 3, r.party.party_id, sizeof r.party.party_id);
        kd_store_col_text(q, 4, r.party.kind, sizeof r.party.kind);
        kd_store_col_text(q, 5, r.party.name, sizeof r.party.name);
        kd_store_col_text(q, 6, r.kind, sizeof r.kind);
        r.share.num = sqlite3_column_int64(q, 7);
        r.share.den = sqlite3_column_int64(q, 8);
        kd_store_col_text(q, 9, r.document, sizeof r.document);
        kd_store_col_text(q, 10, r.document_date, sizeof r.document_date);
        kd_store_col_text(q, 11, r.registered_on, sizeof r.registered_on);
        kd_store_col_text(q, 12, r.valid_from, sizeof r.valid_from);
        kd_store_col_text(q, 13, r.valid_to, sizeof r.valid_to);
        rc = cb(ud, &r, err);
        if (rc)
            break;
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "reading rights failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_application_put(struct kd_store *st, const struct kd_application *a,
                                      struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_APP_PUT, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, a->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, a->kind, -1, SQLITE_STATIC);
    kd_store_bind_text(q, 3, a->cadastral_number[0] ? a->cadastral_number : NULL);
    sqlite3_bind_text(q, 4, a->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, a->submitted_at, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.insert", "inserting an application failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_summary(struct kd_store *st, struct kd_store_summary *out, struct kd_err *err)
{
    sqlite3_stmt *q =
        kd_store_prepare(st,
                         "SELECT (SELECT count(*) FROM parcels WHERE valid_to IS NULL),"
                         " (SELECT count(*) FROM parcels WHERE valid_to IS NOT NULL),"
                         " (SELECT count(*) FROM zones WHERE valid_to IS NULL),"
                         " (SELECT count(*) FROM restrictions WHERE valid_to IS NULL),"
                         " (SELECT count(*) FROM admin_units WHERE valid_to IS NULL),"
                         " (SELECT count(*) FROM parties),"
                         " (SELECT count(*) FROM rights WHERE valid_to IS NULL),"
                         " (SELECT count(*) FROM applications),"
                         " (SELECT min(MbrMinX(geom_cad)) FROM parcels WHERE valid_to IS NULL),"
                         " (SELECT min(MbrMinY(geom_cad)) FROM parcels WHERE valid_to IS NULL),"
                         " (SELECT max(MbrMaxX(geom_cad)) FROM parcels WHERE valid_to IS NULL),"
                         " (SELECT max(MbrMaxY(geom_cad)) FROM parcels WHERE valid_to IS NULL)",
                         err);
    enum kd_code rc = KD_OK;
    int i;

    if (!q)
        return err->code;
    if (sqlite3_step(q) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->n_parcels_live = sqlite3_column_int64(q, 0);
        out->n_parcels_historic = sqlite3_column_int64(q, 1);
        out->n_zones = sqlite3_column_int64(q, 2);
        out->n_restrictions = sqlite3_column_int64(q, 3);
        out->n_admin_units = sqlite3_column_int64(q, 4);
        out->n_parties = sqlite3_column_int64(q, 5);
        out->n_rights = sqlite3_column_int64(q, 6);
        out->n_applications = sqlite3_column_int64(q, 7);
        for (i = 0; i < 4; i++)
            out->live_extent[i] = sqlite3_column_double(q, 8 + i);
    } else {
        rc = kd_store_fail(st, "store.query", "summarizing the register failed", err);
    }
    sqlite3_finalize(q);
    return rc;
}
