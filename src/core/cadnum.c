/* SPDX-License-Identifier: Apache-2.0 */
/* Identifiers of the register: cadastral numbers (DOMAIN.md: AA:BB:CC:DD:EE:FFFF[:GGGG[:HHH]]),
 * PINFL and STIR. Normalization is the single place that decides what a number looks like
 * in the store, so that lookups, loads and the HTTP paths agree. */
#include "kadastr/core.h"

#include <string.h>

static const int uz_width[] = {2, 2, 2, 2, 2, 4, 4, 3};

enum kd_code kd_numfmt_parse(const char *s, enum kd_numfmt *out, struct kd_err *err)
{
    if (strcmp(s, "uz") == 0)
        *out = KD_NUMFMT_UZ;
    else if (strcmp(s, "any") == 0)
        *out = KD_NUMFMT_ANY;
    else {
        kd_err_set(err, KD_EINVAL, "numfmt.unknown", "unknown number format '%s'", s);
        kd_err_hint(err, "use 'uz' (AA:BB:CC:DD:EE:FFFF) or 'any'");
        return KD_EINVAL;
    }
    return KD_OK;
}

const char *kd_numfmt_name(enum kd_numfmt f)
{
    return f == KD_NUMFMT_UZ ? "uz" : "any";
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum kd_code kd_cadnum_normalize(enum kd_numfmt fmt, const char *in, char *out, struct kd_err *err)
{
    const char *b = in, *e = in + strlen(in);
    size_t n, i;
    char tmp[KD_CADNUM_MAX];
    int group = 0, width = 0;

    while (b < e && is_space(*b))
        b++;
    while (e > b && is_space(e[-1]))
        e--;
    n = (size_t)(e - b);
    if (n == 0)
        return kd_err_set(err, KD_EINVAL, "cadnum.empty", "empty cadastral number");
    if (n >= KD_CADNUM_MAX)
        return kd_err_set(err, KD_EINVAL, "cadnum.too_long",
                          "cadastral number of %zu bytes is longer than %d", n, KD_CADNUM_MAX - 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c < 0x20 || c == 0x7f)
            return kd_err_set(err, KD_EINVAL, "cadnum.control",
                              "cadastral number contains a control character at byte %zu", i + 1);
        tmp[i] = (char)c;
    }
    tmp[n] = '\0';
    if (fmt == KD_NUMFMT_ANY) {
        memcpy(out, tmp, n + 1);
        return KD_OK;
    }
    for (i = 0; i <= n; i++) {
        char c = tmp[i];
        if (c == '-' || c == '.' || c == '/')
            c = tmp[i] = ':';
        if (c == ':' || c == '\0') {
            if (group >= 8 || width != uz_width[group]) {
                kd_err_set(err, KD_EINVAL, group >= 8 ? "cadnum.groups" : "cadnum.group_width",
                           group >= 8 ? "cadastral number '%s' has more than 8 groups"
                                      : "cadastral number '%s': group %d has %d digits, "
                                        "expected %d",
                           tmp, group + 1, width, group < 8 ? uz_width[group] : 0);
                kd_err_hint(err, "write it as AA:BB:CC:DD:EE:FFFF, e.g. 10:26:01:02:03:0045");
                return KD_EINVAL;
            }
            group++;
            width = 0;
        } else if (c >= '0' && c <= '9') {
            width++;
        } else {
            kd_err_set(err, KD_EINVAL, "cadnum.digit",
                       "cadastral number '%s': '%c' at position %zu is not a digit", tmp, c, i + 1);
            kd_err_hint(err, "write it as AA:BB:CC:DD:EE:FFFF, e.g. 10:26:01:02:03:0045");
            return KD_EINVAL;
        }
    }
    if (group < 6) {
        kd_err_set(err, KD_EINVAL, "cadnum.groups",
                   "cadastral number '%s' has %d groups, a land plot has 6", tmp, group);
        kd_err_hint(err, "write it as AA:BB:CC:DD:EE:FFFF, e.g. 10:26:01:02:03:0045");
        return KD_EINVAL;
    }
    memcpy(out, tmp, n + 1);
    return KD_OK;
}

static int all_digits(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int kd_pinfl_check_digit(const char *first13)
{
    static const int w[3] = {7, 3, 1};
    int i, sum = 0;

    for (i = 0; i < 13; i++)
        sum += (first13[i] - '0') * w[i % 3];
    return sum % 10;
}

int kd_pinfl_check(const char *s)
{
    if (!all_digits(s, 14) || s[0] < '1' || s[0] > '6')
        return -1;
    return kd_pinfl_check_digit(s) == s[13] - '0' ? 0 : 1;
}

int kd_stir_check(const char *s)
{
    return all_digits(s, 9) ? 0 : -1;
}
