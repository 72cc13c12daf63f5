/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr export: one layer of the register (live, or as of a date) as open data in the
 * format FILE's extension names. The work is kd_export_layer's; this file reads the options
 * and says what was written. */
#include "cli_int.h"

#include "kadastr/cadastre.h"
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define CMD "export"

void kd_cli_export_help(void)
{
    printf("usage: kadastr export DB FILE [--layer parcels|zones|restrictions|admin_units]\n"
           "                              [--crs EPSG:NNNN] [--as-of DATE]\n\n"
           "Writes one layer of the register as open data, in the format of FILE's extension:\n"
           ".gpkg (GeoPackage), .geojson (GeoJSON; RFC 7946 with --crs EPSG:4326; the cadastral\n"
           "number is the feature id), .fgb (FlatGeobuf), .csv (CSV, geometry as WKT).\n"
           "No personal data: parcels carry their rights only as kinds and shares\n"
           "(\"ownership 1/2; ownership 1/2\"), never parties.\n"
           "The field names are the ones 'kadastr load' reads back without a mapping.\n\n"
           "  --layer L          parcels (default), zones, restrictions or admin_units\n"
           "  --crs EPSG:NNNN    the output CRS (default: the office CRS)\n"
           "  --as-of DATE       the register as it was at DATE (YYYY-MM-DD or a timestamp)\n\n"
           "An existing FILE is refused; a failed export leaves no file behind.\n\n"
           "exit status: 0 written, 1 error (no file), 2 usage error\n");
}

int kd_cli_export(int argc, char **argv)
{
    static const struct option opts[] = {{"layer", required_argument, NULL, 'l'},
                                         {"crs", required_argument, NULL, 'c'},
                                         {"as-of", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    struct kd_export_opts eo;
    struct kd_export_stats stats;
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_err err;
    char as_of[32];
    const char *as_of_in = NULL, *crs = NULL;
    int c, layer, status = KD_EXIT_OK;

    kd_err_init(&err);
    memset(&eo, 0, sizeof eo);
    eo.layer = KD_LAYER_PARCELS;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            layer = kd_layer_parse(optarg);
            if (layer != KD_LAYER_PARCELS && layer != KD_LAYER_ZONES &&
                layer != KD_LAYER_RESTRICTIONS && layer != KD_LAYER_ADMIN_UNITS)
                return kd_cli_usage(CMD,
                                    "--layer '%s' is not parcels, zones, restrictions "
                                    "or admin_units",
                                    optarg);
            eo.layer = (enum kd_layer)layer;
            break;
        case 'c':
            crs = optarg;
            break;
        case 'a':
            as_of_in = optarg;
            break;
        case ':':
            return kd_cli_usage(CMD, "%s needs a value", argv[optind - 1]);
        default:
            return kd_cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return kd_cli_usage(CMD, "expected a database and an output file");
    if (crs && kd_crs_parse_epsg(crs, &eo.srid, &err))
        return kd_cli_fail(CMD, &err);
    if (as_of_in) {
        if (kd_time_parse(as_of_in, as_of, &err)) {
            kd_err_where(&err, "--as-of");
            return kd_cli_fail(CMD, &err);
        }
        eo.as_of = as_of;
    }
    if (kd_store_open(argv[optind], KD_STORE_RO, &st, &err) || kd_geo_new(&g, &err)) {
        status = kd_cli_fail(CMD, &err);
        goto out;
    }
    if (kd_export_layer(st, g, argv[optind + 1], &eo, &stats, &err)) {
        if (eo.srid && (strcmp(err.key, "crs.unknown") == 0 || strcmp(err.key, "op.none") == 0)) {
            /* geo's hints speak of load's --s-srs; here the CRS came from --crs */
            kd_err_where(&err, "--crs EPSG:%d", eo.srid);
            kd_err_hint(&err, "--crs EPSG:NNNN names the output CRS: give one PROJ knows and can "
                              "reach from the office CRS, e.g. EPSG:4326 (lon/lat)");
        }
        status = kd_cli_fail(CMD, &err);
        goto out;
    }
    printf("wrote %ld %s to %s (%s, EPSG:%d%s%s)\n", stats.n_features, kd_layer_name(eo.layer),
           argv[optind + 1], stats.driver, stats.srid, eo.as_of ? ", as of " : "",
           eo.as_of ? eo.as_of : "");
out:
    kd_geo_free(g);
    kd_store_close(st);
    return status;
}
