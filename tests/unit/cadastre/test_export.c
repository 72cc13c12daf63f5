/* SPDX-License-Identifier: Apache-2.0 */
/* Open-data export, read back with OGR: the same parcels, numbers and geometries (within
 * 1e-6 m) from a GeoPackage; RFC 7946 GeoJSON in lon/lat; other layers with the field names
 * `kadastr load` reads; the register as of a date; no personal data; and the failures: an
 * existing file, an unknown extension, a layer that is not open data, and a failure half-way
 * that must leave no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>

#define DB KD_TEST_WORK "/cadastre_export.sqlite"
#define OUT KD_TEST_WORK "/cadastre_export_"

struct world {
    struct kd_store *st;
    struct kd_geo *g;
};

static int setup(void **state)
{
    static struct world w;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    if (fx_write(DB, 20, 20, &err) || kd_store_open(DB, KD_STORE_RO, &w.st, &err) ||
        kd_geo_new(&w.g, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.key, err.msg);
        return -1;
    }
    GDALAllRegister();
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    kd_geo_free(w->g);
    kd_store_close(w->st);
    return 0;
}

static const char *fresh(const char *name, char *path, size_t size)
{
    snprintf(path, size, OUT "%s", name);
    unlink(path);
    return path;
}

static GDALDatasetH open_vector(const char *path)
{
    const char *const oo[] = {"DATE_AS_STRING=YES", NULL}; /* GeoJSON: keep numbers whole */

    return GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                      strstr(path, ".geojson") ? oo : NULL, NULL);
}

static void test_export_layer_gpkg_round_trip(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, NULL};
    struct kd_export_stats s;
    struct kd_err err;
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureH f;
    OGRFeatureDefnH defn;
    GEOSContextHandle_t h = kd_geo_geos(w->g);
    char path[512], n1[KD_CADNUM_MAX];
    int64_t n_live = 0;
    long n = 0;
    int i, seen_n1 = 0;

    kd_err_init(&err);
    fx_number(1, n1);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("round.gpkg", path, sizeof path), &o, &s, &err), KD_OK);
    assert_int_equal(kd_store_parcels_count(w->st, NULL, &n_live, &err), KD_OK);
    assert_int_equal(s.n_features, n_live);
    assert_string_equal(s.driver, "GPKG");
    assert_int_equal(s.srid, FX_SRID);

    ds = open_vector(path);
    assert_non_null(ds);
    l = GDALDatasetGetLayerByName(ds, "parcels");
    assert_non_null(l);
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), n_live);
    /* open data: no field names a party */
    defn = OGR_L_GetLayerDefn(l);
    for (i = 0; i < OGR_FD_GetFieldCount(defn); i++)
        assert_null(strstr(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), "party"));
    OGR_L_ResetReading(l);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        const char *num = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "cadastral_number"));
        OGRGeometryH og = OGR_F_GetGeometryRef(f);
        struct kd_parcel p;
        unsigned char *wkb;
        int len = OGR_G_WkbSize(og);
        GEOSGeometry *a, *b;

        kd_parcel_init(&p);
        assert_int_equal(kd_store_parcel_get(w->st, num, NULL, 1, &p, &err), KD_OK);
        wkb = malloc((size_t)len);
        assert_non_null(wkb);
        assert_int_equal(OGR_G_ExportToIsoWkb(og, wkbNDR, wkb), OGRERR_NONE);
        a = kd_geos_from_wkb(w->g, wkb, (size_t)len, &err);
        b = kd_geos_from_wkb(w->g, p.wkb, p.wkb_len, &err);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(GEOSEqualsExact_r(h, a, b, 1e-6), 1);
        assert_true(fabs(OGR_F_GetFieldAsDouble(f, OGR_F_GetFieldIndex(f, "area_m2")) - p.area_m2) <
                    0.005 + 1e-9);
        if (strcmp(num, n1) == 0) {
            seen_n1 = 1;
            assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "rights")),
                                "ownership 1/2; ownership 1/2");
            assert_false(OGR_F_IsFieldSetAndNotNull(f, OGR_F_GetFieldIndex(f, "valid_to")));
            assert_false(OGR_F_IsFieldSetAndNotNull(f, OGR_F_GetFieldIndex(f, "declared_area_m2")));
            assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "land_category")),
                                "settlements");
        }
        GEOSGeom_destroy_r(h, a);
        GEOSGeom_destroy_r(h, b);
        free(wkb);
        kd_parcel_fini(&p);
        OGR_F_Destroy(f);
        n++;
    }
    assert_int_equal(n, n_live);
    assert_true(seen_n1);
    GDALClose(ds);
}

static void test_export_layer_geojson_4326_is_rfc7946(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 4326, NULL};
    struct kd_export_stats s;
    struct kd_err err;
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureH f;
    OGREnvelope env;
    char path[512], text[4096];
    FILE *fp;
    size_t got;

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("p.geojson", path, sizeof path), &o, &s, &err), KD_OK);
    assert_int_equal(s.srid, 4326);
    fp = fopen(path, "r");
    assert_non_null(fp);
    got = fread(text, 1, sizeof text - 1, fp);
    text[got] = '\0';
    fclose(fp);
    assert_null(strstr(text, "\"crs\"")); /* RFC 7946 has no crs member */
    ds = open_vector(path);
    assert_non_null(ds);
    l = GDALDatasetGetLayer(ds, 0);
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), s.n_features);
    assert_int_equal(OGR_L_GetExtent(l, &env, TRUE), OGRERR_NONE);
    /* lon/lat near Tashkent, in x = lon order */
    assert_true(env.MinX > 69 && env.MaxX < 70 && env.MinY > 41 && env.MaxY < 42);
    f = OGR_L_GetNextFeature(l);
    assert_non_null(f);
    /* the whole number, as the feature id (GDAL reads it as a String field "id") */
    assert_int_equal(strlen(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "id"))), 19);
    OGR_F_Destroy(f);
    GDALClose(ds);
}

/* Plain GDAL (no DATE_AS_STRING) reads a cadastral_number property as a time and cuts it;
 * the number is the feature id instead, which GDAL reads intact as a String field. */
static void test_export_layer_geojson_number_is_the_feature_id(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 4326, NULL};
    struct kd_export_stats s;
    struct kd_err err;
    GDALDatasetH ds;
    OGRLayerH l;
    OGRFeatureDefnH defn;
    OGRFeatureH f;
    char path[512];
    long n = 0;
    int i, id;

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("ids.geojson", path, sizeof path), &o, &s, &err), KD_OK);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    l = GDALDatasetGetLayer(ds, 0);
    defn = OGR_L_GetLayerDefn(l);
    for (i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
        OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i));
        assert_true(t != OFTTime);
    }
    id = OGR_FD_GetFieldIndex(defn, "id");
    assert_true(id >= 0);
    assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, id)), OFTString);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        struct kd_parcel p;
        kd_parcel_init(&p);
        assert_int_equal(
            kd_store_parcel_get(w->st, OGR_F_GetFieldAsString(f, id), NULL, 0, &p, &err), KD_OK);
        OGR_F_Destroy(f);
        n++;
    }
    assert_int_equal(n, s.n_features);
    GDALClose(ds);
}

static void test_export_layer_csv_and_fgb(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, NULL};
    struct kd_export_stats s;
    struct kd_err err;
    const char *names[] = {"p.csv", "p.fgb"};
    char path[512];
    size_t i;

    kd_err_init(&err);
    for (i = 0; i < 2; i++) {
        GDALDatasetH ds;
        assert_int_equal(
            kd_export_layer(w->st, w->g, fresh(names[i], path, sizeof path), &o, &s, &err), KD_OK);
        ds = open_vector(path);
        assert_non_null(ds);
        assert_int_equal(OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE), s.n_features);
        GDALClose(ds);
    }
}

static void test_export_layer_zones_and_admin_units_fields(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_ZONES, 0, NULL};
    struct kd_export_stats s;
    struct kd_err err;
    GDALDatasetH ds;
    OGRFeatureH f;
    char path[512];

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("zones.gpkg", path, sizeof path), &o, &s, &err), KD_OK);
    assert_int_equal(s.n_features, 1);
    ds = open_vector(path);
    assert_non_null(ds);
    f = OGR_L_GetNextFeature(GDALDatasetGetLayerByName(ds, "zones"));
    assert_non_null(f);
    assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "zone_code")), "R1");
    assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "zone_kind")), "base");
    assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "permitted_uses")),
                        "residential,commercial");
    OGR_F_Destroy(f);
    GDALClose(ds);

    o.layer = KD_LAYER_ADMIN_UNITS;
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("admin.gpkg", path, sizeof path), &o, &s, &err), KD_OK);
    ds = open_vector(path);
    assert_non_null(ds);
    f = OGR_L_GetNextFeature(GDALDatasetGetLayerByName(ds, "admin_units"));
    assert_non_null(f);
    assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "admin_level")), "mavze");
    assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "parent_code")),
                        "10:26:01:02");
    OGR_F_Destroy(f);
    GDALClose(ds);
}

static void test_export_layer_as_of_past_date(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, "2021-01-01T00:00:00Z"};
    struct kd_export_stats s;
    struct kd_err err;
    GDALDatasetH ds;
    OGRLayerH l;
    char path[512];

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("old.gpkg", path, sizeof path), &o, &s, &err), KD_OK);
    assert_int_equal(s.n_features, 400 + 5);
    ds = open_vector(path);
    assert_non_null(ds);
    l = GDALDatasetGetLayer(ds, 0);
    OGR_L_SetAttributeFilter(l, "cadastral_number = '" FX_PARENT "'");
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), 1);
    /* the rights summaries of that date: parcel 1's two owners, none on the others */
    OGR_L_SetAttributeFilter(l, "rights IS NOT NULL");
    assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), 1);
    OGR_L_ResetReading(l);
    {
        OGRFeatureH f = OGR_L_GetNextFeature(l);
        char n1[KD_CADNUM_MAX];
        fx_number(1, n1);
        assert_non_null(f);
        assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "cadastral_number")),
                            n1);
        assert_string_equal(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "rights")),
                            "ownership 1/2; ownership 1/2");
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
}

static void test_export_layer_refuses_existing_file(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, NULL};
    struct kd_err err;
    char path[512];
    FILE *fp;

    kd_err_init(&err);
    fp = fopen(fresh("exists.gpkg", path, sizeof path), "w");
    assert_non_null(fp);
    fputs("mine", fp);
    fclose(fp);
    assert_int_equal(kd_export_layer(w->st, w->g, path, &o, NULL, &err), KD_EINVAL);
    assert_string_equal(err.key, "export.exists");
    fp = fopen(path, "r"); /* untouched */
    assert_non_null(fp);
    assert_int_equal(fgetc(fp), 'm');
    fclose(fp);
}

/* A missing directory: where is the path once, and the hint says what to do. */
static void test_export_layer_missing_directory(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, NULL};
    struct kd_err err;
    const char *path = OUT "no_such_dir/p.gpkg";

    kd_err_init(&err);
    assert_int_equal(kd_export_layer(w->st, w->g, path, &o, NULL, &err), KD_EIO);
    assert_string_equal(err.key, "export.create");
    assert_string_equal(err.where, path);
    assert_non_null(strstr(err.hint, "does not exist"));
}

static void test_export_layer_rejects_unknown_extension(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARCELS, 0, NULL};
    struct kd_err err;
    char path[512];

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("p.shp", path, sizeof path), &o, NULL, &err), KD_EINVAL);
    assert_string_equal(err.key, "export.format");
    assert_int_equal(access(path, F_OK), -1);
}

static void test_export_layer_rejects_parties(void **state)
{
    struct world *w = *state;
    struct kd_export_opts o = {KD_LAYER_PARTIES, 0, NULL};
    struct kd_err err;
    char path[512];

    kd_err_init(&err);
    assert_int_equal(
        kd_export_layer(w->st, w->g, fresh("parties.gpkg", path, sizeof path), &o, NULL, &err),
        KD_EINVAL);
    assert_string_equal(err.key, "export.layer");
}

static void test_export_layer_failure_removes_partial_file(void **state)
{
    struct kd_export_opts o = {KD_LAYER_PARCELS, 4326, NULL};
    struct kd_store *st = NULL;
    struct kd_parcel_new p;
    struct fx f;
    struct kd_err err;
    unsigned char *wkb = NULL;
    size_t len = 0;
    char db[512], path[512];
    GEOSContextHandle_t h;
    GEOSWKTReader *rd;
    GEOSGeometry *g1, *g2;

    (void)state;
    kd_err_init(&err);
    /* a register whose second parcel lies where UTM's inverse has no answer (E = 1e8 m):
     * the first feature is written, the second fails */
    fresh("broken.sqlite", db, sizeof db);
    assert_int_equal(fx_open(&f, db), KD_OK);
    assert_int_equal(fx_rect(&f, "10:26:01:02:03:0001", FX_X0, FX_Y0, FX_X0 + 20, FX_Y0 + 20,
                             FX_FROM, "load", NULL),
                     KD_OK);
    h = kd_geo_geos(f.g);
    rd = GEOSWKTReader_create_r(h);
    g1 = GEOSWKTReader_read_r(h, rd, "POLYGON((1e8 0,100000020 0,100000020 20,1e8 20,1e8 0))");
    g2 = kd_geos_to_multipolygon(f.g, g1);
    wkb = kd_geos_to_wkb(f.g, g2, &len, &f.err);
    assert_non_null(wkb);
    memset(&p, 0, sizeof p);
    p.number = "10:26:01:02:03:0002";
    p.declared_area_m2 = NAN;
    p.area_m2 = p.geodesic_area_m2 = 400;
    p.valid_from = FX_FROM;
    p.operation = "load";
    p.wkb_cad = p.wkb_3857 = wkb;
    p.wkb_cad_len = p.wkb_3857_len = len;
    assert_int_equal(kd_store_parcel_insert(f.st, &p, NULL, &f.err), KD_OK);
    free(wkb);
    GEOSGeom_destroy_r(h, g1);
    GEOSGeom_destroy_r(h, g2);
    GEOSWKTReader_destroy_r(h, rd);
    assert_int_equal(fx_close(&f), KD_OK);

    assert_int_equal(kd_store_open(db, KD_STORE_RO, &st, &err), KD_OK);
    {
        struct kd_geo *g = NULL;
        assert_int_equal(kd_geo_new(&g, &err), KD_OK);
        assert_int_equal(
            kd_export_layer(st, g, fresh("broken.gpkg", path, sizeof path), &o, NULL, &err),
            KD_EGEO);
        kd_geo_free(g);
    }
    assert_string_equal(err.key, "op.failed");
    assert_non_null(strstr(err.where, "parcel 10:26:01:02:03:0002"));
    assert_int_equal(access(path, F_OK), -1);
    kd_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_layer_gpkg_round_trip),
        cmocka_unit_test(test_export_layer_geojson_4326_is_rfc7946),
        cmocka_unit_test(test_export_layer_geojson_number_is_the_feature_id),
        cmocka_unit_test(test_export_layer_csv_and_fgb),
        cmocka_unit_test(test_export_layer_zones_and_admin_units_fields),
        cmocka_unit_test(test_export_layer_as_of_past_date),
        cmocka_unit_test(test_export_layer_refuses_existing_file),
        cmocka_unit_test(test_export_layer_missing_directory),
        cmocka_unit_test(test_export_layer_rejects_unknown_extension),
        cmocka_unit_test(test_export_layer_rejects_parties),
        cmocka_unit_test(test_export_layer_failure_removes_partial_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
