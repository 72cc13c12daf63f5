/* SPDX-License-Identifier: Apache-2.0 */
/* core: what every module needs and no GIS library provides: result codes and the error
 * record, a growable byte buffer, cadastral numbers, PINFL/STIR checks, exact fractions and
 * register time. Nothing here knows GDAL, PROJ, GEOS or SQLite. */
#ifndef KADASTR_CORE_H
#define KADASTR_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define KD_VERSION "0.1.0"

#if defined(__GNUC__)
#define KD_WUR __attribute__((warn_unused_result))
#define KD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KD_WUR
#define KD_PRINTF(a, b)
#endif

/* A few stable result codes (sqlite style). The CLI maps them to exit statuses, the server
 * to HTTP statuses; the error key says more precisely what went wrong. */
enum kd_code {
    KD_OK = 0,
    KD_EINVAL,      /* bad input from the caller or the user */
    KD_ENOTFOUND,   /* no such parcel, file, layer, ... */
    KD_EIO,         /* file system or format error */
    KD_ESTORE,      /* database error */
    KD_EGEO,        /* GDAL/PROJ/GEOS refused */
    KD_ENOMEM,      /* allocation failed */
    KD_EVERSION,    /* database schema newer than this binary */
    KD_EINTERRUPTED /* stopped by a signal: nothing was written */
};

/* The error record. The first error set wins; later kd_err_set calls keep the first.
 * key: stable, dotted, used for translations ("cadnum.group_width").
 * where: outermost first ("parcels.gpkg: feature 12: field ML"). */
struct kd_err {
    enum kd_code code;
    char key[64];
    char where[256];
    char msg[512];
    char hint[256];
};

void kd_err_init(struct kd_err *err);
/* Sets code, key and message unless an error is already set; returns err's code. */
enum kd_code kd_err_set(struct kd_err *err, enum kd_code code, const char *key, const char *fmt,
                        ...) KD_PRINTF(4, 5);
/* Prepends a location to err->where ("outer: inner"). */
void kd_err_where(struct kd_err *err, const char *fmt, ...) KD_PRINTF(2, 3);
/* Sets the hint (replacing an earlier hint). */
void kd_err_hint(struct kd_err *err, const char *fmt, ...) KD_PRINTF(2, 3);
const char *kd_code_name(enum kd_code code);

/* Growable byte buffer, always NUL-terminated. On allocation failure `failed` is set and
 * later appends do nothing; check it once at the end. */
struct kd_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
};
void kd_buf_init(struct kd_buf *b);
void kd_buf_fini(struct kd_buf *b);
void kd_buf_reset(struct kd_buf *b);
void kd_buf_add(struct kd_buf *b, const void *p, size_t n);
void kd_buf_adds(struct kd_buf *b, const char *s);
void kd_buf_addf(struct kd_buf *b, const char *fmt, ...) KD_PRINTF(2, 3);
/* Appends s as a JSON string literal, with quotes; bytes that are not valid UTF-8 become
 * U+FFFD, so the output is always valid JSON. */
void kd_buf_add_json_str(struct kd_buf *b, const char *s);
/* Is s valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF)? */
int kd_utf8_valid(const char *s);
/* Appends a double with a fixed number of decimals, trailing zeros kept ("12.50"). */
void kd_buf_add_fixed(struct kd_buf *b, double v, int decimals);

/* Safe copy: always terminates; returns 0 when src fit, -1 when it was cut. */
int kd_strlcpy(char *dst, const char *src, size_t size);
/* snprintf that reports truncation as -1. */
int kd_snprintf(char *dst, size_t size, const char *fmt, ...) KD_PRINTF(3, 4);

/* 64-bit FNV-1a, for content hashes ("is this feature the same as the stored one?").
 * Start with h = 0; chain calls to hash several pieces. */
uint64_t kd_hash64(uint64_t h, const void *p, size_t n);
/* A fast 64-bit hash of n bytes, 16 at a time (multiply-fold mixing in the manner of
 * wyhash), for validators of large bodies (HTTP ETags): several times faster than kd_hash64
 * on pages of features. Not for stored hashes: kd_hash64's values are kept in databases. */
uint64_t kd_hash64_fast(const void *p, size_t n);

/* ---- cadastral numbers ------------------------------------------------------------------- */

enum kd_numfmt {
    KD_NUMFMT_UZ = 0, /* AA:BB:CC:DD:EE:FFFF[:GGGG[:HHH]] */
    KD_NUMFMT_ANY     /* any non-empty number without control characters */
};
#define KD_CADNUM_MAX 64

/* Parses "uz" or "any". */
enum kd_code kd_numfmt_parse(const char *s, enum kd_numfmt *out, struct kd_err *err) KD_WUR;
const char *kd_numfmt_name(enum kd_numfmt f);

/* Validates and normalizes a cadastral number into out (KD_CADNUM_MAX bytes).
 * uz: surrounding spaces are trimmed and the separators '-', '.' and '/' are read as ':';
 * each group must be all digits of its width (2,2,2,2,2,4[,4[,3]]).
 * any: trimmed; non-empty, at most 63 bytes, no control characters.
 * Errors: KD_EINVAL with key "cadnum.empty", "cadnum.groups", "cadnum.group_width",
 * "cadnum.digit", "cadnum.too_long", "cadnum.control". */
enum kd_code kd_cadnum_normalize(enum kd_numfmt fmt, const char *in, char *out,
                                 struct kd_err *err) KD_WUR;

/* PINFL: 14 digits; returns 0 well formed with a valid check digit, 1 well formed but the
 * check digit differs (a warning: DOMAIN.md marks the algorithm uncertain), -1 malformed. */
int kd_pinfl_check(const char *s);
/* The PINFL check digit of the first 13 digits (weights 7,3,1 repeating, mod 10). */
int kd_pinfl_check_digit(const char *first13);
/* STIR: 9 digits (form only: the control digit's algorithm is not published). 0 ok, -1 not. */
int kd_stir_check(const char *s);

/* ---- exact fractions (shares of a right) ------------------------------------------------- */

struct kd_frac {
    int64_t num;
    int64_t den; /* > 0, reduced */
};
/* Parses "1/3", "1" or "0.25" (a decimal with up to 9 places) into a reduced fraction in
 * (0, 1]. Errors: KD_EINVAL "share.syntax", "share.range". */
enum kd_code kd_frac_parse(const char *s, struct kd_frac *out, struct kd_err *err) KD_WUR;

/* ---- register time ----------------------------------------------------------------------- */

/* Writes the current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL) into out. */
void kd_time_now(char out[32]);
/* Normalizes a date or timestamp given by a user ("2024-05-01", "2024-05-01T10:00:00Z",
 * "2024-05-01 10:00:00") to "YYYY-MM-DDTHH:MM:SSZ". Errors: KD_EINVAL "time.syntax". */
enum kd_code kd_time_parse(const char *s, char out[32], struct kd_err *err) KD_WUR;

#endif
