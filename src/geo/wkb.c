/* SPDX-License-Identifier: Apache-2.0 */
/* The one reader of ISO WKB: a walker that hands out each run of coordinates in place, so
 * transforms and boxes touch the bytes directly with no geometry objects built in between,
 * and, on the same cursor, the rings of a (Multi)Polygon for GeoJSON writers. */
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

/* A geometry's byte order and type. */
static int header(struct cursor *c, int *swap, uint32_t *type)
{
    if (c->end - c->p < 5 || c->p[0] > 1)
        return -1;
    *swap = (c->p[0] == 1) != host_is_le();
    c->p++;
    return rd_u32(c, *swap, type);
}

/* depth guards against hostile nesting of collections */
static int walk(struct cursor *c, kd_wkb_coords_fn fn, void *ud, int depth, unsigned *type_out)
{
    uint32_t type, n, i, k, dim;
    int swap;

    if (depth > 8 || header(c, &swap, &type))
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

/* Rings of up to LOCAL_POINTS points (nearly every parcel's) are decoded on the stack: the
 * items route walks a ring of most rows it reads, and a malloc per row showed. */
#define LOCAL_POINTS 256

struct rings {
    kd_wkb_ring_fn fn;
    void *ud;
    uint32_t polygon;
    int started;
    double *xy; /* local, or malloc'd for a larger ring */
    size_t cap;
    int rc;
    double local[2 * LOCAL_POINTS];
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
        double *xy = realloc(r->xy == r->local ? NULL : r->xy, cap * sizeof *xy);
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
    r.fn = fn, r.ud = ud;
    r.polygon = 0, r.started = 0, r.rc = 0;
    r.xy = r.local, r.cap = 2 * LOCAL_POINTS;
    rc = kd_wkb_walk((unsigned char *)(uintptr_t)wkb, len, ring_fn, &r);
    if (r.xy != r.local)
        free(r.xy);
    return r.rc ? r.rc : rc;
}

void kd_wkb_ring_point(const struct kd_wkb_ring *r, uint32_t i, double *x, double *y)
{
    get_xy(r->xy + 16 * (size_t)i, r->swap, x, y);
}

void kd_wkb_ring_xy(const struct kd_wkb_ring *r, double *x, double *y)
{
    uint32_t i;

    for (i = 0; i < r->n; i++)
        get_xy(r->xy + 16 * (size_t)i, r->swap, &x[i], &y[i]);
}

static enum kd_code malformed(struct kd_err *err)
{
    return kd_err_set(err, KD_EINVAL, "wkb.malformed", "malformed WKB geometry");
}

/* The rings of the polygon at c (after its header) as a GeoJSON array of rings. */
static enum kd_code polygon_geojson(struct cursor *c, int swap, uint32_t polygon,
                                    kd_wkb_geojson_ring_fn fn, void *ud, struct kd_buf *out,
                                    struct kd_err *err)
{
    struct kd_wkb_ring r;
    uint32_t k, i;
    enum kd_code rc;

    if (rd_u32(c, swap, &k))
        return malformed(err);
    kd_buf_adds(out, "[");
    for (i = 0; i < k; i++) {
        if (i)
            kd_buf_adds(out, ",");
        if (rd_u32(c, swap, &r.n) || (size_t)(c->end - c->p) / 16 < r.n)
            return malformed(err);
        r.xy = c->p, r.swap = swap, r.polygon = polygon, r.ring = i;
        c->p += (size_t)r.n * 16;
        if ((rc = fn(ud, &r, out, err)))
            return rc;
    }
    kd_buf_adds(out, "]");
    return KD_OK;
}

enum kd_code kd_wkb_geojson_geometry(const unsigned char *wkb, size_t len,
                                     kd_wkb_geojson_ring_fn fn, void *ud, struct kd_buf *out,
                                     struct kd_err *err)
{
    struct cursor c;
    uint32_t type, n, i, sub;
    int swap;
    enum kd_code rc;

    if (!wkb)
        return malformed(err);
    /* read only: the cursor's bytes are never written here */
    c.p = (unsigned char *)(uintptr_t)wkb, c.end = c.p + len;
    if (header(&c, &swap, &type))
        return malformed(err);
    if (type == 3) {
        kd_buf_adds(out, "{\"type\":\"Polygon\",\"coordinates\":");
        if ((rc = polygon_geojson(&c, swap, 0, fn, ud, out, err)))
            return rc;
    } else if (type == 6) {
        kd_buf_adds(out, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
        if (rd_u32(&c, swap, &n))
            return malformed(err);
        for (i = 0; i < n; i++) {
            if (header(&c, &swap, &sub) || sub != 3)
                return malformed(err);
            if (i)
                kd_buf_adds(out, ",");
            if ((rc = polygon_geojson(&c, swap, i, fn, ud, out, err)))
                return rc;
        }
        kd_buf_adds(out, "]");
    } else {
        return kd_err_set(err, KD_EINVAL, "wkb.type",
                          "a WKB geometry of type %u is not a 2D polygon or multipolygon", type);
    }
    kd_buf_adds(out, "}");
    return KD_OK;
}
