/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of openapi.c: the real data/openapi.json loads with servers[0].url set to the
 * base URL; every load error (missing, not JSON, text after it, not OpenAPI 3.0, no paths) by
 * code, key and where, on documents written under KD_TEST_WORK; and kd_server_start refuses to
 * start without a valid document, naming it. The document as served is tested against the
 * routes by tests/integration/test_openapi.sh. */
#include "../../../src/server/server_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#define WORK KD_TEST_WORK "/unit_openapi"
#define REAL KD_SOURCE_DIR "/data/openapi.json"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* servers[0].url of a loaded document. */
static void assert_server_url(const char *doc, const char *want)
{
    json_object *root = json_tokener_parse(doc), *servers, *url;

    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "servers", &servers));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(servers, 0), "url", &url));
    assert_string_equal(json_object_get_string(url), want);
    json_object_put(root);
}

static void test_openapi_load_sets_server_url(void **state)
{
    char *doc = NULL;
    size_t len = 0;
    struct kd_err err;
    json_object *root, *v;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_openapi_load(REAL, "https://kadastr.example.uz/office", &doc, &len, &err),
                     KD_OK);
    assert_int_equal(strlen(doc), len);
    assert_server_url(doc, "https://kadastr.example.uz/office");
    root = json_tokener_parse(doc);
    assert_true(json_object_object_get_ex(root, "openapi", &v));
    assert_string_equal(json_object_get_string(v), "3.0.3");
    assert_true(json_object_object_get_ex(root, "paths", &v));
    assert_true(json_object_object_get_ex(v, "/api", NULL));
    json_object_put(root);
    /* slashes are not escaped, non-ASCII text stays UTF-8 */
    assert_non_null(strstr(doc, "\"https://kadastr.example.uz/office\""));
    assert_non_null(strstr(doc, "m²"));
    free(doc);
}

static void test_openapi_load_adds_servers(void **state)
{
    char *doc = NULL;
    size_t len = 0;
    struct kd_err err;

    (void)state;
    write_file(WORK "/no-servers.json", "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"t\","
                                        "\"version\":\"1\"},\"paths\":{\"/\":{}}}\n");
    kd_err_init(&err);
    assert_int_equal(
        kd_openapi_load(WORK "/no-servers.json", "http://127.0.0.1:1", &doc, &len, &err), KD_OK);
    assert_server_url(doc, "http://127.0.0.1:1");
    free(doc);
}

struct bad_case {
    const char *name, *text; /* text NULL: no file */
    const char *key;
};

static void test_openapi_load_errors(void **state)
{
    static const struct bad_case cases[] = {
        {"missing.json", NULL, "openapi.read"},
        {"truncated.json", "{\"openapi\":\"3.0.3\",\"info\":{", "openapi.parse"},
        {"not-json.json", "openapi: 3.0.3\n", "openapi.parse"},
        {"two.json", "{\"openapi\":\"3.0.3\"} {}", "openapi.parse"},
        {"empty.json", "", "openapi.parse"},
        {"array.json", "[]", "openapi.version"},
        {"swagger.json", "{\"swagger\":\"2.0\",\"info\":{},\"paths\":{}}", "openapi.version"},
        {"v31.json",
         "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"t\",\"version\":\"1\"},"
         "\"paths\":{\"/\":{}}}",
         "openapi.version"},
        {"no-paths.json", "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"t\",\"version\":\"1\"}}",
         "openapi.shape"},
        {"empty-paths.json",
         "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"t\",\"version\":\"1\"},\"paths\":{}}",
         "openapi.shape"},
        {"no-title.json",
         "{\"openapi\":\"3.0.3\",\"info\":{\"version\":\"1\"},\"paths\":{\"/\":{}}}",
         "openapi.shape"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        char *doc = NULL;
        size_t len = 0;
        struct kd_err err;
        enum kd_code rc;

        snprintf(path, sizeof path, "%s/%s", WORK, cases[i].name);
        unlink(path);
        if (cases[i].text)
            write_file(path, cases[i].text);
        kd_err_init(&err);
        rc = kd_openapi_load(path, "http://127.0.0.1:1", &doc, &len, &err);
        if (rc != KD_EIO || strcmp(err.key, cases[i].key) != 0 || strcmp(err.where, path) != 0)
            fail_msg("%s: got %s %s at '%s' (%s), want EIO %s at '%s'", cases[i].name,
                     kd_code_name(rc), err.key, err.where, err.msg, cases[i].key, path);
        assert_null(doc); /* OUT written only on success */
    }
}

static void test_server_start_needs_the_openapi_document(void **state)
{
    struct kd_store_config cfg = {32642, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};
    struct kd_server_opts o;
    struct kd_server *srv = NULL;
    struct kd_err err;
    const char *db = WORK "/office.sqlite", *dir = WORK "/data", *i18n = WORK "/data/i18n",
               *doc = WORK "/data/openapi.json";

    (void)state;
    unlink(db);
    unlink(doc);
    mkdir(dir, 0755);
    unlink(i18n);
    assert_int_equal(symlink(KD_SOURCE_DIR "/data/i18n", i18n), 0);
    kd_err_init(&err);
    assert_int_equal(kd_store_create(db, &cfg, 0, &err), KD_OK);

    memset(&o, 0, sizeof o);
    o.db_path = db;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.data_dir = dir;
    o.access_log = WORK "/access.log";
    assert_int_equal(kd_server_start(&o, &srv, &err), KD_EIO);
    assert_null(srv);
    assert_string_equal(err.key, "openapi.read");
    assert_non_null(strstr(err.where, "OpenAPI document: "));
    assert_non_null(strstr(err.where, doc));

    write_file(doc, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"t\",\"version\":\"1\"},"
                    "\"paths\":{\"/\":{}}}");
    kd_err_init(&err);
    assert_int_equal(kd_server_start(&o, &srv, &err), KD_OK);
    assert_non_null(srv->openapi);
    assert_server_url(srv->openapi, kd_server_base_url(srv));
    kd_server_free(srv, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openapi_load_sets_server_url),
        cmocka_unit_test(test_openapi_load_adds_servers),
        cmocka_unit_test(test_openapi_load_errors),
        cmocka_unit_test(test_server_start_needs_the_openapi_document),
    };

    mkdir(KD_TEST_WORK, 0755);
    mkdir(WORK, 0755);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
