/* SPDX-License-Identifier: Apache-2.0 */
/* The list of hits every lookup fills: one growable array reused across queries, so that a
 * batch allocates only while it grows. When the caller asks (kd_hits.keep), the store lookups
 * also keep each hit's parcel record, read once in the R*Tree callback, so that printing an
 * answer needs no second read by id. */
#include "cadastre_int.h"

#include <stdlib.h>
#include <string.h>

void kd_hits_init(struct kd_hits *h)
{
    memset(h, 0, sizeof *h);
}

static void drop_records(struct kd_hits *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (h->v[i].parcel) {
            kd_parcel_fini(h->v[i].parcel);
            free(h->v[i].parcel);
            h->v[i].parcel = NULL;
        }
    }
}

void kd_hits_fini(struct kd_hits *h)
{
    if (h) {
        drop_records(h);
        free(h->v);
        memset(h, 0, sizeof *h);
    }
}

void kd_hits_reset(struct kd_hits *h)
{
    drop_records(h);
    h->n = 0;
}

struct kd_parcel_hit *kd_hits_push(struct kd_hits *h)
{
    struct kd_parcel_hit *x;

    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 16;
        struct kd_parcel_hit *v = realloc(h->v, nc * sizeof *v);
        if (!v)
            return NULL;
        h->v = v;
        h->cap = nc;
    }
    x = &h->v[h->n++];
    memset(x, 0, sizeof *x);
    return x;
}

int kd_hits_keep_record(const struct kd_hits *h, struct kd_parcel_hit *hit,
                        const struct kd_parcel *p)
{
    struct kd_parcel *copy;

    if (h->keep == KD_HITS_KEEP_NONE)
        return 0;
    copy = malloc(sizeof *copy);
    if (!copy)
        return -1;
    *copy = *p;
    copy->wkb = NULL;
    copy->wkb_len = 0;
    if (h->keep == KD_HITS_KEEP_GEOM && p->wkb && p->wkb_len) {
        /* the callback's record is borrowed: its WKB buffer is the store's to reuse */
        copy->wkb = malloc(p->wkb_len);
        if (!copy->wkb) {
            free(copy);
            return -1;
        }
        memcpy(copy->wkb, p->wkb, p->wkb_len);
        copy->wkb_len = p->wkb_len;
    }
    hit->parcel = copy;
    return 0;
}

static int hit_cmp(const void *a, const void *b)
{
    const struct kd_parcel_hit *x = a, *y = b;
    int c = strcmp(x->number, y->number);

    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

void kd_hits_sort(struct kd_hits *h)
{
    size_t i, j;

    if (h->n > 16) {
        qsort(h->v, h->n, sizeof *h->v, hit_cmp);
        return;
    }
    /* the usual answer is one or two parcels: insertion sort, no call overhead */
    for (i = 1; i < h->n; i++) {
        struct kd_parcel_hit t = h->v[i];
        for (j = i; j > 0 && hit_cmp(&h->v[j - 1], &t) > 0; j--)
            h->v[j] = h->v[j - 1];
        h->v[j] = t;
    }
}
