/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of mapping files: the format, its errors, and binding to a real OGR layer
 * (GDAL's Memory driver): mapped fields, constants, defaults, value maps, the "id" and
 * Shapefile-name fallbacks, and the refusal of a field that does not exist. */
#include "../../../src/ingest/ingest_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A memory layer with fields ML (string), USE (string), cadastral_ (Shapefile-cut) and one
 * feature. */
static GDALDatasetH memory_layer(OGRLayerH *lyr, OGRFeatureH *feat)
{
    GDALDriverH drv;
    GDALDatasetH ds;
    const char *names[] = {"ML", "USE", "cadastral_"};
    int i;

    GDALAllRegister();
    drv = GDALGetDriverByName("Memory");
    ds = GDALCreate(drv, "m", 0, 0, 0, GDT_Unknown, NULL);
    *lyr = GDALDatasetCreateLayer(ds, "t", NULL, wkbNone, NULL);
    for (i = 0; i < 3; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(names[i], OFTString);
        OGR_L_CreateField(*lyr, fd, 1);
        OGR_Fld_Destroy(fd);
    }
    *feat = OGR_F_Create(OGR_L_GetLayerDefn(*lyr));
    OGR_F_SetFieldString(*feat, 0, "1A-12");
    OGR_F_SetFieldString(*feat, 1, "R");
    OGR_F_SetFieldString(*feat, 2, "10:26:01:02:03:0045");
    return ds;
}

static void test_mapping_read_and_bind(void **state)
{
    char path[512];
    struct kd_mapping m;
    struct field_bind bind[F_COUNT];
    struct kd_err err;
    OGRLayerH lyr;
    OGRFeatureH feat;
    GDALDatasetH ds = memory_layer(&lyr, &feat);

    (void)state;
    snprintf(path, sizeof path, "%s/map-%d.json", KD_TEST_WORK, (int)getpid());
    write_file(path,
               "{\"layer\": \"t\", \"duplicates\": \"merge\", \"fields\": {"
               "\"cadastral_number\": \"ML\", \"zone_kind\": {\"const\": \"base\"},"
               "\"land_use\": {\"field\": \"USE\", \"map\": {\"R\": \"individual_housing\"}},"
               "\"address\": {\"field\": \"USE\", \"default\": \"x\", \"map\": {\"R\": \"\"}}}}");
    kd_err_init(&err);
    assert_int_equal(kd_mapping_read(path, &m, &err), KD_OK);
    assert_string_equal(m.layer, "t");
    assert_int_equal(m.duplicates, KD_DUP_MERGE);
    assert_int_equal(kd_mapping_bind(&m, OGR_L_GetLayerDefn(lyr), bind, &err), KD_OK);
    assert_string_equal(kd_mapping_value(bind, F_CADASTRAL_NUMBER, feat, NULL), "1A-12");
    assert_string_equal(kd_mapping_value(bind, F_LAND_USE, feat, NULL), "individual_housing");
    assert_string_equal(kd_mapping_value(bind, F_ZONE_KIND, feat, NULL), "base");
    /* mapped to empty, then the default */
    assert_string_equal(kd_mapping_value(bind, F_ADDRESS, feat, NULL), "x");
    kd_mapping_fini(&m);
    /* without a mapping: the Shapefile-cut name is recognized */
    kd_mapping_identity(&m);
    assert_int_equal(kd_mapping_bind(&m, OGR_L_GetLayerDefn(lyr), bind, &err), KD_OK);
    assert_string_equal(kd_mapping_value(bind, F_CADASTRAL_NUMBER, feat, NULL),
                        "10:26:01:02:03:0045");
    assert_string_equal(kd_mapping_value(bind, F_LAND_USE, feat, NULL), "");
    kd_mapping_fini(&m);
    OGR_F_Destroy(feat);
    GDALClose(ds);
    unlink(path);
}

static void test_mapping_bind_refuses_missing_field(void **state)
{
    char path[512];
    struct kd_mapping m;
    struct field_bind bind[F_COUNT];
    struct kd_err err;
    OGRLayerH lyr;
    OGRFeatureH feat;
    GDALDatasetH ds = memory_layer(&lyr, &feat);

    (void)state;
    snprintf(path, sizeof path, "%s/map2-%d.json", KD_TEST_WORK, (int)getpid());
    write_file(path, "{\"fields\": {\"cadastral_number\": \"NOPE\"}}");
    kd_err_init(&err);
    assert_int_equal(kd_mapping_read(path, &m, &err), KD_OK);
    assert_int_equal(kd_mapping_bind(&m, OGR_L_GetLayerDefn(lyr), bind, &err), KD_EINVAL);
    assert_string_equal(err.key, "mapping.field_missing");
    assert_non_null(strstr(err.hint, "ML, USE, cadastral_"));
    kd_mapping_fini(&m);
    OGR_F_Destroy(feat);
    GDALClose(ds);
    unlink(path);
}

static void test_mapping_read_errors(void **state)
{
    static const struct {
        const char *text, *key;
    } cases[] = {
        {"{\"fields\": [", "mapping.read"},
        {"[1, 2]", "mapping.syntax"},
        {"{\"layer\": 3, \"fields\": {}}", "mapping.syntax"},
        {"{}", "mapping.syntax"},
        {"{\"fields\": {\"parcel_no\": \"ML\"}}", "mapping.unknown_field"},
        {"{\"duplicates\": \"keep\", \"fields\": {}}", "mapping.duplicates"},
        {"{\"fields\": {\"land_use\": {\"map\": {}}}}", "mapping.syntax"},
        {"{\"fields\": {\"land_use\": {\"field\": \"U\", \"map\": 3}}}", "mapping.syntax"},
    };
    char path[512];
    struct kd_mapping m;
    struct kd_err err;
    size_t i;

    (void)state;
    snprintf(path, sizeof path, "%s/map3-%d.json", KD_TEST_WORK, (int)getpid());
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text);
        kd_err_init(&err);
        assert_int_equal(kd_mapping_read(path, &m, &err), KD_EINVAL);
        assert_string_equal(err.key, cases[i].key);
        assert_non_null(strstr(err.where, "map3-"));
        kd_mapping_fini(&m);
    }
    kd_err_init(&err);
    assert_int_equal(kd_mapping_read(KD_TEST_WORK "/no-such-map.json", &m, &err), KD_EINVAL);
    assert_string_equal(err.key, "mapping.read");
    kd_mapping_fini(&m);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_read_and_bind),
        cmocka_unit_test(test_mapping_bind_refuses_missing_field),
        cmocka_unit_test(test_mapping_read_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
