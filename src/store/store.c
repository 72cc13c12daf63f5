/* SPDX-License-Identifier: Apache-2.0 */
/* Connections: create, open (with migration), close, transactions, metadata and the
 * per-connection statement cache. Every statement is prepared once per connection on first
 * use; a connection belongs to one thread. */
#include "store_int.h"

#include <math.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const stmt_sql[Q_COUNT] = {
    [Q_SNAP_BEGIN] = "BEGIN",
    [Q_SNAP_END] = "COMMIT",
    [Q_META_GET] = "SELECT value FROM kd_meta WHERE key = ?1",
    [Q_META_SET] = "INSERT OR REPLACE INTO kd_meta(key, value) VALUES(?1, ?2)",
    [Q_OP_GET] = "SELECT definition, name, transformation, accuracy_m, warning "
                 "FROM transformations WHERE source_crs = ?1",
    [Q_OP_PUT] = "INSERT INTO transformations VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_PARCEL_INSERT] =
        "INSERT INTO parcels(number, land_category, land_use, address, declared_area_m2, "
        "area_m2, geodesic_area_m2, valid_from, valid_to, operation, source, source_fid, "
        "content_hash, geom_cad, geom_3857) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15)",
    [Q_PARCEL_RETIRE] = "UPDATE parcels SET valid_to = ?2 WHERE id = ?1 AND valid_to IS NULL",
    [Q_LINEAGE_ADD] = "INSERT INTO parcel_lineage(child_id, parent_id, kind) VALUES(?1, ?2, ?3)",
    [Q_PARCEL_LIVE] = "SELECT " PARCEL_COLS " FROM parcels p WHERE p.number = ?1 "
                      "AND p.valid_to IS NULL",
    [Q_PARCEL_ASOF] = "SELECT " PARCEL_COLS " FROM parcels p WHERE p.number = ?1 AND " ASOF,
    [Q_PARCEL_LIVE_G] = "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p "
                        "WHERE p.number = ?1 AND p.valid_to IS NULL",
    [Q_PARCEL_ASOF_G] = "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p "
                        "WHERE p.number = ?1 AND " ASOF,
    [Q_PARCEL_ID] = "SELECT " PARCEL_COLS " FROM parcels p WHERE p.id = ?1",
    [Q_PARCEL_ID_G] = "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p "
                      "WHERE p.id = ?1",
    [Q_PARCEL_BOX] = "SELECT " PARCEL_COLS " FROM idx_parcels_geom_cad r "
                     "JOIN parcels p ON p.id = r.pkid WHERE r.xmin <= ?3 AND r.xmax >= ?1 "
                     "AND r.ymin <= ?4 AND r.ymax >= ?2 AND p.valid_to IS NULL",
    [Q_PARCEL_BOX_G] = "SELECT " PARCEL_COLS ", p.geom_cad FROM idx_parcels_geom_cad "
                       "r JOIN parcels p ON p.id = r.pkid WHERE r.xmin <= ?3 AND r.xmax >= ?1 "
                       "AND r.ymin <= ?4 AND r.ymax >= ?2 AND p.valid_to IS NULL",
    [Q_PARCEL_VERSIONS] = "SELECT " PARCEL_COLS " FROM parcels p WHERE p.number = ?1 "
                          "ORDER BY p.valid_from, p.id",
    [Q_PARCEL_VERSIONS_G] = "SELECT " PARCEL_COLS ", p.geom_cad FROM parcels p "
                            "WHERE p.number = ?1 ORDER BY p.valid_from, p.id",
    [Q_LINEAGE_PARENTS] = "SELECT l.kind, p.id, p.number, p.valid_from FROM parcel_lineage l "
                          "JOIN parcels p ON p.id = l.parent_id WHERE l.child_id = ?1 "
                          "ORDER BY p.number",
    [Q_LINEAGE_CHILDREN] = "SELECT l.kind, p.id, p.number, p.valid_from FROM parcel_lineage l "
                           "JOIN parcels p ON p.id = l.child_id WHERE l.parent_id = ?1 "
                           "ORDER BY p.number, p.id",
    [Q_AREA_EXISTS] = NULL, /* per layer, built in kd_store_area_exists */
    [Q_OVERLAY_PUT] = "INSERT OR REPLACE INTO parcel_overlays(parcel_id, layer, area_id, "
                      "area_m2) VALUES(?1, ?2, ?3, ?4)",
    [Q_OVERLAYS_OF] =
        "SELECT o.layer, o.area_id, z.code, z.kind, z.name, o.area_m2 FROM parcel_overlays o "
        "JOIN zones z ON o.layer = 'zones' AND z.id = o.area_id WHERE o.parcel_id = ?1 "
        "UNION ALL SELECT o.layer, o.area_id, r.code, r.kind, r.name, o.area_m2 "
        "FROM parcel_overlays o JOIN restrictions r ON o.layer = 'restrictions' "
        "AND r.id = o.area_id WHERE o.parcel_id = ?1 ORDER BY 1, 6 DESC, 3, 2",
    [Q_PARTY_GET] = "SELECT id, party_id, kind, name FROM parties WHERE party_id = ?1",
    [Q_PARTY_INSERT] = "INSERT INTO parties(party_id, kind, name, source, created_at) "
                       "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_RIGHT_FIND] = "SELECT id FROM rights WHERE number = ?1 AND party = ?2 AND kind = ?3 "
                     "AND share_num = ?4 AND share_den = ?5 AND document IS ?6 "
                     "AND document_date IS ?7 AND registered_on IS ?8 AND valid_to IS NULL",
    [Q_RIGHT_INSERT] = "INSERT INTO rights(number, party, kind, share_num, share_den, document, "
                       "document_date, registered_on, valid_from, source) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_RIGHTS_OF] = "SELECT r.id, r.number, p.id, p.party_id, p.kind, p.name, r.kind, "
                    "r.share_num, r.share_den, r.document, r.document_date, r.registered_on, "
                    "r.valid_from, r.valid_to FROM rights r JOIN parties p ON p.id = r.party "
                    "WHERE r.number = ?1 AND r.valid_to IS NULL ORDER BY r.kind, p.party_id",
    [Q_RTREE_PARCEL_CAD] = "INSERT INTO idx_parcels_geom_cad(pkid, xmin, xmax, ymin, ymax) "
                           "VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_RTREE_PARCEL_3857] = "INSERT INTO idx_parcels_geom_3857(pkid, xmin, xmax, ymin, ymax) "
                            "VALUES(?1, ?2, ?3, ?4, ?5)",
    /* the live number index finds the id; the answer is the row of that id */
    [Q_ANSWER_GET] = "SELECT a.body FROM parcels p JOIN parcel_answers a ON a.parcel_id = p.id "
                     "WHERE p.number = ?1 AND p.valid_to IS NULL AND a.body IS NOT NULL",
    [Q_ANSWER_PUT] = "INSERT INTO parcel_answers(parcel_id, body) VALUES(?1, ?2) "
                     "ON CONFLICT(parcel_id) DO UPDATE SET body = excluded.body",
    [Q_APP_PUT] = "INSERT OR IGNORE INTO applications(number, kind, parcel_number, status, "
                  "submitted_at) VALUES(?1, ?2, ?3, ?4, ?5)",
};

enum kd_code kd_store_fail(struct kd_store *st, const char *key, const char *what,
                           struct kd_err *err)
{
    /* sqlite3_errmsg is overwritten by the next call on this connection: copy it now */
    return kd_err_set(err, KD_ESTORE, key, "%s: %s", what,
                      st && st->db ? sqlite3_errmsg(st->db) : "no connection");
}

sqlite3_stmt *kd_store_prepare(struct kd_store *st, const char *sql, struct kd_err *err)
{
    sqlite3_stmt *q = NULL;

    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK) {
        kd_store_fail(st, "store.prepare", "preparing a query failed", err);
        return NULL;
    }
    return q;
}

sqlite3_stmt *kd_store_stmt(struct kd_store *st, enum stmt_id id, struct kd_err *err)
{
    sqlite3_stmt *q = st->q[id];

    if (!q) {
        q = kd_store_prepare(st, stmt_sql[id], err);
        if (!q)
            return NULL;
        st->q[id] = q;
    } else {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
    }
    return q;
}

enum kd_code kd_store_exec(struct kd_store *st, const char *sql, struct kd_err *err)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        kd_err_set(err, KD_ESTORE, "store.exec", "database statement failed: %s",
                   msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return KD_ESTORE;
    }
    return KD_OK;
}

void kd_store_bind_text(sqlite3_stmt *q, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

void kd_store_col_text(sqlite3_stmt *q, int i, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(q, i);

    kd_strlcpy(dst, s ? s : "", size);
}

static const char *const layer_names[KD_N_LAYERS] = {"parcels",     "zones",   "restrictions",
                                                     "admin_units", "parties", "rights"};

const char *kd_layer_name(enum kd_layer l)
{
    return (unsigned)l < KD_N_LAYERS ? layer_names[l] : "?";
}

int kd_layer_parse(const char *s)
{
    int i;

    for (i = 0; i < KD_N_LAYERS; i++)
        if (strcmp(s, layer_names[i]) == 0)
            return i;
    return -1;
}

void kd_store_process_init(void)
{
    /* SQLITE_MISUSE when SQLite is already initialized: then the defaults stay */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum kd_code connect(const char *path, int flags, struct kd_store **out, struct kd_err *err)
{
    struct kd_store *st = calloc(1, sizeof *st);

    if (!st)
        return kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        kd_store_fail(st, "store.open", "cannot open the database", err);
        kd_err_where(err, "%s", path);
        kd_store_close(st);
        return KD_ESTORE;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, 5000);
    st->splite_cache = spatialite_alloc_connection();
    spatialite_init_ex(st->db, st->splite_cache, 0);
    *out = st;
    return KD_OK;
}

enum kd_code kd_store_create(const char *path, const struct kd_store_config *cfg, int version,
                             struct kd_err *err)
{
    struct kd_store *st = NULL;
    enum kd_code rc;

    if (access(path, F_OK) == 0) {
        kd_err_set(err, KD_EINVAL, "store.exists", "%s already exists", path);
        kd_err_hint(err, "choose a new file name, or remove the old database first");
        return KD_EINVAL;
    }
    if (version <= 0 || version > KD_STORE_SCHEMA_VERSION)
        version = KD_STORE_SCHEMA_VERSION;
    rc = connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &st, err);
    if (rc)
        return rc;
    rc = kd_store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err);
    if (!rc)
        rc = kd_store_exec(st, "BEGIN IMMEDIATE", err);
    if (!rc) {
        rc = kd_store_schema_apply(st, 0, version, cfg, err);
        if (!rc)
            rc = kd_store_exec(st, "COMMIT", err);
        else
            kd_store_rollback(st);
    }
    kd_store_close(st);
    if (rc) {
        char side[4096];
        unlink(path);
        if (kd_snprintf(side, sizeof side, "%s-wal", path) > 0)
            unlink(side);
        if (kd_snprintf(side, sizeof side, "%s-shm", path) > 0)
            unlink(side);
    }
    return rc;
}

static enum kd_code read_config(struct kd_store *st, struct kd_err *err)
{
    char v[128];
    enum kd_code rc;

    rc = kd_store_meta_get(st, "office_srid", v, sizeof v, err);
    if (rc)
        return rc;
    st->cfg.srid = (int)strtol(v, NULL, 10);
    rc = kd_store_meta_get(st, "number_format", v, sizeof v, err);
    if (!rc)
        rc = kd_numfmt_parse(v, &st->cfg.numfmt, err);
    if (!rc)
        rc = kd_store_meta_get(st, "area", v, sizeof v, err);
    if (!rc && sscanf(v, "%lf,%lf,%lf,%lf", &st->cfg.area[0], &st->cfg.area[1], &st->cfg.area[2],
                      &st->cfg.area[3]) != 4)
        rc = kd_err_set(err, KD_ESTORE, "store.meta", "the office area '%s' is unreadable", v);
    return rc;
}

enum kd_code kd_store_open(const char *path, enum kd_store_mode mode, struct kd_store **out,
                           struct kd_err *err)
{
    struct kd_store *st = NULL;
    sqlite3_stmt *q = NULL;
    enum kd_code rc;
    int version = -1;

    if (access(path, F_OK) != 0) {
        kd_err_set(err, KD_EIO, "store.missing", "%s: no such database", path);
        kd_err_hint(err, "create one with 'kadastr init %s'", path);
        return KD_EIO;
    }
    rc =
        connect(path, mode == KD_STORE_RW ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, &st, err);
    if (rc)
        return rc;
    st->mode = mode;
    if (mode == KD_STORE_RO)
        sqlite3_exec(st->db, "PRAGMA mmap_size=2147418112", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM kd_meta WHERE key = 'schema_version'", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        kd_err_set(err, KD_ESTORE, "store.not_kadastr", "%s is not a kadastr database (%s)", path,
                   sqlite3_errmsg(st->db));
        kd_err_hint(err, "create one with 'kadastr init'");
        rc = KD_ESTORE;
        goto fail;
    }
    version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    st->version_found = version;
    if (version > KD_STORE_SCHEMA_VERSION) {
        kd_err_set(err, KD_EVERSION, "store.new_schema",
                   "%s has schema version %d; this kadastr %s knows versions up to %d", path,
                   version, KD_VERSION, KD_STORE_SCHEMA_VERSION);
        kd_err_hint(err, "upgrade kadastr to open it");
        rc = KD_EVERSION;
        goto fail;
    }
    if (version < 1) {
        rc = kd_err_set(err, KD_ESTORE, "store.not_kadastr", "%s has an invalid schema version %d",
                        path, version);
        goto fail;
    }
    rc = read_config(st, err);
    if (rc)
        goto fail;
    if (version < KD_STORE_SCHEMA_VERSION) {
        if (mode == KD_STORE_RO) {
            kd_err_set(err, KD_EVERSION, "store.old_schema",
                       "%s has schema version %d; this kadastr needs version %d", path, version,
                       KD_STORE_SCHEMA_VERSION);
            kd_err_hint(err, "migrate it once with 'kadastr migrate %s'", path);
            rc = KD_EVERSION;
            goto fail;
        }
        rc = kd_store_begin(st, err);
        if (rc)
            goto fail;
        rc = kd_store_schema_apply(st, version, KD_STORE_SCHEMA_VERSION, &st->cfg, err);
        if (!rc)
            rc = kd_store_commit(st, err);
        if (rc) {
            kd_store_rollback(st);
            kd_err_where(err, "migrating %s from schema %d", path, version);
            goto fail;
        }
    }
    /* a large page cache keeps a big load's pages out of the WAL until commit */
    if (mode == KD_STORE_RW)
        rc = kd_store_exec(st,
                           "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                           "PRAGMA cache_size=-262144;",
                           err);
    if (rc)
        goto fail;
    *out = st;
    return KD_OK;
fail:
    sqlite3_finalize(q);
    kd_store_close(st);
    return rc;
}

sqlite3_stmt *kd_store_prepare_cached(struct kd_store *st, const char *sql, struct kd_err *err)
{
    struct kd_stmt_slot *slot = NULL;
    sqlite3_stmt *q;
    char *copy;
    int i;

    for (i = 0; i < KD_STMT_CACHE; i++) {
        struct kd_stmt_slot *s = &st->sc[i];
        if (s->sql && !s->busy && strcmp(s->sql, sql) == 0) {
            s->busy = 1;
            s->used = ++st->sc_tick;
            return s->q;
        }
        if (!s->busy && (!slot || !s->sql || (slot->sql && s->used < slot->used)))
            slot = s;
    }
    q = kd_store_prepare(st, sql, err);
    if (!q || !slot || !(copy = strdup(sql)))
        return q; /* every slot busy (or no memory): an uncached statement */
    sqlite3_finalize(slot->q);
    free(slot->sql);
    slot->sql = copy;
    slot->q = q;
    slot->busy = 1;
    slot->used = ++st->sc_tick;
    return q;
}

void kd_store_release(struct kd_store *st, sqlite3_stmt *q)
{
    int i;

    if (!q)
        return;
    for (i = 0; i < KD_STMT_CACHE; i++)
        if (st->sc[i].q == q && st->sc[i].busy) {
            sqlite3_reset(q);
            sqlite3_clear_bindings(q);
            st->sc[i].busy = 0;
            return;
        }
    sqlite3_finalize(q);
}

void kd_store_close(struct kd_store *st)
{
    int i;

    if (!st)
        return;
    for (i = 0; i < KD_STMT_CACHE; i++) {
        sqlite3_finalize(st->sc[i].q);
        free(st->sc[i].sql);
    }
    for (i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(st->q[i]);
    for (i = 0; i < KD_N_LAYERS; i++) {
        sqlite3_finalize(st->q_area_insert[i]);
        sqlite3_finalize(st->q_area_box[i]);
        sqlite3_finalize(st->q_area_rtree[i][0]);
        sqlite3_finalize(st->q_area_rtree[i][1]);
    }
    kd_buf_fini(&st->blob_cad);
    kd_buf_fini(&st->blob_3857);
    kd_store_bulk_fini(st);
    if (st->db)
        sqlite3_close_v2(st->db);
    if (st->splite_cache)
        spatialite_cleanup_ex(st->splite_cache);
    free(st);
}

const struct kd_store_config *kd_store_config(const struct kd_store *st)
{
    return &st->cfg;
}

int kd_store_schema_version_found(const struct kd_store *st)
{
    return st->version_found;
}

enum kd_code kd_store_begin(struct kd_store *st, struct kd_err *err)
{
    return kd_store_exec(st, "BEGIN IMMEDIATE", err);
}

enum kd_code kd_store_commit(struct kd_store *st, struct kd_err *err)
{
    enum kd_code rc = kd_store_bulk_flush(st, -1, err);

    return rc ? rc : kd_store_exec(st, "COMMIT", err);
}

enum kd_code kd_store_snapshot_begin(struct kd_store *st, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_SNAP_BEGIN, err);
    int s;

    if (!q)
        return err->code;
    s = sqlite3_step(q);
    sqlite3_reset(q);
    return s == SQLITE_DONE ? KD_OK : kd_store_fail(st, "store.query", "beginning a read", err);
}

void kd_store_snapshot_end(struct kd_store *st)
{
    struct kd_err err;
    sqlite3_stmt *q;

    if (sqlite3_get_autocommit(st->db))
        return;
    kd_err_init(&err);
    q = kd_store_stmt(st, Q_SNAP_END, &err);
    if (q) {
        int s = sqlite3_step(q);
        sqlite3_reset(q);
        if (s == SQLITE_DONE)
            return;
    }
    kd_store_rollback(st);
}

void kd_store_rollback(struct kd_store *st)
{
    if (!st)
        return;
    kd_store_bulk_cancel(st);
    if (st->db && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

enum kd_code kd_store_meta_get(struct kd_store *st, const char *key, char *value, size_t size,
                               struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_META_GET, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    switch (sqlite3_step(q)) {
    case SQLITE_ROW:
        kd_store_col_text(q, 0, value, size);
        break;
    case SQLITE_DONE:
        rc = kd_err_set(err, KD_ENOTFOUND, "store.meta_missing", "no metadata '%s'", key);
        break;
    default:
        rc = kd_store_fail(st, "store.query", "reading metadata failed", err);
    }
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_meta_set(struct kd_store *st, const char *key, const char *value,
                               struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_META_SET, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "writing metadata failed", err);
    sqlite3_reset(q);
    return rc;
}

void kd_store_op_fini(struct kd_store_op *op)
{
    if (op) {
        free(op->definition);
        op->definition = NULL;
    }
}

enum kd_code kd_store_op_get(struct kd_store *st, const char *source_crs, struct kd_store_op *op,
                             struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_OP_GET, err);
    enum kd_code rc = KD_OK;

    if (!q)
        return err->code;
    sqlite3_bind_text(q, 1, source_crs, -1, SQLITE_STATIC);
    switch (sqlite3_step(q)) {
    case SQLITE_ROW:
        memset(op, 0, sizeof *op);
        kd_strlcpy(op->source_crs, source_crs, sizeof op->source_crs);
        op->definition = strdup((const char *)sqlite3_column_text(q, 0));
        kd_store_col_text(q, 1, op->name, sizeof op->name);
        kd_store_col_text(q, 2, op->transformation, sizeof op->transformation);
        op->accuracy_m = sqlite3_column_double(q, 3);
        kd_store_col_text(q, 4, op->warning, sizeof op->warning);
        if (!op->definition)
            rc = kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
        break;
    case SQLITE_DONE:
        rc = KD_ENOTFOUND; /* not an error for the caller: not chosen yet */
        break;
    default:
        rc = kd_store_fail(st, "store.query", "reading transformations failed", err);
    }
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_op_put(struct kd_store *st, const struct kd_store_op *op, struct kd_err *err)
{
    sqlite3_stmt *q = kd_store_stmt(st, Q_OP_PUT, err);
    enum kd_code rc = KD_OK;
    char now[32];

    if (!q)
        return err->code;
    kd_time_now(now);
    sqlite3_bind_text(q, 1, op->source_crs, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, op->definition, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, op->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, op->transformation, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 5, op->accuracy_m);
    sqlite3_bind_text(q, 6, op->warning, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, now, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.write", "recording the transformation failed", err);
    sqlite3_reset(q);
    return rc;
}

enum kd_code kd_store_geoms_bind(struct kd_store *st, sqlite3_stmt *q, int col_cad,
                                 const unsigned char *wkb_cad, size_t cad_len,
                                 const unsigned char *wkb_3857, size_t len_3857, double box_cad[4],
                                 double box_3857[4], struct kd_err *err)
{
    if (kd_store_blob_from_wkb(wkb_cad, cad_len, st->cfg.srid, &st->blob_cad, box_cad) ||
        kd_store_blob_from_wkb(wkb_3857, len_3857, 3857, &st->blob_3857, box_3857))
        return kd_err_set(err, KD_EINVAL, "store.geometry",
                          "a stored geometry must be a little-endian 2D Polygon or "
                          "MultiPolygon WKB");
    sqlite3_bind_blob(q, col_cad, st->blob_cad.data, (int)st->blob_cad.len, SQLITE_STATIC);
    sqlite3_bind_blob(q, col_cad + 1, st->blob_3857.data, (int)st->blob_3857.len, SQLITE_STATIC);
    return KD_OK;
}

enum kd_code kd_store_rtree_put(struct kd_store *st, sqlite3_stmt *q, int64_t id,
                                const double box[4], struct kd_err *err)
{
    enum kd_code rc = KD_OK;

    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_double(q, 2, box[0]);
    sqlite3_bind_double(q, 3, box[2]);
    sqlite3_bind_double(q, 4, box[1]);
    sqlite3_bind_double(q, 5, box[3]);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = kd_store_fail(st, "store.insert", "updating a spatial index failed", err);
    sqlite3_reset(q);
    return rc;
}
