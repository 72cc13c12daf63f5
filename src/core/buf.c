/* SPDX-License-Identifier: Apache-2.0 */
/* A growable, always NUL-terminated byte buffer (in the spirit of curl's dynbuf): appends
 * never fail loudly; an allocation failure sets `failed`, which the caller checks once. */
#include "kadastr/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kd_buf_init(struct kd_buf *b)
{
    memset(b, 0, sizeof *b);
}

void kd_buf_fini(struct kd_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void kd_buf_reset(struct kd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int grow(struct kd_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (b->failed)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void kd_buf_add(struct kd_buf *b, const void *p, size_t n)
{
    if (grow(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kd_buf_adds(struct kd_buf *b, const char *s)
{
    kd_buf_add(b, s, strlen(s));
}

void kd_buf_addf(struct kd_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one (overlong forms,
 * surrogates and code points above U+10FFFF are not valid). */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

int kd_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t k = utf8_len(p);
        if (!k)
            return 0;
        p += k;
    }
    return 1;
}

void kd_buf_add_json_str(struct kd_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;

    kd_buf_add(b, "\"", 1);
    while (*p) {
        char esc[6];
        size_t n = 2, k;
        if (*p >= 0x80) {
            /* valid UTF-8 passes; anything else becomes U+FFFD so the output stays JSON */
            k = utf8_len(p);
            if (k) {
                p += k;
                continue;
            }
            kd_buf_add(b, run, (size_t)(p - run));
            kd_buf_add(b, "\xEF\xBF\xBD", 3);
            run = ++p;
            continue;
        }
        if (*p >= 0x20 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }
        kd_buf_add(b, run, (size_t)(p - run));
        esc[0] = '\\';
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
            break;
        }
        kd_buf_add(b, esc, n);
        run = ++p;
    }
    kd_buf_add(b, run, (size_t)(p - run));
    kd_buf_add(b, "\"", 1);
}

/* Writes |v| * 10^decimals, already rounded to the integer r, as digits with the decimal
 * point. */
static void add_fixed_digits(struct kd_buf *b, int negative, uint64_t r, int decimals)
{
    char tmp[48];
    char *e = tmp + sizeof tmp, *q = e;
    int i;

    for (i = 0; i < decimals; i++) {
        *--q = (char)('0' + r % 10);
        r /= 10;
    }
    if (decimals > 0)
        *--q = '.';
    do {
        *--q = (char)('0' + r % 10);
        r /= 10;
    } while (r);
    if (negative)
        *--q = '-';
    kd_buf_add(b, q, (size_t)(e - q));
}

void kd_buf_add_fixed(struct kd_buf *b, double v, int decimals)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double s, r, f;

    if (!isfinite(v)) {
        kd_buf_adds(b, "null");
        return;
    }
    if (v == 0.0)
        v = 0.0; /* no "-0.00" */
    /* Fast path, byte for byte what printf("%.*f") writes: scale, and round unless the
     * scaled value lies within a few ulps of a half (where the rounding of the product
     * could decide the digit, or printf's exact round-half-even on the binary value
     * would): those go to printf. Coordinates and areas almost never do. */
    if (decimals >= 0 && decimals <= 9 && fabs(v) < 1e9) {
        s = fabs(v) * pow10[decimals];
        r = floor(s);
        f = s - r;
        if (fabs(f - 0.5) > 4 * 2.2204460492503131e-16 * (s > 1 ? s : 1)) {
            uint64_t u = (uint64_t)r + (f > 0.5);
            /* printf keeps the sign of a negative value that rounds to zero ("-0.00"):
             * so does this, to stay identical */
            add_fixed_digits(b, v < 0, u, decimals);
            return;
        }
    }
    kd_buf_addf(b, "%.*f", decimals, v);
}

uint64_t kd_hash64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    if (h == 0)
        h = 14695981039346656037ULL;
    for (i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

uint64_t kd_hash64_fast(const void *data, size_t n)
{
    static const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                          k2 = 0x8ebc6af09c88c6e3ULL;
    const unsigned char *p = data;
    uint64_t h = k0 ^ mum((uint64_t)n ^ k0, k1), a = 0, b = 0;
    size_t i = 0;

    for (; i + 16 <= n; i += 16)
        h = mum(rd64(p + i) ^ k1, rd64(p + i + 8) ^ h ^ k2);
    if (i < n) {
        /* the tail, up to 15 bytes, read byte by byte into two words */
        size_t j;
        for (j = 0; i + j < n; j++) {
            if (j < 8)
                a |= (uint64_t)p[i + j] << (8 * j);
            else
                b |= (uint64_t)p[i + j] << (8 * (j - 8));
        }
        h = mum(a ^ k1, b ^ h ^ k2);
    }
    return mum(h ^ k0, (uint64_t)n ^ k2);
}
