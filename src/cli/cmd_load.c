/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr load: options, a progress bar on a TTY, SIGINT/SIGTERM turned into a clean
 * rollback, and the summary (human or --json). */
#include "cli_int.h"

#include "kadastr/ingest.h"

#include <gdal.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void kd_cli_load_help(void)
{
    printf(
        "usage: kadastr load DB SOURCE... --as KIND [--layer NAME] [--mapping FILE]\n"
        "                    [--s-srs CRS] [--repair] [--rejects FILE] [--replace] [--json]\n\n"
        "Loads survey data into the register, in one transaction over all SOURCEs.\n"
        "SOURCE: anything GDAL reads (GeoPackage, Shapefile, GeoJSON, TopoJSON, GML, KML, DXF,\n"
        "CSV with WKT or X/Y columns, FlatGeobuf, EDIGEO), also inside .zip, .tar.gz, .tar.bz2.\n\n"
        "  --as KIND        parcels, zones, restrictions, admin_units, parties or rights\n"
        "  --layer NAME     the source layer (default: the only one, or the one named KIND)\n"
        "  --mapping FILE   source fields -> kadastr fields (data/mappings/, docs/mappings.md);\n"
        "                   without it, fields named as kadastr's own are used\n"
        "  --s-srs CRS      the source CRS (required when the data has none), e.g. EPSG:4326\n"
        "  --repair         repair invalid polygons (GEOS MakeValid, STRUCTURE method)\n"
        "  --rejects FILE   where rejected features go (.gpkg or .geojson; default\n"
        "                   DB.rejects-<time>.gpkg, written only when something is rejected)\n"
        "  --replace        a changed parcel whose number is live replaces it (new version)\n"
        "  --json           print one JSON summary on stdout\n\n"
        "Each rejected feature has one reason, the first that applies: null_geometry,\n"
        "wrong_type, invalid_geometry, missing_number, bad_number, duplicate_number,\n"
        "bad_declared_area (then, for other kinds: missing_code, missing_field, bad_party_id,\n"
        "bad_share, bad_date, unknown_parcel, unknown_party, conflict).\n\n"
        "exit status: 0 all loaded, 3 loaded with rejects, 1 error (database unchanged),\n"
        "2 usage error, 130 interrupted (database unchanged)\n");
}

struct progress {
    struct timespec t0;
    int tty;
    int drawn;
};

static void progress_cb(void *ud, long done, long total)
{
    struct progress *p = ud;
    struct timespec now;
    double secs, rate;
    int width = 30, filled;

    if (!p->tty)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    secs = (double)(now.tv_sec - p->t0.tv_sec) + (double)(now.tv_nsec - p->t0.tv_nsec) / 1e9;
    rate = secs > 0 ? (double)done / secs : 0;
    filled = total > 0 ? (int)((double)width * (double)done / (double)total) : 0;
    if (filled > width)
        filled = width;
    fprintf(stderr, "\r[%.*s%*s] %ld/%ld features  %.0f/s  ETA %.0f s ", filled,
            "##############################", width - filled, "", done, total, rate,
            rate > 0 && total > done ? (double)(total - done) / rate : 0.0);
    p->drawn = 1;
}

static void note_cb(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "%s\n", line);
}

static void json_counts(struct kd_buf *b, const struct kd_load_counts *c)
{
    int r, first = 1;

    kd_buf_addf(b,
                "\"read\":%ld,\"loaded\":%ld,\"unchanged\":%ld,\"rejected\":%ld,"
                "\"repaired\":%ld,\"replaced\":%ld,\"warnings\":%ld,\"rejected_by_reason\":{",
                c->read, c->loaded, c->unchanged, c->rejected, c->repaired, c->replaced,
                c->warnings);
    for (r = 0; r < KD_R_COUNT; r++) {
        if (!c->by_reason[r])
            continue;
        kd_buf_addf(b, "%s\"%s\":%ld", first ? "" : ",", kd_reason_name((enum kd_reason)r),
                    c->by_reason[r]);
        first = 0;
    }
    kd_buf_adds(b, "}");
}

static void print_json(const struct kd_load_result *res, const char *as)
{
    struct kd_buf b;
    int i;

    kd_buf_init(&b);
    kd_buf_adds(&b, "{\"as\":");
    kd_buf_add_json_str(&b, as);
    kd_buf_adds(&b, ",");
    json_counts(&b, &res->total);
    kd_buf_adds(&b, ",\"transformation\":");
    if (res->op.name[0]) {
        kd_buf_adds(&b, "{\"source_crs\":");
        kd_buf_add_json_str(&b, res->source_crs);
        kd_buf_adds(&b, ",\"name\":");
        kd_buf_add_json_str(&b, res->op.name);
        kd_buf_adds(&b, ",\"datum_transformation\":");
        kd_buf_add_json_str(&b, res->op.transformation);
        kd_buf_adds(&b, ",\"accuracy_m\":");
        if (res->op.accuracy_m >= 0)
            kd_buf_add_fixed(&b, res->op.accuracy_m, 2);
        else
            kd_buf_adds(&b, "null");
        kd_buf_adds(&b, ",\"warning\":");
        kd_buf_add_json_str(&b, res->op.warning);
        kd_buf_adds(&b, "}");
    } else {
        kd_buf_adds(&b, "null");
    }
    kd_buf_adds(&b, ",\"rejects_file\":");
    if (res->rejects_path[0])
        kd_buf_add_json_str(&b, res->rejects_path);
    else
        kd_buf_adds(&b, "null");
    kd_buf_adds(&b, ",\"seconds\":");
    kd_buf_add_fixed(&b, res->seconds, 3);
    kd_buf_adds(&b, ",\"sources\":[");
    for (i = 0; i < res->n_sources; i++) {
        kd_buf_adds(&b, i ? ",{\"source\":" : "{\"source\":");
        kd_buf_add_json_str(&b, res->sources[i].name);
        kd_buf_adds(&b, ",\"layer\":");
        kd_buf_add_json_str(&b, res->sources[i].layer);
        kd_buf_adds(&b, ",");
        json_counts(&b, &res->sources[i].counts);
        kd_buf_adds(&b, "}");
    }
    kd_buf_adds(&b, "]}\n");
    if (!b.failed)
        fputs(b.data, stdout);
    kd_buf_fini(&b);
}

static void print_human(const struct kd_load_result *res, const char *as)
{
    const struct kd_load_counts *c = &res->total;
    int r;

    printf("%s: read %ld, loaded %ld, unchanged %ld, rejected %ld", as, c->read, c->loaded,
           c->unchanged, c->rejected);
    if (c->repaired)
        printf(", repaired %ld", c->repaired);
    if (c->replaced)
        printf(", replaced %ld", c->replaced);
    printf(" in %.2f s\n", res->seconds);
    for (r = 0; r < KD_R_COUNT; r++)
        if (c->by_reason[r])
            printf("  rejected %-18s %ld\n", kd_reason_name((enum kd_reason)r), c->by_reason[r]);
    if (c->repaired)
        printf("  repaired: %s\n", res->repaired_ids);
    if (res->rejects_path[0])
        printf("  rejected features written to %s\n", res->rejects_path);
    if (c->read > 0 && c->loaded == 0 && c->replaced == 0)
        printf("  nothing new: the register already holds all of it\n");
}

int kd_cli_load(int argc, char **argv)
{
    static const struct option opts[] = {{"as", required_argument, NULL, 'a'},
                                         {"layer", required_argument, NULL, 'l'},
                                         {"mapping", required_argument, NULL, 'm'},
                                         {"s-srs", required_argument, NULL, 's'},
                                         {"repair", no_argument, NULL, 'r'},
                                         {"rejects", required_argument, NULL, 'j'},
                                         {"replace", no_argument, NULL, 'R'},
                                         {"json", no_argument, NULL, 'J'},
                                         {NULL, 0, NULL, 0}};
    struct kd_load_opts o;
    struct kd_load_result res;
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct progress prog;
    struct sigaction sa, old_int, old_term;
    struct kd_err err;
    const char *as = NULL;
    int c, json = 0, as_layer, status;
    enum kd_code rc;

    memset(&o, 0, sizeof o);
    kd_err_init(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            as = optarg;
            break;
        case 'l':
            o.layer = optarg;
            break;
        case 'm':
            o.mapping = optarg;
            break;
        case 's':
            o.s_srs = optarg;
            break;
        case 'r':
            o.repair = 1;
            break;
        case 'j':
            o.rejects = optarg;
            break;
        case 'R':
            o.replace = 1;
            break;
        case 'J':
            json = 1;
            break;
        default:
            return kd_cli_usage("load", "unknown option");
        }
    }
    if (argc - optind < 2)
        return kd_cli_usage("load", "expected DB and at least one SOURCE");
    if (!as)
        return kd_cli_usage("load", "say what the sources hold with --as (parcels, zones, "
                                    "restrictions, admin_units, parties or rights)");
    as_layer = kd_layer_parse(as);
    if (as_layer < 0)
        return kd_cli_usage("load",
                            "--as %s: expected parcels, zones, restrictions, "
                            "admin_units, parties or rights",
                            as);
    o.as = (enum kd_layer)as_layer;
    o.db_path = argv[optind];
    GDALAllRegister();
    if (kd_store_open(argv[optind], KD_STORE_RW, &st, &err) || kd_geo_new(&g, &err)) {
        kd_store_close(st);
        return kd_cli_fail("load", &err);
    }
    memset(&prog, 0, sizeof prog);
    clock_gettime(CLOCK_MONOTONIC, &prog.t0);
    prog.tty = isatty(2);
    o.progress = progress_cb;
    o.progress_ud = &prog;
    o.note = note_cb;
    o.interrupted = &interrupted;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = kd_load(st, g, (const char *const *)argv + optind + 1, argc - optind - 1, &o, &res, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (prog.drawn)
        fputc('\n', stderr);
    if (rc) {
        status = kd_cli_fail("load", &err);
    } else {
        if (json)
            print_json(&res, as);
        else
            print_human(&res, as);
        status = res.total.rejected ? KD_EXIT_REJECTS : KD_EXIT_OK;
    }
    kd_load_result_fini(&res);
    kd_geo_free(g);
    kd_store_close(st);
    return status;
}
