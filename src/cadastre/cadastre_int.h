/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the cadastre module shared by its files. */
#ifndef KADASTR_CADASTRE_INT_H
#define KADASTR_CADASTRE_INT_H

#include "kadastr/cadastre.h"

/* Appends a zeroed hit to h; NULL when out of memory (index.c). */
struct kd_parcel_hit *kd_hits_push(struct kd_hits *h);
/* Sorts hits by number, then id: answers do not depend on an index's order (index.c). */
void kd_hits_sort(struct kd_hits *h);

#endif
