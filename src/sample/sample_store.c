/* SPDX-License-Identifier: Apache-2.0 */
/* The sample sink that writes into the register through the same write path as `load`
 * (kd_writer: areas, EPSG:3857 copies, overlays), reprojecting from EPSG:32642 when the
 * office CRS differs. Lineage refers to parent versions by number: the parent is the
 * version of that number that ended when the child began. */
#include "kadastr/ingest.h"
#include "kadastr/sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kd_sample_store {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_writer *w;
    struct kd_xform *xf; /* EPSG:32642 -> office CRS, NULL when they are the same */
    unsigned char *buf;
    size_t cap;
};

enum kd_code kd_sample_store_open(struct kd_store *st, struct kd_geo *g,
                                  struct kd_sample_store **out, struct kd_err *err)
{
    struct kd_sample_store *s = calloc(1, sizeof *s);
    const struct kd_store_config *cfg = kd_store_config(st);
    enum kd_code rc;

    if (!s)
        return kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory");
    s->st = st;
    s->g = g;
    rc = kd_writer_open(st, g, &s->w, err);
    if (!rc && cfg->srid != KD_SAMPLE_SRID)
        rc = kd_xform_epsg(g, KD_SAMPLE_SRID, cfg->srid, cfg->area, &s->xf, err);
    if (rc) {
        kd_sample_store_close(s);
        return rc;
    }
    *out = s;
    return KD_OK;
}

void kd_sample_store_close(struct kd_sample_store *s)
{
    if (!s)
        return;
    kd_writer_close(s->w);
    kd_xform_free(s->xf);
    free(s->buf);
    free(s);
}

/* The record's WKB as a MultiPolygon in the office CRS (borrowed until the next call). */
static enum kd_code office_wkb(struct kd_sample_store *s, const unsigned char *wkb, size_t len,
                               const unsigned char **out, size_t *out_len, struct kd_err *err)
{
    unsigned type = 0;
    size_t need = len + 9;
    enum kd_code rc = kd_wkb_type(wkb, len, &type, err);

    if (rc)
        return rc;
    if (type != 3 && type != 6)
        return kd_err_set(err, KD_EINVAL, "sample.geometry",
                          "the generator gave a geometry of type %u, not a polygon", type);
    if (need > s->cap) {
        unsigned char *p = realloc(s->buf, need);
        if (!p)
            return kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory");
        s->buf = p;
        s->cap = need;
    }
    if (type == 3) {
        /* wrap the polygon: MultiPolygon header (byte order, type 6, one part) */
        uint32_t six = 6, one = 1;
        s->buf[0] = 1;
        memcpy(s->buf + 1, &six, 4);
        memcpy(s->buf + 5, &one, 4);
        memcpy(s->buf + 9, wkb, len);
        *out_len = len + 9;
    } else {
        memcpy(s->buf, wkb, len);
        *out_len = len;
    }
    if (s->xf) {
        rc = kd_xform_wkb(s->xf, 0, s->buf, *out_len, err);
        if (rc)
            return rc;
    }
    *out = s->buf;
    return KD_OK;
}

static enum kd_code put_area(struct kd_sample_store *s, enum kd_layer layer, const char *code,
                             const char *kind, const char *name, const char *extra,
                             const unsigned char *wkb, size_t len, struct kd_err *err)
{
    struct kd_area_new a;
    const unsigned char *w = NULL;
    size_t n = 0;
    char now[32];
    enum kd_code rc = office_wkb(s, wkb, len, &w, &n, err);

    if (rc)
        return rc;
    kd_time_now(now);
    memset(&a, 0, sizeof a);
    a.layer = layer;
    a.code = code;
    a.kind = kind;
    a.name = name;
    a.extra = extra;
    a.valid_from = now;
    a.source = "kadastr sample";
    a.content_hash =
        kd_hash64(kd_hash64(kd_hash64(0, w, n), code, strlen(code) + 1), kind, strlen(kind) + 1);
    a.wkb_cad = w;
    a.wkb_cad_len = n;
    return kd_writer_area(s->w, &a, NULL, NULL, err);
}

static enum kd_code on_admin(void *ud, const struct kd_sample_admin_unit *a, struct kd_err *err)
{
    return put_area(ud, KD_LAYER_ADMIN_UNITS, a->code, a->level, a->name, a->parent_code, a->wkb,
                    a->wkb_len, err);
}

static enum kd_code on_zone(void *ud, const struct kd_sample_area *z, struct kd_err *err)
{
    return put_area(ud, KD_LAYER_ZONES, z->code, z->kind, z->name, z->permitted_uses, z->wkb,
                    z->wkb_len, err);
}

static enum kd_code on_restriction(void *ud, const struct kd_sample_area *r, struct kd_err *err)
{
    return put_area(ud, KD_LAYER_RESTRICTIONS, r->code, r->kind, r->name, NULL, r->wkb, r->wkb_len,
                    err);
}

static enum kd_code on_party(void *ud, const struct kd_sample_party *p, struct kd_err *err)
{
    struct kd_sample_store *s = ud;
    struct kd_party party;
    int64_t id;
    int status;

    memset(&party, 0, sizeof party);
    kd_strlcpy(party.party_id, p->pinfl ? p->pinfl : p->stir ? p->stir : "", sizeof party.party_id);
    kd_strlcpy(party.kind, p->kind, sizeof party.kind);
    kd_strlcpy(party.name, p->name, sizeof party.name);
    return kd_store_party_put(s->st, &party, "kadastr sample", &id, &status, err);
}

/* One second before a register time: the instant at which the parent was still current. */
static void second_before(const char *t, char out[32])
{
    struct tm tm;
    time_t when;

    memset(&tm, 0, sizeof tm);
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6) {
        kd_strlcpy(out, t, 32);
        return;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    when = timegm(&tm) - 1;
    gmtime_r(&when, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static enum kd_code on_parcel(void *ud, const struct kd_sample_parcel *p, struct kd_err *err)
{
    struct kd_sample_store *s = ud;
    struct kd_parcel_new pn;
    const unsigned char *w = NULL;
    size_t n = 0, i;
    int64_t id;
    enum kd_code rc = office_wkb(s, p->wkb, p->wkb_len, &w, &n, err);

    if (rc)
        return rc;
    memset(&pn, 0, sizeof pn);
    pn.number = p->cadastral_number;
    pn.land_category = p->land_category;
    pn.land_use = p->land_use;
    pn.address = p->address;
    pn.declared_area_m2 = p->declared_area_m2 > 0 ? p->declared_area_m2 : NAN;
    pn.valid_from = p->valid_from;
    pn.valid_to = p->valid_to;
    pn.operation = p->operation;
    pn.source = "kadastr sample";
    pn.content_hash =
        kd_hash64(kd_hash64(0, w, n), p->cadastral_number, strlen(p->cadastral_number) + 1);
    pn.wkb_cad = w;
    pn.wkb_cad_len = n;
    rc = kd_writer_parcel(s->w, &pn, NULL, &id, err);
    for (i = 0; !rc && i < p->n_parents; i++) {
        struct kd_parcel parent;
        char before[32];
        const char *kind = strcmp(p->operation, "split") == 0   ? "split-of"
                           : strcmp(p->operation, "merge") == 0 ? "merge-of"
                                                                : "correction-of";
        second_before(p->valid_from, before);
        kd_parcel_init(&parent);
        rc = kd_store_parcel_get(s->st, p->parents[i], before, 0, &parent, err);
        if (!rc)
            rc = kd_store_lineage_add(s->st, id, parent.id, kind, err);
        kd_parcel_fini(&parent);
        if (rc)
            kd_err_where(err, "lineage of %s", p->cadastral_number);
    }
    return rc;
}

static enum kd_code on_right(void *ud, const struct kd_sample_right *r, struct kd_err *err)
{
    struct kd_sample_store *s = ud;
    struct kd_right right;
    enum kd_code rc;
    int status;

    memset(&right, 0, sizeof right);
    kd_strlcpy(right.number, r->cadastral_number, sizeof right.number);
    rc = kd_store_party_get(s->st, r->party_id, &right.party, err);
    if (!rc)
        rc = kd_frac_parse(r->share, &right.share, err);
    if (rc)
        return rc;
    kd_strlcpy(right.kind, r->kind, sizeof right.kind);
    kd_strlcpy(right.document, r->document ? r->document : "", sizeof right.document);
    kd_strlcpy(right.document_date, r->document_date ? r->document_date : "",
               sizeof right.document_date);
    kd_strlcpy(right.registered_on, r->registered_on ? r->registered_on : "",
               sizeof right.registered_on);
    if (r->registered_on)
        kd_snprintf(right.valid_from, sizeof right.valid_from, "%.10sT00:00:00Z", r->registered_on);
    return kd_store_right_put(s->st, &right, right.party.id, "kadastr sample", &status, err);
}

static enum kd_code on_application(void *ud, const struct kd_sample_application *a,
                                   struct kd_err *err)
{
    struct kd_sample_store *s = ud;
    struct kd_application app;

    memset(&app, 0, sizeof app);
    kd_strlcpy(app.number, a->number, sizeof app.number);
    kd_strlcpy(app.kind, a->kind, sizeof app.kind);
    kd_strlcpy(app.cadastral_number, a->cadastral_number ? a->cadastral_number : "",
               sizeof app.cadastral_number);
    kd_strlcpy(app.status, a->status, sizeof app.status);
    kd_strlcpy(app.submitted_at, a->submitted_at, sizeof app.submitted_at);
    return kd_store_application_put(s->st, &app, err);
}

void kd_sample_store_sink(struct kd_sample_store *s, struct kd_sample_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    sink->ud = s;
    sink->admin_unit = on_admin;
    sink->zone = on_zone;
    sink->restriction = on_restriction;
    sink->party = on_party;
    sink->parcel = on_parcel;
    sink->right = on_right;
    sink->application = on_application;
}
