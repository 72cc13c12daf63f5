/* SPDX-License-Identifier: Apache-2.0 */
/* A sample sink writing a GeoPackage through GDAL's C API: live parcels, zones, restrictions
 * and admin units reprojected from EPSG:32642 to the asked CRS (x = easting on both sides),
 * parties and rights as attribute tables, all in one transaction. The coordinate operation
 * is chosen as `kadastr load` chooses it (kd_op_choose for Uzbekistan) and run backwards, so
 * that loading the file back moves nothing; GDAL's own choice differs by metres here. A file
 * that could not be written whole is removed: a half sample must not pass for a sample. */
#include "kadastr/geo.h"
#include "kadastr/sample.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { L_PARCELS, L_ZONES, L_RESTRICTIONS, L_ADMIN, L_PARTIES, L_RIGHTS, N_LAYERS };

/* kadastr's own field names (docs/formats.md), so that `kadastr load` needs no mapping. */
static const struct {
    const char *name;
    int has_geom;
    const char *fields[8];
} layer_defs[N_LAYERS] = {
    {"parcels",
     1,
     {"cadastral_number", "land_category", "land_use", "address", "declared_area_m2", "valid_from",
      NULL}},
    {"zones", 1, {"zone_code", "zone_kind", "zone_name", "permitted_uses", NULL}},
    {"restrictions", 1, {"restriction_code", "restriction_kind", "restriction_name", NULL}},
    {"admin_units", 1, {"admin_code", "admin_level", "admin_name", "parent_code", NULL}},
    {"parties", 0, {"party_id", "party_kind", "name", NULL}},
    {"rights",
     0,
     {"cadastral_number", "party_id", "right_kind", "share", "document", "document_date",
      "registered_on", NULL}},
};

/* The office area kadastr assumes for a new register: Uzbekistan, lon/lat W,S,E,N. The
 * operation chosen must hold over all of it (PROJ otherwise picks, for Tashkent, an
 * operation meant for Russia whose bounding box happens to contain the city). */
static const double uz_area[4] = {55.99, 37.18, 73.17, 45.58};

struct kd_sample_gpkg {
    GDALDatasetH ds;
    OGRSpatialReferenceH dst;
    struct kd_geo *geo;
    struct kd_xform *xf; /* crs -> EPSG:32642, run inverse; NULL when crs is EPSG:32642 */
    unsigned char *buf;  /* a geometry being reprojected */
    size_t buf_cap;
    OGRLayerH lyr[N_LAYERS];
    OGRFeatureH feat[N_LAYERS]; /* one per layer, reused for every row */
    char *path;
    int in_tx;
    int cpl_failed;
    char cpl_msg[512];
};

/* GDAL's messages are caught here, on the calling thread, while a call of ours runs. */
static void CPL_STDCALL on_cpl_error(CPLErr cls, CPLErrorNum no, const char *msg)
{
    struct kd_sample_gpkg *g = CPLGetErrorHandlerUserData();

    (void)no;
    if (g && cls >= CE_Failure && !g->cpl_failed) {
        g->cpl_failed = 1;
        kd_strlcpy(g->cpl_msg, msg ? msg : "", sizeof g->cpl_msg);
    }
}

static void catch_begin(struct kd_sample_gpkg *g)
{
    g->cpl_failed = 0;
    g->cpl_msg[0] = '\0';
    CPLPushErrorHandlerEx(on_cpl_error, g);
}

static void catch_end(void)
{
    CPLPopErrorHandler();
}

static const char *cpl_msg(const struct kd_sample_gpkg *g)
{
    return g->cpl_msg[0] ? g->cpl_msg : "GDAL gave no reason";
}

/* Removes the file and what SQLite may have left beside it. */
static void remove_files(const char *path)
{
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    size_t n = strlen(path) + 16, k;
    char *p = malloc(n);
    struct stat st;

    if (!p)
        return;
    for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
        if (kd_snprintf(p, n, "%s%s", path, suffix[k]) < 0)
            continue;
        if (stat(p, &st) == 0)
            unlink(p);
    }
    free(p);
}

/* Frees everything; closes the dataset (rolling back an open transaction first). */
static void release(struct kd_sample_gpkg *g, int rollback)
{
    int k;

    if (g->ds && g->in_tx && rollback)
        GDALDatasetRollbackTransaction(g->ds);
    g->in_tx = 0;
    for (k = 0; k < N_LAYERS; k++)
        if (g->feat[k])
            OGR_F_Destroy(g->feat[k]);
    memset(g->feat, 0, sizeof g->feat);
    if (g->ds)
        GDALClose(g->ds);
    g->ds = NULL;
    kd_xform_free(g->xf);
    kd_geo_free(g->geo);
    if (g->dst)
        OSRDestroySpatialReference(g->dst);
    free(g->buf);
    g->xf = NULL;
    g->geo = NULL;
    g->dst = NULL;
    g->buf = NULL;
    g->buf_cap = 0;
}

/* Chooses the operation between crs and EPSG:32642 as the loader does. OUT g->xf (NULL for
 * none) and op (fini it). Errors: KD_EINVAL "sample.gpkg_crs". */
static enum kd_code choose_op(struct kd_sample_gpkg *g, const char *crs, struct kd_op_choice *op,
                              struct kd_err *err)
{
    struct kd_err e;

    kd_err_init(&e);
    if (kd_geo_new(&g->geo, &e) != KD_OK ||
        kd_op_choose(g->geo, crs, KD_SAMPLE_SRID, uz_area, uz_area, op, &e) != KD_OK ||
        (strcmp(op->definition, "+proj=noop") != 0 &&
         kd_xform_new(g->geo, op->definition, &g->xf, &e) != KD_OK)) {
        kd_err_set(err, e.code == KD_ENOMEM ? KD_ENOMEM : KD_EINVAL, "sample.gpkg_crs",
                   "no coordinate operation from EPSG:%d to %s: %s", KD_SAMPLE_SRID, crs, e.msg);
        kd_err_hint(err, "%s", e.hint[0] ? e.hint : "give an EPSG code such as EPSG:28412");
        return err ? err->code : KD_EINVAL;
    }
    return KD_OK;
}

static enum kd_code create_layers(struct kd_sample_gpkg *g, struct kd_err *err)
{
    int k, f;

    for (k = 0; k < N_LAYERS; k++) {
        char **opts = NULL;
        OGRLayerH lyr;
        opts = CSLSetNameValue(opts, "FID", "fid");
        if (layer_defs[k].has_geom)
            opts = CSLSetNameValue(opts, "GEOMETRY_NAME", "geom");
        lyr = GDALDatasetCreateLayer(g->ds, layer_defs[k].name,
                                     layer_defs[k].has_geom ? g->dst : NULL,
                                     layer_defs[k].has_geom ? wkbMultiPolygon : wkbNone, opts);
        CSLDestroy(opts);
        if (!lyr)
            return kd_err_set(err, KD_EIO, "sample.gpkg_layer", "cannot create layer %s: %s",
                              layer_defs[k].name, cpl_msg(g));
        for (f = 0; layer_defs[k].fields[f]; f++) {
            const char *name = layer_defs[k].fields[f];
            OGRFieldDefnH fd =
                OGR_Fld_Create(name, strcmp(name, "declared_area_m2") ? OFTString : OFTReal);
            OGRErr oe = OGR_L_CreateField(lyr, fd, TRUE);
            OGR_Fld_Destroy(fd);
            if (oe != OGRERR_NONE)
                return kd_err_set(err, KD_EIO, "sample.gpkg_layer",
                                  "cannot create field %s of layer %s: %s", name,
                                  layer_defs[k].name, cpl_msg(g));
        }
        g->lyr[k] = lyr;
        g->feat[k] = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        if (!g->feat[k])
            return kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory in GDAL");
    }
    return KD_OK;
}

enum kd_code kd_sample_gpkg_open(const char *path, const char *crs, struct kd_sample_gpkg **out,
                                 struct kd_err *err)
{
    struct kd_sample_gpkg *g = NULL;
    GDALDriverH drv;
    struct stat st;
    struct kd_op_choice op;
    enum kd_code rc = KD_OK;
    int created = 0;

    memset(&op, 0, sizeof op);
    if (!crs)
        crs = "EPSG:32642";
    if (!path || !*path)
        return kd_err_set(err, KD_EINVAL, "sample.gpkg_path", "no GeoPackage path given");
    if (stat(path, &st) == 0) {
        kd_err_set(err, KD_EIO, "sample.gpkg_exists", "'%s' exists already", path);
        kd_err_hint(err, "remove it or choose another path: the sample never overwrites a file");
        kd_err_where(err, "%s", path);
        return KD_EIO;
    }
    g = calloc(1, sizeof *g);
    if (g)
        g->path = strdup(path);
    if (!g || !g->path) {
        free(g);
        return kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory opening '%s'", path);
    }
    GDALAllRegister();
    catch_begin(g);
    drv = GDALGetDriverByName("GPKG");
    if (!drv) {
        rc = kd_err_set(err, KD_EGEO, "sample.gpkg_driver", "GDAL has no GPKG driver");
        kd_err_hint(err, "install a GDAL built with SQLite (Debian: libgdal32)");
        goto out;
    }
    g->dst = OSRNewSpatialReference(NULL);
    if (!g->dst) {
        rc = kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory in GDAL");
        goto out;
    }
    if (OSRSetFromUserInput(g->dst, crs) != OGRERR_NONE) {
        rc =
            kd_err_set(err, KD_EINVAL, "sample.gpkg_crs",
                       "'%s' is not a coordinate reference system GDAL knows: %s", crs, cpl_msg(g));
        kd_err_hint(err, "give an EPSG code such as EPSG:28412 (SK-42 Gauss-Kruger zone 12)");
        goto out;
    }
    /* x = easting (or longitude), as the WKB handed to the layers is */
    OSRSetAxisMappingStrategy(g->dst, OAMS_TRADITIONAL_GIS_ORDER);
    rc = choose_op(g, crs, &op, err);
    if (rc != KD_OK)
        goto out;
    g->ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!g->ds) {
        rc = kd_err_set(err, KD_EIO, "sample.gpkg_create", "cannot create a GeoPackage: %s",
                        cpl_msg(g));
        kd_err_hint(err, "check that the directory exists and is writable");
        goto out;
    }
    created = 1;
    rc = create_layers(g, err);
    if (rc != KD_OK)
        goto out;
    /* one transaction for the whole sample: SQLite commits once */
    if (GDALDatasetStartTransaction(g->ds, FALSE) != OGRERR_NONE) {
        rc = kd_err_set(err, KD_EIO, "sample.gpkg_create", "cannot start a transaction: %s",
                        cpl_msg(g));
        goto out;
    }
    g->in_tx = 1;
    /* say which operation moved the data, and how well (DOMAIN.md: coordinate systems) */
    GDALSetMetadataItem(g->ds, "KADASTR_SOURCE_CRS", "EPSG:32642", NULL);
    {
        char name[600];
        if (kd_snprintf(name, sizeof name, "reverse of: %s", op.name) >= 0)
            GDALSetMetadataItem(g->ds, "KADASTR_OPERATION", name, NULL);
    }
    if (op.transformation[0])
        GDALSetMetadataItem(g->ds, "KADASTR_TRANSFORMATION", op.transformation, NULL);
out:
    kd_op_choice_fini(&op);
    catch_end();
    if (rc != KD_OK) {
        kd_err_where(err, "%s", path);
        catch_begin(g);
        release(g, 1);
        catch_end();
        if (created)
            remove_files(g->path);
        free(g->path);
        free(g);
        return rc;
    }
    *out = g;
    return KD_OK;
}

static void set_str(OGRFeatureH f, int i, const char *s)
{
    if (s)
        OGR_F_SetFieldString(f, i, s);
    else
        OGR_F_SetFieldNull(f, i);
}

/* Writes the layer's reused feature, with wkb (EPSG:32642) reprojected when given. */
static enum kd_code write_row(struct kd_sample_gpkg *g, int k, const unsigned char *wkb,
                              size_t wkb_len, const char *id, struct kd_err *err)
{
    OGRFeatureH f = g->feat[k];
    OGRGeometryH geom = NULL;
    enum kd_code rc = KD_OK;

    catch_begin(g);
    if (wkb && g->xf) {
        struct kd_err e;
        if (wkb_len > g->buf_cap) {
            size_t cap = g->buf_cap ? g->buf_cap : 4096;
            unsigned char *p;
            while (cap < wkb_len)
                cap *= 2;
            p = realloc(g->buf, cap);
            if (!p) {
                rc = kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory");
                goto out;
            }
            g->buf = p;
            g->buf_cap = cap;
        }
        memcpy(g->buf, wkb, wkb_len);
        kd_err_init(&e);
        if (kd_xform_wkb(g->xf, 1, g->buf, wkb_len, &e) != KD_OK) {
            rc = kd_err_set(err, KD_EGEO, "sample.gpkg_transform",
                            "cannot transform the geometry: %s", e.msg);
            goto out;
        }
        wkb = g->buf;
    }
    if (wkb) {
        if (OGR_G_CreateFromWkb(wkb, NULL, &geom, (int)wkb_len) != OGRERR_NONE) {
            rc = kd_err_set(err, KD_EGEO, "sample.gpkg_geometry", "unreadable geometry: %s",
                            cpl_msg(g));
            goto out;
        }
        OGR_F_SetGeometryDirectly(f, geom);
    }
    OGR_F_SetFID(f, OGRNullFID);
    if (OGR_L_CreateFeature(g->lyr[k], f) != OGRERR_NONE)
        rc = kd_err_set(err, KD_EIO, "sample.gpkg_write", "cannot write the row: %s", cpl_msg(g));
out:
    catch_end();
    if (rc != KD_OK)
        kd_err_where(err, "%s: layer %s: %s", g->path, layer_defs[k].name, id);
    return rc;
}

static enum kd_code on_admin(void *ud, const struct kd_sample_admin_unit *a, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_ADMIN];

    set_str(f, 0, a->code);
    set_str(f, 1, a->level);
    set_str(f, 2, a->name);
    set_str(f, 3, a->parent_code);
    return write_row(g, L_ADMIN, a->wkb, a->wkb_len, a->code, err);
}

static enum kd_code on_zone(void *ud, const struct kd_sample_area *z, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_ZONES];

    set_str(f, 0, z->code);
    set_str(f, 1, z->kind);
    set_str(f, 2, z->name);
    set_str(f, 3, z->permitted_uses);
    return write_row(g, L_ZONES, z->wkb, z->wkb_len, z->code, err);
}

static enum kd_code on_restriction(void *ud, const struct kd_sample_area *r, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_RESTRICTIONS];

    set_str(f, 0, r->code);
    set_str(f, 1, r->kind);
    set_str(f, 2, r->name);
    return write_row(g, L_RESTRICTIONS, r->wkb, r->wkb_len, r->code, err);
}

static enum kd_code on_party(void *ud, const struct kd_sample_party *p, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_PARTIES];
    const char *id = p->pinfl ? p->pinfl : p->stir;

    set_str(f, 0, id);
    set_str(f, 1, p->kind);
    set_str(f, 2, p->name);
    return write_row(g, L_PARTIES, NULL, 0, id ? id : "(no id)", err);
}

static enum kd_code on_parcel(void *ud, const struct kd_sample_parcel *p, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_PARCELS];

    if (p->valid_to) /* the layer holds the register as it is now */
        return KD_OK;
    set_str(f, 0, p->cadastral_number);
    set_str(f, 1, p->land_category);
    set_str(f, 2, p->land_use);
    set_str(f, 3, p->address);
    OGR_F_SetFieldDouble(f, 4, p->declared_area_m2);
    set_str(f, 5, p->valid_from);
    return write_row(g, L_PARCELS, p->wkb, p->wkb_len, p->cadastral_number, err);
}

static enum kd_code on_right(void *ud, const struct kd_sample_right *r, struct kd_err *err)
{
    struct kd_sample_gpkg *g = ud;
    OGRFeatureH f = g->feat[L_RIGHTS];

    set_str(f, 0, r->cadastral_number);
    set_str(f, 1, r->party_id);
    set_str(f, 2, r->kind);
    set_str(f, 3, r->share);
    set_str(f, 4, r->document);
    set_str(f, 5, r->document_date);
    set_str(f, 6, r->registered_on);
    return write_row(g, L_RIGHTS, NULL, 0, r->cadastral_number, err);
}

void kd_sample_gpkg_sink(struct kd_sample_gpkg *g, struct kd_sample_sink *sink)
{
    memset(sink, 0, sizeof *sink);
    sink->ud = g;
    sink->admin_unit = on_admin;
    sink->zone = on_zone;
    sink->restriction = on_restriction;
    sink->party = on_party;
    sink->parcel = on_parcel;
    sink->right = on_right;
    sink->application = NULL; /* applications are the register's business, not the sample's */
}

enum kd_code kd_sample_gpkg_close(struct kd_sample_gpkg *g, struct kd_err *err)
{
    enum kd_code rc = KD_OK;

    if (!g)
        return KD_OK;
    catch_begin(g);
    if (g->in_tx && GDALDatasetCommitTransaction(g->ds) != OGRERR_NONE)
        rc = kd_err_set(err, KD_EIO, "sample.gpkg_commit", "cannot commit the GeoPackage: %s",
                        cpl_msg(g));
    g->in_tx = 0;
    /* the spatial indexes are built and the file flushed on close: failures show here */
    g->cpl_failed = 0;
    release(g, rc != KD_OK);
    if (rc == KD_OK && g->cpl_failed)
        rc = kd_err_set(err, KD_EIO, "sample.gpkg_close", "cannot finish the GeoPackage: %s",
                        cpl_msg(g));
    catch_end();
    if (rc != KD_OK) {
        kd_err_hint(err, "check the free space and permissions where the file is written");
        kd_err_where(err, "%s", g->path);
        remove_files(g->path);
    }
    free(g->path);
    free(g);
    return rc;
}

void kd_sample_gpkg_abort(struct kd_sample_gpkg *g)
{
    if (!g)
        return;
    catch_begin(g); /* nothing to report: the file goes anyway */
    release(g, 1);
    catch_end();
    remove_files(g->path);
    free(g->path);
    free(g);
}
