/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of i18n: Accept-Language negotiation (a table of headers), the real catalogues of
 * data/i18n (complete, same placeholders, valid UTF-8, Uzbek apostrophes), every load error
 * on catalogues written under KD_TEST_WORK, placeholder filling and problem+json bodies read
 * back with json-c. */
#include "kadastr/i18n.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <json-c/json.h>

#define REAL_DIR KD_SOURCE_DIR "/data/i18n"

static const char *const files[KD_N_LANGS] = {"en.json", "uz.json", "uz-Cyrl.json", "ru.json"};

/* ---- negotiation ------------------------------------------------------------------------- */

struct nego_case {
    const char *header;
    enum kd_lang want;
};

static void check_cases(const struct nego_case *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        enum kd_lang got = kd_lang_negotiate(t[i].header);
        if (got != t[i].want)
            fail_msg("Accept-Language \"%s\": got %s, want %s", t[i].header ? t[i].header : "NULL",
                     kd_lang_tag(got), kd_lang_tag(t[i].want));
    }
}

static void test_lang_negotiate_prefers_highest_q(void **state)
{
    static const struct nego_case t[] = {
        {"ru-RU,ru;q=0.9,en;q=0.8", KD_LANG_RU},
        {"en;q=0.8, ru;q=0.9", KD_LANG_RU},
        {"fr;q=0.9, uz;q=0.8", KD_LANG_UZ},
        {"ru;q=0.1, uz-Cyrl;q=0.2", KD_LANG_UZ_CYRL},
        {"en;q=0.001, uz;q=0.002", KD_LANG_UZ},
        {"uz;q=1.000, ru;q=0.999", KD_LANG_UZ},
        {"de-DE, de;q=0.9, ru;q=0.3, en;q=0.2", KD_LANG_RU},
        {"ru;q=0.5, ru-RU;q=0.9, en;q=0.7", KD_LANG_RU}, /* a language takes its best range */
        {"en-US,en;q=0.9,uz;q=0.8", KD_LANG_EN},
    };
    (void)state;
    check_cases(t, sizeof t / sizeof t[0]);
}

static void test_lang_negotiate_matches_prefixes_and_case(void **state)
{
    static const struct nego_case t[] = {
        {"ru", KD_LANG_RU},
        {"ru-RU", KD_LANG_RU},
        {"RU-ru", KD_LANG_RU},
        {"uz", KD_LANG_UZ},
        {"uz-UZ", KD_LANG_UZ},
        {"uz-Latn", KD_LANG_UZ},
        {"uz-Latn-UZ", KD_LANG_UZ},
        {"uz-Cyrl", KD_LANG_UZ_CYRL},
        {"uz-Cyrl-UZ", KD_LANG_UZ_CYRL},
        {"UZ-CYRL-uz", KD_LANG_UZ_CYRL},
        {"uz-cyrl", KD_LANG_UZ_CYRL},
        {"en-GB", KD_LANG_EN},
        {"EN", KD_LANG_EN},
        {"\tuz-Cyrl \t", KD_LANG_UZ_CYRL},
        {"uzb, rus", KD_LANG_EN},       /* three-letter codes are not our tags */
        {"uzbek, russian", KD_LANG_EN}, /* nor are the names of the languages */
        {"rux, ru;q=0.5", KD_LANG_RU},  /* "ruX" is not a prefix match of "ru" */
        {"kk, uz;q=0.4", KD_LANG_UZ},
    };
    (void)state;
    check_cases(t, sizeof t / sizeof t[0]);
}

static void test_lang_negotiate_star_and_exclusions(void **state)
{
    static const struct nego_case t[] = {
        {"*", KD_LANG_EN},
        {"de, fr;q=0.5", KD_LANG_EN},
        {"en;q=0, ru;q=0", KD_LANG_EN}, /* nothing acceptable: the default */
        {"en;q=0, *", KD_LANG_UZ},      /* any language but English */
        {"en;q=0, uz;q=0, *;q=0.5", KD_LANG_UZ_CYRL},
        {"*;q=0.5, ru", KD_LANG_RU},
        {"ru;q=0.4, *;q=0.5", KD_LANG_EN}, /* the star outbids ru for the others */
        {"uz;q=0", KD_LANG_EN},
        {"*;q=0", KD_LANG_EN},
        {"uz-Cyrl;q=0, uz", KD_LANG_UZ},
        {"en;q=0.0, ru;q=0.000, uz;q=0.", KD_LANG_EN},
    };
    (void)state;
    check_cases(t, sizeof t / sizeof t[0]);
}

static void test_lang_negotiate_tie_keeps_header_order(void **state)
{
    static const struct nego_case t[] = {
        {"ru;q=0.5, uz-Cyrl;q=0.5", KD_LANG_RU},
        {"uz-Cyrl;q=0.5, ru;q=0.5", KD_LANG_UZ_CYRL},
        {"uz, ru", KD_LANG_UZ},
        {"ru, en", KD_LANG_RU},
        {"de;q=0.9, ru;q=0.5, uz;q=0.5, en;q=0.5", KD_LANG_RU},
        {"ru;q=0.50, en;q=0.5", KD_LANG_RU},
    };
    (void)state;
    check_cases(t, sizeof t / sizeof t[0]);
}

static void test_lang_negotiate_survives_junk(void **state)
{
    static const struct nego_case t[] = {
        {NULL, KD_LANG_EN},
        {"", KD_LANG_EN},
        {" ", KD_LANG_EN},
        {",,,", KD_LANG_EN},
        {";;;,,q=", KD_LANG_EN},
        {"ru;q=", KD_LANG_EN},
        {"ru;q=2", KD_LANG_EN},
        {"ru;q=1.5", KD_LANG_EN},
        {"ru;q=0.5555", KD_LANG_EN},
        {"ru;q=abc", KD_LANG_EN},
        {"ru;q=-1", KD_LANG_EN},
        {"ru;;", KD_LANG_EN},
        {"ru;x", KD_LANG_EN},
        {"ru-", KD_LANG_EN},
        {"-ru", KD_LANG_EN},
        {"r\xc3\xbc, ru\xff", KD_LANG_EN},
        {"ru ru", KD_LANG_EN},
        {"1ru", KD_LANG_EN},
        {"ru--RU", KD_LANG_EN},
        {"ru; q=0.5, en;q=0.4", KD_LANG_RU}, /* OWS before the parameter is allowed */
        {"ru;Q=0.5, en;q=0.4", KD_LANG_RU},  /* parameter names are case-insensitive */
        {"ru;q=0.5;foo=bar, en;q=0.4", KD_LANG_RU},
        {"j_nk;q=1, ru;q=0.1", KD_LANG_RU}, /* a bad member is skipped, not fatal */
        {"ru;q=0.5x, uz;q=0.1", KD_LANG_UZ},
    };
    (void)state;
    check_cases(t, sizeof t / sizeof t[0]);
}

static void test_lang_negotiate_huge_header(void **state)
{
    size_t n = 100 * 1024, i;
    char *h = malloc(n + 32);

    (void)state;
    assert_non_null(h);
    /* 100 KB of members that are not ours, then ru */
    for (i = 0; i + 6 <= n; i += 6)
        memcpy(h + i, "de-DE,", 6);
    memcpy(h + i, "ru;q=0.1", 9);
    assert_int_equal(kd_lang_negotiate(h), KD_LANG_RU);
    /* one 100 KB member: malformed, skipped */
    memset(h, 'a', n);
    memcpy(h + n, ",uz", 4);
    assert_int_equal(kd_lang_negotiate(h), KD_LANG_UZ);
    /* every byte value but NUL */
    for (i = 0; i < n; i++)
        h[i] = (char)(1 + i % 255);
    h[n] = '\0';
    assert_true((unsigned)kd_lang_negotiate(h) < KD_N_LANGS);
    /* 100 KB of commas and of q parameters */
    memset(h, ',', n);
    h[n] = '\0';
    assert_int_equal(kd_lang_negotiate(h), KD_LANG_EN);
    for (i = 0; i + 4 <= n; i += 4)
        memcpy(h + i, ";q=0", 4);
    h[i] = '\0';
    assert_int_equal(kd_lang_negotiate(h), KD_LANG_EN);
    free(h);
}

static void test_lang_tag_names_and_parse_round_trip(void **state)
{
    enum kd_lang l, got;

    (void)state;
    assert_string_equal(kd_lang_tag(KD_LANG_EN), "en");
    assert_string_equal(kd_lang_tag(KD_LANG_UZ), "uz");
    assert_string_equal(kd_lang_tag(KD_LANG_UZ_CYRL), "uz-Cyrl");
    assert_string_equal(kd_lang_tag(KD_LANG_RU), "ru");
    assert_string_equal(kd_lang_tag((enum kd_lang)99), "en");
    for (l = KD_LANG_EN; l < KD_N_LANGS; l++) {
        assert_int_equal(kd_lang_parse(kd_lang_tag(l), &got), 0);
        assert_int_equal(got, l);
        /* a language's own tag negotiates to itself */
        assert_int_equal(kd_lang_negotiate(kd_lang_tag(l)), l);
    }
    assert_int_equal(kd_lang_parse("UZ-CYRL", &got), 0);
    assert_int_equal(got, KD_LANG_UZ_CYRL);
    assert_int_equal(kd_lang_parse("uz-Cyrl-UZ", &got), -1);
    assert_int_equal(kd_lang_parse("u", &got), -1);
    assert_int_equal(kd_lang_parse("", &got), -1);
    assert_int_equal(kd_lang_parse(NULL, &got), -1);
}

/* ---- the real catalogues ----------------------------------------------------------------- */

/* An outside reading of the files: json-c directly, not the loader under test. */
static json_object *read_json(const char *dir, const char *file)
{
    char path[1024];
    json_object *o;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    o = json_object_from_file(path);
    if (!o)
        fail_msg("%s: %s", path, json_util_get_last_err());
    return o;
}

static int utf8_valid(const unsigned char *s)
{
    while (*s) {
        size_t n, i;
        unsigned cp;
        if (*s < 0x80) {
            s++;
            continue;
        } else if (*s >= 0xC2 && *s <= 0xDF) {
            n = 1;
            cp = *s & 0x1Fu;
        } else if (*s >= 0xE0 && *s <= 0xEF) {
            n = 2;
            cp = *s & 0x0Fu;
        } else if (*s >= 0xF0 && *s <= 0xF4) {
            n = 3;
            cp = *s & 0x07u;
        } else {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* The set of {placeholders} of s, as a sorted, comma-joined string ("lat,lon"). */
static void placeholder_set(const char *s, char *out, size_t size)
{
    char names[16][64];
    size_t n = 0, i, j;
    const char *p;

    for (p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
        size_t k = 1;
        while ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9') || p[k] == '_')
            k++;
        if (k == 1 || p[k] != '}' || k > 63)
            continue;
        assert_true(n < 16);
        memcpy(names[n], p + 1, k - 1);
        names[n][k - 1] = '\0';
        for (j = 0; j < n && strcmp(names[j], names[n]) != 0; j++)
            ;
        if (j == n)
            n++;
    }
    for (i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[64];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i)
            strncat(out, ",", size - strlen(out) - 1);
        strncat(out, names[i], size - strlen(out) - 1);
    }
}

static const char *member_str(json_object *entry, const char *name)
{
    json_object *v;

    if (!json_object_object_get_ex(entry, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void test_catalog_load_real_catalogues(void **state)
{
    struct kd_catalog *c = NULL;
    struct kd_err err;
    enum kd_lang l;

    (void)state;
    kd_err_init(&err);
    if (kd_catalog_load(REAL_DIR, &c, &err) != KD_OK)
        fail_msg("%s: %s: %s", err.key, err.where, err.msg);
    assert_non_null(c);
    for (l = KD_LANG_EN; l < KD_N_LANGS; l++) {
        assert_true(kd_catalog_has(c, "http.not_found"));
        assert_true(kd_catalog_has(c, "cadnum.group_width"));
    }
    assert_string_equal(kd_catalog_title(c, KD_LANG_EN, "http.not_found"), "Not found");
    assert_string_equal(kd_catalog_title(c, KD_LANG_RU, "parcel.not_found"), "Участок не найден");
    assert_string_equal(kd_catalog_title(c, KD_LANG_UZ, "parcel.not_found"),
                        "Yer uchastkasi topilmadi");
    assert_string_equal(kd_catalog_title(c, KD_LANG_UZ_CYRL, "parcel.not_found"),
                        "Ер участкаси топилмади");
    kd_catalog_free(c);
    kd_catalog_free(NULL);
}

/* The keys the server and core need now; the catalogue may have more. */
static void test_catalog_load_has_every_needed_key(void **state)
{
    static const char *const needed[] = {
        /* clang-format off */
        "http.not_found", "http.method_not_allowed", "http.uri_too_long", "http.body_too_large",
        "http.bad_request", "http.invalid_utf8", "http.not_acceptable", "http.unavailable",
        "http.internal", "http.too_many_connections", "query.unknown_parameter", "query.bad_number",
        "query.bad_bbox", "query.bbox_outside", "query.bad_crs", "query.bad_datetime",
        "query.limit_clamped", "query.bad_limit", "query.missing_parameter", "query.bad_point",
        "parcel.not_found", "parcel.no_parcel_here", "collection.not_found", "feature.not_found",
        "cadnum.empty", "cadnum.groups", "cadnum.group_width", "cadnum.digit", "cadnum.too_long",
        "cadnum.control", "store.unavailable",
        /* clang-format on */
    };
    struct kd_catalog *c = NULL;
    struct kd_err err;
    size_t i;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_catalog_load(REAL_DIR, &c, &err), KD_OK);
    for (i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!kd_catalog_has(c, needed[i]))
            fail_msg("no message %s", needed[i]);
    kd_catalog_free(c);
}

static void test_catalog_files_are_complete_and_consistent(void **state)
{
    json_object *cat[KD_N_LANGS];
    int l, n_keys = 0;

    (void)state;
    for (l = 0; l < KD_N_LANGS; l++)
        cat[l] = read_json(REAL_DIR, files[l]);
    json_object_object_foreach(cat[KD_LANG_EN], key, en_entry)
    {
        char want[256], got[256];
        const char *en_detail = member_str(en_entry, "detail");
        assert_non_null(en_detail);
        placeholder_set(en_detail, want, sizeof want);
        n_keys++;
        for (l = 0; l < KD_N_LANGS; l++) {
            json_object *entry;
            const char *title, *detail;
            if (!json_object_object_get_ex(cat[l], key, &entry))
                fail_msg("%s: no %s", files[l], key);
            title = member_str(entry, "title");
            detail = member_str(entry, "detail");
            if (!title || !title[0] || !detail || !detail[0])
                fail_msg("%s: %s: empty title or detail", files[l], key);
            if (!utf8_valid((const unsigned char *)title) ||
                !utf8_valid((const unsigned char *)detail))
                fail_msg("%s: %s: not UTF-8", files[l], key);
            placeholder_set(detail, got, sizeof got);
            if (strcmp(want, got) != 0)
                fail_msg("%s: %s: placeholders {%s}, en has {%s}", files[l], key, got, want);
            placeholder_set(title, got, sizeof got);
            if (got[0])
                fail_msg("%s: %s: a placeholder in the title", files[l], key);
        }
    }
    assert_true(n_keys >= 31);
    for (l = 0; l < KD_N_LANGS; l++) {
        /* same number of keys: nothing extra in a translation */
        assert_int_equal(json_object_object_length(cat[l]), n_keys);
        json_object_put(cat[l]);
    }
}

/* Uzbek Latin writes oʻ and gʻ with U+02BB and the tutuq belgisi with U+02BC, never with
 * an ASCII apostrophe or a typographic quote; the Cyrillic and Russian files use neither. */
static void test_catalog_files_use_uzbek_letters(void **state)
{
    static const char *const bad_after_og[] = {"'", "\xe2\x80\x98", "\xe2\x80\x99", "`"};
    json_object *cat[KD_N_LANGS];
    int l;
    size_t i;

    (void)state;
    for (l = 0; l < KD_N_LANGS; l++)
        cat[l] = read_json(REAL_DIR, files[l]);
    json_object_object_foreach(cat[KD_LANG_UZ], key, entry)
    {
        const char *s[2];
        int k;
        s[0] = member_str(entry, "title");
        s[1] = member_str(entry, "detail");
        for (k = 0; k < 2; k++) {
            const char *p;
            for (p = s[k]; *p; p++) {
                if (*p != 'o' && *p != 'O' && *p != 'g' && *p != 'G')
                    continue;
                for (i = 0; i < sizeof bad_after_og / sizeof bad_after_og[0]; i++)
                    if (strncmp(p + 1, bad_after_og[i], strlen(bad_after_og[i])) == 0)
                        fail_msg("uz.json: %s: '%c' followed by an apostrophe-like mark; write "
                                 "U+02BB (oʻ gʻ)",
                                 key, *p);
            }
            assert_null(strstr(s[k], "o'"));
            assert_null(strstr(s[k], "g'"));
            /* no Cyrillic letters in the Latin catalogue */
            assert_null(strstr(s[k], "\xd1\x9e")); /* ў */
            assert_null(strstr(s[k], "\xd2\x9b")); /* қ */
        }
    }
    /* and the letters the script needs are there */
    {
        const char *d =
            member_str(json_object_object_get(cat[KD_LANG_UZ], "http.bad_request"), "title");
        assert_non_null(strstr(d, "o\xca\xbb")); /* Notoʻgʻri */
        assert_non_null(strstr(d, "g\xca\xbb"));
        d = member_str(json_object_object_get(cat[KD_LANG_UZ], "store.unavailable"), "detail");
        assert_non_null(strstr(d, "ma\xca\xbcl")); /* maʼlumotlar: tutuq belgisi U+02BC */
        d = member_str(json_object_object_get(cat[KD_LANG_UZ_CYRL], "http.bad_request"), "title");
        assert_string_equal(d, "Нотўғри сўров");
        d = member_str(json_object_object_get(cat[KD_LANG_UZ_CYRL], "store.unavailable"), "detail");
        assert_non_null(strstr(d, "ҳозир"));
        assert_non_null(strstr(d, "қайта"));
    }
    for (l = KD_LANG_UZ_CYRL; l <= KD_LANG_RU; l++) {
        json_object_object_foreach(cat[l], k2, e2)
        {
            (void)k2;
            assert_null(strstr(member_str(e2, "title"), "\xca\xbb"));
            assert_null(strstr(member_str(e2, "detail"), "\xca\xbb"));
        }
    }
    for (l = 0; l < KD_N_LANGS; l++)
        json_object_put(cat[l]);
}

/* ---- load errors ------------------------------------------------------------------------- */

static void make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
    }
}

static void write_text(const char *dir, const char *file, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* A small catalogue dir with four good files; tests then spoil one of them. */
static const char *small_dir(const char *name)
{
    static char dir[1024];
    static const char good[] =
        "{\"a.one\": {\"title\": \"One\", \"detail\": \"One {x} and {y}.\"},\n"
        " \"a.two\": {\"title\": \"Two\", \"detail\": \"Two.\"}}\n";
    int l;

    make_dir(KD_TEST_WORK);
    snprintf(dir, sizeof dir, "%s/i18n-%s", KD_TEST_WORK, name);
    make_dir(dir);
    for (l = 0; l < KD_N_LANGS; l++)
        write_text(dir, files[l], good);
    return dir;
}

static void expect_load_error(const char *dir, enum kd_code code, const char *key,
                              const char *where1, const char *where2)
{
    struct kd_catalog *c = (struct kd_catalog *)&c; /* must stay untouched */
    struct kd_catalog *before = c;
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_catalog_load(dir, &c, &err), code);
    assert_string_equal(err.key, key);
    if (!strstr(err.where, where1) || (where2 && !strstr(err.where, where2)))
        fail_msg("where \"%s\" should name %s and %s (msg: %s)", err.where, where1,
                 where2 ? where2 : "-", err.msg);
    assert_true(err.msg[0] != '\0');
    assert_ptr_equal(c, before);
}

static void test_catalog_load_small_catalogue(void **state)
{
    struct kd_catalog *c = NULL;
    struct kd_err err;
    struct kd_buf b;
    const char *vars[] = {"x", "1", "y", "2", NULL};

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_catalog_load(small_dir("good"), &c, &err), KD_OK);
    kd_buf_init(&b);
    kd_catalog_detail(c, KD_LANG_RU, "a.one", vars, &b);
    assert_string_equal(b.data, "One 1 and 2.");
    kd_buf_fini(&b);
    kd_catalog_free(c);
}

static void test_catalog_load_rejects_key_missing_in_ru(void **state)
{
    const char *dir;
    json_object *ru;
    char path[1024];

    (void)state;
    /* the real catalogues, with one message taken out of ru.json */
    make_dir(KD_TEST_WORK);
    dir = KD_TEST_WORK "/i18n-missing";
    make_dir(dir);
    {
        int l;
        for (l = 0; l < KD_LANG_RU; l++) {
            json_object *o = read_json(REAL_DIR, files[l]);
            snprintf(path, sizeof path, "%s/%s", dir, files[l]);
            assert_int_equal(json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY), 0);
            json_object_put(o);
        }
    }
    ru = read_json(REAL_DIR, "ru.json");
    json_object_object_del(ru, "parcel.no_parcel_here");
    snprintf(path, sizeof path, "%s/ru.json", dir);
    assert_int_equal(json_object_to_file_ext(path, ru, JSON_C_TO_STRING_PRETTY), 0);
    json_object_put(ru);
    expect_load_error(dir, KD_EINVAL, "i18n.missing", "ru.json", "parcel.no_parcel_here");
}

static void test_catalog_load_rejects_placeholder_mismatch(void **state)
{
    const char *dir = small_dir("placeholder");

    (void)state;
    write_text(dir, "uz-Cyrl.json",
               "{\"a.one\": {\"title\": \"Bir\", \"detail\": \"Bir {x} va {z}.\"},"
               " \"a.two\": {\"title\": \"Ikki\", \"detail\": \"Ikki.\"}}");
    expect_load_error(dir, KD_EINVAL, "i18n.missing", "uz-Cyrl.json", "a.one");
    /* a placeholder too few */
    dir = small_dir("placeholder-few");
    write_text(dir, "uz.json",
               "{\"a.one\": {\"title\": \"Bir\", \"detail\": \"Bir {x}.\"},"
               " \"a.two\": {\"title\": \"Ikki\", \"detail\": \"Ikki.\"}}");
    expect_load_error(dir, KD_EINVAL, "i18n.missing", "uz.json", "a.one");
    /* one too many, in a message en has without any */
    dir = small_dir("placeholder-many");
    write_text(dir, "ru.json",
               "{\"a.one\": {\"title\": \"Один\", \"detail\": \"{y} и {x}.\"},"
               " \"a.two\": {\"title\": \"Два\", \"detail\": \"Два {x}.\"}}");
    expect_load_error(dir, KD_EINVAL, "i18n.missing", "ru.json", "a.two");
}

static void test_catalog_load_rejects_unknown_key(void **state)
{
    const char *dir = small_dir("unknown");

    (void)state;
    write_text(dir, "ru.json",
               "{\"a.one\": {\"title\": \"Один\", \"detail\": \"{x} {y}.\"},"
               " \"a.two\": {\"title\": \"Два\", \"detail\": \"Два.\"},"
               " \"a.tree\": {\"title\": \"Три\", \"detail\": \"Три.\"}}");
    expect_load_error(dir, KD_EINVAL, "i18n.unknown", "ru.json", "a.tree");
}

static void test_catalog_load_rejects_bad_syntax(void **state)
{
    static const struct {
        const char *text, *where;
    } t[] = {
        {"{\"a.one\": {\"title\": \"One\", \"detail\": \"x\"},", NULL}, /* cut short */
        {"{\"a.one\": {\"title\": 'One', \"detail\": \"x\"}}", NULL},   /* not JSON */
        {"[1, 2]", NULL},                                               /* not an object */
        {"{} {}", NULL},                                                /* trailing text */
        {"{\"a.one\": {\"title\": \"\\u0000x\", \"detail\": \"x\"}}", "a.one"},
        {"{\"a.one\": {\"title\": \"O\xffne\", \"detail\": \"x\"}}", NULL}, /* not UTF-8 */
        {"{\"a.one\": {\"title\": \"One\"}}", "a.one"},                     /* no detail */
        {"{\"a.one\": {\"title\": \"\", \"detail\": \"x\"}}", "a.one"},     /* empty title */
        {"{\"a.one\": {\"title\": 1, \"detail\": \"x\"}}", "a.one"},        /* not a string */
        {"{\"a.one\": \"One\"}", "a.one"},                                  /* not an object */
        {"{\"a.one\": {\"title\": \"One\", \"detail\": \"x\", \"detial\": \"y\"}}", "a.one"},
        {"{\"a.one\": {\"title\": \"One {x}\", \"detail\": \"x {x}\"}}", "a.one"},
        {"{\"a.one\": {\"title\": \"One\", \"detail\": \"line\\nbreak\"}}", "a.one"},
        {"{\"A.One\": {\"title\": \"One\", \"detail\": \"x\"}}", "A.One"}, /* not lower case */
        {"{\"one\": {\"title\": \"One\", \"detail\": \"x\"}}", "one"},     /* not dotted */
        {"{\"a..one\": {\"title\": \"One\", \"detail\": \"x\"}}", "a..one"},
        {"{\"a.one\": {\"title\": \"One\", \"detail\": \"x\"},\n"
         " \"a.two\": {\"title\": \"Two\", \"detail\": \"y {x}\"},\n"
         " \"a.one\" : {\"title\": \"One again\", \"detail\": \"x \\\" }\"}}",
         "a.one"}, /* a copied message (json-c would keep the last silently) */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        char name[32];
        const char *dir;
        snprintf(name, sizeof name, "syntax-%zu", i);
        dir = small_dir(name);
        write_text(dir, "uz.json", t[i].text);
        expect_load_error(dir, KD_EINVAL, "i18n.syntax", "uz.json", t[i].where);
    }
}

static void test_catalog_load_rejects_missing_file(void **state)
{
    const char *dir = small_dir("nofile");
    char path[1100];

    (void)state;
    snprintf(path, sizeof path, "%s/uz-Cyrl.json", dir);
    assert_int_equal(remove(path), 0);
    expect_load_error(dir, KD_EIO, "i18n.read", "uz-Cyrl.json", NULL);
    expect_load_error(KD_TEST_WORK "/no-such-dir", KD_EIO, "i18n.read", "en.json", NULL);
}

/* ---- lookups, details, problems ---------------------------------------------------------- */

static struct kd_catalog *real_catalog(void)
{
    struct kd_catalog *c = NULL;
    struct kd_err err;

    kd_err_init(&err);
    if (kd_catalog_load(REAL_DIR, &c, &err) != KD_OK)
        fail_msg("%s: %s: %s", err.key, err.where, err.msg);
    return c;
}

static void test_catalog_title_falls_back_to_key(void **state)
{
    struct kd_catalog *c = real_catalog();

    (void)state;
    assert_string_equal(kd_catalog_title(c, KD_LANG_RU, "no.such_key"), "no.such_key");
    assert_string_equal(kd_catalog_title(NULL, KD_LANG_RU, "http.not_found"), "http.not_found");
    assert_string_equal(kd_catalog_title(c, (enum kd_lang)42, "http.not_found"), "Not found");
    assert_false(kd_catalog_has(c, "no.such_key"));
    assert_false(kd_catalog_has(NULL, "http.not_found"));
    kd_catalog_free(c);
}

static void test_catalog_detail_fills_placeholders(void **state)
{
    struct kd_catalog *c = real_catalog();
    const char *vars[] = {"path", "/api/v1/nothing", NULL};
    const char *coords[] = {"lat", "41.2995", "lon", "69.2401", "unused", "x", NULL};
    const char *tricky[] = {"path", "{path} {value}", NULL};
    const char *odd[] = {"path", NULL};
    struct kd_buf b;

    (void)state;
    kd_buf_init(&b);
    kd_catalog_detail(c, KD_LANG_EN, "http.not_found", vars, &b);
    assert_string_equal(b.data,
                        "Nothing exists at '/api/v1/nothing'. Check the address for typos.");
    kd_buf_reset(&b);
    kd_catalog_detail(c, KD_LANG_RU, "http.not_found", vars, &b);
    assert_non_null(strstr(b.data, "«/api/v1/nothing»"));
    kd_buf_reset(&b);
    kd_catalog_detail(c, KD_LANG_UZ_CYRL, "parcel.no_parcel_here", coords, &b);
    assert_non_null(strstr(b.data, "Узунлиги 69.2401, кенглиги 41.2995 "));
    assert_null(strchr(b.data, '{'));
    kd_buf_reset(&b);
    /* values are inserted as given, never expanded again */
    kd_catalog_detail(c, KD_LANG_EN, "http.not_found", tricky, &b);
    assert_non_null(strstr(b.data, "'{path} {value}'"));
    kd_buf_reset(&b);
    /* no value: the placeholder stays, for the reader to see what is missing */
    kd_catalog_detail(c, KD_LANG_EN, "http.not_found", NULL, &b);
    assert_non_null(strstr(b.data, "'{path}'"));
    kd_buf_reset(&b);
    kd_catalog_detail(c, KD_LANG_EN, "http.not_found", odd, &b);
    assert_non_null(strstr(b.data, "'{path}'"));
    kd_buf_reset(&b);
    kd_catalog_detail(c, KD_LANG_EN, "no.such_key", vars, &b);
    assert_string_equal(b.data, "no.such_key");
    assert_false(b.failed);
    kd_buf_fini(&b);
    kd_catalog_free(c);
}

static json_object *parse_strict(const char *text)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    if (!o || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != strlen(text))
        fail_msg("not JSON: %s", text);
    json_tokener_free(tok);
    return o;
}

static const char *get_str(json_object *o, const char *name)
{
    json_object *v;

    assert_true(json_object_object_get_ex(o, name, &v));
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static void test_problem_json_has_rfc9457_members(void **state)
{
    struct kd_catalog *c = real_catalog();
    const char *vars[] = {"param", "bbox", "value", "1,2,3", NULL};
    struct kd_buf b;
    json_object *o, *v;

    (void)state;
    kd_buf_init(&b);
    kd_problem_json(&b, c, KD_LANG_RU, 400, "https://kadastr.example/problems/", "query.bad_bbox",
                    "/api/v1/parcels?bbox=1,2,3", "bbox", vars);
    assert_false(b.failed);
    o = parse_strict(b.data);
    assert_string_equal(get_str(o, "type"), "https://kadastr.example/problems/query/bad_bbox");
    assert_string_equal(get_str(o, "title"), "Неверный ограничивающий прямоугольник");
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int(v), 400);
    assert_non_null(strstr(get_str(o, "detail"), "«1,2,3»"));
    assert_string_equal(get_str(o, "instance"), "/api/v1/parcels?bbox=1,2,3");
    assert_string_equal(get_str(o, "parameter"), "bbox");
    assert_int_equal(json_object_object_length(o), 6);
    json_object_put(o);

    /* no param, no instance: no such members; a NULL base gives a relative reference */
    kd_buf_reset(&b);
    kd_problem_json(&b, c, KD_LANG_UZ, 404, NULL, "parcel.not_found", NULL, NULL,
                    (const char *const[]){"number", "10:26:01:02:03:0045", NULL});
    o = parse_strict(b.data);
    assert_string_equal(get_str(o, "type"), "/problems/parcel/not_found");
    assert_false(json_object_object_get_ex(o, "parameter", NULL));
    assert_false(json_object_object_get_ex(o, "instance", NULL));
    assert_string_equal(get_str(o, "title"), "Yer uchastkasi topilmadi");
    assert_non_null(strstr(get_str(o, "detail"), "10:26:01:02:03:0045"));
    json_object_put(o);

    /* an unknown key still gives a well-formed problem */
    kd_buf_reset(&b);
    kd_problem_json(&b, c, KD_LANG_EN, 500, "https://x/problems/", "no.such_key", "/i", NULL, NULL);
    o = parse_strict(b.data);
    assert_string_equal(get_str(o, "type"), "https://x/problems/no/such_key");
    assert_string_equal(get_str(o, "title"), "no.such_key");
    json_object_put(o);
    kd_buf_fini(&b);
    kd_catalog_free(c);
}

static void test_problem_json_hostile_values_stay_valid(void **state)
{
    struct kd_catalog *c = real_catalog();
    const char hostile[] =
        "\"}, \"status\": 200, \"x\": \"\\ \x01\x1f\x7f\n\t \xff\xc3( \xed\xa0\x80"
        " \xf4\x90\x80\x80 </script>";
    const char *vars[] = {"path", hostile, "request_id", hostile, NULL};
    struct kd_buf b;
    json_object *o, *v;
    enum kd_lang l;

    (void)state;
    kd_buf_init(&b);
    for (l = KD_LANG_EN; l < KD_N_LANGS; l++) {
        kd_buf_reset(&b);
        kd_problem_json(&b, c, l, 404, hostile, "http.not_found", hostile, hostile, vars);
        assert_false(b.failed);
        o = parse_strict(b.data);
        assert_true(json_object_object_get_ex(o, "status", &v));
        assert_int_equal(json_object_get_int(v), 404);
        assert_int_equal(json_object_object_length(o), 6);
        assert_non_null(strstr(get_str(o, "detail"), "</script>"));
        assert_non_null(strstr(get_str(o, "parameter"), "\"}, \"status\": 200"));
        json_object_put(o);
    }
    /* 1 MB of value: still one valid document */
    {
        size_t n = 1 << 20;
        char *big = malloc(n + 1);
        const char *bigvars[] = {"path", big, NULL};
        assert_non_null(big);
        memset(big, '"', n);
        big[n] = '\0';
        kd_buf_reset(&b);
        kd_problem_json(&b, c, KD_LANG_UZ, 404, "/p/", "http.not_found", NULL, NULL, bigvars);
        o = parse_strict(b.data);
        json_object_put(o);
        free(big);
    }
    kd_buf_fini(&b);
    kd_catalog_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang_negotiate_prefers_highest_q),
        cmocka_unit_test(test_lang_negotiate_matches_prefixes_and_case),
        cmocka_unit_test(test_lang_negotiate_star_and_exclusions),
        cmocka_unit_test(test_lang_negotiate_tie_keeps_header_order),
        cmocka_unit_test(test_lang_negotiate_survives_junk),
        cmocka_unit_test(test_lang_negotiate_huge_header),
        cmocka_unit_test(test_lang_tag_names_and_parse_round_trip),
        cmocka_unit_test(test_catalog_load_real_catalogues),
        cmocka_unit_test(test_catalog_load_has_every_needed_key),
        cmocka_unit_test(test_catalog_files_are_complete_and_consistent),
        cmocka_unit_test(test_catalog_files_use_uzbek_letters),
        cmocka_unit_test(test_catalog_load_small_catalogue),
        cmocka_unit_test(test_catalog_load_rejects_key_missing_in_ru),
        cmocka_unit_test(test_catalog_load_rejects_placeholder_mismatch),
        cmocka_unit_test(test_catalog_load_rejects_unknown_key),
        cmocka_unit_test(test_catalog_load_rejects_bad_syntax),
        cmocka_unit_test(test_catalog_load_rejects_missing_file),
        cmocka_unit_test(test_catalog_title_falls_back_to_key),
        cmocka_unit_test(test_catalog_detail_fills_placeholders),
        cmocka_unit_test(test_problem_json_has_rfc9457_members),
        cmocka_unit_test(test_problem_json_hostile_values_stay_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
