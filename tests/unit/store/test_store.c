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
    struct kd_parcel_new p = {number, "settlements", "individual_housing", NULL, 400.0, 400.0,
                              400.5, from, NULL, "load", "test", "1", 42, wkb, len, wkb, len};
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
    assert_int_equal(kd_store_open(KD_TEST_WORK "/no-such.sqlite", KD_STORE_RO, &st, &err),
                     KD_EIO);
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
        struct kd_parcel_new dup = {"10:26:01:02:03:0045", NULL, NULL, NULL, NAN, 1, 1,
                                    "2011-01-01T00:00:00Z", NULL, "load", NULL, NULL, 1,
                                    wkb, len, wkb, len};
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
        kd_store_parcel_get(st, "10:26:01:02:03:0045", "2012-01-01T00:00:00Z", 0, &p, &err),
        KD_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_create_refuses_existing_file),
        cmocka_unit_test(test_store_open_reads_config),
        cmocka_unit_test(test_store_open_missing_file),
        cmocka_unit_test(test_store_open_refuses_newer_schema),
        cmocka_unit_test(test_store_open_migrates_schema_1),
        cmocka_unit_test(test_store_parcel_versions_and_as_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
