/* SPDX-License-Identifier: Apache-2.0 */
/* sample's plane geometry: an ISO WKB writer and the few constructions the generator needs
 * (inset quads, buffered strips, circles, the union of two lots sharing an edge). Nothing
 * here calls GEOS: every polygon is built valid by construction, so a million parcels cost
 * arithmetic only. */
#include "sample_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kd_sample_geom_wkb_init(struct kd_sample_wkb *w)
{
    memset(w, 0, sizeof *w);
}

void kd_sample_geom_wkb_fini(struct kd_sample_wkb *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

void kd_sample_geom_wkb_reset(struct kd_sample_wkb *w)
{
    w->len = 0;
    w->failed = 0;
}

static unsigned char *room(struct kd_sample_wkb *w, size_t n)
{
    unsigned char *p;
    size_t cap;

    if (w->failed)
        return NULL;
    if (w->len + n > w->cap) {
        cap = w->cap ? w->cap : 1024;
        while (cap < w->len + n)
            cap *= 2;
        p = realloc(w->p, cap);
        if (!p) {
            w->failed = 1;
            return NULL;
        }
        w->p = p;
        w->cap = cap;
    }
    p = w->p + w->len;
    w->len += n;
    return p;
}

/* Byte by byte, so that the output is little endian whatever the host is. */
static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    int i;

    memcpy(&v, &d, sizeof v);
    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void header(struct kd_sample_wkb *w, uint32_t type, uint32_t count)
{
    unsigned char *p = room(w, 9);

    if (!p)
        return;
    p[0] = 1; /* little endian */
    put_u32(p + 1, type);
    put_u32(p + 5, count);
}

void kd_sample_geom_wkb_multipolygon(struct kd_sample_wkb *w, uint32_t n_polys)
{
    header(w, 6, n_polys);
}

void kd_sample_geom_wkb_polygon(struct kd_sample_wkb *w, uint32_t n_rings)
{
    header(w, 3, n_rings);
}

void kd_sample_geom_wkb_ring(struct kd_sample_wkb *w, const struct kd_sample_pt *pts, size_t n,
                             int reverse)
{
    unsigned char *p = room(w, 4 + 16 * (n + 1));
    size_t i;

    if (!p)
        return;
    put_u32(p, (uint32_t)(n + 1));
    p += 4;
    for (i = 0; i <= n; i++) {
        const struct kd_sample_pt *q = reverse ? &pts[(n - i) % n] : &pts[i % n];
        put_f64(p, q->x);
        put_f64(p + 8, q->y);
        p += 16;
    }
}

double kd_sample_geom_ring_area(const struct kd_sample_pt *pts, size_t n)
{
    double s = 0.0, ox = pts[0].x, oy = pts[0].y;
    size_t i;

    for (i = 1; i + 1 < n; i++)
        s += (pts[i].x - ox) * (pts[i + 1].y - oy) - (pts[i + 1].x - ox) * (pts[i].y - oy);
    return 0.5 * s;
}

void kd_sample_geom_inset(const struct kd_sample_pt q[4], const double d[4],
                          struct kd_sample_pt out[4])
{
    double lx[4], ly[4], ex[4], ey[4];
    int k;

    for (k = 0; k < 4; k++) {
        const struct kd_sample_pt *a = &q[k], *b = &q[(k + 1) % 4];
        double len;
        ex[k] = b->x - a->x;
        ey[k] = b->y - a->y;
        len = sqrt(ex[k] * ex[k] + ey[k] * ey[k]);
        /* left of a counter-clockwise edge is inside */
        lx[k] = a->x - ey[k] / len * d[k];
        ly[k] = a->y + ex[k] / len * d[k];
    }
    for (k = 0; k < 4; k++) {
        int p = (k + 3) % 4;
        double den = ex[p] * ey[k] - ey[p] * ex[k];
        double t = ((lx[k] - lx[p]) * ey[k] - (ly[k] - ly[p]) * ex[k]) / den;
        out[k].x = lx[p] + ex[p] * t;
        out[k].y = ly[p] + ey[p] * t;
    }
}

static void left_normal(struct kd_sample_pt a, struct kd_sample_pt b, double *nx, double *ny)
{
    double dx = b.x - a.x, dy = b.y - a.y, len = sqrt(dx * dx + dy * dy);

    *nx = -dy / len;
    *ny = dx / len;
}

void kd_sample_geom_strip(const struct kd_sample_pt *line, size_t n, double half_m,
                          struct kd_sample_pt *out)
{
    size_t k;

    for (k = 0; k < n; k++) {
        double ax, ay, bx, by, mx, my, len, s;
        if (k == 0) {
            left_normal(line[0], line[1], &ax, &ay);
            bx = ax;
            by = ay;
        } else if (k == n - 1) {
            left_normal(line[k - 1], line[k], &ax, &ay);
            bx = ax;
            by = ay;
        } else {
            left_normal(line[k - 1], line[k], &ax, &ay);
            left_normal(line[k], line[k + 1], &bx, &by);
        }
        mx = ax + bx;
        my = ay + by;
        len = sqrt(mx * mx + my * my);
        mx /= len;
        my /= len;
        s = half_m / (mx * bx + my * by); /* mitre: keeps the strip half_m wide */
        /* right side forward, left side back: counter-clockwise */
        out[k].x = line[k].x - mx * s;
        out[k].y = line[k].y - my * s;
        out[2 * n - 1 - k].x = line[k].x + mx * s;
        out[2 * n - 1 - k].y = line[k].y + my * s;
    }
}

void kd_sample_geom_circle(struct kd_sample_pt c, double r_m, size_t n, struct kd_sample_pt *out)
{
    const double two_pi = 6.283185307179586;
    size_t k;

    for (k = 0; k < n; k++) {
        double a = two_pi * (double)k / (double)n;
        out[k].x = c.x + r_m * cos(a);
        out[k].y = c.y + r_m * sin(a);
    }
}

double kd_sample_geom_dist_polyline(struct kd_sample_pt p, const struct kd_sample_pt *line,
                                    size_t n)
{
    double best = HUGE_VAL;
    size_t k;

    for (k = 0; k + 1 < n; k++) {
        double dx = line[k + 1].x - line[k].x, dy = line[k + 1].y - line[k].y;
        double l2 = dx * dx + dy * dy, t = 0.0, ex, ey, d2;
        if (l2 > 0.0)
            t = ((p.x - line[k].x) * dx + (p.y - line[k].y) * dy) / l2;
        if (t < 0.0)
            t = 0.0;
        else if (t > 1.0)
            t = 1.0;
        ex = line[k].x + dx * t - p.x;
        ey = line[k].y + dy * t - p.y;
        d2 = ex * ex + ey * ey;
        if (d2 < best)
            best = d2;
    }
    return sqrt(best);
}

static int same(struct kd_sample_pt a, struct kd_sample_pt b)
{
    return a.x == b.x && a.y == b.y;
}

int kd_sample_geom_union_adjacent(const struct kd_sample_pt *a, size_t na,
                                  const struct kd_sample_pt *b, size_t nb, struct kd_sample_pt *out,
                                  size_t *n_out)
{
    size_t i, j, k, m = 0;

    for (i = 0; i < na; i++) {
        struct kd_sample_pt u = a[i], v = a[(i + 1) % na];
        for (j = 0; j < nb; j++) {
            if (!same(b[j], v) || !same(b[(j + 1) % nb], u))
                continue;
            /* a from v round to u, then b strictly between u and v */
            for (k = 0; k < na; k++)
                out[m++] = a[(i + 1 + k) % na];
            for (k = 2; k < nb; k++)
                out[m++] = b[(j + k) % nb];
            *n_out = m;
            return 0;
        }
    }
    return -1;
}
