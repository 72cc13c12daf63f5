/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core: cadastral numbers, PINFL/STIR, shares, register time, the buffer. */
#include "kadastr/core.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void test_cadnum_normalize_accepts_uz_land_plot(void **state)
{
    char out[KD_CADNUM_MAX];
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, " 10:26:01:02:03:0045 ", out, &err), KD_OK);
    assert_string_equal(out, "10:26:01:02:03:0045");
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "10-26-01-02-03-0045", out, &err), KD_OK);
    assert_string_equal(out, "10:26:01:02:03:0045");
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "10:26:01:02:03:0045:0001:002", out, &err),
                     KD_OK);
}

static void test_cadnum_normalize_rejects_short_group(void **state)
{
    char out[KD_CADNUM_MAX] = "untouched";
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "10:26:1:02:03:0045", out, &err), KD_EINVAL);
    assert_string_equal(err.key, "cadnum.group_width");
    assert_non_null(strstr(err.msg, "group 3"));
    assert_true(err.hint[0] != '\0');
    assert_string_equal(out, "untouched");
}

static void test_cadnum_normalize_rejects_letters_and_few_groups(void **state)
{
    char out[KD_CADNUM_MAX];
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "10:26:0A:02:03:0045", out, &err),
                     KD_EINVAL);
    assert_string_equal(err.key, "cadnum.digit");
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "10:26:01", out, &err), KD_EINVAL);
    assert_string_equal(err.key, "cadnum.groups");
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, "   ", out, &err), KD_EINVAL);
    assert_string_equal(err.key, "cadnum.empty");
}

static void test_cadnum_normalize_any_keeps_foreign_numbers(void **state)
{
    char out[KD_CADNUM_MAX];
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_ANY, "354000AB0254", out, &err), KD_OK);
    assert_string_equal(out, "354000AB0254");
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_ANY, "1A-12", out, &err), KD_OK);
    assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_ANY, "a\tb", out, &err), KD_EINVAL);
    assert_string_equal(err.key, "cadnum.control");
}

static void test_pinfl_check_digit(void **state)
{
    char pinfl[15] = "3120890123456";

    (void)state;
    /* weights 7,3,1 repeating over the first 13 digits, mod 10 */
    pinfl[13] = (char)('0' + kd_pinfl_check_digit(pinfl));
    pinfl[14] = '\0';
    assert_int_equal(kd_pinfl_check(pinfl), 0);
    pinfl[13] = (char)('0' + (pinfl[13] - '0' + 1) % 10);
    assert_int_equal(kd_pinfl_check(pinfl), 1);
    assert_int_equal(kd_pinfl_check("1234"), -1);
    assert_int_equal(kd_pinfl_check("9120890123456X"), -1);
    assert_int_equal(kd_stir_check("201234567"), 0);
    assert_int_equal(kd_stir_check("20123456"), -1);
}

static void test_frac_parse_exact(void **state)
{
    struct kd_frac f;
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_frac_parse("2/6", &f, &err), KD_OK);
    assert_int_equal(f.num, 1);
    assert_int_equal(f.den, 3);
    assert_int_equal(kd_frac_parse("0.25", &f, &err), KD_OK);
    assert_int_equal(f.num, 1);
    assert_int_equal(f.den, 4);
    assert_int_equal(kd_frac_parse("1", &f, &err), KD_OK);
    assert_int_equal(f.den, 1);
    assert_int_equal(kd_frac_parse("3/2", &f, &err), KD_EINVAL);
    assert_string_equal(err.key, "share.range");
    kd_err_init(&err);
    assert_int_equal(kd_frac_parse("1/0", &f, &err), KD_EINVAL);
    kd_err_init(&err);
    assert_int_equal(kd_frac_parse("half", &f, &err), KD_EINVAL);
    assert_string_equal(err.key, "share.syntax");
}

static void test_time_parse_normalizes(void **state)
{
    char out[32];
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    assert_int_equal(kd_time_parse("2024-05-01", out, &err), KD_OK);
    assert_string_equal(out, "2024-05-01T00:00:00Z");
    assert_int_equal(kd_time_parse("2024-05-01 10:11:12", out, &err), KD_OK);
    assert_string_equal(out, "2024-05-01T10:11:12Z");
    assert_int_equal(kd_time_parse("2024-02-30", out, &err), KD_EINVAL);
    assert_string_equal(err.key, "time.syntax");
}

static void test_err_first_error_wins_and_where_nests(void **state)
{
    struct kd_err err;

    (void)state;
    kd_err_init(&err);
    kd_err_set(&err, KD_EINVAL, "a.first", "first");
    kd_err_set(&err, KD_EIO, "b.second", "second");
    kd_err_where(&err, "field ML");
    kd_err_where(&err, "feature 12");
    kd_err_where(&err, "parcels.gpkg");
    assert_int_equal(err.code, KD_EINVAL);
    assert_string_equal(err.key, "a.first");
    assert_string_equal(err.where, "parcels.gpkg: feature 12: field ML");
}

static void test_buf_json_escapes(void **state)
{
    struct kd_buf b;

    (void)state;
    kd_buf_init(&b);
    kd_buf_add_json_str(&b, "a\"b\\c\n\x01 Toshkent");
    kd_buf_adds(&b, " ");
    kd_buf_add_fixed(&b, 12.5, 2);
    assert_false(b.failed);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001 Toshkent\" 12.50");
    kd_buf_fini(&b);
}

/* The fast fixed-decimal writer must write exactly what printf("%.*f") writes: random
 * coordinates, areas, exact halves (printf rounds them half-even on the binary value),
 * values a hair either side of a half, negatives, zero and huge values. */
static void check_fixed(double v, int decimals)
{
    struct kd_buf b;
    char want[512];

    kd_buf_init(&b);
    kd_buf_add_fixed(&b, v, decimals);
    snprintf(want, sizeof want, "%.*f", decimals, v == 0.0 ? 0.0 : v);
    if (strcmp(b.data, want) != 0)
        fail_msg("%.17g at %d decimals: wrote %s, printf writes %s", v, decimals, b.data, want);
    kd_buf_fini(&b);
}

static void test_buf_fixed_matches_printf(void **state)
{
    static const double special[] = {
        0.0,   -0.0,  0.5,        1.5,        2.5,    -2.5,        0.125, 0.375, 1e-9,   -1e-9,
        0.005, 1.005, 69.1058931, 41.4494242, -180.0, 999999999.5, 1e9,   1e15,  -1e300, 4.35e-8};
    uint64_t x = 88172645463325252ULL;
    size_t i;
    int d;

    (void)state;
    for (i = 0; i < sizeof special / sizeof special[0]; i++)
        for (d = 0; d <= 9; d++) {
            check_fixed(special[i], d);
            check_fixed(nextafter(special[i], 1e308), d);
            check_fixed(nextafter(special[i], -1e308), d);
        }
    for (i = 0; i < 400000; i++) {
        double v;
        /* xorshift64: deterministic */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d = (int)(x % 10);
        v = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        switch (i % 4) {
        case 0:
            v = v * 360 - 180;
            break; /* degrees */
        case 1:
            v = v * 6e6;
            break; /* metres */
        case 2:
            v = floor(v * 1e6) / 1e6 + 5e-7;
            break; /* near a half at 6 decimals */
        default:
            v = (double)(int64_t)(x % 2000000) / 8 - 125000;
            break; /* exact halves */
        }
        check_fixed(v, d);
        check_fixed(nextafter(v, 1e308), d);
        check_fixed(nextafter(v, -1e308), d);
    }
    {
        struct kd_buf b;
        kd_buf_init(&b);
        kd_buf_add_fixed(&b, NAN, 2); /* not finite: null, where printf writes nan */
        assert_string_equal(b.data, "null");
        kd_buf_fini(&b);
    }
}

/* The ETag hash: the same bytes give the same value; any one byte changed, a byte added or
 * removed (at every length up to 64, so every tail length is covered) gives another. */
static void test_hash64_fast_sees_every_byte(void **state)
{
    unsigned char buf[80];
    uint64_t base;
    size_t n, i;

    (void)state;
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
    for (n = 0; n <= 64; n++) {
        base = kd_hash64_fast(buf, n);
        assert_true(base == kd_hash64_fast(buf, n));
        if (n < 64)
            assert_true(base != kd_hash64_fast(buf, n + 1));
        for (i = 0; i < n; i++) {
            buf[i] ^= 0x01;
            assert_true(base != kd_hash64_fast(buf, n));
            buf[i] ^= 0x01;
        }
    }
}

static void test_buf_json_str_replaces_invalid_utf8(void **state)
{
    struct kd_buf b;

    (void)state;
    kd_buf_init(&b);
    /* valid Uzbek Cyrillic and Latin pass; a lone 0xFF, a cut sequence, an overlong '/'
     * and a surrogate become U+FFFD */
    kd_buf_add_json_str(&b, "\xd0\x9e\xd0\xb7 o\xca\xbbzbek \xff|\xd0|\xc0\xaf|\xed\xa0\x80");
    assert_false(b.failed);
    assert_string_equal(b.data, "\"\xd0\x9e\xd0\xb7 o\xca\xbbzbek \xef\xbf\xbd|\xef\xbf\xbd|"
                                "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    kd_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cadnum_normalize_accepts_uz_land_plot),
        cmocka_unit_test(test_cadnum_normalize_rejects_short_group),
        cmocka_unit_test(test_cadnum_normalize_rejects_letters_and_few_groups),
        cmocka_unit_test(test_cadnum_normalize_any_keeps_foreign_numbers),
        cmocka_unit_test(test_pinfl_check_digit),
        cmocka_unit_test(test_frac_parse_exact),
        cmocka_unit_test(test_time_parse_normalizes),
        cmocka_unit_test(test_err_first_error_wins_and_where_nests),
        cmocka_unit_test(test_buf_json_escapes),
        cmocka_unit_test(test_buf_json_str_replaces_invalid_utf8),
        cmocka_unit_test(test_buf_fixed_matches_printf),
        cmocka_unit_test(test_hash64_fast_sees_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
