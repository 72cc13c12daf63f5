/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr init, migrate and info: create a register, bring an old one up to date, and say
 * what one holds. */
#include "cli_int.h"

#include "kadastr/cadastre.h"
#include "kadastr/geo.h"
#include "kadastr/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kd_cli_init_help(void)
{
    printf("usage: kadastr init DB [--crs EPSG:NNNN] [--number-format uz|any] [--area W,S,E,N]\n\n"
           "Creates a new register database (SpatiaLite) with kadastr's schema.\n\n"
           "  --crs EPSG:NNNN       the office CRS: projected, in metres (default EPSG:32642,\n"
           "                        WGS 84 / UTM 42N). Legal geometry and areas live in it.\n"
           "  --number-format FMT   uz: AA:BB:CC:DD:EE:FFFF (default); any: any non-empty number\n"
           "  --area W,S,E,N        the office's area in lon/lat degrees, used to choose datum\n"
           "                        transformations (default Uzbekistan: "
           "55.99,37.18,73.17,45.58)\n\n"
           "exit status: 0 created, 1 error (nothing created), 2 usage error\n");
}

static int parse_area(const char *s, double a[4])
{
    char tail;

    if (sscanf(s, "%lf,%lf,%lf,%lf%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4)
        return -1;
    if (a[0] < -180 || a[2] > 180 || a[1] < -90 || a[3] > 90 || a[0] >= a[2] || a[1] >= a[3])
        return -1;
    return 0;
}

int kd_cli_init(int argc, char **argv)
{
    static const struct option opts[] = {{"crs", required_argument, NULL, 'c'},
                                         {"number-format", required_argument, NULL, 'n'},
                                         {"area", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    struct kd_store_config cfg = {32642, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};
    struct kd_geo *g = NULL;
    struct kd_err err;
    char crs_name[128];
    int c, rc, area_given = 0;
    double use[4];

    kd_err_init(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (kd_crs_parse_epsg(optarg, &cfg.srid, &err))
                return kd_cli_fail("init", &err);
            break;
        case 'n':
            if (kd_numfmt_parse(optarg, &cfg.numfmt, &err))
                return kd_cli_fail("init", &err);
            break;
        case 'a':
            if (parse_area(optarg, cfg.area))
                return kd_cli_usage("init", "--area '%s' is not W,S,E,N in degrees", optarg);
            area_given = 1;
            break;
        default:
            return kd_cli_usage("init", "unknown option");
        }
    }
    if (optind != argc - 1)
        return kd_cli_usage("init", "expected one database path");
    if (kd_geo_new(&g, &err) || kd_crs_check_office(g, cfg.srid, &err)) {
        kd_geo_free(g);
        return kd_cli_fail("init", &err);
    }
    kd_crs_name(g, cfg.srid, crs_name, sizeof crs_name);
    /* an office outside Uzbekistan that forgot --area: its CRS's area of use is a better
     * default than a country the CRS does not reach */
    if (!area_given && kd_crs_area_of_use(g, cfg.srid, use, &err) == KD_OK &&
        (use[2] < cfg.area[0] || use[0] > cfg.area[2] || use[3] < cfg.area[1] ||
         use[1] > cfg.area[3])) {
        memcpy(cfg.area, use, sizeof use);
        fprintf(stderr,
                "kadastr init: EPSG:%d does not reach Uzbekistan: office area set to "
                "its area of use %.2f,%.2f,%.2f,%.2f (choose one with --area)\n",
                cfg.srid, use[0], use[1], use[2], use[3]);
    }
    kd_err_init(&err);
    kd_geo_free(g);
    if (kd_store_create(argv[optind], &cfg, 0, &err))
        return kd_cli_fail("init", &err);
    printf("created %s: office CRS EPSG:%d (%s), number format %s, area %.2f,%.2f,%.2f,%.2f\n",
           argv[optind], cfg.srid, crs_name, kd_numfmt_name(cfg.numfmt), cfg.area[0], cfg.area[1],
           cfg.area[2], cfg.area[3]);
    rc = KD_EXIT_OK;
    return rc;
}

void kd_cli_migrate_help(void)
{
    printf("usage: kadastr migrate DB\n\n"
           "Brings a database made by an older kadastr to this version's schema (%d), in one\n"
           "transaction. Commands that write migrate by themselves; read-only ones (lookup,\n"
           "export, serve) ask for this first. It also makes the parcels' prepared answers\n"
           "that are missing (a running server makes them itself; docs/operations.md).\n\n"
           "exit status: 0 done (or nothing to do), 1 error (database unchanged)\n",
           KD_STORE_SCHEMA_VERSION);
}

int kd_cli_migrate(int argc, char **argv)
{
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct kd_err err;
    int64_t answers = 0;
    int found;

    kd_err_init(&err);
    if (argc != 2 || argv[1][0] == '-')
        return kd_cli_usage("migrate", "expected one database path");
    if (kd_store_open(argv[1], KD_STORE_RW, &st, &err))
        return kd_cli_fail("migrate", &err);
    found = kd_store_schema_version_found(st);
    /* the parcels' prepared answers: made for a database older than schema 4, and again for
     * all when this build or its PROJ makes them differently */
    if (kd_geo_new(&g, &err) || kd_store_begin(st, &err) ||
        kd_answers_prepare(st, g, &answers, &err) || kd_store_commit(st, &err)) {
        kd_store_rollback(st);
        kd_store_close(st);
        kd_geo_free(g);
        return kd_cli_fail("migrate", &err);
    }
    kd_store_close(st);
    kd_geo_free(g);
    if (found == KD_STORE_SCHEMA_VERSION)
        printf("%s: schema %d", argv[1], found);
    else
        printf("%s: migrated from schema %d to %d", argv[1], found, KD_STORE_SCHEMA_VERSION);
    if (answers)
        printf(", %lld parcel answers prepared\n", (long long)answers);
    else
        printf(found == KD_STORE_SCHEMA_VERSION ? ", nothing to do\n" : "\n");
    return KD_EXIT_OK;
}

void kd_cli_info_help(void)
{
    printf("usage: kadastr info DB [--json]\n\n"
           "Says what a register holds: office settings, live and historic parcels, zones,\n"
           "restrictions, admin units, parties, rights and the live extent.\n");
}

int kd_cli_info(int argc, char **argv)
{
    struct kd_store *st = NULL;
    struct kd_store_summary s;
    const struct kd_store_config *cfg;
    struct kd_err err;
    int json = 0, i;
    const char *path = NULL;

    kd_err_init(&err);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' || path)
            return kd_cli_usage("info", "unexpected argument '%s'", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return kd_cli_usage("info", "expected one database path");
    if (kd_store_open(path, KD_STORE_RO, &st, &err) || kd_store_summary(st, &s, &err)) {
        kd_store_close(st);
        return kd_cli_fail("info", &err);
    }
    cfg = kd_store_config(st);
    if (json)
        printf("{\"office_srid\":%d,\"number_format\":\"%s\",\"parcels_live\":%lld,"
               "\"parcels_historic\":%lld,\"zones\":%lld,\"restrictions\":%lld,"
               "\"admin_units\":%lld,\"parties\":%lld,\"rights\":%lld,\"applications\":%lld}\n",
               cfg->srid, kd_numfmt_name(cfg->numfmt), (long long)s.n_parcels_live,
               (long long)s.n_parcels_historic, (long long)s.n_zones, (long long)s.n_restrictions,
               (long long)s.n_admin_units, (long long)s.n_parties, (long long)s.n_rights,
               (long long)s.n_applications);
    else
        printf("%s\n  office CRS     EPSG:%d\n  number format  %s\n  parcels        %lld live, "
               "%lld historic\n  zones          %lld\n  restrictions   %lld\n  admin units    "
               "%lld\n  parties        %lld\n  rights         %lld\n  applications   %lld\n"
               "  live extent    %.2f,%.2f,%.2f,%.2f (office CRS)\n",
               path, cfg->srid, kd_numfmt_name(cfg->numfmt), (long long)s.n_parcels_live,
               (long long)s.n_parcels_historic, (long long)s.n_zones, (long long)s.n_restrictions,
               (long long)s.n_admin_units, (long long)s.n_parties, (long long)s.n_rights,
               (long long)s.n_applications, s.live_extent[0], s.live_extent[1], s.live_extent[2],
               s.live_extent[3]);
    kd_store_close(st);
    return KD_EXIT_OK;
}
