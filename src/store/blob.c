/* SPDX-License-Identifier: Apache-2.0 */
/* ISO WKB (Polygon or MultiPolygon, little endian, 2D) to a SpatiaLite geometry blob, in C:
 * a SpatiaLite MultiPolygon is a header (srid, MBR), the class, and the WKB polygons with
 * their byte-order byte replaced by the entity marker 0x69. Doing it here instead of with
 * GeomFromWKB() in SQL, and writing the R*Tree rows ourselves (schema v3 drops
 * SpatiaLite's per-row triggers, which prepare a statement for every insert), is most of
 * what makes a load as fast as ogr2ogr. */
#include "store_int.h"

#include <math.h>
#include <spatialite/gaiageo.h>
#include <stdlib.h>
#include <string.h>

static int rd_u32(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
    if (end - p < 4)
        return -1;
    memcpy(v, p, 4);
    return 0;
}

/* Copies one WKB polygon at *p into out (after the marker), growing box. */
static int polygon(const unsigned char **p, const unsigned char *end, struct kd_buf *out,
                   double box[4])
{
    const unsigned char *q = *p;
    uint32_t type, nrings, npts, r, i;
    const unsigned char *start;

    if (end - q < 9 || q[0] != 1)
        return -1;
    if (rd_u32(q + 1, end, &type) || type != 3 || rd_u32(q + 5, end, &nrings))
        return -1;
    start = q + 1; /* the type and what follows are copied as they are */
    q += 9;
    for (r = 0; r < nrings; r++) {
        if (rd_u32(q, end, &npts))
            return -1;
        q += 4;
        if ((size_t)(end - q) / 16 < npts)
            return -1;
        for (i = 0; i < npts; i++) {
            double x, y;
            memcpy(&x, q + 16 * (size_t)i, 8);
            memcpy(&y, q + 16 * (size_t)i + 8, 8);
            if (!isfinite(x) || !isfinite(y))
                return -1;
            if (x < box[0])
                box[0] = x;
            if (y < box[1])
                box[1] = y;
            if (x > box[2])
                box[2] = x;
            if (y > box[3])
                box[3] = y;
        }
        q += 16 * (size_t)npts;
    }
    kd_buf_add(out, "\x69", 1);
    kd_buf_add(out, start, (size_t)(q - start));
    *p = q;
    return 0;
}

int kd_store_blob_from_wkb(const unsigned char *wkb, size_t len, int srid, struct kd_buf *out,
                           double box[4])
{
    const unsigned char *p = wkb, *end = wkb + len;
    uint32_t type, n = 1, k;
    unsigned char head[43];
    int32_t s32 = srid;
    uint32_t six = 6;

    kd_buf_reset(out);
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    if (len < 9 || wkb[0] != 1 || rd_u32(wkb + 1, end, &type))
        return -1;
    /* header first with a placeholder MBR, filled when the points have been seen */
    memset(head, 0, sizeof head);
    head[0] = 0x00;
    head[1] = 0x01;
    memcpy(head + 2, &s32, 4);
    head[38] = 0x7C;
    memcpy(head + 39, &six, 4);
    kd_buf_add(out, head, sizeof head);
    if (type == 6) {
        if (rd_u32(wkb + 5, end, &n))
            return -1;
        p += 9;
    } else if (type != 3) {
        return -1;
    }
    kd_buf_add(out, &n, 4);
    for (k = 0; k < n; k++)
        if (polygon(&p, end, out, box))
            return -1;
    if (p != end || n == 0 || out->failed)
        return -1;
    kd_buf_add(out, "\xFE", 1);
    memcpy(out->data + 6, &box[0], 8);
    memcpy(out->data + 14, &box[1], 8);
    memcpy(out->data + 22, &box[2], 8);
    memcpy(out->data + 30, &box[3], 8);
    return out->failed ? -1 : 0;
}

/* ---- and back ---------------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The WKB body of one polygon at p (type, rings, points) as it lies in both formats; returns
 * its end, or NULL when it does not fit before end. */
static const unsigned char *polygon_end(const unsigned char *p, const unsigned char *end)
{
    uint32_t nrings, r, npts;

    if (end - p < 8 || le32(p) != 3)
        return NULL;
    nrings = le32(p + 4);
    p += 8;
    for (r = 0; r < nrings; r++) {
        if (end - p < 4)
            return NULL;
        npts = le32(p);
        p += 4;
        if ((size_t)(end - p) / 16 < npts)
            return NULL;
        p += 16 * (size_t)npts;
    }
    return p;
}

/* A SpatiaLite geometry blob as ISO WKB in out. The blobs kadastr writes (little endian,
 * 2D, uncompressed MultiPolygon: blob.c) are copied with the entity markers
 * turned back into byte-order bytes; anything else is read and written by SpatiaLite. */
int kd_store_blob_to_wkb(const unsigned char *b, size_t n, struct kd_buf *out)
{
    const unsigned char *p, *end = b + n - 1, *q;
    static const unsigned char multi[5] = {1, 6, 0, 0, 0};
    uint32_t cls, k, parts;

    kd_buf_reset(out);
    if (n < 48 || b[0] != 0x00 || b[1] != 0x01 || b[38] != 0x7C || b[n - 1] != 0xFE)
        goto other;
    cls = le32(b + 39);
    p = b + 43;
    if (cls != 6) /* a Polygon blob has no inner type: SpatiaLite's reader does it */
        goto other;
    parts = le32(p);
    p += 4;
    kd_buf_add(out, multi, 5);
    kd_buf_add(out, b + 43, 4);
    for (k = 0; k < parts; k++) {
        if (p >= end || *p != 0x69 || !(q = polygon_end(p + 1, end)))
            goto other;
        kd_buf_add(out, "\x01", 1);
        kd_buf_add(out, p + 1, (size_t)(q - p - 1));
        p = q;
    }
    if (p != end)
        goto other;
    return out->failed ? -1 : 0;
other : {
    gaiaGeomCollPtr g = gaiaFromSpatiaLiteBlobWkb(b, (unsigned int)n);
    unsigned char *wkb = NULL;
    int len = 0;

    kd_buf_reset(out);
    if (!g)
        return -1;
    gaiaToWkb(g, &wkb, &len);
    gaiaFreeGeomColl(g);
    if (!wkb || len <= 0) {
        free(wkb);
        return -1;
    }
    kd_buf_add(out, wkb, (size_t)len);
    free(wkb);
    return out->failed ? -1 : 0;
}
}
