/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr sample: generate the deterministic sample region into a register (one
 * transaction), and optionally into a GeoPackage in another CRS, both at once. */
#include "cli_int.h"

#include "kadastr/geo.h"
#include "kadastr/sample.h"
#include "kadastr/store.h"

#include <errno.h>
#include <gdal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void kd_cli_sample_help(void)
{
    printf("usage: kadastr sample DB --parcels N [--seed S] [--export FILE --export-crs CRS]\n\n"
           "Generates a realistic, deterministic region near Tashkent (docs/sample.md): admin\n"
           "units, street blocks subdivided into parcels with hierarchical cadastral numbers,\n"
           "the 8 land categories, zoning, protection zones, parties (PINFL/STIR), rights,\n"
           "some history (splits, merges, corrections) and applications.\n\n"
           "  DB               a database made by 'kadastr init', or a new one (default office\n"
           "                   CRS EPSG:32642) when the file does not exist\n"
           "  --parcels N      live parcels to generate (exactly N)\n"
           "  --seed S         the same N and S give the same region (default 1)\n"
           "  --export FILE    also write the live region as a GeoPackage (layers parcels,\n"
           "                   zones, restrictions, admin_units; tables parties, rights) that\n"
           "                   'kadastr load' reads without a mapping\n"
           "  --export-crs CRS the CRS of the export (default EPSG:32642), e.g. EPSG:28412\n\n"
           "exit status: 0 generated, 1 error (the database is unchanged), 2 usage error\n");
}

/* Both sinks at once: the register and the GeoPackage. */
struct tee {
    struct kd_sample_sink a, b;
};

#define TEE(name, type)                                                                            \
    static enum kd_code tee_##name(void *ud, const type *r, struct kd_err *err)                    \
    {                                                                                              \
        struct tee *t = ud;                                                                        \
        enum kd_code rc = t->a.name ? t->a.name(t->a.ud, r, err) : KD_OK;                          \
        return rc || !t->b.name ? rc : t->b.name(t->b.ud, r, err);                                 \
    }
TEE(admin_unit, struct kd_sample_admin_unit)
TEE(zone, struct kd_sample_area)
TEE(restriction, struct kd_sample_area)
TEE(party, struct kd_sample_party)
TEE(parcel, struct kd_sample_parcel)
TEE(right, struct kd_sample_right)
TEE(application, struct kd_sample_application)

int kd_cli_sample(int argc, char **argv)
{
    static const struct option opts[] = {{"parcels", required_argument, NULL, 'n'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"export", required_argument, NULL, 'e'},
                                         {"export-crs", required_argument, NULL, 'c'},
                                         {NULL, 0, NULL, 0}};
    struct kd_sample_opts so = {0, 1};
    struct kd_sample_stats stats;
    struct kd_sample_sink store_sink, sink;
    struct kd_sample_store *ss = NULL;
    struct kd_sample_gpkg *gp = NULL;
    struct kd_store *st = NULL;
    struct kd_geo *g = NULL;
    struct tee tee;
    struct kd_err err;
    struct timespec t0, t1;
    const char *export = NULL, *export_crs = "EPSG:32642", *path;
    char *end;
    int c, created = 0;
    enum kd_code rc;

    kd_err_init(&err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            errno = 0;
            so.n_parcels = strtol(optarg, &end, 10);
            if (errno || *end || so.n_parcels < 1 || so.n_parcels > 100000000)
                return kd_cli_usage("sample",
                                    "--parcels '%s' is not a number from 1 to "
                                    "100000000",
                                    optarg);
            break;
        case 's':
            errno = 0;
            so.seed = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-')
                return kd_cli_usage("sample", "--seed '%s' is not a non-negative integer", optarg);
            break;
        case 'e':
            export = optarg;
            break;
        case 'c':
            export_crs = optarg;
            break;
        default:
            return kd_cli_usage("sample", "unknown option");
        }
    }
    if (optind != argc - 1)
        return kd_cli_usage("sample", "expected one database path");
    if (!so.n_parcels)
        return kd_cli_usage("sample", "say how many parcels with --parcels N");
    path = argv[optind];
    GDALAllRegister();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (access(path, F_OK) != 0) {
        struct kd_store_config cfg = {KD_SAMPLE_SRID, KD_NUMFMT_UZ, {55.99, 37.18, 73.17, 45.58}};
        rc = kd_store_create(path, &cfg, 0, &err);
        if (rc)
            return kd_cli_fail("sample", &err);
        created = 1;
    }
    rc = kd_store_open(path, KD_STORE_RW, &st, &err);
    if (!rc)
        rc = kd_geo_new(&g, &err);
    if (!rc)
        rc = kd_store_begin(st, &err);
    if (!rc)
        rc = kd_store_bulk_begin(st, &err);
    if (!rc)
        rc = kd_sample_store_open(st, g, &ss, &err);
    if (!rc && export)
        rc = kd_sample_gpkg_open(export, export_crs, &gp, &err);
    if (rc)
        goto out;
    kd_sample_store_sink(ss, &store_sink);
    sink = store_sink;
    if (gp) {
        tee.a = store_sink;
        kd_sample_gpkg_sink(gp, &tee.b);
        sink.ud = &tee;
        sink.admin_unit = tee_admin_unit;
        sink.zone = tee_zone;
        sink.restriction = tee_restriction;
        sink.party = tee_party;
        sink.parcel = tee_parcel;
        sink.right = tee_right;
        sink.application = tee_application;
    }
    rc = kd_sample_generate(&so, &sink, &stats, &err);
    if (!rc && gp) {
        rc = kd_sample_gpkg_close(gp, &err);
        gp = NULL;
    }
    if (!rc)
        rc = kd_store_commit(st, &err);
out:
    kd_sample_gpkg_abort(gp);
    kd_sample_store_close(ss);
    if (rc)
        kd_store_rollback(st);
    kd_store_close(st);
    kd_geo_free(g);
    if (rc) {
        if (created) {
            char side[4200];
            unlink(path);
            if (kd_snprintf(side, sizeof side, "%s-wal", path) > 0)
                unlink(side);
            if (kd_snprintf(side, sizeof side, "%s-shm", path) > 0)
                unlink(side);
        }
        return kd_cli_fail("sample", &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s: %ld live parcels (+%ld historic versions), %ld admin units, %ld zones, "
           "%ld restrictions, %ld parties, %ld rights, %ld applications in %.1f s\n",
           path, stats.n_parcels_live, stats.n_parcels_historic, stats.n_admin_units, stats.n_zones,
           stats.n_restrictions, stats.n_parties, stats.n_rights, stats.n_applications,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (export)
        printf("exported the live region to %s (%s)\n", export, export_crs);
    return KD_EXIT_OK;
}
