/* SPDX-License-Identifier: Apache-2.0 */
/* The error record: a code, a stable key, where (outermost first), a message and a hint.
 * The first error wins so that cleanup paths cannot overwrite the cause. */
#include "kadastr/core.h"

#include <stdio.h>
#include <string.h>

void kd_err_init(struct kd_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

enum kd_code kd_err_set(struct kd_err *err, enum kd_code code, const char *key, const char *fmt,
                        ...)
{
    va_list ap;

    if (!err)
        return code;
    if (err->code != KD_OK)
        return err->code;
    err->code = code;
    kd_strlcpy(err->key, key, sizeof err->key);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void kd_err_where(struct kd_err *err, const char *fmt, ...)
{
    char outer[256];
    char joined[sizeof outer + sizeof err->where + 2];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(outer, sizeof outer, fmt, ap);
    va_end(ap);
    if (err->where[0])
        snprintf(joined, sizeof joined, "%s: %s", outer, err->where);
    else
        snprintf(joined, sizeof joined, "%s", outer);
    kd_strlcpy(err->where, joined, sizeof err->where);
}

void kd_err_hint(struct kd_err *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

const char *kd_code_name(enum kd_code code)
{
    switch (code) {
    case KD_OK:
        return "ok";
    case KD_EINVAL:
        return "invalid";
    case KD_ENOTFOUND:
        return "not_found";
    case KD_EIO:
        return "io";
    case KD_ESTORE:
        return "store";
    case KD_EGEO:
        return "geo";
    case KD_ENOMEM:
        return "nomem";
    case KD_EVERSION:
        return "version";
    case KD_EINTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

int kd_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n;

    if (size == 0)
        return -1;
    n = strlen(src);
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = '\0';
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

int kd_snprintf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= size) ? -1 : n;
}
