/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the store on real SpatiaLite databases: creation, version checks, the
 * migration path from schema 1, parcel versions and the register as of a time. */
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static const struct kd_store_config cfg = {32642, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};

static void db_path(char *out, size_t n, const char *name)
{
    char side[600];

    snprintf(out, n, "%s/store-%s-%d.sqlite", KD_TEST_WORK, name, (int)getpid());
    unlink(out);
    snprintf(side, sizeof side, "%s-wal", out);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", out);
    unlink(side);
}

/* A 20 m square parcel at (x, y) in UTM 42N, as WKB. */
static unsigned char *square_wkb(struct kd_geo *g, double x, double y, size_t *len)
{
    char wkt[256];
    GEOSWKTReader *r = GEOSWKTReader_create_r(kd_geo_geos(g));
    GEOSGeometry *geom;
    unsigned char *wkb;
    struct kd_err err;

    kd_err_init(&err);
    snprintf(wkt, sizeof wkt, "MULTIPOLYGON(((%f %f,%f %f,%f %f,%f %f,%f %f)))", x, y, x + 20, y,
             x + 20, y + 20, x, y + 20, x, y);
    geom = GEOSWKTReader_read_r(kd_geo_geos(g), r, wkt);
    wkb = kd_geos_to_wkb(g, geom, len, &err);
    GEOSGeom_destroy_r(kd_geo_geos(g), geom);
    GEOSWKTReader_destroy_r(kd_geo_geos(g), r);
    return wkb;
}

static void insert(struct kd_store *st, struct kd_geo *g, const char *number, double x,
                   const char *from, int64_t *id)
{
    size_t len;
    unsigned char *wkb = square_wkb(g, 523000 + x, 4573000, &len);
    struct kd_parcel_new p = {number,
                              "settlements",
                              "individual_housing",
                              NULL,
                              400.0,
                              400.0,
                              400.5,
                              from,
                              NULL,
                              "load",
                              "test",
                              "1",
                              42,
                              wkb,
                              len,
                              wkb,
                              len};
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_store_parcel_insert(st, &p, id, &err), KD_OK);
    free(wkb);
}

static void test_store_create_refuses_existing_file(void **state)
{
    char path[512];
    struct kd_err err;

    (void)state;
    db_path(path, sizeof path, "exists");
    kd_err_init(&err);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_OK);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_EINVAL);
    assert_string_equal(err.key, "store.exists");
}

static void test_store_open_reads_config(void **state)
{
    char path[512];
    struct kd_store *st = NULL;
    struct kd_err err;

    (void)state;
    db_path(path, sizeof path, "config");
    kd_err_init(&err);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_OK);
    assert_int_equal(kd_store_open(path, KD_STORE_RO, &st, &err), KD_OK);
    assert_int_equal(kd_store_config(st)->srid, 32642);
    assert_int_equal(kd_store_config(st)->numfmt, KD_NUMFMT_UZ);
    assert_true(fabs(kd_store_config(st)->area[3] - 45.58) < 1e-9);
    kd_store_close(st);
}

static void test_store_open_missing_file(void **state)
{
    struct kd_store *st = NULL;
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_store_open(KD_TEST_WORK "/no-such.sqlite", KD_STORE_RO, &st, &err), KD_EIO);
    assert_string_equal(err.key, "store.missing");
    assert_null(st);
}

static void test_store_open_refuses_newer_schema(void **state)
{
    char path[512];
    struct kd_store *st = NULL;
    struct kd_err err;
    sqlite3 *db;

    (void)state;
    db_path(path, sizeof path, "newer");
    kd_err_init(&err);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_OK);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE kd_meta SET value = '99' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_EVERSION);
    assert_string_equal(err.key, "store.new_schema");
    assert_null(st);
}

static void test_store_open_migrates_schema_1(void **state)
{
    char path[512];
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_parcel p;
    struct kd_err err;
    int64_t id;

    (void)state;
    db_path(path, sizeof path, "v1");
    kd_err_init(&err);
    assert_int_equal(kd_geo_new(&g, &err), KD_OK);
    /* a database as the first schema made it, with a parcel in it */
    assert_int_equal(kd_store_create(path, &cfg, 1, &err), KD_OK);
    assert_int_equal(kd_store_open(path, KD_STORE_RO, &st, &err), KD_EVERSION);
    assert_string_equal(err.key, "store.old_schema");
    kd_err_init(&err);
    {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        /* schema 1 had no overlay table */
        assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM parcel_overlays", NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
    }
    /* open for writing: migrated to the current schema, data kept */
    assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
    assert_int_equal(kd_store_schema_version_found(st), 1);
    assert_int_equal(kd_store_begin(st, &err), KD_OK);
    insert(st, g, "10:26:01:02:03:0045", 0, "2020-01-01T00:00:00Z", &id);
    assert_int_equal(kd_store_overlay_put(st, id, KD_LAYER_ZONES, 1, 12.5, &err), KD_OK);
    assert_int_equal(kd_store_commit(st, &err), KD_OK);
    kd_store_close(st);
    assert_int_equal(kd_store_open(path, KD_STORE_RO, &st, &err), KD_OK);
    assert_int_equal(kd_store_schema_version_found(st), KD_STORE_SCHEMA_VERSION);
    kd_parcel_init(&p);
    assert_int_equal(kd_store_parcel_get(st, "10:26:01:02:03:0045", NULL, 1, &p, &err), KD_OK);
    assert_true(p.wkb_len > 0);
    kd_parcel_fini(&p);
    kd_store_close(st);
    kd_geo_free(g);
}

static void test_store_parcel_versions_and_as_of(void **state)
{
    char path[512];
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_parcel p;
    struct kd_err err;
    int64_t id1, id2, n;

    (void)state;
    db_path(path, sizeof path, "versions");
    kd_err_init(&err);
    assert_int_equal(kd_geo_new(&g, &err), KD_OK);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_OK);
    assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
    assert_int_equal(kd_store_begin(st, &err), KD_OK);
    insert(st, g, "10:26:01:02:03:0045", 0, "2010-01-01T00:00:00Z", &id1);
    /* a second live version of the same number is refused */
    {
        size_t len;
        unsigned char *wkb = square_wkb(g, 523100, 4573000, &len);
        struct kd_parcel_new dup = {"10:26:01:02:03:0045",
                                    NULL,
                                    NULL,
                                    NULL,
                                    NAN,
                                    1,
                                    1,
                                    "2011-01-01T00:00:00Z",
                                    NULL,
                                    "load",
                                    NULL,
                                    NULL,
                                    1,
                                    wkb,
                                    len,
                                    wkb,
                                    len};
        assert_int_equal(kd_store_parcel_insert(st, &dup, &id2, &err), KD_EINVAL);
        assert_string_equal(err.key, "store.duplicate_live");
        free(wkb);
    }
    kd_err_init(&err);
    assert_int_equal(kd_store_parcel_retire(st, id1, "2015-06-01T00:00:00Z", &err), KD_OK);
    insert(st, g, "10:26:01:02:03:0045", 5, "2015-06-01T00:00:00Z", &id2);
    assert_int_equal(kd_store_lineage_add(st, id2, id1, "correction-of", &err), KD_OK);
    assert_int_equal(kd_store_commit(st, &err), KD_OK);

    kd_parcel_init(&p);
    assert_int_equal(kd_store_parcel_get(st, "10:26:01:02:03:0045", NULL, 0, &p, &err), KD_OK);
    assert_int_equal(p.id, id2);
    assert_string_equal(p.valid_to, "");
    assert_int_equal(
        kd_store_parcel_get(st, "10:26:01:02:03:0045", "2012-01-01T00:00:00Z", 0, &p, &err), KD_OK);
    assert_int_equal(p.id, id1);
    assert_string_equal(p.valid_to, "2015-06-01T00:00:00Z");
    assert_int_equal(
        kd_store_parcel_get(st, "10:26:01:02:03:0045", "2001-01-01T00:00:00Z", 0, &p, &err),
        KD_ENOTFOUND);
    assert_string_equal(err.key, "parcel.not_found");
    kd_err_init(&err);
    assert_int_equal(kd_store_parcels_count(st, NULL, &n, &err), KD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(kd_store_parcels_count(st, "2012-01-01T00:00:00Z", &n, &err), KD_OK);
    assert_int_equal(n, 1);
    kd_parcel_fini(&p);
    kd_store_close(st);
    kd_geo_free(g);
}

struct box_count {
    int64_t n;
};

static enum kd_code count_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    (void)p;
    (void)err;
    ((struct box_count *)ud)->n++;
    return KD_OK;
}

/* A first load builds the R*Trees in bulk: SQLite's rtreecheck() accepts them, and box
 * queries through them find exactly the parcels a brute-force test finds. */
static void test_store_bulk_index_matches_brute_force(void **state)
{
    char path[512];
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_err err;
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t id;
    int i, k;
    uint64_t seed = 12345;

    (void)state;
    db_path(path, sizeof path, "bulk");
    kd_err_init(&err);
    assert_int_equal(kd_geo_new(&g, &err), KD_OK);
    assert_int_equal(kd_store_create(path, &cfg, 0, &err), KD_OK);
    assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
    assert_int_equal(kd_store_begin(st, &err), KD_OK);
    assert_int_equal(kd_store_bulk_begin(st, &err), KD_OK);
    for (i = 0; i < 3000; i++) {
        char number[32];
        double x, y;
        size_t len;
        unsigned char *wkb;
        struct kd_parcel_new p;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x = 523000 + (double)(seed >> 40) / 16777216.0 * 5000;
        y = 4573000 + (double)((seed >> 16) & 0xffffff) / 16777216.0 * 5000;
        snprintf(number, sizeof number, "10:26:01:02:%02d:%04d", i / 1000, i % 1000);
        wkb = square_wkb(g, x, y, &len);
        memset(&p, 0, sizeof p);
        p.number = number;
        p.declared_area_m2 = NAN;
        p.area_m2 = p.geodesic_area_m2 = 400;
        p.valid_from = "2020-01-01T00:00:00Z";
        p.operation = "load";
        p.wkb_cad = p.wkb_3857 = wkb;
        p.wkb_cad_len = p.wkb_3857_len = len;
        assert_int_equal(kd_store_parcel_insert(st, &p, &id, &err), KD_OK);
        free(wkb);
    }
    assert_int_equal(kd_store_commit(st, &err), KD_OK);
    /* queries through the index agree with a scan */
    for (k = 0; k < 50; k++) {
        double box[4];
        struct box_count c = {0};
        char sql[256];
        sqlite3_int64 expect;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        box[0] = 523000 + (double)(seed >> 40) / 16777216.0 * 5000;
        box[1] = 4573000 + (double)((seed >> 16) & 0xffffff) / 16777216.0 * 5000;
        box[2] = box[0] + 300;
        box[3] = box[1] + 200;
        assert_int_equal(kd_store_parcels_in_box(st, box, 0, count_cb, &c, &err), KD_OK);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM parcels WHERE MbrMinX(geom_cad) <= %.6f AND "
                 "MbrMaxX(geom_cad) >= %.6f AND MbrMinY(geom_cad) <= %.6f AND "
                 "MbrMaxY(geom_cad) >= %.6f",
                 box[2], box[0], box[3], box[1]);
        sqlite3_enable_load_extension(db, 1);
        assert_int_equal(
            sqlite3_exec(db, "SELECT load_extension('mod_spatialite')", NULL, NULL, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        expect = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        assert_int_equal(c.n, expect);
    }
    kd_store_close(st);
    /* SQLite's own structural check of both indexes */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rtreecheck('idx_parcels_geom_cad') || ' ' || "
                                        "rtreecheck('idx_parcels_geom_3857')",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
    kd_geo_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_create_refuses_existing_file),
        cmocka_unit_test(test_store_open_reads_config),
        cmocka_unit_test(test_store_open_missing_file),
        cmocka_unit_test(test_store_open_refuses_newer_schema),
        cmocka_unit_test(test_store_open_migrates_schema_1),
        cmocka_unit_test(test_store_parcel_versions_and_as_of),
        cmocka_unit_test(test_store_bulk_index_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
