/* SPDX-License-Identifier: Apache-2.0 */
/* Exact fractions for shares of a right (DOMAIN.md L2: shares sum exactly to 1, never as
 * floats) and register time in one text form that sorts as it reads. */
#include "kadastr/core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a < 0 ? -a : a;
}

static const char *parse_u(const char *p, int64_t *v, int *ndigits)
{
    *v = 0;
    *ndigits = 0;
    while (*p >= '0' && *p <= '9') {
        if (*v > (INT64_MAX - 9) / 10)
            return NULL;
        *v = *v * 10 + (*p - '0');
        p++;
        (*ndigits)++;
    }
    return p;
}

enum kd_code kd_frac_parse(const char *s, struct kd_frac *out, struct kd_err *err)
{
    int64_t num, den = 1, g;
    int nd;
    const char *p = parse_u(s, &num, &nd);

    if (!p || nd == 0)
        goto syntax;
    if (*p == '/') {
        p = parse_u(p + 1, &den, &nd);
        if (!p || nd == 0 || *p)
            goto syntax;
    } else if (*p == '.') {
        int64_t frac;
        int i;
        p = parse_u(p + 1, &frac, &nd);
        if (!p || nd == 0 || nd > 9 || *p || num > 1)
            goto syntax;
        for (i = 0; i < nd; i++)
            den *= 10;
        num = num * den + frac;
    } else if (*p) {
        goto syntax;
    }
    if (den == 0 || num == 0 || num > den) {
        kd_err_set(err, KD_EINVAL, "share.range", "share '%s' is not in (0, 1]", s);
        kd_err_hint(err, "a share is a fraction such as 1/3, greater than 0 and at most 1");
        return KD_EINVAL;
    }
    g = gcd64(num, den);
    out->num = num / g;
    out->den = den / g;
    return KD_OK;
syntax:
    kd_err_set(err, KD_EINVAL, "share.syntax", "share '%s' is not a fraction", s);
    kd_err_hint(err, "write a share as an exact fraction such as 1/3 (or 1, or 0.25)");
    return KD_EINVAL;
}

void kd_time_now(char out[32])
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum kd_code kd_time_parse(const char *s, char out[32], struct kd_err *err)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    size_t len = strlen(s);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (len == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
        /* a date: the start of that day, UTC */
    } else if (len >= 19 &&
               sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
               n == 19 && (s[19] == '\0' || (s[19] == 'Z' && s[20] == '\0'))) {
        /* a timestamp, UTC */
    } else {
        goto bad;
    }
    if (y < 1800 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
        goto bad;
    {
        char tmp[96]; /* wide enough for any int fields: the values are bounded above */
        snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
        kd_strlcpy(out, tmp, 32);
    }
    return KD_OK;
bad:
    kd_err_set(err, KD_EINVAL, "time.syntax", "'%s' is not a date or a UTC timestamp", s);
    kd_err_hint(err, "write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    return KD_EINVAL;
}
