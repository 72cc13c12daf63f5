/* SPDX-License-Identifier: Apache-2.0 */
/* The features of OGC API - Features: /collections/{id}/items (bbox and bbox-crs, crs,
 * limit and offset paging, datetime as of an instant, equality filters on the queryables)
 * and /collections/{id}/items/{fid}. A box is answered from the layer's R*Tree: a row whose
 * box lies inside the asked box is a hit without its geometry being read; the others are
 * tested exactly with GEOS against the box (as a polygon in the office CRS). A first page is
 * made in that one pass: a hit is written only while its id is among the page's lowest (a
 * heap), and the page is those, in id order; deeper pages sort the ids of all hits and read
 * the page by id. Features are written straight from WKB into one buffer, transformed ring
 * by ring, with a fixed number of decimals formatted without printf (a page's cost is in its
 * coordinates). Cadastral numbers never appear as a property: GDAL and QGIS read
 * "10:26:01:02:03:0045" as the time 10:26:01; the feature id, which they keep, carries the
 * number (docs/api.md). */
#include "server_int.h"

#include "kadastr/cadastre.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GEOJSON "application/geo+json"

#define LIMIT_DEFAULT 10
#define LIMIT_MAX 10000
/* EPSG:3857's sphere (WGS 84's semi-major axis) */
#define WEB_MERCATOR_R 6378137.0
#define PI 3.14159265358979323846

/* What an items or item request asks, parsed and checked. */
struct query {
    const struct kd_ogc_coll *c;
    enum kd_ogc_crs crs; /* of the answer */
    int has_bbox;
    const char *bbox_arg;
    double bbox[4]; /* W,S,E,N: x = easting or longitude, whatever the CRS's axis order */
    enum kd_ogc_crs bbox_crs;
    int64_t limit, offset;
    const char *limit_asked; /* when clamped */
    char as_of[32];
    struct kd_store_ogc_sel sel;
    char num[KD_CADNUM_MAX];            /* a cadastral_number filter, normalized */
    char alt[KD_STORE_OGC_MAX_EQ][160]; /* codes given with '.': the ':' form */
};

/* ---- parameters --------------------------------------------------------------------------- */

/* A whole number of at most 15 digits (no sign, no spaces); -1 otherwise, -2 when longer. */
static int64_t parse_count(const char *s)
{
    int64_t v = 0;
    size_t i;

    if (!s[0])
        return -1;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (i >= 15)
            return -2;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* An RFC 3339 date-time (any offset, fraction cut) or full-date (the start of that day, UTC)
 * as register time "YYYY-MM-DDTHH:MM:SSZ" in UTC. 0 or -1. */
static int parse_instant(const char *s, char out[32])
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0, leap;
    int64_t t, days, yy;
    const char *p;

    if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    p = s + 10;
    if (*p) {
        if ((*p != 'T' && *p != 't' && *p != ' ') || digits(p + 1, 2, &h) || p[3] != ':' ||
            digits(p + 4, 2, &mi) || p[6] != ':' || digits(p + 7, 2, &sec))
            return -1;
        p += 9;
        if (*p == '.') { /* a fraction: register times are whole seconds, so it is cut */
            if (p[1] < '0' || p[1] > '9')
                return -1;
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
        }
        if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
            sign = 0;
        } else if ((*p == '+' || *p == '-') && !digits(p + 1, 2, &oh) && p[3] == ':' &&
                   !digits(p + 4, 2, &om) && p[6] == '\0') {
            sign = *p == '+' ? 1 : -1;
        } else {
            return -1;
        }
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        sec > 60 || oh > 23 || om > 59)
        return -1;
    /* to UTC: the local time minus its offset */
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    days = (t >= 0 ? t : t - 86399) / 86400;
    t -= days * 86400;
    civil_from_days(days, &yy, &mo, &d);
    if (yy < 1 || yy > 9999)
        return -1;
    {
        char tmp[64];
        kd_snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)yy, mo, d,
                    (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60));
        kd_strlcpy(out, tmp, 32);
    }
    return 0;
}

/* bbox: 4 numbers (W,S,E,N) or 6 (W,S,low,E,N,high) in the axis order of its CRS; -1 when
 * not so, not finite, or empty (min >= max). */
static int parse_bbox(const char *s, double out[4])
{
    double v[6];
    const char *p = s;
    char *end;
    int n = 0;

    for (;;) {
        if (n == 6)
            return -1;
        errno = 0;
        v[n] = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(v[n]))
            return -1;
        n++;
        p = end;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return -1;
    }
    if (n == 4)
        out[0] = v[0], out[1] = v[1], out[2] = v[2], out[3] = v[3];
    else if (n == 6)
        out[0] = v[0], out[1] = v[1], out[2] = v[3], out[3] = v[4];
    else
        return -1;
    return out[0] < out[2] && out[1] < out[3] ? 0 : -1;
}

/* Does the office CRS put northing first (EPSG:28412 and the other Gauss-Kruger CRSs)? Then
 * bbox-crs and crs in it mean northing, easting (Part 2 follows the CRS's axis order). */
/* Asks PROJ what the items routes need of the CRSs, once per worker: creating a CRS reads
 * PROJ's database, tens of microseconds that a page of features should not pay. */
static void area_of_use(PJ_CONTEXT *ctx, int srid, double aou[4])
{
    static const double world[4] = {-180, -90, 180, 90};
    char code[32];
    PJ *crs;

    memcpy(aou, world, sizeof world);
    kd_snprintf(code, sizeof code, "EPSG:%d", srid);
    crs = proj_create(ctx, code);
    if (!crs || !proj_get_area_of_use(ctx, crs, &aou[0], &aou[1], &aou[2], &aou[3], NULL) ||
        aou[0] < -1000 || aou[0] > aou[2])
        memcpy(aou, world, sizeof world); /* unknown, or across the antimeridian */
    proj_destroy(crs);
}

static void crs_facts(struct worker *w)
{
    PJ_CONTEXT *ctx = kd_geo_proj(w->g);
    char code[32];
    PJ *crs, *cs = NULL;
    const char *dir = NULL;

    if (w->crs_known)
        return;
    kd_snprintf(code, sizeof code, "EPSG:%d", w->srid);
    crs = proj_create(ctx, code);
    if (crs)
        cs = proj_crs_get_coordinate_system(ctx, crs);
    w->office_north_first = 0;
    if (cs && proj_cs_get_axis_info(ctx, cs, 0, NULL, NULL, &dir, NULL, NULL, NULL, NULL) && dir)
        w->office_north_first = strcmp(dir, "north") == 0 || strcmp(dir, "south") == 0;
    proj_destroy(cs);
    proj_destroy(crs);
    area_of_use(ctx, w->srid, w->aou_office);
    area_of_use(ctx, 3857, w->aou_3857);
    {
        struct kd_err e;
        kd_err_init(&e);
        if (kd_xform_box(w->from_4326, 0, w->aou_office, w->aou_office_xy, &e)) {
            /* PROJ cannot map the whole area: every box goes through PROJ instead */
            w->aou_office_xy[0] = w->aou_office_xy[1] = NAN;
        }
    }
    w->crs_known = 1;
}

static int office_north_first(struct worker *w)
{
    crs_facts(w);
    return w->office_north_first;
}

/* The area of use of a CRS, lon/lat W,S,E,N. */
static void crs_area(struct worker *w, enum kd_ogc_crs c, double aou[4])
{
    static const double world[4] = {-180, -90, 180, 90};

    crs_facts(w);
    memcpy(aou,
           c == KD_OGC_CRS84  ? world
           : c == KD_OGC_3857 ? w->aou_3857
                              : w->aou_office,
           4 * sizeof *aou);
}

/* An EPSG:3857 box in lon/lat: the spherical Mercator inverted in closed form (it maps
 * lon/lat rectangles to rectangles, so the box's image is exact). */
static void mercator_to_lonlat(const double in[4], double out[4])
{
    out[0] = in[0] / WEB_MERCATOR_R * 180 / PI;
    out[2] = in[2] / WEB_MERCATOR_R * 180 / PI;
    out[1] = atan(sinh(in[1] / WEB_MERCATOR_R)) * 180 / PI;
    out[3] = atan(sinh(in[3] / WEB_MERCATOR_R)) * 180 / PI;
}

/* Parses crs and datetime (items and item). 0, or -1 with the answer made. */
static int parse_crs_time(struct req *r, struct worker *w, struct answer *a, struct query *q)
{
    const char *v = kd_req_arg(r, "crs");

    if (v && kd_ogc_crs_parse(v, w->srid, &q->crs)) {
        kd_ogc_bad_crs(r, w, a, "crs", v);
        return -1;
    }
    v = kd_req_arg(r, "datetime");
    if (v && strchr(v, '/')) {
        kd_answer_problem(r, a, 400, "query.datetime_interval", "datetime",
                          (const char *const[]){"value", v, NULL});
        return -1;
    }
    if (v && parse_instant(v, q->as_of)) {
        kd_answer_problem(r, a, 400, "query.bad_datetime", "datetime",
                          (const char *const[]){"value", v, NULL});
        return -1;
    }
    q->sel.as_of = v ? q->as_of : NULL;
    return 0;
}

/* Codes written with '.' between groups (add_code) are found by either form. */
static const char *code_alt(const char *v, char *alt, size_t size)
{
    const char *p = v;
    size_t i;

    while (*p >= '0' && *p <= '9')
        p++;
    if (p == v || *p != '.' || kd_strlcpy(alt, v, size))
        return NULL;
    for (i = 0; alt[i]; i++)
        if (alt[i] == '.')
            alt[i] = ':';
    return alt;
}

/* Parses everything an items request may carry. 0, or -1 with the answer made. */
static int parse_items(struct req *r, struct worker *w, struct answer *a, struct query *q)
{
    static const char *const fixed[] = {"bbox", "bbox-crs", "crs", "limit", "offset", "datetime"};
    const char *allowed[16], *v;
    const struct kd_ogc_prop *p;
    size_t n = 0, i;

    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        allowed[n++] = fixed[i];
    if (q->c->layer == KD_LAYER_PARCELS)
        allowed[n++] = "cadastral_number";
    for (p = q->c->props; p->name && n < 15; p++)
        if (p->column)
            allowed[n++] = p->name;
    allowed[n] = NULL;
    if (kd_req_check_args(r, a, allowed))
        return -1;

    q->limit = LIMIT_DEFAULT;
    if ((v = kd_req_arg(r, "limit")) != NULL) {
        q->limit = parse_count(v);
        if (q->limit == -1 || q->limit == 0) {
            kd_answer_problem(r, a, 400, "query.bad_limit", "limit",
                              (const char *const[]){"value", v, NULL});
            return -1;
        }
        if (q->limit == -2 || q->limit > LIMIT_MAX) {
            q->limit = LIMIT_MAX;
            q->limit_asked = v;
        }
    }
    if ((v = kd_req_arg(r, "offset")) != NULL) {
        q->offset = parse_count(v);
        if (q->offset < 0) {
            kd_answer_problem(r, a, 400, "query.bad_offset", "offset",
                              (const char *const[]){"value", v, NULL});
            return -1;
        }
    }
    if ((v = kd_req_arg(r, "bbox-crs")) != NULL && kd_ogc_crs_parse(v, w->srid, &q->bbox_crs)) {
        kd_ogc_bad_crs(r, w, a, "bbox-crs", v);
        return -1;
    }
    if ((q->bbox_arg = kd_req_arg(r, "bbox")) != NULL) {
        if (parse_bbox(q->bbox_arg, q->bbox)) {
            kd_answer_problem(r, a, 400, "query.bad_bbox", "bbox",
                              (const char *const[]){"value", q->bbox_arg, NULL});
            return -1;
        }
        if (q->bbox_crs == KD_OGC_OFFICE && office_north_first(w)) {
            double t = q->bbox[0];
            q->bbox[0] = q->bbox[1], q->bbox[1] = t;
            t = q->bbox[2], q->bbox[2] = q->bbox[3], q->bbox[3] = t;
        }
        q->has_bbox = 1;
    }
    if (parse_crs_time(r, w, a, q))
        return -1;

    /* equality filters: the store's column for each queryable given */
    if (q->c->layer == KD_LAYER_PARCELS && (v = kd_req_arg(r, "cadastral_number")) != NULL) {
        struct kd_err err;
        kd_err_init(&err);
        /* a malformed number is no error here: it matches nothing */
        q->sel.eq_val[q->sel.n_eq] =
            kd_cadnum_normalize(w->numfmt, v, q->num, &err) == KD_OK ? q->num : v;
        q->sel.eq_col[q->sel.n_eq++] = "number";
    }
    for (p = q->c->props; p->name && q->sel.n_eq < KD_STORE_OGC_MAX_EQ; p++) {
        if (!p->column || !(v = kd_req_arg(r, p->name)))
            continue;
        q->sel.eq_col[q->sel.n_eq] = p->column;
        q->sel.eq_val[q->sel.n_eq] = v;
        if (strcmp(p->column, "code") == 0 || strcmp(p->column, "parent_code") == 0)
            q->sel.eq_alt[q->sel.n_eq] = code_alt(v, q->alt[q->sel.n_eq], sizeof q->alt[0]);
        q->sel.n_eq++;
    }
    return 0;
}

/* ---- writing features --------------------------------------------------------------------- */

struct writer {
    struct kd_buf *out;
    struct kd_xform *xf; /* office CRS -> lon/lat, or NULL (the WKB is in the answer's CRS) */
    int decimals;
    double scale; /* 10^decimals */
    int swap;     /* write northing first */
    double *x, *y;
    size_t cap;
    size_t n; /* features written */
};

static void writer_fini(struct writer *wr)
{
    free(wr->x);
    free(wr->y);
}

/* Appends "x,y" with the writer's decimals. Rounds v * 10^decimals to an integer and prints
 * its digits: several times faster than printf, which matters at 10^4 numbers a page. The
 * result equals printf's "%.*f" but where the product rounds differently from the exact
 * value (a last-digit difference, ~1e-16 relative, at an exact half). */
static char *put_fixed(char *p, double v, const struct writer *wr)
{
    double s = nearbyint(v * wr->scale);
    uint64_t u, ip, fp, pow10 = 1;
    char tmp[24];
    int i, n = 0;

    if (!(fabs(s) < 9.0e15)) {
        /* beyond the integers a double holds exactly (no coordinate of a register): all
         * its digits, which fit 32 bytes */
        n = snprintf(p, 32, "%.17g", isfinite(v) ? v : 0.0);
        return p + (n > 0 && n < 32 ? n : 0);
    }
    if (s < 0) {
        u = (uint64_t)-s;
        if (u)
            *p++ = '-';
    } else {
        u = (uint64_t)s;
    }
    for (i = 0; i < wr->decimals; i++)
        pow10 *= 10;
    ip = u / pow10, fp = u % pow10;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (n)
        *p++ = tmp[--n];
    if (wr->decimals) {
        *p++ = '.';
        for (i = wr->decimals - 1; i >= 0; i--) {
            p[i] = (char)('0' + fp % 10);
            fp /= 10;
        }
        p += wr->decimals;
    }
    return p;
}

/* One ring, from the WKB in place (geo's reader): decoded, transformed, turned (exterior
 * counter-clockwise, holes clockwise, as RFC 7946 asks) and written. */
static enum kd_code write_ring(void *ud, const struct kd_wkb_ring *r, struct kd_buf *out,
                               struct kd_err *err)
{
    struct writer *wr = ud;
    uint32_t n = r->n, i;
    double area = 0, *x, *y;
    int reverse;
    char *p;

    if (n > wr->cap) {
        double *nx = realloc(wr->x, n * sizeof *nx), *ny;
        if (nx)
            wr->x = nx;
        ny = nx ? realloc(wr->y, n * sizeof *ny) : NULL;
        if (!ny)
            return kd_err_set(err, KD_ENOMEM, "ogc.nomem", "out of memory");
        wr->y = ny;
        wr->cap = n;
    }
    kd_wkb_ring_xy(r, wr->x, wr->y);
    if (wr->xf && n && kd_xform_points(wr->xf, 0, wr->x, wr->y, n, err))
        return err->code;
    x = wr->swap ? wr->y : wr->x;
    y = wr->swap ? wr->x : wr->y;
    for (i = 0; i + 1 < n; i++)
        area += x[i] * y[i + 1] - x[i + 1] * y[i];
    reverse = r->ring == 0 ? area < 0 : area > 0;
    kd_buf_adds(out, "[");
    for (i = 0; i < n; i++) {
        uint32_t k = reverse ? n - 1 - i : i;
        char tmp[96];
        p = tmp;
        if (i)
            *p++ = ',';
        *p++ = '[';
        p = put_fixed(p, x[k], wr);
        *p++ = ',';
        p = put_fixed(p, y[k], wr);
        *p++ = ']';
        kd_buf_add(out, tmp, (size_t)(p - tmp));
    }
    kd_buf_adds(out, "]");
    return KD_OK;
}

/* The GeoJSON geometry of a 2D Polygon or MultiPolygon WKB, or null. */
static enum kd_code write_geometry(struct writer *wr, const unsigned char *wkb, size_t len,
                                   struct kd_err *err)
{
    if (!wkb || !len) {
        kd_buf_adds(wr->out, "null");
        return KD_OK;
    }
    return kd_wkb_geojson_geometry(wkb, len, write_ring, wr, wr->out, err);
}

static void add_opt_str(struct kd_buf *b, const char *s)
{
    if (s && s[0])
        kd_buf_add_json_str(b, s);
    else
        kd_buf_adds(b, "null");
}

/* An area in m2 with 2 decimals, null when absent (NAN). */
static void add_m2(struct kd_buf *b, double v)
{
    static const struct writer cm = {.decimals = 2, .scale = 100};
    char tmp[48];

    if (isfinite(v))
        kd_buf_add(b, tmp, (size_t)(put_fixed(tmp, v, &cm) - tmp));
    else
        kd_buf_adds(b, "null");
}

/* A code as a property. GDAL 3.6 (and QGIS 3.22 on it) reads a string that starts with
 * digits and a colon ("10:26:01:02") as a time and keeps only 10:26:01 of it, whatever the
 * schema says: such a code is written with '.' between its groups ("10.26.01.02"), which
 * those clients keep as text. Filters accept both forms (code_alt). */
static void add_code(struct kd_buf *b, const char *code)
{
    const char *p = code, *digits_at;
    char tmp[160];
    size_t i;

    while (*p == ' ')
        p++;
    for (digits_at = p; *p >= '0' && *p <= '9';)
        p++;
    if (p == digits_at || *p != ':' || kd_strlcpy(tmp, code, sizeof tmp)) {
        add_opt_str(b, code);
        return;
    }
    for (i = 0; tmp[i]; i++)
        if (tmp[i] == ':')
            tmp[i] = '.';
    kd_buf_add_json_str(b, tmp);
}

/* Feature head: {"type":"Feature","id":...,"geometry":...,"properties":{ */
static enum kd_code feature_head(struct writer *wr, const char *sid, int64_t nid,
                                 const unsigned char *wkb, size_t len, struct kd_err *err)
{
    kd_buf_adds(wr->out,
                wr->n ? ",{\"type\":\"Feature\",\"id\":" : "{\"type\":\"Feature\",\"id\":");
    if (sid)
        kd_buf_add_json_str(wr->out, sid);
    else
        kd_buf_addf(wr->out, "%lld", (long long)nid);
    kd_buf_adds(wr->out, ",\"geometry\":");
    return write_geometry(wr, wkb, len, err);
}

static enum kd_code parcel_feature(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct writer *wr = ud;
    struct kd_buf *b = wr->out;
    enum kd_code rc = feature_head(wr, p->number, 0, p->wkb, p->wkb_len, err);

    if (rc)
        return rc;
    /* no cadastral_number property: the id carries it (file comment) */
    kd_buf_adds(b, ",\"properties\":{\"land_category\":");
    add_opt_str(b, p->land_category);
    kd_buf_adds(b, ",\"land_use\":");
    add_opt_str(b, p->land_use);
    kd_buf_adds(b, ",\"address\":");
    add_opt_str(b, p->address);
    kd_buf_adds(b, ",\"area_m2\":");
    add_m2(b, p->area_m2);
    kd_buf_adds(b, ",\"geodesic_area_m2\":");
    add_m2(b, p->geodesic_area_m2);
    kd_buf_adds(b, ",\"declared_area_m2\":");
    add_m2(b, p->declared_area_m2); /* NAN (absent) is written null */
    kd_buf_adds(b, ",\"valid_from\":");
    add_opt_str(b, p->valid_from);
    kd_buf_adds(b, ",\"valid_to\":");
    add_opt_str(b, p->valid_to);
    kd_buf_adds(b, ",\"operation\":");
    add_opt_str(b, p->operation);
    kd_buf_adds(b, "}}");
    wr->n++;
    return KD_OK;
}

static enum kd_code area_feature(void *ud, const struct kd_area *ar, struct kd_err *err)
{
    struct writer *wr = ud;
    struct kd_buf *b = wr->out;
    enum kd_code rc = feature_head(wr, NULL, ar->id, ar->wkb, ar->wkb_len, err);

    if (rc)
        return rc;
    kd_buf_adds(b, ",\"properties\":{\"code\":");
    add_code(b, ar->code);
    kd_buf_adds(b, ar->layer == KD_LAYER_ADMIN_UNITS ? ",\"level\":" : ",\"kind\":");
    add_opt_str(b, ar->kind);
    kd_buf_adds(b, ",\"name\":");
    add_opt_str(b, ar->name);
    if (ar->layer == KD_LAYER_ZONES) {
        kd_buf_adds(b, ",\"permitted_uses\":");
        add_opt_str(b, ar->extra);
    } else if (ar->layer == KD_LAYER_ADMIN_UNITS) {
        kd_buf_adds(b, ",\"parent_code\":");
        add_code(b, ar->extra);
    }
    kd_buf_adds(b, ",\"valid_from\":");
    add_opt_str(b, ar->valid_from);
    kd_buf_adds(b, ",\"valid_to\":");
    add_opt_str(b, ar->valid_to);
    kd_buf_adds(b, "}}");
    wr->n++;
    return KD_OK;
}

/* The geometry column and writer settings for the answer's CRS. */
static enum kd_store_ogc_geom writer_setup(struct writer *wr, struct worker *w, enum kd_ogc_crs crs,
                                           struct kd_buf *out)
{
    memset(wr, 0, sizeof *wr);
    wr->out = out;
    if (crs == KD_OGC_CRS84) {
        wr->xf = w->to_4326, wr->decimals = 7, wr->scale = 1e7; /* about 1 cm */
        return KD_STORE_OGC_GEOM_CAD;
    }
    wr->decimals = 2, wr->scale = 100; /* metres: 1 cm */
    if (crs == KD_OGC_3857)
        return KD_STORE_OGC_GEOM_3857; /* kept by the store at write time: no PROJ here */
    wr->swap = office_north_first(w);
    return KD_STORE_OGC_GEOM_CAD;
}

/* ---- links -------------------------------------------------------------------------------- */

/* Percent-encodes s for a query string: unreserved characters and ":/,@" stay as they are. */
static void add_qs_encoded(struct kd_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~:/,@", *p)) {
            kd_buf_add(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            kd_buf_add(b, e, 3);
        }
    }
}

static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct kd_buf *b = cls;

    (void)kind;
    if (strcmp(key, "limit") == 0 || strcmp(key, "offset") == 0)
        return MHD_YES;
    add_qs_encoded(b, key);
    if (value) {
        kd_buf_adds(b, "=");
        add_qs_encoded(b, value);
    }
    kd_buf_adds(b, "&");
    return MHD_YES;
}

/* A link to this items request at another offset, every other parameter kept. */
static void add_items_link(struct kd_buf *b, struct req *r, const struct query *q, int64_t offset,
                           const char *rel, const char *title)
{
    struct kd_buf href;

    kd_buf_init(&href);
    kd_buf_addf(&href, "%s/collections/%s/items?", r->srv->base_url, q->c->id);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, copy_arg, &href);
    kd_buf_addf(&href, "limit=%lld&offset=%lld", (long long)q->limit, (long long)offset);
    kd_buf_adds(b, "{\"href\":");
    kd_buf_add_json_str(b, href.data ? href.data : "");
    kd_buf_adds(b, ",\"rel\":");
    kd_buf_add_json_str(b, rel);
    kd_buf_adds(b, ",\"type\":\"" GEOJSON "\",\"title\":");
    kd_buf_add_json_str(b, title);
    kd_buf_adds(b, "}");
    b->failed |= href.failed;
    kd_buf_fini(&href);
}

static void add_collection_link(struct kd_buf *b, struct req *r, const struct kd_ogc_coll *c)
{
    char href[700];

    kd_snprintf(href, sizeof href, "%s/collections/%s", r->srv->base_url, c->id);
    kd_buf_adds(b, "{\"href\":");
    kd_buf_add_json_str(b, href);
    kd_buf_adds(b, ",\"rel\":\"collection\",\"type\":\"application/json\",\"title\":");
    kd_buf_add_json_str(b, c->title);
    kd_buf_adds(b, "}");
}

/* ---- items -------------------------------------------------------------------------------- */

/* A feature of a box query kept for the page: its id and where its JSON lies in the arena. */
struct kept {
    int64_t id;
    size_t off, len;
};

/* A box query under way (box_page). */
struct scan {
    struct kd_geo *g;
    const GEOSPreparedGeometry *area; /* the box in the office CRS */
    double env[4];                    /* its envelope */
    const double *sure;               /* a box inside it (office CRS), or NULL */
    int64_t matched;
    /* one pass: the JSON of the k hits with the lowest ids so far (k = offset + limit), in a
     * max-heap on id; a hit is written only when it enters the heap */
    size_t k; /* 0: ids only, for a second pass */
    struct kept *heap;
    size_t n_heap;
    struct kd_buf arena;
    struct writer *wr;
    enum kd_store_ogc_geom geom;
    enum kd_layer layer;
    /* ids only: every hit */
    int64_t *ids;
    size_t n_ids, cap_ids;
};

static void heap_down(struct kept *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct kept t;
        if (l < n && h[l].id > h[m].id)
            m = l;
        if (l + 1 < n && h[l + 1].id > h[m].id)
            m = l + 1;
        if (m == i)
            return;
        t = h[i], h[i] = h[m], h[m] = t;
        i = m;
    }
}

static void heap_up(struct kept *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].id < h[i].id) {
        struct kept t = h[i];
        h[i] = h[(i - 1) / 2], h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* 1 (stop) at the first vertex strictly inside the box ud. */
static int vertex_inside(void *ud, uint32_t polygon, uint32_t ring, const double *xy, uint32_t n)
{
    const double *b = ud;
    uint32_t i;

    (void)polygon, (void)ring;
    for (i = 0; i < n; i++)
        if (xy[2 * i] > b[0] && xy[2 * i] < b[2] && xy[2 * i + 1] > b[1] && xy[2 * i + 1] < b[3])
            return 1;
    return 0;
}

/* Does the row's geometry meet the box? Its exact box decides when it lies outside the
 * envelope (the index's boxes are rounded outwards) or inside the sure box; a vertex inside
 * the sure box (comparisons only: exact) decides for most that cross its edge; GEOS for the
 * rest. */
static int meets(struct scan *s, struct kd_store_ogc_row *row, struct kd_err *err)
{
    GEOSContextHandle_t gh = kd_geo_geos(s->g);
    const unsigned char *wkb;
    GEOSGeometry *geom;
    double b[4];
    size_t len;
    char t;

    kd_store_ogc_row_box(row, b);
    if (b[0] > s->env[2] || b[2] < s->env[0] || b[1] > s->env[3] || b[3] < s->env[1])
        return 0;
    if (s->sure && b[0] >= s->sure[0] && b[1] >= s->sure[1] && b[2] <= s->sure[2] &&
        b[3] <= s->sure[3])
        return 1;
    if (kd_store_ogc_row_wkb(row, KD_STORE_OGC_GEOM_CAD, &wkb, &len, err))
        return -1;
    if (!wkb)
        return 0;
    if (s->sure && kd_wkb_polygon_rings(wkb, len, vertex_inside, (void *)s->sure) == 1)
        return 1;
    if (!(geom = kd_geos_from_wkb(s->g, wkb, len, err)))
        return -1;
    t = GEOSPreparedIntersects_r(gh, s->area, geom);
    GEOSGeom_destroy_r(gh, geom);
    if (t == 2) {
        kd_err_set(err, KD_EGEO, "geos.query", "GEOS could not test a feature: %s",
                   kd_geo_geos_msg(s->g));
        return -1;
    }
    return t;
}

static enum kd_code scan_cb(void *ud, struct kd_store_ogc_row *row, struct kd_err *err)
{
    struct scan *s = ud;
    int64_t id = kd_store_ogc_row_id(row);
    struct kept k;
    enum kd_code rc;
    int hit = meets(s, row, err);

    if (hit <= 0)
        return hit < 0 ? err->code : KD_OK;
    s->matched++;
    if (!s->k) {
        if (s->n_ids == s->cap_ids) {
            size_t cap = s->cap_ids ? 2 * s->cap_ids : 256;
            int64_t *v = realloc(s->ids, cap * sizeof *v);
            if (!v)
                return kd_err_set(err, KD_ENOMEM, "ogc.nomem", "out of memory");
            s->ids = v, s->cap_ids = cap;
        }
        s->ids[s->n_ids++] = id;
        return KD_OK;
    }
    if (s->n_heap == s->k && id >= s->heap[0].id)
        return KD_OK; /* k lower ids are kept already: this one is past the page */
    /* the feature alone into the arena (no separating comma: slices are joined later) */
    k.id = id, k.off = s->arena.len;
    s->wr->out = &s->arena;
    s->wr->n = 0;
    if (s->layer == KD_LAYER_PARCELS) {
        const struct kd_parcel *p;
        rc = kd_store_ogc_row_parcel(row, s->geom, &p, err);
        if (!rc)
            rc = parcel_feature(s->wr, p, err);
    } else {
        const struct kd_area *a;
        rc = kd_store_ogc_row_area(row, s->geom, &a, err);
        if (!rc)
            rc = area_feature(s->wr, a, err);
    }
    if (rc)
        return rc;
    if (s->arena.failed)
        return kd_err_set(err, KD_ENOMEM, "ogc.nomem", "out of memory");
    k.len = s->arena.len - k.off;
    if (s->n_heap < s->k) {
        s->heap[s->n_heap++] = k;
        heap_up(s->heap, s->n_heap - 1);
    } else {
        s->heap[0] = k; /* the highest id leaves; its text stays behind in the arena */
        heap_down(s->heap, s->n_heap, 0);
    }
    return KD_OK;
}

static int cmp_kept(const void *a, const void *b)
{
    int64_t x = ((const struct kept *)a)->id, y = ((const struct kept *)b)->id;

    return x < y ? -1 : x > y;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The page of a box query into the answer (wr->out), and the number matched. A first page
 * (offset < limit) takes one pass: each hit is tested, counted, and written only while it is
 * among the offset + limit lowest ids seen (a heap), so the page is ready when the scan ends.
 * Deeper pages take two: the ids of every hit, sorted, then the page's rows by id, which
 * bounds memory by the ids instead of by offset + limit features. 0; 1 when the box lies
 * outside its CRS's area of use (the 400 is made); -1 on failure (err). */
static int box_page(struct req *r, struct worker *w, struct answer *a, struct query *q,
                    struct writer *wr, enum kd_store_ogc_geom geom, int64_t *matched,
                    struct kd_err *err)
{
    GEOSContextHandle_t gh = kd_geo_geos(w->g);
    GEOSGeometry *area = NULL;
    struct scan s;
    double ll[4], aou[4];
    struct kd_buf *out = wr->out;
    int rc = 0;

    /* the box in lon/lat, to test it against its CRS's area of use (an office box against
     * the office area of use mapped once into the office CRS: no PROJ per request) */
    crs_facts(w);
    if (q->bbox_crs == KD_OGC_OFFICE && !isnan(w->aou_office_xy[0])) {
        const double *o = w->aou_office_xy;
        if (q->bbox[0] <= o[2] && q->bbox[2] >= o[0] && q->bbox[1] <= o[3] && q->bbox[3] >= o[1])
            memcpy(ll, w->aou_office, sizeof ll); /* inside: passes the test below */
        else
            ll[0] = ll[2] = 1000; /* outside */
    } else if (q->bbox_crs == KD_OGC_CRS84) {
        memcpy(ll, q->bbox, sizeof ll);
    } else if (q->bbox_crs == KD_OGC_3857) {
        mercator_to_lonlat(q->bbox, ll);
    } else {
        struct kd_err e;
        kd_err_init(&e);
        if (kd_xform_box(w->to_4326, 0, q->bbox, ll, &e))
            ll[0] = ll[2] = 1000; /* PROJ cannot place it: outside */
    }
    crs_area(w, q->bbox_crs, aou);
    if (!(ll[0] <= aou[2] && ll[2] >= aou[0] && ll[1] <= aou[3] && ll[3] >= aou[1])) {
        char uri[96];
        kd_ogc_crs_uri(q->bbox_crs, w->srid, uri, sizeof uri);
        kd_answer_problem(r, a, 400, "query.bbox_outside", "bbox",
                          (const char *const[]){"value", q->bbox_arg, "crs", uri, NULL});
        return 1;
    }
    memset(&s, 0, sizeof s);
    kd_buf_init(&s.arena);
    if (q->bbox_crs == KD_OGC_OFFICE) {
        /* a rectangle of the office CRS: rows whose box lies in it are hits */
        if (kd_lookup_box_polygon(w->g, NULL, q->bbox, &area, s.env, err))
            return -1;
        s.sure = q->bbox;
    } else {
        /* clipped to where the office CRS is defined (nothing of the register lies beyond),
         * then its image in the office CRS, edges densified */
        crs_area(w, KD_OGC_OFFICE, aou);
        ll[0] = fmax(ll[0], aou[0]), ll[1] = fmax(ll[1], aou[1]);
        ll[2] = fmin(ll[2], aou[2]), ll[3] = fmin(ll[3], aou[3]);
        if (!(ll[0] < ll[2] && ll[1] < ll[3]))
            return 0; /* no part of the box where the register can be */
        if (kd_lookup_box_polygon(w->g, w->from_4326, ll, &area, s.env, err))
            return -1;
    }
    s.g = w->g, s.wr = wr, s.geom = geom, s.layer = q->c->layer;
    if (q->offset < q->limit) {
        s.k = (size_t)(q->offset + q->limit);
        s.heap = malloc(s.k * sizeof *s.heap);
        if (!s.heap) {
            kd_err_set(err, KD_ENOMEM, "ogc.nomem", "out of memory");
            rc = -1;
            goto out;
        }
    }
    s.area = GEOSPrepare_r(gh, area);
    if (!s.area) {
        kd_err_set(err, KD_EGEO, "geos.prepare", "GEOS could not prepare the box: %s",
                   kd_geo_geos_msg(w->g));
        rc = -1;
        goto out;
    }
    if (kd_store_ogc_scan(w->st, &q->sel, s.env,
                          geom == KD_STORE_OGC_GEOM_3857 ? geom : KD_STORE_OGC_NO_GEOM, scan_cb, &s,
                          err)) {
        rc = -1;
        goto out;
    }
    *matched = s.matched;
    wr->out = out;
    wr->n = 0;
    if (s.k) {
        size_t i;
        qsort(s.heap, s.n_heap, sizeof *s.heap, cmp_kept);
        for (i = (size_t)q->offset; i < s.n_heap; i++) {
            if (wr->n++)
                kd_buf_adds(out, ",");
            kd_buf_add(out, s.arena.data + s.heap[i].off, s.heap[i].len);
        }
    } else if (q->offset < (int64_t)s.n_ids) {
        int64_t n = (int64_t)s.n_ids - q->offset;
        qsort(s.ids, s.n_ids, sizeof *s.ids, cmp_id);
        if (kd_store_ogc_by_ids(w->st, q->c->layer, s.ids + q->offset,
                                (size_t)(n < q->limit ? n : q->limit), geom, parcel_feature,
                                area_feature, wr, err))
            rc = -1;
    }
out:
    wr->out = out;
    if (s.area)
        GEOSPreparedGeom_destroy_r(gh, s.area);
    GEOSGeom_destroy_r(gh, area);
    free(s.heap);
    free(s.ids);
    kd_buf_fini(&s.arena);
    return rc;
}

/* The note that limit was lowered, in the request's language (a problem object inside a
 * successful answer: RFC 9457's shape, so that clients read it as they read errors). */
static void add_clamp_warning(struct kd_buf *b, struct req *r, const struct query *q)
{
    static const char key[] = "query.limit_clamped";
    struct kd_buf detail;
    char max[24];

    kd_snprintf(max, sizeof max, "%d", LIMIT_MAX);
    kd_buf_init(&detail);
    kd_catalog_detail(r->srv->cat, r->lang, key,
                      (const char *const[]){"value", q->limit_asked, "max", max, NULL}, &detail);
    kd_buf_addf(b, ",\"warnings\":[{\"type\":\"%s/problems/query/limit_clamped\",\"title\":",
                r->srv->base_url);
    kd_buf_add_json_str(b, kd_catalog_title(r->srv->cat, r->lang, key));
    kd_buf_adds(b, ",\"detail\":");
    kd_buf_add_json_str(b, detail.data ? detail.data : "");
    kd_buf_adds(b, ",\"parameter\":\"limit\"}]");
    b->failed |= detail.failed;
    kd_buf_fini(&detail);
}

void kd_ogc_items(struct req *r, struct worker *w, struct answer *a, const struct kd_ogc_coll *c)
{
    struct query q;
    struct writer wr;
    struct kd_err err;
    enum kd_store_ogc_geom geom;
    int64_t matched = 0;
    int rc = 0, snap = 0;

    memset(&q, 0, sizeof q);
    q.c = c;
    q.sel.layer = c->layer;
    if (parse_items(r, w, a, &q))
        return;
    kd_err_init(&err);
    geom = writer_setup(&wr, w, q.crs, &a->body);
    if (kd_store_ogc_snapshot_begin(w->st, &snap, &err)) {
        kd_answer_failed(r, a, &err);
        return;
    }
    kd_buf_adds(&a->body, "{\"type\":\"FeatureCollection\",\"features\":[");
    if (q.has_bbox) {
        rc = box_page(r, w, a, &q, &wr, geom, &matched, &err);
        if (rc == 1)
            goto out; /* answered: outside the area of use */
    } else {
        rc = kd_store_ogc_count(w->st, &q.sel, &matched, &err) ||
                     (q.offset < matched &&
                      kd_store_ogc_page(w->st, &q.sel, q.offset, q.limit, geom, parcel_feature,
                                        area_feature, &wr, &err))
                 ? -1
                 : 0;
    }
    if (rc) {
        kd_answer_failed(r, a, &err);
        goto out;
    }
    a->content_type = GEOJSON;
    kd_ogc_crs_uri(q.crs, w->srid, a->content_crs, sizeof a->content_crs);
    kd_buf_addf(&a->body, "],\"numberMatched\":%lld,\"numberReturned\":%zu,\"links\":[",
                (long long)matched, wr.n);
    add_items_link(&a->body, r, &q, q.offset, "self", "This page");
    if (q.offset + (int64_t)wr.n < matched) {
        kd_buf_adds(&a->body, ",");
        add_items_link(&a->body, r, &q, q.offset + q.limit, "next", "The next page");
    }
    if (q.offset > 0) {
        kd_buf_adds(&a->body, ",");
        add_items_link(&a->body, r, &q, q.offset > q.limit ? q.offset - q.limit : 0, "prev",
                       "The previous page");
    }
    kd_buf_adds(&a->body, ",");
    add_collection_link(&a->body, r, c);
    kd_buf_adds(&a->body, "]");
    if (q.limit_asked)
        add_clamp_warning(&a->body, r, &q);
    kd_buf_adds(&a->body, "}");
out:
    kd_store_ogc_snapshot_end(w->st, snap);
    writer_fini(&wr);
}

/* ---- one item ----------------------------------------------------------------------------- */

static void feature_not_found(struct req *r, struct answer *a, const struct kd_ogc_coll *c,
                              const char *fid)
{
    kd_answer_problem(r, a, 404, "feature.not_found", "featureId",
                      (const char *const[]){"collection", c->id, "id", fid, NULL});
}

/* Is a version current at as_of (NULL: live)? */
static int current_at(const char *valid_from, const char *valid_to, const char *as_of)
{
    if (!as_of)
        return !valid_to[0];
    return strcmp(valid_from, as_of) <= 0 && (!valid_to[0] || strcmp(valid_to, as_of) > 0);
}

struct one {
    const char *as_of;
    int found;
    struct writer *wr;
};

static enum kd_code one_parcel(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct one *o = ud;

    o->found = 1;
    return parcel_feature(o->wr, p, err);
}

static enum kd_code one_area(void *ud, const struct kd_area *ar, struct kd_err *err)
{
    struct one *o = ud;

    if (!current_at(ar->valid_from, ar->valid_to, o->as_of))
        return KD_OK; /* not a feature of the register asked about */
    o->found = 1;
    return area_feature(o->wr, ar, err);
}

void kd_ogc_item(struct req *r, struct worker *w, struct answer *a, const struct kd_ogc_coll *c,
                 const char *fid)
{
    static const char *const allowed[] = {"crs", "datetime", NULL};
    struct query q;
    struct writer wr;
    struct kd_err err;
    struct one o;
    enum kd_store_ogc_geom geom;
    enum kd_code rc;
    int64_t id = 0;
    int snap = 0;

    memset(&q, 0, sizeof q);
    q.c = c;
    if (kd_req_check_args(r, a, allowed) || parse_crs_time(r, w, a, &q))
        return;
    kd_err_init(&err);
    if (kd_store_ogc_snapshot_begin(w->st, &snap, &err)) {
        kd_answer_failed(r, a, &err);
        return;
    }
    if (c->layer == KD_LAYER_PARCELS) {
        struct kd_parcel p;
        if (kd_cadnum_normalize(w->numfmt, fid, q.num, &err)) {
            feature_not_found(r, a, c, fid);
            goto out;
        }
        kd_parcel_init(&p);
        rc = kd_store_parcel_get(w->st, q.num, q.sel.as_of, 0, &p, &err);
        id = p.id;
        kd_parcel_fini(&p);
        if (rc == KD_ENOTFOUND) {
            feature_not_found(r, a, c, fid);
            goto out;
        }
        if (rc) {
            kd_answer_failed(r, a, &err);
            goto out;
        }
    } else {
        id = parse_count(fid);
        if (id <= 0) {
            feature_not_found(r, a, c, fid);
            goto out;
        }
    }
    geom = writer_setup(&wr, w, q.crs, &a->body);
    memset(&o, 0, sizeof o);
    o.as_of = q.sel.as_of, o.wr = &wr;
    rc = kd_store_ogc_by_ids(w->st, c->layer, &id, 1, geom, one_parcel, one_area, &o, &err);
    writer_fini(&wr);
    if (rc) {
        kd_answer_failed(r, a, &err);
        goto out;
    }
    if (!o.found) {
        feature_not_found(r, a, c, fid);
        goto out;
    }
    /* the feature ends "}}": open it again for its links */
    a->body.len--;
    a->body.data[a->body.len] = '\0';
    kd_buf_adds(&a->body, ",\"links\":[{\"href\":");
    {
        struct kd_buf href;
        kd_buf_init(&href);
        kd_buf_addf(&href, "%s/collections/%s/items/", r->srv->base_url, c->id);
        add_qs_encoded(&href, c->layer == KD_LAYER_PARCELS ? q.num : fid);
        kd_buf_add_json_str(&a->body, href.data ? href.data : "");
        a->body.failed |= href.failed;
        kd_buf_fini(&href);
    }
    kd_buf_adds(&a->body,
                ",\"rel\":\"self\",\"type\":\"" GEOJSON "\",\"title\":\"This feature\"},");
    add_collection_link(&a->body, r, c);
    kd_buf_adds(&a->body, "]}");
    a->content_type = GEOJSON;
    kd_ogc_crs_uri(q.crs, w->srid, a->content_crs, sizeof a->content_crs);
out:
    kd_store_ogc_snapshot_end(w->st, snap);
}
