/* SPDX-License-Identifier: Apache-2.0 */
/* The schema as a list of migrations: version N is what steps 1..N create. `init` runs them
 * all; opening an older database for writing runs the missing ones in one transaction. A
 * database always says its version in kd_meta.schema_version.
 * v1: the register (parcels, zones, restrictions, admin units, parties, rights, applications,
 *     journal, tokens, chosen transformations).
 * v2: parcel_overlays (what lies on each live parcel, kept at write time) and the load log.
 * v3: the store maintains its geometry R*Trees itself: SpatiaLite's per-row triggers
 *     (index, geometry constraint, last-change time) are dropped; they prepared a statement
 *     for every inserted row and halved load speed.
 * v4: parcel_answers, the anonymous answer of each live parcel prepared at write time
 *     (src/cadastre/answers.c). Triggers clear an answer in the same transaction as any
 *     change to what it shows: the parcel row, its overlays, its rights, or a zone or
 *     restriction on it. A cleared answer (body NULL) is served from the register until
 *     the writer prepares it again before its commit. */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

static enum kd_code geom_columns(struct kd_store *st, const char *table, int srid,
                                 struct kd_err *err)
{
    char sql[512];
    enum kd_code rc;

    snprintf(sql, sizeof sql,
             "SELECT AddGeometryColumn('%s', 'geom_cad', %d, 'MULTIPOLYGON', 'XY', 1);"
             "SELECT AddGeometryColumn('%s', 'geom_3857', 3857, 'MULTIPOLYGON', 'XY', 1);"
             "SELECT CreateSpatialIndex('%s', 'geom_cad');"
             "SELECT CreateSpatialIndex('%s', 'geom_3857');",
             table, srid, table, table, table);
    rc = kd_store_exec(st, sql, err);
    if (rc)
        kd_err_where(err, "geometry columns of %s", table);
    return rc;
}

static enum kd_code step1(struct kd_store *st, const struct kd_store_config *cfg,
                          struct kd_err *err)
{
    static const char *const ddl =
        "CREATE TABLE kd_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        /* Parcels are versioned: valid_from/valid_to are register time; a row is never
         * deleted; a number is unique among live rows. */
        "CREATE TABLE parcels("
        "  id INTEGER PRIMARY KEY,"
        "  number TEXT NOT NULL,"
        "  land_category TEXT, land_use TEXT, address TEXT,"
        "  declared_area_m2 REAL, area_m2 REAL NOT NULL, geodesic_area_m2 REAL NOT NULL,"
        "  valid_from TEXT NOT NULL, valid_to TEXT,"
        "  operation TEXT NOT NULL, source TEXT, source_fid TEXT,"
        "  content_hash INTEGER NOT NULL,"
        "  CHECK (valid_to IS NULL OR valid_to >= valid_from));"
        "CREATE UNIQUE INDEX parcels_live_number ON parcels(number) WHERE valid_to IS NULL;"
        "CREATE INDEX parcels_number ON parcels(number, valid_from);"
        "CREATE TABLE parcel_lineage("
        "  child_id INTEGER NOT NULL REFERENCES parcels(id),"
        "  parent_id INTEGER NOT NULL REFERENCES parcels(id),"
        "  kind TEXT NOT NULL CHECK (kind IN ('split-of','merge-of','replaces','correction-of')),"
        "  PRIMARY KEY (child_id, parent_id));"
        "CREATE INDEX parcel_lineage_parent ON parcel_lineage(parent_id);"
        "CREATE TABLE zones(id INTEGER PRIMARY KEY, code TEXT NOT NULL, kind TEXT NOT NULL,"
        "  name TEXT, permitted_uses TEXT, valid_from TEXT NOT NULL, valid_to TEXT,"
        "  source TEXT, source_fid TEXT, content_hash INTEGER NOT NULL);"
        "CREATE INDEX zones_code ON zones(code, kind);"
        "CREATE TABLE restrictions(id INTEGER PRIMARY KEY, code TEXT NOT NULL,"
        "  kind TEXT NOT NULL, name TEXT, extra TEXT, valid_from TEXT NOT NULL, valid_to TEXT,"
        "  source TEXT, source_fid TEXT, content_hash INTEGER NOT NULL);"
        "CREATE INDEX restrictions_code ON restrictions(code, kind);"
        "CREATE TABLE admin_units(id INTEGER PRIMARY KEY, code TEXT NOT NULL,"
        "  level TEXT NOT NULL, name TEXT, parent_code TEXT, valid_from TEXT NOT NULL,"
        "  valid_to TEXT, source TEXT, source_fid TEXT, content_hash INTEGER NOT NULL);"
        "CREATE INDEX admin_units_code ON admin_units(code, level);"
        "CREATE TABLE parties(id INTEGER PRIMARY KEY,"
        "  party_id TEXT NOT NULL UNIQUE,"
        "  kind TEXT NOT NULL CHECK (kind IN ('person','organisation','group')),"
        "  name TEXT NOT NULL, source TEXT, created_at TEXT NOT NULL);"
        "CREATE TABLE rights(id INTEGER PRIMARY KEY,"
        "  number TEXT NOT NULL, party INTEGER NOT NULL REFERENCES parties(id),"
        "  kind TEXT NOT NULL, share_num INTEGER NOT NULL, share_den INTEGER NOT NULL,"
        "  document TEXT, document_date TEXT, registered_on TEXT,"
        "  valid_from TEXT NOT NULL, valid_to TEXT, source TEXT,"
        "  CHECK (share_num > 0 AND share_den > 0 AND share_num <= share_den));"
        "CREATE INDEX rights_number ON rights(number) WHERE valid_to IS NULL;"
        "CREATE TABLE applications(id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,"
        "  kind TEXT NOT NULL, parcel_number TEXT, status TEXT NOT NULL,"
        "  submitted_at TEXT NOT NULL);"
        "CREATE TABLE application_status(application INTEGER NOT NULL"
        "  REFERENCES applications(id), status TEXT NOT NULL, at TEXT NOT NULL, note TEXT);"
        /* Append-only, hash-chained (the registration issue writes it). */
        "CREATE TABLE journal(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,"
        "  payload TEXT NOT NULL, prev_hash BLOB, hash BLOB NOT NULL);"
        "CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal"
        "  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
        "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal"
        "  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
        "CREATE TABLE tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL"
        "  UNIQUE, role TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT,"
        "  revoked_at TEXT);"
        /* One coordinate operation per source CRS, the same for every later load. */
        "CREATE TABLE transformations(source_crs TEXT PRIMARY KEY, definition TEXT NOT NULL,"
        "  name TEXT NOT NULL, transformation TEXT NOT NULL, accuracy_m REAL NOT NULL,"
        "  warning TEXT NOT NULL, chosen_at TEXT NOT NULL);";
    static const char *const tables[] = {"parcels", "zones", "restrictions", "admin_units"};
    char sql[512];
    char now[32];
    enum kd_code rc;
    size_t i;

    snprintf(sql, sizeof sql,
             "SELECT InitSpatialMetadata(0, 'NONE');"
             "SELECT InsertEpsgSrid(4326); SELECT InsertEpsgSrid(3857);"
             "SELECT InsertEpsgSrid(%d);",
             cfg->srid);
    rc = kd_store_exec(st, sql, err);
    if (rc)
        return rc;
    rc = kd_store_exec(st, ddl, err);
    if (rc)
        return rc;
    for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        rc = geom_columns(st, tables[i], cfg->srid, err);
        if (rc)
            return rc;
    }
    kd_time_now(now);
    snprintf(sql, sizeof sql,
             "INSERT INTO kd_meta VALUES('office_srid', '%d'), ('number_format', '%s'),"
             "('area', '%.6f,%.6f,%.6f,%.6f'), ('created_at', '%s'),"
             "('application', 'kadastr'), ('created_by', 'kadastr %s');",
             cfg->srid, kd_numfmt_name(cfg->numfmt), cfg->area[0], cfg->area[1], cfg->area[2],
             cfg->area[3], now, KD_VERSION);
    return kd_store_exec(st, sql, err);
}

static enum kd_code step2(struct kd_store *st, const struct kd_store_config *cfg,
                          struct kd_err *err)
{
    (void)cfg;
    return kd_store_exec(
        st,
        "CREATE TABLE parcel_overlays("
        "  parcel_id INTEGER NOT NULL REFERENCES parcels(id),"
        "  layer TEXT NOT NULL CHECK (layer IN ('zones','restrictions')),"
        "  area_id INTEGER NOT NULL, area_m2 REAL NOT NULL,"
        "  PRIMARY KEY (parcel_id, layer, area_id)) WITHOUT ROWID;"
        "CREATE TABLE loads(id INTEGER PRIMARY KEY, at TEXT NOT NULL, layer TEXT NOT NULL,"
        "  summary TEXT NOT NULL);",
        err);
}

static enum kd_code step3(struct kd_store *st, const struct kd_store_config *cfg,
                          struct kd_err *err)
{
    static const char *const tables[] = {"parcels", "zones", "restrictions", "admin_units"};
    static const char *const cols[] = {"geom_cad", "geom_3857"};
    static const char *const kinds[] = {"gii", "giu", "gid", "ggi", "ggu", "tmi", "tmu", "tmd"};
    char sql[160];
    size_t t, c, k;
    enum kd_code rc;

    (void)cfg;
    for (t = 0; t < 4; t++)
        for (c = 0; c < 2; c++)
            for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
                snprintf(sql, sizeof sql, "DROP TRIGGER IF EXISTS \"%s_%s_%s\"", kinds[k],
                         tables[t], cols[c]);
                rc = kd_store_exec(st, sql, err);
                if (rc)
                    return rc;
            }
    return KD_OK;
}

static enum kd_code step4(struct kd_store *st, const struct kd_store_config *cfg,
                          struct kd_err *err)
{
    static const struct {
        const char *name, *event, *table, *body, *arg;
    } triggers[] = {
        {"right_ins", "INSERT", "rights", NULL, "NEW"},
        {"right_upd_old", "UPDATE", "rights", NULL, "OLD"},
        {"right_upd_new", "UPDATE", "rights", NULL, "NEW"},
        {"right_del", "DELETE", "rights", NULL, "OLD"},
        {"zone_upd", "UPDATE", "zones", "zones", NULL},
        {"zone_del", "DELETE", "zones", "zones", NULL},
        {"restriction_upd", "UPDATE", "restrictions", "restrictions", NULL},
        {"restriction_del", "DELETE", "restrictions", "restrictions", NULL},
    };
    char body[512], sql[768];
    enum kd_code rc;
    size_t i;

    (void)cfg;
    rc = kd_store_exec(
        st,
        "CREATE TABLE parcel_answers("
        "  parcel_id INTEGER PRIMARY KEY REFERENCES parcels(id),"
        "  body BLOB);"
        /* the cleared answers, found without a scan (kd_store_answers_pending) */
        "CREATE INDEX parcel_answers_cleared ON parcel_answers(parcel_id) WHERE body IS NULL;"
        /* answers exist for live parcels up to this id (but the cleared ones) */
        "INSERT OR REPLACE INTO kd_meta VALUES('answers_upto', '0');"
        "CREATE TRIGGER parcel_answers_parcel AFTER UPDATE ON parcels BEGIN"
        "  UPDATE parcel_answers SET body = NULL WHERE parcel_id = OLD.id AND body IS NOT NULL;"
        "END;"
        "CREATE TRIGGER parcel_answers_overlay_ins AFTER INSERT ON parcel_overlays BEGIN"
        "  UPDATE parcel_answers SET body = NULL WHERE parcel_id = NEW.parcel_id"
        "  AND body IS NOT NULL; END;"
        "CREATE TRIGGER parcel_answers_overlay_upd AFTER UPDATE ON parcel_overlays BEGIN"
        "  UPDATE parcel_answers SET body = NULL WHERE parcel_id IN (OLD.parcel_id,"
        "  NEW.parcel_id) AND body IS NOT NULL; END;"
        "CREATE TRIGGER parcel_answers_overlay_del AFTER DELETE ON parcel_overlays BEGIN"
        "  UPDATE parcel_answers SET body = NULL WHERE parcel_id = OLD.parcel_id"
        "  AND body IS NOT NULL; END;",
        err);
    for (i = 0; !rc && i < sizeof triggers / sizeof triggers[0]; i++) {
        if (triggers[i].body) /* the parcels a zone or restriction lies on */
            snprintf(body, sizeof body,
                     "UPDATE parcel_answers SET body = NULL WHERE body IS NOT NULL AND parcel_id "
                     "IN (SELECT parcel_id FROM parcel_overlays WHERE layer = '%s' AND "
                     "area_id = OLD.id);",
                     triggers[i].body);
        else /* the live parcel a rights row names */
            snprintf(body, sizeof body,
                     "UPDATE parcel_answers SET body = NULL WHERE body IS NOT NULL AND parcel_id "
                     "IN (SELECT id FROM parcels WHERE number = %s.number AND valid_to IS NULL);",
                     triggers[i].arg);
        snprintf(sql, sizeof sql, "CREATE TRIGGER parcel_answers_%s AFTER %s ON %s BEGIN %s END;",
                 triggers[i].name, triggers[i].event, triggers[i].table, body);
        rc = kd_store_exec(st, sql, err);
    }
    return rc;
}

typedef enum kd_code (*step_fn)(struct kd_store *, const struct kd_store_config *, struct kd_err *);
static const step_fn steps[KD_STORE_SCHEMA_VERSION] = {step1, step2, step3, step4};

enum kd_code kd_store_schema_apply(struct kd_store *st, int from, int to,
                                   const struct kd_store_config *cfg, struct kd_err *err)
{
    char sql[128];
    enum kd_code rc;
    int v;

    for (v = from + 1; v <= to; v++) {
        rc = steps[v - 1](st, cfg, err);
        if (rc) {
            kd_err_where(err, "schema step %d", v);
            return rc;
        }
    }
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO kd_meta VALUES('schema_version', '%d');", to);
    return kd_store_exec(st, sql, err);
}
