/* SPDX-License-Identifier: Apache-2.0 */
/* Parcels as RFC 7946 GeoJSON: the shape lookups print and the server will answer. The
 * geometry is written straight from WKB (already transformed to lon/lat), read in place by
 * geo's kd_wkb_geojson_geometry, with a fixed number of decimals; rings are turned to the
 * orientation RFC 7946 asks for (exterior counter-clockwise) by the sign of their shoelace
 * area. Strings go through
 * kd_buf_add_json_str only. A failure leaves the caller's buffer as it was: its length on
 * entry is remembered and restored, so no half feature reaches an answer. */
#include "cadastre_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One ring [[x,y],...], turned counter-clockwise when it is a shell and clockwise when a
 * hole (ud: the decimals). */
static enum kd_code write_ring(void *ud, const struct kd_wkb_ring *r, struct kd_buf *out,
                               struct kd_err *err)
{
    int decimals = *(const int *)ud;
    uint32_t n = r->n, i;
    double a = 0, x0, y0, x1, y1;
    int reverse;

    (void)err;
    for (i = 0; i + 1 < n; i++) {
        kd_wkb_ring_point(r, i, &x0, &y0);
        kd_wkb_ring_point(r, i + 1, &x1, &y1);
        a += x0 * y1 - x1 * y0;
    }
    reverse = r->ring == 0 ? a < 0 : a > 0;
    kd_buf_adds(out, "[");
    for (i = 0; i < n; i++) {
        kd_wkb_ring_point(r, reverse ? n - 1 - i : i, &x0, &y0);
        if (i)
            kd_buf_adds(out, ",");
        kd_buf_adds(out, "[");
        kd_buf_add_fixed(out, x0, decimals);
        kd_buf_adds(out, ",");
        kd_buf_add_fixed(out, y0, decimals);
        kd_buf_adds(out, "]");
    }
    kd_buf_adds(out, "]");
    return KD_OK;
}

/* Cuts out back to len bytes (what it held before a failed append). */
static void truncate_to(struct kd_buf *out, size_t len)
{
    if (out->data && out->len > len) {
        out->len = len;
        out->data[len] = '\0';
    }
}

enum kd_code kd_lookup_json_geometry(const unsigned char *wkb, size_t len, int decimals,
                                     struct kd_buf *out, struct kd_err *err)
{
    size_t mark = out->len;
    enum kd_code rc = kd_wkb_geojson_geometry(wkb, len, write_ring, &decimals, out, err);

    if (rc)
        truncate_to(out, mark);
    return rc;
}

static void add_opt_str(struct kd_buf *b, const char *s)
{
    if (s && s[0])
        kd_buf_add_json_str(b, s);
    else
        kd_buf_adds(b, "null");
}

struct lists {
    struct kd_buf zones, restrictions, rights;
    int with_parties;
};

static enum kd_code overlay_cb(void *ud, const struct kd_overlay *o, struct kd_err *err)
{
    struct lists *l = ud;
    struct kd_buf *b = o->layer == KD_LAYER_ZONES ? &l->zones : &l->restrictions;

    (void)err;
    kd_buf_adds(b, b->len ? ",{\"code\":" : "{\"code\":");
    kd_buf_add_json_str(b, o->code);
    kd_buf_adds(b, ",\"kind\":");
    add_opt_str(b, o->kind);
    kd_buf_adds(b, ",\"name\":");
    add_opt_str(b, o->name);
    kd_buf_adds(b, ",\"area_m2\":");
    kd_buf_add_fixed(b, o->area_m2, 2);
    kd_buf_adds(b, "}");
    return KD_OK;
}

static enum kd_code right_cb(void *ud, const struct kd_right *r, struct kd_err *err)
{
    struct lists *l = ud;
    struct kd_buf *b = &l->rights;

    (void)err;
    kd_buf_adds(b, b->len ? ",{\"kind\":" : "{\"kind\":");
    kd_buf_add_json_str(b, r->kind);
    kd_buf_addf(b, ",\"share\":\"%lld/%lld\"", (long long)r->share.num, (long long)r->share.den);
    if (l->with_parties) {
        kd_buf_adds(b, ",\"party_id\":");
        kd_buf_add_json_str(b, r->party.party_id);
        kd_buf_adds(b, ",\"party_kind\":");
        kd_buf_add_json_str(b, r->party.kind);
        kd_buf_adds(b, ",\"party_name\":");
        kd_buf_add_json_str(b, r->party.name);
    }
    kd_buf_adds(b, ",\"valid_from\":");
    add_opt_str(b, r->valid_from);
    kd_buf_adds(b, "}");
    return KD_OK;
}

enum kd_code kd_lookup_json_feature(struct kd_store *st, const struct kd_lookup_json_opts *o,
                                    const struct kd_parcel *p, const struct kd_parcel_hit *hit,
                                    struct kd_buf *out, struct kd_err *err)
{
    struct lists l;
    unsigned char *wkb = NULL;
    enum kd_code rc = KD_OK;
    int decimals = o->decimals > 0 ? o->decimals : 7;
    size_t mark = out->len;

    memset(&l, 0, sizeof l);
    kd_buf_init(&l.zones);
    kd_buf_init(&l.restrictions);
    kd_buf_init(&l.rights);
    l.with_parties = o->with_parties;
    if (o->with_overlays && (rc = kd_store_overlays_of(st, p->id, overlay_cb, &l, err)))
        goto out;
    if (o->with_rights && (rc = kd_store_rights_at(st, p->number, o->as_of, right_cb, &l, err)))
        goto out;

    kd_buf_adds(out, "{\"type\":\"Feature\",\"id\":");
    kd_buf_add_json_str(out, p->number);
    kd_buf_adds(out, ",\"geometry\":");
    if (p->wkb && p->wkb_len) {
        /* transform a copy: the caller's record stays in the office CRS */
        wkb = malloc(p->wkb_len);
        if (!wkb) {
            rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
            goto out;
        }
        memcpy(wkb, p->wkb, p->wkb_len);
        if (o->to_4326 && (rc = kd_xform_wkb(o->to_4326, 0, wkb, p->wkb_len, err)))
            goto out;
        rc = kd_lookup_json_geometry(wkb, p->wkb_len, decimals, out, err);
        if (rc)
            goto out;
    } else {
        kd_buf_adds(out, "null");
    }
    kd_buf_adds(out, ",\"properties\":{\"cadastral_number\":");
    kd_buf_add_json_str(out, p->number);
    kd_buf_adds(out, ",\"land_category\":");
    add_opt_str(out, p->land_category);
    kd_buf_adds(out, ",\"land_use\":");
    add_opt_str(out, p->land_use);
    kd_buf_adds(out, ",\"address\":");
    add_opt_str(out, p->address);
    kd_buf_adds(out, ",\"area_m2\":");
    kd_buf_add_fixed(out, p->area_m2, 2);
    kd_buf_adds(out, ",\"geodesic_area_m2\":");
    kd_buf_add_fixed(out, p->geodesic_area_m2, 2);
    kd_buf_adds(out, ",\"declared_area_m2\":");
    kd_buf_add_fixed(out, p->declared_area_m2, 2); /* NAN (absent) is written null */
    kd_buf_adds(out, ",\"valid_from\":");
    add_opt_str(out, p->valid_from);
    kd_buf_adds(out, ",\"valid_to\":");
    add_opt_str(out, p->valid_to);
    kd_buf_adds(out, ",\"operation\":");
    add_opt_str(out, p->operation);
    if (o->with_overlays) {
        kd_buf_adds(out, ",\"zones\":[");
        kd_buf_add(out, l.zones.data ? l.zones.data : "", l.zones.len);
        kd_buf_adds(out, "],\"restrictions\":[");
        kd_buf_add(out, l.restrictions.data ? l.restrictions.data : "", l.restrictions.len);
        kd_buf_adds(out, "]");
    }
    if (o->with_rights) {
        kd_buf_adds(out, ",\"rights\":[");
        kd_buf_add(out, l.rights.data ? l.rights.data : "", l.rights.len);
        kd_buf_adds(out, "]");
    }
    if (hit && hit->contact) {
        kd_buf_adds(out, ",\"distance_m\":");
        kd_buf_add_fixed(out, hit->distance_m, 3);
        kd_buf_adds(out, ",\"shared_boundary_m\":");
        kd_buf_add_fixed(out, hit->shared_m, 2);
        kd_buf_adds(out, ",\"contact\":");
        kd_buf_add_json_str(out, hit->contact);
    } else if (hit) {
        kd_buf_adds(out, hit->on_boundary ? ",\"on_boundary\":true" : ",\"on_boundary\":false");
    }
    kd_buf_adds(out, "}}");
    if (out->failed || l.zones.failed || l.restrictions.failed || l.rights.failed)
        rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
out:
    if (rc)
        truncate_to(out, mark);
    free(wkb);
    kd_buf_fini(&l.zones);
    kd_buf_fini(&l.restrictions);
    kd_buf_fini(&l.rights);
    return rc;
}

void kd_lookup_json_lineage(struct kd_buf *out, const struct kd_lineage *l, size_t n)
{
    size_t i;

    kd_buf_adds(out, "[");
    for (i = 0; i < n; i++) {
        kd_buf_adds(out, i ? ",{\"kind\":" : "{\"kind\":");
        kd_buf_add_json_str(out, l[i].kind);
        kd_buf_adds(out, ",\"cadastral_number\":");
        kd_buf_add_json_str(out, l[i].other_number);
        kd_buf_adds(out, ",\"valid_from\":");
        kd_buf_add_json_str(out, l[i].other_valid_from);
        kd_buf_adds(out, "}");
    }
    kd_buf_adds(out, "]");
}
