/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr lookup: find parcels by number, point, box; neighbours; history; and a batch of
 * points (--points). Parses the options, asks the cadastre library and prints: coordinates
 * come in lon/lat unless --crs says otherwise and are taken to the office CRS once; answers
 * print as a table or, with --json, as GeoJSON. A --json answer is built whole in memory and
 * printed only when complete, so an error never leaves half a document on stdout. The batch
 * (read, answer, write: src/cadastre/points.c) writes its JSON or CSV lines to stdout. */
#include "cli_int.h"

#include "kadastr/cadastre.h"
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CMD "lookup"

void kd_cli_lookup_help(void)
{
    printf("usage: kadastr lookup DB (--number N | --point X,Y | --bbox MINX,MINY,MAXX,MAXY |\n"
           "                          --neighbours N | --history N | --points FILE|-)\n"
           "                      [--crs EPSG:NNNN] [--json] [--as-of DATE] [--verbose]\n\n"
           "Finds parcels in a register (opened read-only).\n\n"
           "  --number N          the parcel with cadastral number N\n"
           "  --point X,Y         every parcel containing the point (both, flagged on_boundary,\n"
           "                      when it lies on a shared boundary)\n"
           "  --bbox W,S,E,N      every parcel intersecting the box (exact test, not just boxes)\n"
           "  --neighbours N      parcels touching N or within 0.05 m of it, with the length of\n"
           "                      the shared boundary\n"
           "  --history N         every version of N, oldest first, with its lineage\n"
           "  --points FILE|-     one x,y per input line; prints exactly one line per input line:\n"
           "                      x,y,numbers (';' between numbers on a boundary, empty when no\n"
           "                      parcel), or x,y,,error for a line that is not x,y\n"
           "  --crs EPSG:NNNN     the CRS of the coordinates (default EPSG:4326, lon/lat)\n"
           "  --json              GeoJSON (RFC 7946, lon/lat): a Feature for --number, else a\n"
           "                      FeatureCollection; JSON lines for --points\n"
           "  --as-of DATE        the register as it was at DATE (YYYY-MM-DD or a timestamp)\n"
           "  --verbose           timings and the index's build time and memory on stderr\n\n"
           "exit status: 0 found, 1 error (or a malformed --points line), 2 usage error,\n"
           "4 not found\n");
}

enum mode { M_NONE, M_NUMBER, M_POINT, M_BBOX, M_NEIGHBOURS, M_HISTORY, M_POINTS };

struct opts {
    enum mode mode;
    const char *arg; /* the mode's argument */
    const char *db;
    const char *crs; /* NULL: EPSG:4326 */
    const char *as_of_in;
    int json, verbose;
};

struct ctx {
    struct opts o;
    struct kd_store *st;
    const struct kd_store_config *cfg;
    struct kd_geo *g;
    struct kd_xform *to_office; /* input CRS -> office; NULL when they are the same */
    struct kd_xform *to_4326;   /* office -> lon/lat, for GeoJSON */
    int in_srid;
    char as_of[32];
    const char *as_of_p; /* NULL or as_of */
    struct kd_buf out;
    struct kd_err err;
};

static void flush_out(struct ctx *c)
{
    if (c->out.len)
        fwrite(c->out.data, 1, c->out.len, stdout);
    kd_buf_reset(&c->out);
}

/* Prints a whole --json answer built in c->out; one that ran out of memory prints nothing. */
static int print_out(struct ctx *c)
{
    if (c->out.failed) {
        kd_buf_reset(&c->out);
        kd_err_set(&c->err, KD_ENOMEM, "lookup.nomem", "out of memory");
        return kd_cli_fail(CMD, &c->err);
    }
    flush_out(c);
    return KD_EXIT_OK;
}

/* A failure after part of an answer was built: nothing of it is printed. */
static int fail_answer(struct ctx *c)
{
    kd_buf_reset(&c->out);
    return kd_cli_fail(CMD, &c->err);
}

/* ---- human output ------------------------------------------------------------------------- */

static const char *or_dash(const char *s)
{
    return s && s[0] ? s : "-";
}

struct detail {
    int n_zones, n_restr, n_rights;
};

static enum kd_code print_overlay(void *ud, const struct kd_overlay *o, struct kd_err *err)
{
    struct detail *d = ud;
    int *n = o->layer == KD_LAYER_ZONES ? &d->n_zones : &d->n_restr;

    (void)err;
    printf("  %-17s %s (%s) %s, %.2f m2 on the parcel\n",
           *n                           ? ""
           : o->layer == KD_LAYER_ZONES ? "zones"
                                        : "restrictions",
           o->code, o->kind, or_dash(o->name), o->area_m2);
    (*n)++;
    return KD_OK;
}

static enum kd_code print_right(void *ud, const struct kd_right *r, struct kd_err *err)
{
    struct detail *d = ud;

    (void)err;
    printf("  %-17s %s %lld/%lld  %s %s %s\n", d->n_rights ? "" : "rights", r->kind,
           (long long)r->share.num, (long long)r->share.den, r->party.kind, r->party.party_id,
           r->party.name);
    d->n_rights++;
    return KD_OK;
}

static int print_detail(struct ctx *c, const struct kd_parcel *p)
{
    struct detail d = {0, 0, 0};

    printf("%s\n", p->number);
    printf("  %-17s %s\n", "land category", or_dash(p->land_category));
    printf("  %-17s %s\n", "land use", or_dash(p->land_use));
    printf("  %-17s %s\n", "address", or_dash(p->address));
    printf("  %-17s %.2f m2 (planar, EPSG:%d)\n", "area", p->area_m2, c->cfg->srid);
    printf("  %-17s %.2f m2\n", "geodesic area", p->geodesic_area_m2);
    if (isnan(p->declared_area_m2))
        printf("  %-17s -\n", "declared area");
    else
        printf("  %-17s %.2f m2\n", "declared area", p->declared_area_m2);
    printf("  %-17s %s .. %s\n", "valid", p->valid_from, p->valid_to[0] ? p->valid_to : "(live)");
    printf("  %-17s %s\n", "operation", or_dash(p->operation));
    if (kd_store_overlays_of(c->st, p->id, print_overlay, &d, &c->err) ||
        kd_store_rights_at(c->st, p->number, c->as_of_p, print_right, &d, &c->err))
        return kd_cli_fail(CMD, &c->err);
    if (!d.n_zones)
        printf("  %-17s -\n", "zones");
    if (!d.n_restr)
        printf("  %-17s -\n", "restrictions");
    if (!d.n_rights)
        printf("  %-17s -\n", "rights");
    return KD_EXIT_OK;
}

/* ---- GeoJSON output ----------------------------------------------------------------------- */

static struct kd_lookup_json_opts json_opts(struct ctx *c)
{
    struct kd_lookup_json_opts jo;

    memset(&jo, 0, sizeof jo);
    jo.to_4326 = c->to_4326;
    jo.as_of = c->as_of_p;
    jo.with_rights = 1;
    jo.with_parties = 1; /* the CLI is the office's own tool */
    jo.with_overlays = 1;
    jo.decimals = 7;
    return jo;
}

/* The records a mode's hits keep for print_hits: the lookup read them anyway. */
static enum kd_hits_keep keep_for(const struct ctx *c)
{
    return c->o.json ? KD_HITS_KEEP_GEOM : KD_HITS_KEEP_RECORD;
}

/* Prints hits (which kept their records, keep_for) as a FeatureCollection or a table. The
 * FeatureCollection is printed only when whole. */
static int print_hits(struct ctx *c, const struct kd_hits *h, int kind)
{
    struct kd_lookup_json_opts jo = json_opts(c);
    size_t i;

    if (c->o.json)
        kd_buf_adds(&c->out, "{\"type\":\"FeatureCollection\",\"features\":[");
    else if (kind == M_NEIGHBOURS)
        printf("%-24s %-8s %12s %10s  %-20s %s\n", "cadastral_number", "contact", "shared_m",
               "distance_m", "land_category", "land_use");
    else
        printf("%-24s %-20s %-20s %12s  %-20s%s\n", "cadastral_number", "land_category", "land_use",
               "area_m2", "valid_from", kind == M_POINT ? "  on_boundary" : "");
    for (i = 0; i < h->n; i++) {
        const struct kd_parcel_hit *hit = &h->v[i];
        const struct kd_parcel *p = hit->parcel;
        if (!p) { /* a mode that forgot keep_for: a bug, said as one */
            kd_err_set(&c->err, KD_EINVAL, "lookup.internal",
                       "internal error: the hit %s came without its record", hit->number);
            return fail_answer(c);
        }
        if (c->o.json) {
            if (i)
                kd_buf_adds(&c->out, ",");
            if (kd_lookup_json_feature(c->st, &jo, p, kind == M_BBOX ? NULL : hit, &c->out,
                                       &c->err))
                return fail_answer(c);
        } else if (kind == M_NEIGHBOURS) {
            printf("%-24s %-8s %12.2f %10.3f  %-20s %s\n", p->number, hit->contact, hit->shared_m,
                   hit->distance_m, or_dash(p->land_category), or_dash(p->land_use));
        } else {
            printf("%-24s %-20s %-20s %12.2f  %-20s%s\n", p->number, or_dash(p->land_category),
                   or_dash(p->land_use), p->area_m2, p->valid_from,
                   kind == M_POINT ? (hit->on_boundary ? "  yes" : "  no") : "");
        }
    }
    if (!c->o.json)
        return KD_EXIT_OK;
    kd_buf_adds(&c->out, "]}\n");
    return print_out(c);
}

/* ---- modes -------------------------------------------------------------------------------- */

static int normalize(struct ctx *c, char num[KD_CADNUM_MAX])
{
    if (kd_cadnum_normalize(c->cfg->numfmt, c->o.arg, num, &c->err)) {
        if (!c->err.hint[0])
            kd_err_hint(&c->err, "write it as AA:BB:CC:DD:EE:FFFF, e.g. 10:26:01:02:03:0045");
        return -1;
    }
    return 0;
}

static int by_number(struct ctx *c)
{
    struct kd_lookup_json_opts jo = json_opts(c);
    struct kd_parcel p;
    char num[KD_CADNUM_MAX];
    int status = KD_EXIT_OK;

    if (normalize(c, num))
        return kd_cli_fail(CMD, &c->err);
    kd_parcel_init(&p);
    if (kd_store_parcel_get(c->st, num, c->as_of_p, c->o.json, &p, &c->err)) {
        if (c->err.code == KD_ENOTFOUND)
            kd_err_hint(&c->err, "'kadastr lookup DB --history %s' shows every version", num);
        status = kd_cli_fail(CMD, &c->err);
    } else if (c->o.json) {
        if (kd_lookup_json_feature(c->st, &jo, &p, NULL, &c->out, &c->err)) {
            status = fail_answer(c);
        } else {
            kd_buf_adds(&c->out, "\n");
            status = print_out(c);
        }
    } else {
        status = print_detail(c, &p);
    }
    kd_parcel_fini(&p);
    return status;
}

/* Says when lon/lat input falls outside the office CRS's area of use. */
static void hint_area_of_use(struct ctx *c, double x, double y)
{
    double aou[4];
    struct kd_err e2;

    kd_err_init(&e2);
    if (c->in_srid != 4326 || kd_lookup_area_of_use(c->g, c->cfg->srid, aou, &e2))
        return;
    if (x < aou[0] || x > aou[2] || y < aou[1] || y > aou[3])
        kd_err_hint(&c->err,
                    "%g,%g lies outside the office CRS's area of use (lon %g..%g, lat %g..%g);"
                    " coordinates are lon,lat unless --crs says otherwise",
                    x, y, aou[0], aou[2], aou[1], aou[3]);
}

static int by_point(struct ctx *c)
{
    struct kd_hits h;
    double xy[2], x, y;
    int status;

    if (kd_points_parse_numbers(c->o.arg, xy, 2))
        return kd_cli_usage(CMD, "--point '%s' is not X,Y", c->o.arg);
    x = xy[0], y = xy[1];
    if (c->to_office && kd_xform_points(c->to_office, 0, &x, &y, 1, &c->err)) {
        kd_err_where(&c->err, "--point %s", c->o.arg);
        hint_area_of_use(c, xy[0], xy[1]);
        if (!c->err.hint[0])
            kd_err_hint(&c->err,
                        "the point has no image in the office CRS (EPSG:%d): check the order "
                        "x,y and that --crs names the coordinates' CRS",
                        c->cfg->srid);
        return kd_cli_fail(CMD, &c->err);
    }
    kd_hits_init(&h);
    h.keep = keep_for(c);
    if (kd_lookup_point(c->st, c->g, c->as_of_p, x, y, &h, &c->err)) {
        status = kd_cli_fail(CMD, &c->err);
    } else if (h.n == 0) {
        kd_err_set(&c->err, KD_ENOTFOUND, "lookup.no_parcel",
                   "no %sparcel contains the point %s (EPSG:%d)", c->as_of_p ? "" : "live ",
                   c->o.arg, c->in_srid);
        hint_area_of_use(c, xy[0], xy[1]);
        status = kd_cli_fail(CMD, &c->err);
    } else {
        status = print_hits(c, &h, M_POINT);
    }
    kd_hits_fini(&h);
    return status;
}

static int by_bbox(struct ctx *c)
{
    struct kd_hits h;
    double box[4];
    int status, outside = 0;

    if (kd_points_parse_numbers(c->o.arg, box, 4))
        return kd_cli_usage(CMD, "--bbox '%s' is not MINX,MINY,MAXX,MAXY", c->o.arg);
    if (!(box[0] < box[2]) || !(box[1] < box[3]))
        return kd_cli_usage(CMD, "--bbox '%s' is empty: it needs MINX < MAXX and MINY < MAXY",
                            c->o.arg);
    kd_hits_init(&h);
    h.keep = keep_for(c);
    if (kd_lookup_box(c->st, c->g, c->as_of_p, c->in_srid, c->to_office, box, &h, &outside,
                      &c->err)) {
        status = kd_cli_fail(CMD, &c->err);
    } else if (outside) {
        kd_err_set(&c->err, KD_ENOTFOUND, "lookup.box_outside",
                   "the box %s (EPSG:%d) lies outside the office CRS's area of use", c->o.arg,
                   c->in_srid);
        kd_err_hint(&c->err, "coordinates are lon,lat unless --crs says otherwise");
        status = kd_cli_fail(CMD, &c->err);
    } else if (h.n == 0) {
        kd_err_set(&c->err, KD_ENOTFOUND, "lookup.no_parcel",
                   "no %sparcel intersects the box %s (EPSG:%d)", c->as_of_p ? "" : "live ",
                   c->o.arg, c->in_srid);
        status = kd_cli_fail(CMD, &c->err);
    } else {
        status = print_hits(c, &h, M_BBOX);
    }
    kd_hits_fini(&h);
    return status;
}

static int by_neighbours(struct ctx *c)
{
    struct kd_hits h;
    char num[KD_CADNUM_MAX];
    int status;

    if (normalize(c, num))
        return kd_cli_fail(CMD, &c->err);
    kd_hits_init(&h);
    h.keep = keep_for(c);
    if (kd_lookup_neighbours(c->st, c->g, num, c->as_of_p, KD_LOOKUP_GAP_TOL_M, &h, &c->err)) {
        status = kd_cli_fail(CMD, &c->err);
    } else if (h.n == 0 && !c->o.json) {
        printf("%s has no neighbours within %.2f m\n", num, KD_LOOKUP_GAP_TOL_M);
        status = KD_EXIT_OK;
    } else {
        status = print_hits(c, &h, M_NEIGHBOURS);
    }
    kd_hits_fini(&h);
    return status;
}

static void json_lineage(struct kd_buf *b, const char *name, const struct kd_lineage *l, size_t n)
{
    kd_buf_addf(b, ",\"%s\":", name);
    kd_lookup_json_lineage(b, l, n);
}

static int by_history(struct ctx *c)
{
    struct kd_lookup_json_opts jo = json_opts(c);
    struct kd_history h = {NULL, 0};
    struct kd_parcel p;
    char num[KD_CADNUM_MAX];
    size_t i, k;
    int status = KD_EXIT_OK;

    if (normalize(c, num))
        return kd_cli_fail(CMD, &c->err);
    if (kd_lookup_history(c->st, num, &h, &c->err))
        return kd_cli_fail(CMD, &c->err);
    kd_parcel_init(&p);
    jo.with_rights = jo.with_overlays = 0; /* kept for live versions only */
    if (c->o.json)
        kd_buf_adds(&c->out, "{\"type\":\"FeatureCollection\",\"features\":[");
    else
        printf("%-22s %-22s %-10s %12s  %s\n", "valid_from", "valid_to", "operation", "area_m2",
               "lineage");
    for (i = 0; i < h.n; i++) {
        const struct kd_history_version *v = &h.v[i];
        if (c->o.json) {
            size_t mark;
            if (kd_store_parcel_get_id(c->st, v->parcel.id, 1, &p, &c->err) ||
                kd_lookup_json_feature(c->st, &jo, &p, NULL, &c->out, &c->err)) {
                status = fail_answer(c);
                goto out;
            }
            /* open the properties object again to add the lineage */
            mark = c->out.len - 2;
            c->out.len = mark;
            c->out.data[mark] = '\0';
            json_lineage(&c->out, "parents", v->parents, v->n_parents);
            json_lineage(&c->out, "children", v->children, v->n_children);
            kd_buf_adds(&c->out, "}}");
            if (i + 1 < h.n)
                kd_buf_adds(&c->out, ",");
            continue;
        }
        printf("%-22s %-22s %-10s %12.2f ", v->parcel.valid_from,
               v->parcel.valid_to[0] ? v->parcel.valid_to : "(live)", v->parcel.operation,
               v->parcel.area_m2);
        for (k = 0; k < v->n_parents; k++)
            printf(" %s %s", v->parents[k].kind, v->parents[k].other_number);
        for (k = 0; k < v->n_children; k++)
            printf(" -> %s (%s)", v->children[k].other_number, v->children[k].kind);
        printf("%s\n", v->n_parents + v->n_children ? "" : " -");
    }
    if (c->o.json) {
        kd_buf_adds(&c->out, "]}\n");
        status = print_out(c);
    }
out:
    kd_parcel_fini(&p);
    kd_history_fini(&h);
    return status;
}

/* ---- --points ----------------------------------------------------------------------------- */

/* The batch's sink: stdout (fully buffered, 64 KB), flushed when the batch says so. Write
 * errors are not reported (as for every other answer of this command). */
static int write_stdout(void *ud, const char *data, size_t len, int flush)
{
    (void)ud;
    if (len)
        fwrite(data, 1, len, stdout);
    if (flush)
        fflush(stdout);
    return 0;
}

static int by_points(struct ctx *c)
{
    struct kd_points *pts = NULL;
    struct kd_parcel_index *idx = NULL;
    struct kd_parcel_index_stats s;
    struct kd_points_opts po;
    struct kd_points_stats ps;
    int status = KD_EXIT_OK;

    if (kd_points_open(c->o.arg, &pts, &c->err) ||
        kd_parcel_index_build(c->st, c->g, c->as_of_p, &idx, &c->err)) {
        status = kd_cli_fail(CMD, &c->err);
        goto out;
    }
    kd_parcel_index_stats(idx, &s);
    if (c->o.verbose)
        fprintf(stderr,
                "kadastr lookup: index of %zu parcels built in %.3f s, %.1f MB of heap "
                "(%.0f bytes per parcel)\n",
                s.n_parcels, s.build_s, (double)s.heap_bytes / 1e6,
                s.n_parcels ? (double)s.heap_bytes / (double)s.n_parcels : 0.0);
    memset(&po, 0, sizeof po);
    po.json = c->o.json;
    po.to_office = c->to_office;
    po.write = write_stdout;
    if (kd_points_run(pts, idx, &po, &ps, &c->err)) {
        status = kd_cli_fail(CMD, &c->err);
        goto out;
    }
    if (c->o.verbose) {
        kd_parcel_index_stats(idx, &s);
        fprintf(stderr,
                "kadastr lookup: %ld lines in %.3f s (%.0f points/s), %zu parcels prepared\n",
                ps.n_lines, ps.seconds, ps.seconds > 0 ? (double)ps.n_lines / ps.seconds : 0.0,
                s.n_prepared);
    }
    if (ps.n_bad) {
        fprintf(stderr,
                "kadastr lookup: %ld of %ld lines could not be answered (not x,y, or "
                "not transformable; the error is in the 4th column)\n",
                ps.n_bad, ps.n_lines);
        status = KD_EXIT_ERROR;
    }
out:
    kd_parcel_index_free(idx);
    kd_points_close(pts);
    return status;
}

/* ---- main --------------------------------------------------------------------------------- */

static int set_mode(struct opts *o, enum mode m, const char *arg, const char *name)
{
    if (o->mode != M_NONE)
        return kd_cli_usage(CMD,
                            "%s: choose one of --number, --point, --bbox, --neighbours, "
                            "--history, --points",
                            name);
    o->mode = m;
    o->arg = arg;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {{"number", required_argument, NULL, 'n'},
                                         {"point", required_argument, NULL, 'p'},
                                         {"bbox", required_argument, NULL, 'b'},
                                         {"neighbours", required_argument, NULL, 'N'},
                                         {"neighbors", required_argument, NULL, 'N'},
                                         {"history", required_argument, NULL, 'H'},
                                         {"points", required_argument, NULL, 'P'},
                                         {"crs", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    int c, rc = 0;

    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            rc = set_mode(o, M_NUMBER, optarg, "--number");
            break;
        case 'p':
            rc = set_mode(o, M_POINT, optarg, "--point");
            break;
        case 'b':
            rc = set_mode(o, M_BBOX, optarg, "--bbox");
            break;
        case 'N':
            rc = set_mode(o, M_NEIGHBOURS, optarg, "--neighbours");
            break;
        case 'H':
            rc = set_mode(o, M_HISTORY, optarg, "--history");
            break;
        case 'P':
            rc = set_mode(o, M_POINTS, optarg, "--points");
            break;
        case 'c':
            o->crs = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'a':
            o->as_of_in = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case ':':
            return kd_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
        default:
            return kd_cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc)
        return rc;
    if (optind != argc - 1)
        return kd_cli_usage(CMD, optind >= argc ? "expected a database path"
                                                : "expected one database path");
    o->db = argv[optind];
    if (o->mode == M_NONE)
        return kd_cli_usage(CMD, "say what to look up: --number, --point, --bbox, "
                                 "--neighbours, --history or --points");
    if (o->mode == M_HISTORY && o->as_of_in)
        return kd_cli_usage(CMD, "--history shows every version: --as-of does not apply");
    return 0;
}

int kd_cli_lookup(int argc, char **argv)
{
    struct ctx c;
    int status;

    memset(&c, 0, sizeof c);
    kd_err_init(&c.err);
    kd_buf_init(&c.out);
    status = parse_args(argc, argv, &c.o);
    if (status)
        return status;
    c.in_srid = 4326;
    if (c.o.crs && kd_crs_parse_epsg(c.o.crs, &c.in_srid, &c.err))
        return kd_cli_fail(CMD, &c.err);
    if (c.o.as_of_in) {
        if (kd_time_parse(c.o.as_of_in, c.as_of, &c.err)) {
            kd_err_where(&c.err, "--as-of");
            return kd_cli_fail(CMD, &c.err);
        }
        c.as_of_p = c.as_of;
    }
    if (kd_store_open(c.o.db, KD_STORE_RO, &c.st, &c.err) || kd_geo_new(&c.g, &c.err)) {
        status = kd_cli_fail(CMD, &c.err);
        goto out;
    }
    c.cfg = kd_store_config(c.st);
    if (c.in_srid != c.cfg->srid &&
        (c.o.mode == M_POINT || c.o.mode == M_BBOX || c.o.mode == M_POINTS) &&
        kd_xform_epsg(c.g, c.in_srid, c.cfg->srid, c.cfg->area, &c.to_office, &c.err)) {
        kd_err_where(&c.err, "--crs EPSG:%d", c.in_srid);
        if (strcmp(c.err.key, "crs.unknown") == 0 || strcmp(c.err.key, "op.none") == 0)
            /* geo's hint speaks of load's --s-srs; replace it (kd_err_hint overwrites) */
            kd_err_hint(&c.err,
                        "--crs EPSG:NNNN names the coordinates' CRS: give one PROJ knows and "
                        "can take to the office CRS, e.g. EPSG:4326 (lon/lat, the default) or "
                        "EPSG:%d (the office CRS)",
                        c.cfg->srid);
        status = kd_cli_fail(CMD, &c.err);
        goto out;
    }
    if (c.o.json && c.o.mode != M_POINTS &&
        kd_xform_epsg(c.g, c.cfg->srid, 4326, c.cfg->area, &c.to_4326, &c.err)) {
        status = kd_cli_fail(CMD, &c.err);
        goto out;
    }
    if (c.o.mode == M_POINTS)
        setvbuf(stdout, NULL, _IOFBF, 1u << 16);
    switch (c.o.mode) {
    case M_NUMBER:
        status = by_number(&c);
        break;
    case M_POINT:
        status = by_point(&c);
        break;
    case M_BBOX:
        status = by_bbox(&c);
        break;
    case M_NEIGHBOURS:
        status = by_neighbours(&c);
        break;
    case M_HISTORY:
        status = by_history(&c);
        break;
    case M_POINTS:
        status = by_points(&c);
        break;
    default:
        status = KD_EXIT_USAGE;
    }
    if (!status && c.out.failed) {
        kd_err_set(&c.err, KD_ENOMEM, "lookup.nomem", "out of memory");
        status = kd_cli_fail(CMD, &c.err);
    }
out:
    kd_buf_fini(&c.out);
    kd_xform_free(c.to_office);
    kd_xform_free(c.to_4326);
    kd_geo_free(c.g);
    kd_store_close(c.st);
    return status;
}
