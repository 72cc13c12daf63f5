/* SPDX-License-Identifier: Apache-2.0 */
/* Prepared answers (schema v4): the anonymous answer of each live parcel, kept as bytes so
 * that the server's /api/v1/parcels/{number} reads one row instead of three queries and a
 * transformation. The store keeps them and the triggers of schema.c clear them when what
 * they show changes; what they hold is made by cadastre (src/cadastre/answers.c) through
 * kd_store_answers_pending, in the server's preparer thread or `kadastr migrate`. An answer
 * that is absent or cleared is never served: the route answers from the register instead. */
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kd_code kd_store_answer_get(struct kd_store *st, const char *number, struct kd_buf *out,
                                 int *found, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_ANSWER_GET, err);
    enum kd_code rc = KD_OK;

    *found = 0;
    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    switch (sqlite3_step(q)) {
    case SQLITE_ROW: {
        const void *b = sqlite3_column_blob(q, 0);
        int n = sqlite3_column_bytes(q, 0);
        if (b && n > 0) {
            kd_buf_add(out, b, (size_t)n);
            if (out->failed)
                rc = kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
            else
                *found = 1;
        }
        break;
    }
    case SQLITE_DONE:
        break;
    default:
        rc = kd_store_fail(st, "store.query", "reading a prepared answer failed", err);
    }
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_answer_put(struct kd_store *st, int64_t parcel_id, const void *body,
                                 size_t len, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_ANSWER_PUT, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, parcel_id);
    sqlite3_bind_blob64(q, 2, body, (sqlite3_uint64)len, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "keeping a prepared answer failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_answers_clear(struct kd_store *st, struct kd_err *err)
{
    return kd_store_exec(st,
                         "DELETE FROM parcel_answers;"
                         "UPDATE kd_meta SET value = '0' WHERE key = 'answers_upto';",
                         err);
}

/* The parcel ids of up to max cleared answers. */
static enum kd_code cleared_ids(struct kd_store *st, long max, int64_t **ids, size_t *n,
                                struct kd_err *err)
{
    sqlite3_stmt *q;
    size_t cap = 0;
    enum kd_code rc = KD_OK;
    int s;

    *ids = NULL;
    *n = 0;
    q = kd_store_prepare(st,
                         "SELECT parcel_id FROM parcel_answers WHERE body IS NULL "
                         "ORDER BY parcel_id LIMIT ?1",
                         err);
    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, max);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *v = realloc(*ids, (cap ? cap * 2 : 256) * sizeof *v);
            if (!v) {
                rc = kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
                break;
            }
            *ids = v;
            cap = cap ? cap * 2 : 256;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q, 0);
    }
    if (!rc && s != SQLITE_DONE)
        rc = kd_store_fail(st, "store.query", "listing cleared answers failed", err);
    sqlite3_finalize(q);
    return rc;
}

static enum kd_code drop(struct kd_store *st, int64_t parcel_id, struct kd_err *err)
{
    sqlite3_stmt *q =
        kd_store_prepare_cached(st, "DELETE FROM parcel_answers WHERE parcel_id = ?1", err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_int64(q, 1, parcel_id);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "dropping a prepared answer failed", err);
    kd_store_release(st, q);
    return rc;
}

enum kd_code kd_store_answers_pending(struct kd_store *st, long max, kd_parcel_cb cb, void *ud,
                                      int *more, struct kd_err *err)
{
    struct kd_parcel p;
    int64_t *ids = NULL, upto = 0, top = 0;
    size_t n = 0, i;
    long left;
    char v[32];
    sqlite3_stmt *q = NULL;
    enum kd_code rc;
    int s = SQLITE_DONE;

    *more = 0;
    kd_parcel_init(&p);
    rc = cleared_ids(st, max, &ids, &n, err);
    /* first the answers the triggers cleared, then the parcels newer than the last pass */
    for (i = 0; !rc && i < n; i++) {
        rc = kd_store_parcel_get_id(st, ids[i], 1, &p, err);
        if (!rc && p.valid_to[0])
            rc = drop(st, ids[i], err); /* retired: its number answers with another version */
        else if (!rc)
            rc = cb(ud, &p, err);
    }
    left = max - (long)n;
    if (!rc && left == 0)
        *more = 1;
    if (!rc && left > 0) {
        rc = kd_store_meta_get(st, "answers_upto", v, sizeof v, err);
        upto = rc ? 0 : strtoll(v, NULL, 10);
        if (rc == KD_ENOTFOUND) {
            kd_err_init(err);
            rc = KD_OK;
        }
        top = upto;
        if (!rc) {
            q = kd_store_prepare(st,
                                 "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p "
                                 "WHERE p.id > ?1 AND p.valid_to IS NULL ORDER BY p.id LIMIT ?2",
                                 err);
            rc = q ? KD_OK : err->code;
        }
        if (!rc) {
            sqlite3_bind_int64(q, 1, upto);
            sqlite3_bind_int64(q, 2, left);
            while (!rc && (s = sqlite3_step(q)) == SQLITE_ROW) {
                rc = kd_store_parcel_from_row(q, 1, &p, err);
                if (!rc)
                    rc = cb(ud, &p, err);
                top = p.id;
                left--;
            }
            if (!rc && s != SQLITE_DONE)
                rc = kd_store_fail(st, "store.query", "reading parcels to prepare failed", err);
        }
        sqlite3_finalize(q);
        q = NULL;
        if (!rc && left == 0) {
            *more = 1; /* perhaps: the next pass says */
        } else if (!rc) {
            /* every live parcel is done: the mark moves past the retired ones too */
            q = kd_store_prepare(st, "SELECT coalesce(max(id), 0) FROM parcels", err);
            rc = q ? KD_OK : err->code;
            if (!rc && sqlite3_step(q) == SQLITE_ROW)
                top = sqlite3_column_int64(q, 0);
            else if (!rc)
                rc = kd_store_fail(st, "store.query", "reading the last parcel id failed", err);
            sqlite3_finalize(q);
        }
        if (!rc && top != upto) {
            snprintf(v, sizeof v, "%" PRId64, top);
            rc = kd_store_meta_set(st, "answers_upto", v, err);
        }
    }
    kd_parcel_fini(&p);
    free(ids);
    return rc;
}

enum kd_code kd_store_data_version(struct kd_store *st, int64_t *v, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_prepare_cached(st, "PRAGMA data_version", err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    if (sqlite3_step(q) == SQLITE_ROW)
        *v = sqlite3_column_int64(q, 0);
    else
        rc = kd_store_fail(st, "store.query", "reading the data version failed", err);
    kd_store_release(st, q);
    return rc;
}

enum kd_code kd_store_background(struct kd_store *st, struct kd_err *err)
{
    sqlite3_busy_timeout(st->db, 250);
    return kd_store_exec(st, "PRAGMA cache_size=-8192", err);
}
