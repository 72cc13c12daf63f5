/* SPDX-License-Identifier: Apache-2.0 */
/* The C encoder of SpatiaLite geometry blobs gives, byte for byte, what SpatiaLite's own
 * GeomFromWKB() gives (CastToMultiPolygon for a Polygon), and refuses what is not a
 * little-endian 2D polygon; the decoder gives what AsBinary() gives. */
#include "../../../src/store/store_int.h"

#include <setjmp.h>
#include <spatialite.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* WKB of POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2)) offset by (x0, y0). */
static size_t polygon_wkb(unsigned char *out, double x0, double y0)
{
    static const double ring1[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    static const double ring2[] = {2, 2, 3, 2, 3, 3, 2, 2};
    uint32_t type = 3, nrings = 2, n1 = 5, n2 = 4;
    size_t at = 0;
    int i;

    out[at++] = 1;
    memcpy(out + at, &type, 4), at += 4;
    memcpy(out + at, &nrings, 4), at += 4;
    memcpy(out + at, &n1, 4), at += 4;
    for (i = 0; i < 10; i++) {
        double v = ring1[i] + (i % 2 ? y0 : x0);
        memcpy(out + at, &v, 8), at += 8;
    }
    memcpy(out + at, &n2, 4), at += 4;
    for (i = 0; i < 8; i++) {
        double v = ring2[i] + (i % 2 ? y0 : x0);
        memcpy(out + at, &v, 8), at += 8;
    }
    return at;
}

static void spatialite_blob(const char *sql, const unsigned char *wkb, size_t len,
                            unsigned char *out, int *out_len)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    void *cache = spatialite_alloc_connection();

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    spatialite_init_ex(db, cache, 0);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, wkb, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    *out_len = sqlite3_column_bytes(q, 0);
    memcpy(out, sqlite3_column_blob(q, 0), (size_t)*out_len);
    sqlite3_finalize(q);
    sqlite3_close(db);
    spatialite_cleanup_ex(cache);
}

static void test_blob_from_wkb_matches_spatialite(void **state)
{
    unsigned char wkb[512], multi[1024], theirs[2048];
    uint32_t six = 6, two = 2;
    size_t n1, n2, at = 0;
    struct kd_buf ours;
    double box[4];
    int len;

    (void)state;
    kd_buf_init(&ours);
    /* a Polygon is stored as a MultiPolygon */
    n1 = polygon_wkb(wkb, 523000.25, 4573000.5);
    assert_int_equal(kd_store_blob_from_wkb(wkb, n1, 32642, &ours, box), 0);
    spatialite_blob("SELECT CastToMultiPolygon(GeomFromWKB(?1, 32642))", wkb, n1, theirs, &len);
    assert_int_equal((int)ours.len, len);
    assert_memory_equal(ours.data, theirs, ours.len);
    assert_true(box[0] == 523000.25 && box[3] == 4573010.5);
    /* a MultiPolygon of two parts */
    multi[at++] = 1;
    memcpy(multi + at, &six, 4), at += 4;
    memcpy(multi + at, &two, 4), at += 4;
    n2 = polygon_wkb(multi + at, 523000, 4573000), at += n2;
    n2 = polygon_wkb(multi + at, 523100, 4573050), at += n2;
    assert_int_equal(kd_store_blob_from_wkb(multi, at, 32642, &ours, box), 0);
    spatialite_blob("SELECT GeomFromWKB(?1, 32642)", multi, at, theirs, &len);
    assert_int_equal((int)ours.len, len);
    assert_memory_equal(ours.data, theirs, ours.len);
    kd_buf_fini(&ours);
}

static void test_blob_from_wkb_refuses_other_input(void **state)
{
    unsigned char wkb[512];
    struct kd_buf out;
    double box[4];
    size_t n;

    (void)state;
    kd_buf_init(&out);
    n = polygon_wkb(wkb, 0, 0);
    assert_int_equal(kd_store_blob_from_wkb(wkb, n - 1, 32642, &out, box), -1); /* cut */
    wkb[0] = 0;                                                                 /* big endian */
    assert_int_equal(kd_store_blob_from_wkb(wkb, n, 32642, &out, box), -1);
    wkb[0] = 1;
    wkb[1] = 2; /* a LineString */
    assert_int_equal(kd_store_blob_from_wkb(wkb, n, 32642, &out, box), -1);
    kd_buf_fini(&out);
}

/* SpatiaLite's blob of GeomFromWKB(wkb) passed through `sql` (?1 is that blob), then
 * AsBinary() of it: the oracle for kd_store_blob_to_wkb. */
static void spatialite_pair(const char *sql, const unsigned char *wkb, size_t len,
                            unsigned char *blob, int *blob_len, unsigned char *iso, int *iso_len)
{
    char both[256];

    spatialite_blob(sql, wkb, len, blob, blob_len);
    snprintf(both, sizeof both, "SELECT AsBinary(%s)", sql + strlen("SELECT "));
    spatialite_blob(both, wkb, len, iso, iso_len);
}

/* Blobs back to WKB, byte for byte as SpatiaLite's AsBinary(): kadastr's own MultiPolygon
 * (read in C), and blobs other writers make (a Polygon class, a compressed geometry, read
 * through SpatiaLite's reader); garbage is refused. */
static void test_blob_to_wkb_matches_asbinary(void **state)
{
    static const char *const forms[] = {
        "SELECT CastToMultiPolygon(GeomFromWKB(?1, 32642))",
        "SELECT GeomFromWKB(?1, 32642)",
        "SELECT CompressGeometry(CastToMultiPolygon(GeomFromWKB(?1, 32642)))",
    };
    unsigned char wkb[512], blob[2048], iso[2048];
    struct kd_buf ours;
    size_t n, i;
    int blob_len, iso_len;

    (void)state;
    kd_buf_init(&ours);
    n = polygon_wkb(wkb, 523000.25, 4573000.5);
    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        spatialite_pair(forms[i], wkb, n, blob, &blob_len, iso, &iso_len);
        assert_int_equal(kd_store_blob_to_wkb(blob, (size_t)blob_len, &ours), 0);
        assert_int_equal((int)ours.len, iso_len);
        assert_memory_equal(ours.data, iso, ours.len);
    }
    /* our own encoder's blob, read back */
    assert_int_equal(kd_store_blob_from_wkb(wkb, n, 32642, &ours, (double[4]){0}), 0);
    memcpy(blob, ours.data, ours.len);
    blob_len = (int)ours.len;
    assert_int_equal(kd_store_blob_to_wkb(blob, (size_t)blob_len, &ours), 0);
    spatialite_pair(forms[0], wkb, n, blob, &blob_len, iso, &iso_len);
    assert_memory_equal(ours.data, iso, ours.len);
    assert_int_equal(kd_store_blob_to_wkb((const unsigned char *)"not a blob", 10, &ours), -1);
    kd_buf_fini(&ours);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_from_wkb_matches_spatialite),
        cmocka_unit_test(test_blob_from_wkb_refuses_other_input),
        cmocka_unit_test(test_blob_to_wkb_matches_asbinary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
