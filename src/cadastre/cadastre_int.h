/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the cadastre module shared by its files. */
#ifndef KADASTR_CADASTRE_INT_H
#define KADASTR_CADASTRE_INT_H

#include "kadastr/cadastre.h"

/* ---- hits.c ------------------------------------------------------------------------------- */

/* Empties h for a new query (frees the records it kept); keeps its capacity and keep mode. */
void kd_hits_reset(struct kd_hits *h);
/* Appends a zeroed hit to h; NULL when out of memory. */
struct kd_parcel_hit *kd_hits_push(struct kd_hits *h);
/* When h keeps records (h->keep), stores a copy of p (borrowed from a store callback; its
 * WKB copied for KD_HITS_KEEP_GEOM) in hit->parcel. Returns 0, or -1 when out of memory
 * (hit->parcel stays NULL). */
int kd_hits_keep_record(const struct kd_hits *h, struct kd_parcel_hit *hit,
                        const struct kd_parcel *p);
/* Sorts hits by number, then id: answers do not depend on an index's order. */
void kd_hits_sort(struct kd_hits *h);

/* ---- lookup.c ----------------------------------------------------------------------------- */

/* Sets KD_EGEO "geos.query" with GEOS's last message on g's handle: "GEOS failed <what>: ...".
 * Returns the error's code. */
enum kd_code kd_lookup_geos_fail(struct kd_geo *g, const char *what, struct kd_err *err);

#endif
