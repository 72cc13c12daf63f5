/* SPDX-License-Identifier: Apache-2.0 */
/* The shared index of live shapes: every live parcel, zone and restriction of a register as
 * plain coordinate arrays (office CRS) under a packed R-tree (boxes sorted along a Hilbert
 * curve, 16 to a node, in the manner of flatbush). Built once, immutable after, so any
 * number of threads query it at once with no lock: the server's pool threads share one
 * instead of each holding its own (a GEOS STRtree of 1M parcels costs ~700 MB; this ~150 MB).
 *
 * Points are located exactly as GEOS locates them (its ray-crossing counter), with one
 * difference: orientations are computed in doubles under Shewchuk's error bound, and a
 * shape where any orientation falls inside that bound (a point within a few ulps of an edge)
 * is handed to GEOS, built from the same coordinates. So the answer is GEOS's, always;
 * GEOS is only asked when doubles alone could be wrong. */
#include "cadastre_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NODE 16
#define MAX_LEVELS 16

enum where { OUT = 0, IN, ON_BOUNDARY, UNSURE };

struct shape {
    double box[4];
    int64_t id;
    uint32_t ring0, n_rings; /* in rings[] */
    uint32_t frag, frag_len; /* areas: their JSON object in frags */
    unsigned char layer;     /* enum kd_layer */
};

struct ring {
    uint32_t pt0, n;  /* points in xy[] (pairs) */
    uint32_t polygon; /* index of its polygon in the shape */
    uint32_t hole;    /* 0: a shell */
};

struct kd_shape_index {
    struct shape *s;
    size_t n, cap;
    struct ring *r;
    size_t n_r, cap_r;
    double *xy;
    size_t n_xy, cap_xy; /* doubles */
    struct kd_buf frags;
    /* the tree: boxes of every level, leaves first; ix: a leaf's shape, or a node's first child */
    double (*nb)[4];
    uint32_t *ix;
    size_t level_end[MAX_LEVELS];
    int levels;
    struct kd_shape_index_stats stats;
};

/* ---- exact enough geometry ----------------------------------------------------------------- */

/* The sign of the orientation of (a, b, c): 1 counter-clockwise, -1 clockwise, 0 collinear,
 * 2 when doubles cannot tell (Shewchuk's orient2d filter, error bound ccwerrboundA). */
static int orient(double ax, double ay, double bx, double by, double cx, double cy)
{
    static const double bound = (3.0 + 16.0 * 1.1102230246251565e-16) * 1.1102230246251565e-16;
    double l = (ax - cx) * (by - cy), r = (ay - cy) * (bx - cx), det = l - r;

    if (l == 0 && r == 0)
        return 0; /* both products exactly zero: exactly collinear */
    if (fabs(det) <= bound * (fabs(l) + fabs(r)))
        return 2;
    return det > 0 ? 1 : -1;
}

/* GEOS's RayCrossingCounter over one ring. */
static enum where ring_locate(const double *xy, uint32_t n, double px, double py)
{
    uint32_t i, crossings = 0;

    for (i = 1; i < n; i++) {
        double x1 = xy[2 * i - 2], y1 = xy[2 * i - 1], x2 = xy[2 * i], y2 = xy[2 * i + 1];
        if (x1 < px && x2 < px)
            continue;
        if (px == x2 && py == y2)
            return ON_BOUNDARY;
        if (y1 == py && y2 == py) {
            if (px >= fmin(x1, x2) && px <= fmax(x1, x2))
                return ON_BOUNDARY;
            continue;
        }
        if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
            int o = orient(x1, y1, x2, y2, px, py);
            if (o == 2)
                return UNSURE;
            if (o == 0)
                return ON_BOUNDARY;
            if (y2 < y1)
                o = -o;
            if (o == 1)
                crossings++;
        }
    }
    return crossings & 1 ? IN : OUT;
}

/* Where the point lies in a shape: GEOS's point locator for (multi)polygons. A point on the
 * boundary of more than one polygon of a multipolygon is left to GEOS (its boundary rule
 * decides there). */
static enum where shape_locate(const struct kd_shape_index *idx, const struct shape *sh, double px,
                               double py)
{
    uint32_t i = 0, n_boundary = 0;
    int in_any = 0;

    if (px < sh->box[0] || px > sh->box[2] || py < sh->box[1] || py > sh->box[3])
        return OUT;
    while (i < sh->n_rings) {
        const struct ring *shell = &idx->r[sh->ring0 + i];
        uint32_t j = i + 1;
        enum where w = ring_locate(idx->xy + 2 * (size_t)shell->pt0, shell->n, px, py);
        while (j < sh->n_rings && idx->r[sh->ring0 + j].hole)
            j++;
        if (w == UNSURE)
            return UNSURE;
        if (w == IN) {
            uint32_t k;
            for (k = i + 1; k < j; k++) {
                const struct ring *hole = &idx->r[sh->ring0 + k];
                enum where h = ring_locate(idx->xy + 2 * (size_t)hole->pt0, hole->n, px, py);
                if (h == UNSURE)
                    return UNSURE;
                if (h == IN) {
                    w = OUT;
                    break;
                }
                if (h == ON_BOUNDARY) {
                    w = ON_BOUNDARY;
                    break;
                }
            }
        }
        if (w == IN)
            in_any = 1;
        else if (w == ON_BOUNDARY)
            n_boundary++;
        i = j;
    }
    if (in_any)
        return IN;
    if (n_boundary > 1)
        return UNSURE;
    return n_boundary ? ON_BOUNDARY : OUT;
}

/* The shape as a GEOS (multi)polygon, for the rare point doubles cannot place. */
static GEOSGeometry *shape_geos(const struct kd_shape_index *idx, const struct shape *sh,
                                GEOSContextHandle_t h)
{
    GEOSGeometry **polys = calloc(sh->n_rings, sizeof *polys), *out = NULL;
    GEOSGeometry **rings = calloc(sh->n_rings, sizeof *rings);
    uint32_t i = 0, n_polys = 0, k;

    if (!polys || !rings)
        goto done;
    while (i < sh->n_rings) {
        uint32_t j = i;
        do {
            const struct ring *rg = &idx->r[sh->ring0 + j];
            GEOSCoordSequence *cs =
                GEOSCoordSeq_copyFromBuffer_r(h, idx->xy + 2 * (size_t)rg->pt0, rg->n, 0, 0);
            rings[j] = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
            if (!rings[j])
                goto done;
            j++;
        } while (j < sh->n_rings && idx->r[sh->ring0 + j].hole);
        polys[n_polys] = GEOSGeom_createPolygon_r(h, rings[i], rings + i + 1, j - i - 1);
        if (!polys[n_polys])
            goto done;
        for (k = i; k < j; k++)
            rings[k] = NULL; /* owned by the polygon now */
        n_polys++;
        i = j;
    }
    out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, n_polys);
    if (out)
        n_polys = 0;
done:
    for (k = 0; polys && k < n_polys; k++)
        GEOSGeom_destroy_r(h, polys[k]);
    for (k = 0; rings && k < sh->n_rings; k++)
        if (rings[k])
            GEOSGeom_destroy_r(h, rings[k]);
    free(polys);
    free(rings);
    return out;
}

/* Where the point lies, exactly: doubles first, GEOS when they cannot tell. */
static enum kd_code locate(const struct kd_shape_index *idx, const struct shape *sh,
                           struct kd_geo *g, double px, double py, enum where *out,
                           struct kd_err *err)
{
    GEOSContextHandle_t h;
    GEOSGeometry *geom, *pt;
    char in, covered;

    *out = shape_locate(idx, sh, px, py);
    if (*out != UNSURE)
        return KD_OK;
    h = kd_geo_geos(g);
    geom = shape_geos(idx, sh, h);
    pt = GEOSGeom_createPointFromXY_r(h, px, py);
    in = geom && pt ? GEOSContains_r(h, geom, pt) : 2;
    covered = in == 0 ? GEOSCovers_r(h, geom, pt) : in;
    if (pt)
        GEOSGeom_destroy_r(h, pt);
    if (geom)
        GEOSGeom_destroy_r(h, geom);
    if (in == 2 || covered == 2)
        return kd_lookup_geos_fail(g, "testing a point", err);
    *out = in ? IN : covered ? ON_BOUNDARY : OUT;
    return KD_OK;
}

/* ---- the build ----------------------------------------------------------------------------- */

struct build {
    struct kd_shape_index *idx;
    struct shape *cur;
    int failed;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 1024;
    void *q;

    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int add_ring(void *ud, uint32_t polygon, uint32_t ring, const double *xy, uint32_t n)
{
    struct build *b = ud;
    struct kd_shape_index *idx = b->idx;
    struct ring *rg;
    uint32_t i;

    if (n < 4 || idx->n_xy + 2 * (size_t)n > UINT32_MAX * (size_t)2 ||
        grow((void **)&idx->r, &idx->cap_r, idx->n_r + 1, sizeof *idx->r) ||
        grow((void **)&idx->xy, &idx->cap_xy, idx->n_xy + 2 * (size_t)n, sizeof *idx->xy))
        return 1;
    rg = &idx->r[idx->n_r++];
    rg->pt0 = (uint32_t)(idx->n_xy / 2);
    rg->n = n;
    rg->polygon = polygon;
    rg->hole = ring > 0;
    memcpy(idx->xy + idx->n_xy, xy, 2 * (size_t)n * sizeof *xy);
    idx->n_xy += 2 * (size_t)n;
    for (i = 0; i < n; i++) {
        b->cur->box[0] = fmin(b->cur->box[0], xy[2 * i]);
        b->cur->box[1] = fmin(b->cur->box[1], xy[2 * i + 1]);
        b->cur->box[2] = fmax(b->cur->box[2], xy[2 * i]);
        b->cur->box[3] = fmax(b->cur->box[3], xy[2 * i + 1]);
    }
    b->cur->n_rings++;
    return 0;
}

static enum kd_code add_shape(struct build *b, enum kd_layer layer, int64_t id,
                              const unsigned char *wkb, size_t len, const char *what,
                              struct kd_err *err)
{
    struct kd_shape_index *idx = b->idx;
    struct shape *sh;

    if (grow((void **)&idx->s, &idx->cap, idx->n + 1, sizeof *idx->s))
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    sh = &idx->s[idx->n];
    memset(sh, 0, sizeof *sh);
    sh->box[0] = sh->box[1] = INFINITY;
    sh->box[2] = sh->box[3] = -INFINITY;
    sh->id = id;
    sh->layer = (unsigned char)layer;
    sh->ring0 = (uint32_t)idx->n_r;
    b->cur = sh;
    if (!wkb || !len)
        return kd_err_set(err, KD_EGEO, "index.no_geometry", "%s has no geometry", what);
    if (kd_wkb_polygon_rings(wkb, len, add_ring, b) || !sh->n_rings)
        return kd_err_set(err, KD_EGEO, "geos.read", "%s: not a readable polygon", what);
    idx->n++;
    return KD_OK;
}

static enum kd_code parcel_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct build *b = ud;

    return add_shape(b, KD_LAYER_PARCELS, p->id, p->wkb, p->wkb_len, p->number, err);
}

static enum kd_code area_cb(void *ud, const struct kd_area *a, struct kd_err *err)
{
    struct build *b = ud;
    struct kd_buf *f = &b->idx->frags;
    size_t mark = f->len;
    enum kd_code rc = add_shape(b, a->layer, a->id, a->wkb, a->wkb_len, a->code, err);

    if (rc)
        return rc;
    kd_buf_adds(f, "{\"code\":");
    kd_buf_add_json_str(f, a->code);
    kd_buf_adds(f, ",\"kind\":");
    kd_buf_add_json_str(f, a->kind);
    kd_buf_adds(f, ",\"name\":");
    if (a->name[0])
        kd_buf_add_json_str(f, a->name);
    else
        kd_buf_adds(f, "null");
    kd_buf_adds(f, "}");
    if (f->failed)
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    b->idx->s[b->idx->n - 1].frag = (uint32_t)mark;
    b->idx->s[b->idx->n - 1].frag_len = (uint32_t)(f->len - mark);
    return KD_OK;
}

/* The Hilbert index of (x, y) on a 65,536 x 65,536 grid. */
static uint64_t hilbert(uint32_t x, uint32_t y)
{
    const uint32_t n = 65536;
    uint64_t d = 0;
    uint32_t s;

    for (s = n / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += (uint64_t)s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            uint32_t t;
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            t = x, x = y, y = t;
        }
    }
    return d;
}

struct keyed {
    uint64_t key;
    uint32_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static enum kd_code pack(struct kd_shape_index *idx, struct kd_err *err)
{
    size_t n = idx->n, total = 0, level_n = n, i, lv;
    double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    struct keyed *k;

    if (n == 0)
        return KD_OK;
    /* every level's boxes, leaves to the root */
    for (;;) {
        total += level_n;
        if (level_n == 1)
            break;
        level_n = (level_n + NODE - 1) / NODE;
    }
    idx->nb = malloc(total * sizeof *idx->nb);
    idx->ix = malloc(total * sizeof *idx->ix);
    k = malloc(n * sizeof *k);
    if (!idx->nb || !idx->ix || !k) {
        free(k);
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    }
    for (i = 0; i < n; i++) {
        ext[0] = fmin(ext[0], idx->s[i].box[0]), ext[1] = fmin(ext[1], idx->s[i].box[1]);
        ext[2] = fmax(ext[2], idx->s[i].box[2]), ext[3] = fmax(ext[3], idx->s[i].box[3]);
    }
    for (i = 0; i < n; i++) {
        const double *b = idx->s[i].box;
        double w = ext[2] - ext[0], h = ext[3] - ext[1];
        uint32_t hx = w > 0 ? (uint32_t)(65535.0 * ((b[0] + b[2]) / 2 - ext[0]) / w) : 0;
        uint32_t hy = h > 0 ? (uint32_t)(65535.0 * ((b[1] + b[3]) / 2 - ext[1]) / h) : 0;
        k[i].key = hilbert(hx, hy);
        k[i].i = (uint32_t)i;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    for (i = 0; i < n; i++) {
        memcpy(idx->nb[i], idx->s[k[i].i].box, sizeof idx->nb[i]);
        idx->ix[i] = k[i].i;
    }
    free(k);
    idx->level_end[0] = n;
    idx->levels = 1;
    for (lv = 0; idx->level_end[lv] - (lv ? idx->level_end[lv - 1] : 0) > 1; lv++) {
        size_t start = lv ? idx->level_end[lv - 1] : 0, end = idx->level_end[lv], out = end, c;
        if (lv + 1 >= MAX_LEVELS)
            return kd_err_set(err, KD_ENOMEM, "index.nomem", "too many shapes for the index");
        for (c = start; c < end; c += NODE) {
            size_t j, e = c + NODE < end ? c + NODE : end;
            double *b = idx->nb[out];
            b[0] = b[1] = INFINITY;
            b[2] = b[3] = -INFINITY;
            for (j = c; j < e; j++) {
                b[0] = fmin(b[0], idx->nb[j][0]), b[1] = fmin(b[1], idx->nb[j][1]);
                b[2] = fmax(b[2], idx->nb[j][2]), b[3] = fmax(b[3], idx->nb[j][3]);
            }
            idx->ix[out++] = (uint32_t)c;
        }
        idx->level_end[lv + 1] = out;
        idx->levels = (int)lv + 2;
    }
    return KD_OK;
}

enum kd_code kd_shape_index_build(struct kd_store *st, struct kd_shape_index **out,
                                  struct kd_err *err)
{
    struct kd_shape_index *idx = calloc(1, sizeof *idx);
    struct build b;
    struct timespec t0, t1;
    enum kd_code rc;
    size_t i;

    *out = NULL;
    if (!idx)
        return kd_err_set(err, KD_ENOMEM, "index.nomem", "out of memory");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kd_buf_init(&idx->frags);
    memset(&b, 0, sizeof b);
    b.idx = idx;
    rc = kd_store_parcels_foreach(st, NULL, 1, parcel_cb, &b, err);
    idx->stats.n_parcels = idx->n;
    if (!rc)
        rc = kd_store_areas_foreach(st, KD_LAYER_ZONES, NULL, 1, area_cb, &b, err);
    idx->stats.n_zones = idx->n - idx->stats.n_parcels;
    if (!rc)
        rc = kd_store_areas_foreach(st, KD_LAYER_RESTRICTIONS, NULL, 1, area_cb, &b, err);
    idx->stats.n_restrictions = idx->n - idx->stats.n_parcels - idx->stats.n_zones;
    if (!rc)
        rc = pack(idx, err);
    if (rc) {
        kd_shape_index_free(idx);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    idx->stats.build_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    idx->stats.n_points = idx->n_xy / 2;
    i = idx->levels ? idx->level_end[idx->levels - 1] : 0;
    idx->stats.bytes = idx->n * sizeof *idx->s + idx->n_r * sizeof *idx->r +
                       idx->n_xy * sizeof *idx->xy + idx->frags.len +
                       i * (sizeof *idx->nb + sizeof *idx->ix);
    *out = idx;
    return KD_OK;
}

void kd_shape_index_free(struct kd_shape_index *idx)
{
    if (!idx)
        return;
    free(idx->s);
    free(idx->r);
    free(idx->xy);
    free(idx->nb);
    free(idx->ix);
    kd_buf_fini(&idx->frags);
    free(idx);
}

void kd_shape_index_stats(const struct kd_shape_index *idx, struct kd_shape_index_stats *out)
{
    *out = idx->stats;
}

/* ---- queries ------------------------------------------------------------------------------- */

typedef enum kd_code (*hit_fn)(void *ud, const struct shape *sh, struct kd_err *err);

/* Calls fn for each shape of layer whose box holds the point (tree order). */
static enum kd_code search(const struct kd_shape_index *idx, enum kd_layer layer, double x,
                           double y, hit_fn fn, void *ud, struct kd_err *err)
{
    struct {
        size_t pos;
        int level;
    } stack[NODE * MAX_LEVELS];
    size_t top = 0;

    if (!idx->levels)
        return KD_OK;
    stack[top].pos = idx->levels > 1 ? idx->level_end[idx->levels - 2] : 0;
    stack[top++].level = idx->levels - 1;
    while (top) {
        size_t pos = stack[--top].pos, end, p;
        int level = stack[top].level;
        end = pos + NODE < idx->level_end[level] ? pos + NODE : idx->level_end[level];
        for (p = pos; p < end; p++) {
            const double *b = idx->nb[p];
            if (x < b[0] || x > b[2] || y < b[1] || y > b[3])
                continue;
            if (level == 0) {
                const struct shape *sh = &idx->s[idx->ix[p]];
                enum kd_code rc;
                if (sh->layer == (unsigned char)layer && (rc = fn(ud, sh, err)))
                    return rc;
            } else {
                stack[top].pos = idx->ix[p];
                stack[top++].level = level - 1;
            }
        }
    }
    return KD_OK;
}

struct parcels_q {
    const struct kd_shape_index *idx;
    struct kd_store *st;
    struct kd_geo *g;
    double x, y;
    struct kd_hits *out;
    struct kd_parcel rec;
};

static enum kd_code parcel_hit(void *ud, const struct shape *sh, struct kd_err *err)
{
    struct parcels_q *q = ud;
    struct kd_parcel_hit *hit;
    enum where w;
    enum kd_code rc = locate(q->idx, sh, q->g, q->x, q->y, &w, err);

    if (rc || w == OUT)
        return rc;
    /* the number (and the record, when kept) from the store */
    rc = kd_store_parcel_get_id(q->st, sh->id, q->out->keep == KD_HITS_KEEP_GEOM, &q->rec, err);
    if (rc == KD_ENOTFOUND || (!rc && q->rec.valid_to[0]))
        return KD_OK; /* gone from the register since the index was built: not a hit */
    if (rc)
        return rc;
    hit = kd_hits_push(q->out);
    if (!hit)
        return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    hit->id = sh->id;
    hit->on_boundary = w == ON_BOUNDARY;
    kd_strlcpy(hit->number, q->rec.number, sizeof hit->number);
    if (kd_hits_keep_record(q->out, hit, &q->rec))
        return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    return KD_OK;
}

enum kd_code kd_shape_index_parcels_at(const struct kd_shape_index *idx, struct kd_store *st,
                                       struct kd_geo *g, double x, double y, struct kd_hits *out,
                                       struct kd_err *err)
{
    struct parcels_q q;
    enum kd_code rc;

    kd_hits_reset(out);
    memset(&q, 0, sizeof q);
    q.idx = idx, q.st = st, q.g = g, q.x = x, q.y = y, q.out = out;
    kd_parcel_init(&q.rec);
    rc = search(idx, KD_LAYER_PARCELS, x, y, parcel_hit, &q, err);
    kd_parcel_fini(&q.rec);
    if (!rc)
        kd_hits_sort(out);
    return rc;
}

struct areas_q {
    const struct kd_shape_index *idx;
    struct kd_geo *g;
    double x, y;
    const struct shape **hit; /* the areas holding the point, in tree order */
    size_t n, cap;
};

static enum kd_code area_hit(void *ud, const struct shape *sh, struct kd_err *err)
{
    struct areas_q *q = ud;
    enum where w;
    enum kd_code rc = locate(q->idx, sh, q->g, q->x, q->y, &w, err);

    if (rc || w == OUT)
        return rc;
    if (grow((void **)&q->hit, &q->cap, q->n + 1, sizeof *q->hit))
        return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    q->hit[q->n++] = sh;
    return KD_OK;
}

static int cmp_shape_id(const void *a, const void *b)
{
    const struct shape *x = *(const struct shape *const *)a, *y = *(const struct shape *const *)b;

    return x->id < y->id ? -1 : x->id > y->id;
}

enum kd_code kd_shape_index_areas_at(const struct kd_shape_index *idx, struct kd_geo *g,
                                     enum kd_layer layer, double x, double y, struct kd_buf *out,
                                     struct kd_err *err)
{
    struct areas_q q = {idx, g, x, y, NULL, 0, 0};
    enum kd_code rc = search(idx, layer, x, y, area_hit, &q, err);
    size_t i;

    /* in the order they were registered (by id), as the store lists them */
    if (!rc && q.n > 1)
        qsort(q.hit, q.n, sizeof *q.hit, cmp_shape_id);
    for (i = 0; !rc && i < q.n; i++) {
        if (i)
            kd_buf_adds(out, ",");
        kd_buf_add(out, idx->frags.data + q.hit[i]->frag, q.hit[i]->frag_len);
    }
    free(q.hit);
    return rc;
}
