/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of geo shared by its files. */
#ifndef KADASTR_GEO_INT_H
#define KADASTR_GEO_INT_H

#include "kadastr/geo.h"

struct kd_geo {
    PJ_CONTEXT *proj;
    GEOSContextHandle_t geos;
    GEOSWKBReader *wkb_reader;
    GEOSWKBWriter *wkb_writer;
    char geos_msg[512]; /* the last GEOS error on this handle */
};

struct kd_xform {
    struct kd_geo *g;
    PJ *op;
    char *definition; /* what it was made from (kd_xform_definition) */
};

/* Calls fn on every coordinate array of a 2D WKB geometry: n points at p (x,y pairs of
 * little- or big-endian doubles, as flagged by `swap`). Returns 0, or -1 when malformed. */
typedef int (*kd_wkb_coords_fn)(void *ud, unsigned char *p, uint32_t n, int swap, int ring);
int kd_wkb_walk(unsigned char *wkb, size_t len, kd_wkb_coords_fn fn, void *ud);

#endif
