/* SPDX-License-Identifier: Apache-2.0 */
/* Prepared answers: the anonymous answer of every live parcel, made after the register is
 * written (kd_answers_step: the server's preparer thread, `kadastr migrate`) by the same
 * function the server calls when no prepared answer is there (kd_answer_parcel), so the two
 * cannot differ. The store keeps the bytes and its triggers clear them when what they show
 * changes; a fingerprint (format version, transformation, the answer of a fixed parcel) kept
 * beside them says which build and PROJ operation made them, and a reader whose own
 * fingerprint differs answers from the register instead. */
#include "cadastre_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump when the answer's JSON changes in a way the fixed parcel below does not show (the
 * zones, restrictions or rights lists). */
#define ANSWER_FORMAT "kadastr parcel answer 1"

enum kd_code kd_answer_parcel(struct kd_store *st, struct kd_xform *to_4326,
                              const struct kd_parcel *p, struct kd_buf *out, struct kd_err *err)
{
    /* what an anonymous caller sees: rights without parties, zones and restrictions */
    const struct kd_lookup_json_opts o = {to_4326, NULL, 1, 0, 1, 7};

    return kd_lookup_json_feature(st, &o, p, NULL, out, err);
}

/* A little-endian WKB Polygon: a 10 m square at x, y. */
static size_t square_wkb(unsigned char *b, double x, double y)
{
    static const double d[5][2] = {{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}};
    uint32_t u;
    size_t n = 0;
    int i;

    b[n++] = 1;
    u = 3;
    memcpy(b + n, &u, 4), n += 4;
    u = 1;
    memcpy(b + n, &u, 4), n += 4;
    u = 5;
    memcpy(b + n, &u, 4), n += 4;
    for (i = 0; i < 5; i++) {
        double v[2] = {x + d[i][0], y + d[i][1]};
        memcpy(b + n, v, 16), n += 16;
    }
    return n;
}

enum kd_code kd_answers_fingerprint(struct kd_store *st, struct kd_xform *to_4326, char out[17],
                                    struct kd_err *err)
{
    const struct kd_store_config *cfg = kd_store_config(st);
    const char *def = kd_xform_definition(to_4326);
    unsigned char wkb[93];
    struct kd_parcel p;
    struct kd_buf b;
    double x = (cfg->area[0] + cfg->area[2]) / 2, y = (cfg->area[1] + cfg->area[3]) / 2;
    uint64_t h;
    enum kd_code rc;

    /* the fixed parcel lies at the office area's centre, in the office CRS */
    rc = kd_xform_points(to_4326, 1, &x, &y, 1, err);
    if (rc)
        return rc;
    kd_parcel_init(&p);
    p.id = 0; /* no version has id 0: no zones, restrictions or rights */
    kd_strlcpy(p.number, "0:0:0:0:0:0", sizeof p.number);
    kd_strlcpy(p.land_category, "fingerprint", sizeof p.land_category);
    p.area_m2 = p.geodesic_area_m2 = 100.125;
    kd_strlcpy(p.valid_from, "2000-01-01T00:00:00Z", sizeof p.valid_from);
    kd_strlcpy(p.operation, "fingerprint", sizeof p.operation);
    p.wkb = wkb;
    p.wkb_len = square_wkb(wkb, x, y);
    kd_buf_init(&b);
    kd_buf_adds(&b, ANSWER_FORMAT "\n");
    kd_buf_adds(&b, def ? def : "");
    kd_buf_adds(&b, "\n");
    rc = kd_answer_parcel(st, to_4326, &p, &b, err);
    p.wkb = NULL;
    kd_parcel_fini(&p);
    if (!rc && b.failed)
        rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    if (!rc) {
        h = kd_hash64(0, b.data, b.len);
        snprintf(out, 17, "%016" PRIx64, h);
    }
    kd_buf_fini(&b);
    return rc;
}

enum kd_code kd_answers_usable(struct kd_store *st, struct kd_xform *to_4326, int *usable,
                               struct kd_err *err)
{
    char mine[17], kept[32];
    enum kd_code rc;

    *usable = 0;
    rc = kd_store_meta_get(st, "answers_fingerprint", kept, sizeof kept, err);
    if (rc == KD_ENOTFOUND) {
        kd_err_init(err);
        return KD_OK;
    }
    if (!rc)
        rc = kd_answers_fingerprint(st, to_4326, mine, err);
    if (!rc)
        *usable = strcmp(mine, kept) == 0;
    return rc;
}

struct kd_answers {
    struct kd_store *st;
    struct kd_xform *xf;
    char fingerprint[17];
    struct kd_buf body;
    int64_t n;
    int renewed; /* the last step wrote a new fingerprint */
};

enum kd_code kd_answers_open(struct kd_store *st, struct kd_geo *g, struct kd_answers **out,
                             struct kd_err *err)
{
    const struct kd_store_config *cfg = kd_store_config(st);
    struct kd_answers *a = calloc(1, sizeof *a);
    enum kd_code rc;

    *out = NULL;
    if (!a)
        return kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    a->st = st;
    kd_buf_init(&a->body);
    rc = kd_xform_epsg(g, cfg->srid, 4326, cfg->area, &a->xf, err);
    if (!rc)
        rc = kd_answers_fingerprint(st, a->xf, a->fingerprint, err);
    if (rc) {
        kd_answers_close(a);
        return rc;
    }
    *out = a;
    return KD_OK;
}

void kd_answers_close(struct kd_answers *a)
{
    if (!a)
        return;
    kd_xform_free(a->xf);
    kd_buf_fini(&a->body);
    free(a);
}

static enum kd_code prepare_one(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct kd_answers *a = ud;
    enum kd_code rc;

    kd_buf_reset(&a->body);
    rc = kd_answer_parcel(a->st, a->xf, p, &a->body, err);
    if (!rc && a->body.failed)
        rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
    if (!rc)
        rc = kd_store_answer_put(a->st, p->id, a->body.data, a->body.len, err);
    if (!rc)
        a->n++;
    return rc;
}

enum kd_code kd_answers_step(struct kd_answers *a, long max, int64_t *n, int *more,
                             struct kd_err *err)
{
    char kept[32];
    enum kd_code rc;

    a->n = 0;
    rc = kd_store_meta_get(a->st, "answers_fingerprint", kept, sizeof kept, err);
    if (rc == KD_ENOTFOUND) {
        kd_err_init(err);
        kept[0] = '\0';
        rc = KD_OK;
    }
    /* answers made otherwise are all made again */
    a->renewed = 0;
    if (!rc && strcmp(a->fingerprint, kept) != 0) {
        rc = kd_store_answers_clear(a->st, err);
        if (!rc)
            rc = kd_store_meta_set(a->st, "answers_fingerprint", a->fingerprint, err);
        a->renewed = !rc;
    }
    if (!rc)
        rc = kd_store_answers_pending(a->st, max > 0 ? max : 100000, prepare_one, a, more, err);
    if (n)
        *n = a->n;
    return rc;
}

enum kd_code kd_answers_prepare(struct kd_store *st, struct kd_geo *g, int64_t *n,
                                struct kd_err *err)
{
    struct kd_answers *a;
    int64_t k = 0, total = 0;
    int more = 1;
    enum kd_code rc = kd_answers_open(st, g, &a, err);

    while (!rc && more) {
        rc = kd_answers_step(a, 0, &k, &more, err);
        total += k;
    }
    kd_answers_close(a);
    if (n)
        *n = total;
    return rc;
}

int kd_answers_renewed(const struct kd_answers *a)
{
    return a->renewed;
}
