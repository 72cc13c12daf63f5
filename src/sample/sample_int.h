/* SPDX-License-Identifier: Apache-2.0 */
/* sample internals shared by sample.c, sample_geom.c and sample_text.c: the PRNG, points, a
 * WKB writer and a bounded text builder. The PRNG is splitmix64 and every stream is seeded
 * from a hash of (seed, tag, where), so what is drawn for one block never depends on the
 * order in which blocks are visited. Not a public interface. */
#ifndef KADASTR_SAMPLE_INT_H
#define KADASTR_SAMPLE_INT_H

#include "kadastr/sample.h"

#include <stddef.h>
#include <stdint.h>

/* ---- randomness -------------------------------------------------------------------------- */

static inline uint64_t kd_sample_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A hash of (seed, tag, a, b): the seed of one stream. */
static inline uint64_t kd_sample_hash(uint64_t seed, uint64_t tag, int64_t a, int64_t b)
{
    uint64_t h = kd_sample_mix(seed + UINT64_C(0x9e3779b97f4a7c15) * (tag + 1));
    h = kd_sample_mix(h ^ (uint64_t)a * UINT64_C(0xd6e8feb86659fd93));
    return kd_sample_mix(h ^ (uint64_t)b * UINT64_C(0xa0761d6478bd642f));
}

struct kd_sample_rng {
    uint64_t s;
};

static inline void kd_sample_rng_seed(struct kd_sample_rng *r, uint64_t s)
{
    r->s = s;
}

static inline uint64_t kd_sample_rng_next(struct kd_sample_rng *r)
{
    r->s += UINT64_C(0x9e3779b97f4a7c15);
    return kd_sample_mix(r->s);
}

/* Uniform in [0, 1), 53 bits. */
static inline double kd_sample_rng_unit(struct kd_sample_rng *r)
{
    return (double)(kd_sample_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline double kd_sample_rng_range(struct kd_sample_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * kd_sample_rng_unit(r);
}

/* Uniform in [0, n); n > 0. The modulo bias is below 2^-32 for the n used here. */
static inline uint32_t kd_sample_rng_below(struct kd_sample_rng *r, uint32_t n)
{
    return (uint32_t)(kd_sample_rng_next(r) % n);
}

/* ---- geometry (sample_geom.c) ------------------------------------------------------------ */

struct kd_sample_pt {
    double x, y; /* EPSG:32642 metres, x = easting */
};

/* An ISO WKB writer, little endian, 2D. Appends never fail loudly: `failed` is set on
 * allocation failure and checked once per geometry. */
struct kd_sample_wkb {
    unsigned char *p;
    size_t len, cap;
    int failed;
};

void kd_sample_geom_wkb_init(struct kd_sample_wkb *w);
void kd_sample_geom_wkb_fini(struct kd_sample_wkb *w);
void kd_sample_geom_wkb_reset(struct kd_sample_wkb *w);
/* Header of a MultiPolygon with n_polys polygons, then each polygon's header and rings. */
void kd_sample_geom_wkb_multipolygon(struct kd_sample_wkb *w, uint32_t n_polys);
void kd_sample_geom_wkb_polygon(struct kd_sample_wkb *w, uint32_t n_rings);
/* A ring of n distinct points (not closed: the first point is repeated here). reverse
 * writes it backwards (holes are written clockwise, shells counter-clockwise). */
void kd_sample_geom_wkb_ring(struct kd_sample_wkb *w, const struct kd_sample_pt *pts, size_t n,
                             int reverse);

/* Signed area of a ring (counter-clockwise > 0), computed around its first point so that
 * UTM's large coordinates do not eat the precision. */
double kd_sample_geom_ring_area(const struct kd_sample_pt *pts, size_t n);
/* Offsets each edge k (q[k] -> q[k+1]) of a counter-clockwise convex quad inwards by d[k]. */
void kd_sample_geom_inset(const struct kd_sample_pt q[4], const double d[4],
                          struct kd_sample_pt out[4]);
/* A polygon buffering the polyline line[0..n) (n >= 2) by half_m on both sides with mitred
 * joins: out gets 2n points, right side forward then left side back (counter-clockwise).
 * Valid while half_m stays well below the polyline's radius of curvature and its segments. */
void kd_sample_geom_strip(const struct kd_sample_pt *line, size_t n, double half_m,
                          struct kd_sample_pt *out);
/* A regular n-gon approximating a circle, counter-clockwise. */
void kd_sample_geom_circle(struct kd_sample_pt c, double r_m, size_t n, struct kd_sample_pt *out);
/* Distance from p to the polyline line[0..n). */
double kd_sample_geom_dist_polyline(struct kd_sample_pt p, const struct kd_sample_pt *line,
                                    size_t n);
/* Union of two rings that share exactly one edge (u -> v in a, v -> u in b, with identical
 * coordinates). OUT: out (room for na + nb points), *n_out. Returns 0, or -1 when no
 * shared edge was found. */
int kd_sample_geom_union_adjacent(const struct kd_sample_pt *a, size_t na,
                                  const struct kd_sample_pt *b, size_t nb, struct kd_sample_pt *out,
                                  size_t *n_out);

/* ---- text (sample_text.c) ---------------------------------------------------------------- */

/* A bounded text builder over a caller's buffer: always NUL-terminated, cuts silently at
 * the end (the buffers here are sized so that nothing is ever cut). */
struct kd_sample_txt {
    char *p, *end;
};

static inline void kd_sample_txt_init(struct kd_sample_txt *t, char *buf, size_t cap)
{
    t->p = buf;
    t->end = buf + cap - 1;
    *buf = '\0';
}

static inline void kd_sample_txt_s(struct kd_sample_txt *t, const char *s)
{
    while (*s && t->p < t->end)
        *t->p++ = *s++;
    *t->p = '\0';
}

static inline void kd_sample_txt_c(struct kd_sample_txt *t, char c)
{
    if (t->p < t->end)
        *t->p++ = c;
    *t->p = '\0';
}

/* An unsigned number, zero-padded to width digits (width <= 20). */
static inline void kd_sample_txt_u(struct kd_sample_txt *t, uint64_t v, int width)
{
    char d[24];
    int n = 0;

    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 20);
    while (n < width && n < 20)
        d[n++] = '0';
    while (n > 0 && t->p < t->end)
        *t->p++ = d[--n];
    *t->p = '\0';
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms:
 * no gmtime, no time zone, no locale). */
int32_t kd_sample_text_days(int y, int m, int d);
void kd_sample_text_civil(int32_t days, int *y, int *m, int *d);
/* "YYYY-MM-DD" of a day number. */
void kd_sample_text_date(struct kd_sample_txt *t, int32_t days);
/* "YYYY-MM-DDTHH:MM:SSZ" of a day number and seconds into that day (UTC). */
void kd_sample_text_time(struct kd_sample_txt *t, int32_t days, int32_t secs);

/* Name tables: every function picks by h (any hash) and returns a borrowed static string. */
const char *kd_sample_text_district(int bb); /* bb 1..; Tashkent's 12 districts, then numbers */
const char *kd_sample_text_massiv(uint64_t h);
const char *kd_sample_text_mahalla(uint64_t h);
const char *kd_sample_text_street(uint64_t h);
const char *kd_sample_text_heritage(uint64_t h);
/* "Surname Given Father o'g'li|qizi" in Uzbek Latin script. */
void kd_sample_text_person(struct kd_sample_txt *t, uint64_t h, int male);
/* A commercial organisation's name; farm != 0 gives a farm enterprise. */
void kd_sample_text_org(struct kd_sample_txt *t, uint64_t h, int farm);
const char *kd_sample_text_bank(unsigned i); /* i < KD_SAMPLE_N_BANKS */
#define KD_SAMPLE_N_BANKS 8

/* PINFL number idx of the region seeded by seed: 14 digits, first digit 3-6 (sex and
 * century), birth date DDMMYY, 6 digits that are a permutation of idx mod 10^6, check digit.
 * Unique for distinct idx < 10^6 * 24000. OUT male: 1 for an odd first digit. */
void kd_sample_text_pinfl(char out[15], uint64_t idx, uint64_t seed, int *male);
/* STIR number idx: 9 digits starting with 2; unique for distinct idx < 10^8. */
void kd_sample_text_stir(char out[10], uint64_t idx, uint64_t seed);

#endif
