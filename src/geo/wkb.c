/* SPDX-License-Identifier: Apache-2.0 */
/* A walker over ISO WKB that hands out each run of coordinates in place: transforms and
 * boxes then touch the bytes directly, with no geometry objects built in between. */
#include "geo_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
    unsigned char *p, *end;
};

static int rd_u32(struct cursor *c, int swap, uint32_t *v)
{
    unsigned char b[4];

    if (c->end - c->p < 4)
        return -1;
    memcpy(b, c->p, 4);
    if (swap) {
        unsigned char t = b[0];
        b[0] = b[3], b[3] = t, t = b[1], b[1] = b[2], b[2] = t;
    }
    memcpy(v, b, 4);
    c->p += 4;
    return 0;
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    unsigned char b;

    memcpy(&b, &one, 1);
    return b == 1;
}

/* depth guards against hostile nesting of collections */
static int walk(struct cursor *c, kd_wkb_coords_fn fn, void *ud, int depth, unsigned *type_out)
{
    uint32_t type, n, i, k, dim;
    int swap;

    if (depth > 8 || c->end - c->p < 5)
        return -1;
    swap = (c->p[0] == 1) != host_is_le();
    if (c->p[0] > 1)
        return -1;
    c->p++;
    if (rd_u32(c, swap, &type))
        return -1;
    if (type_out)
        *type_out = type;
    dim = 2 + (type / 1000 == 1 || type / 1000 == 2) + 2 * (type / 1000 == 3);
    if (type >= 4000 || type % 1000 < 1 || type % 1000 > 7)
        return -1;
    /* callers see 2D only */
    if (dim != 2 && fn)
        return -1;
    switch (type % 1000) {
    case 1:
        if ((size_t)(c->end - c->p) < 8 * dim)
            return -1;
        if (fn && fn(ud, c->p, 1, swap, -1))
            return -1;
        c->p += 8 * dim;
        return 0;
    case 2:
        if (rd_u32(c, swap, &n) || (size_t)(c->end - c->p) / (8 * dim) < n)
            return -1;
        if (fn && fn(ud, c->p, n, swap, -1))
            return -1;
        c->p += (size_t)n * 8 * dim;
        return 0;
    case 3:
        if (rd_u32(c, swap, &k))
            return -1;
        for (i = 0; i < k; i++) {
            if (rd_u32(c, swap, &n) || (size_t)(c->end - c->p) / (8 * dim) < n)
                return -1;
            if (fn && fn(ud, c->p, n, swap, (int)i))
                return -1;
            c->p += (size_t)n * 8 * dim;
        }
        return 0;
    default:
        if (rd_u32(c, swap, &k))
            return -1;
        for (i = 0; i < k; i++)
            if (walk(c, fn, ud, depth + 1, NULL))
                return -1;
        return 0;
    }
}

int kd_wkb_walk(unsigned char *wkb, size_t len, kd_wkb_coords_fn fn, void *ud)
{
    struct cursor c = {wkb, wkb + len};

    if (walk(&c, fn, ud, 0, NULL))
        return -1;
    return c.p == c.end ? 0 : -1;
}

enum kd_code kd_wkb_type(const unsigned char *wkb, size_t len, unsigned *type, struct kd_err *err)
{
    /* walk() does not write when fn is NULL */
    struct cursor c = {(unsigned char *)(uintptr_t)wkb, (unsigned char *)(uintptr_t)wkb + len};
    unsigned t = 0;

    if (walk(&c, NULL, NULL, 0, &t) || c.p != c.end)
        return kd_err_set(err, KD_EINVAL, "wkb.malformed", "malformed WKB geometry");
    *type = t;
    return KD_OK;
}

static void get_xy(const unsigned char *p, int swap, double *x, double *y)
{
    unsigned char b[16];
    int i;

    memcpy(b, p, 16);
    if (swap)
        for (i = 0; i < 4; i++) {
            unsigned char t = b[i];
            b[i] = b[7 - i], b[7 - i] = t;
            t = b[8 + i], b[8 + i] = b[15 - i], b[15 - i] = t;
        }
    memcpy(x, b, 8);
    memcpy(y, b + 8, 8);
}

static int box_fn(void *ud, unsigned char *p, uint32_t n, int swap, int ring)
{
    double *box = ud, x, y;
    uint32_t i;

    (void)ring;
    for (i = 0; i < n; i++, p += 16) {
        get_xy(p, swap, &x, &y);
        if (x < box[0])
            box[0] = x;
        if (y < box[1])
            box[1] = y;
        if (x > box[2])
            box[2] = x;
        if (y > box[3])
            box[3] = y;
    }
    return 0;
}

enum kd_code kd_wkb_box(const unsigned char *wkb, size_t len, double box[4], struct kd_err *err)
{
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    if (kd_wkb_walk((unsigned char *)(uintptr_t)wkb, len, box_fn, box))
        return kd_err_set(err, KD_EINVAL, "wkb.malformed", "malformed WKB geometry");
    return KD_OK;
}

struct rings {
    kd_wkb_ring_fn fn;
    void *ud;
    uint32_t polygon;
    int started;
    double *xy;
    size_t cap;
    int rc;
};

static int ring_fn(void *ud, unsigned char *p, uint32_t n, int swap, int ring)
{
    struct rings *r = ud;
    uint32_t i;

    if (ring < 0)
        return -1; /* a point or a line string: not a polygon */
    if (ring == 0 && r->started++)
        r->polygon++;
    if ((size_t)n * 2 > r->cap) {
        size_t cap = (size_t)n * 2 + 64;
        double *xy = realloc(r->xy, cap * sizeof *xy);
        if (!xy)
            return -1;
        r->xy = xy, r->cap = cap;
    }
    for (i = 0; i < n; i++)
        get_xy(p + 16 * (size_t)i, swap, &r->xy[2 * i], &r->xy[2 * i + 1]);
    r->rc = r->fn(r->ud, r->polygon, (uint32_t)ring, r->xy, n);
    return r->rc ? -1 : 0;
}

int kd_wkb_polygon_rings(const unsigned char *wkb, size_t len, kd_wkb_ring_fn fn, void *ud)
{
    struct rings r;
    unsigned type;
    struct kd_err err;
    int rc;

    kd_err_init(&err);
    if (kd_wkb_type(wkb, len, &type, &err) || (type != 3 && type != 6))
        return -1;
    memset(&r, 0, sizeof r);
    r.fn = fn, r.ud = ud;
    rc = kd_wkb_walk((unsigned char *)(uintptr_t)wkb, len, ring_fn, &r);
    free(r.xy);
    return r.rc ? r.rc : rc;
}
