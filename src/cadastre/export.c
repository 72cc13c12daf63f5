/* SPDX-License-Identifier: Apache-2.0 */
/* Open-data export: one layer of the register (live, or as of a date) written by GDAL in the
 * format the file's extension names. Open data carries no personal data: rights appear only
 * as "kind share" summaries, parties never. Field names are the ones `kadastr load` reads
 * without a mapping, so an export loads back as it is. The file is new or nothing: it is
 * refused when it exists, written in one transaction where the driver has them, and removed
 * on any failure. GDAL's messages are caught on this thread by a pushed handler. Rights
 * summaries are read for the whole layer in one ordered query before the parcels, then
 * found per parcel by binary search: a query per parcel cost four times the export. */
#include "cadastre_int.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct format {
    const char *ext;
    const char *driver;
};
static const struct format formats[] = {
    {".gpkg", "GPKG"}, {".geojson", "GeoJSON"}, {".fgb", "FlatGeobuf"}, {".csv", "CSV"}};

/* Field names per layer (what kadastr load reads back without a mapping). */
static const char *const parcel_fields[] = {
    "cadastral_number", "land_category",    "land_use",   "address",  "area_m2",
    "geodesic_area_m2", "declared_area_m2", "valid_from", "valid_to", "rights"};
enum {
    F_NUMBER,
    F_CATEGORY,
    F_USE,
    F_ADDRESS,
    F_AREA,
    F_GEOD,
    F_DECLARED,
    F_FROM,
    F_TO,
    F_RIGHTS,
    N_PARCEL_FIELDS
};
static const char *const zone_fields[] = {"zone_code", "zone_kind", "zone_name", "permitted_uses"};
static const char *const restriction_fields[] = {"restriction_code", "restriction_kind",
                                                 "restriction_name"};
static const char *const admin_fields[] = {"admin_code", "admin_level", "admin_name",
                                           "parent_code"};

struct gdal_msg {
    char last[512]; /* the last failure GDAL reported on this thread */
};

static void gdal_handler(CPLErr cls, CPLErrorNum no, const char *msg)
{
    struct gdal_msg *m = CPLGetErrorHandlerUserData();

    (void)no;
    if (m && cls >= CE_Failure)
        kd_strlcpy(m->last, msg ? msg : "unknown GDAL error", sizeof m->last);
}

/* Every parcel number's rights summary ("ownership 1/2; ownership 1/2"), read in one pass. */
struct summaries {
    struct kd_buf text; /* "number\0summary\0" for each number */
    size_t *off;        /* where each number starts in text, in number (strcmp) order */
    size_t n, cap;
    int failed;
};

struct writer {
    struct kd_store *st;
    const struct kd_export_opts *o;
    struct kd_xform *xf; /* office -> output CRS, NULL when the same */
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    struct gdal_msg *msg;
    struct summaries rights;
    unsigned char *wkb; /* scratch copy for transforming */
    size_t wkb_cap;
    long n;
};

static enum kd_code gdal_fail(struct writer *w, const char *key, const char *what,
                              struct kd_err *err)
{
    return kd_err_set(err, KD_EIO, key, "%s: %s", what,
                      w->msg->last[0] ? w->msg->last : "GDAL gave no reason");
}

static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

static void set_str(OGRFeatureH f, int i, const char *s)
{
    if (s && s[0])
        OGR_F_SetFieldString(f, i, s);
    else
        OGR_F_SetFieldNull(f, i);
}

/* The geometry of a record, transformed to the output CRS, set on f. */
static enum kd_code set_geometry(struct writer *w, OGRFeatureH f, const unsigned char *wkb,
                                 size_t len, struct kd_err *err)
{
    OGRGeometryH geom = NULL;

    if (!wkb || !len)
        return KD_OK;
    if (len > w->wkb_cap) {
        unsigned char *p = realloc(w->wkb, len);
        if (!p)
            return kd_err_set(err, KD_ENOMEM, "export.nomem", "out of memory");
        w->wkb = p;
        w->wkb_cap = len;
    }
    memcpy(w->wkb, wkb, len);
    if (w->xf && kd_xform_wkb(w->xf, 0, w->wkb, len, err))
        return err->code;
    if (OGR_G_CreateFromWkbEx(w->wkb, NULL, &geom, len) != OGRERR_NONE || !geom)
        return kd_err_set(err, KD_EIO, "export.write", "GDAL cannot read a geometry");
    OGR_F_SetGeometryDirectly(f, geom); /* f takes geom */
    return KD_OK;
}

static enum kd_code write_feature(struct writer *w, OGRFeatureH f, const char *what,
                                  struct kd_err *err)
{
    if (OGR_L_CreateFeature(w->layer, f) != OGRERR_NONE) {
        gdal_fail(w, "export.write", "writing a feature failed", err);
        kd_err_where(err, "%s", what);
        return KD_EIO;
    }
    w->n++;
    return KD_OK;
}

/* Rights arrive ordered by number, then kind and party: a new number starts a new entry. */
static enum kd_code summary_cb(void *ud, const struct kd_right *r, struct kd_err *err)
{
    struct summaries *s = ud;
    const char *last = s->n ? s->text.data + s->off[s->n - 1] : NULL;

    (void)err;
    if (!last || strcmp(last, r->number) != 0) {
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 1024;
            size_t *v = realloc(s->off, nc * sizeof *v);
            if (!v) {
                s->failed = 1;
                return kd_err_set(err, KD_ENOMEM, "export.nomem", "out of memory");
            }
            s->off = v;
            s->cap = nc;
        }
        if (s->n)
            kd_buf_add(&s->text, "", 1); /* ends the previous summary */
        s->off[s->n++] = s->text.len;
        kd_buf_add(&s->text, r->number, strlen(r->number) + 1);
    } else {
        kd_buf_adds(&s->text, "; ");
    }
    /* kinds and shares only: who holds them is personal data */
    kd_buf_addf(&s->text, "%s %lld/%lld", r->kind, (long long)r->share.num,
                (long long)r->share.den);
    return KD_OK;
}

static enum kd_code read_summaries(struct kd_store *st, const char *as_of, struct summaries *s,
                                   struct kd_err *err)
{
    size_t i;
    enum kd_code rc = kd_store_rights_all_at(st, as_of, summary_cb, s, err);

    if (rc)
        return rc;
    if (s->n)
        kd_buf_add(&s->text, "", 1);
    if (s->text.failed)
        return kd_err_set(err, KD_ENOMEM, "export.nomem", "out of memory");
    /* the binary search needs strcmp order; SQLite's BINARY collation is the same order,
     * which this checks rather than assumes */
    for (i = 1; i < s->n; i++)
        if (strcmp(s->text.data + s->off[i - 1], s->text.data + s->off[i]) >= 0)
            return kd_err_set(err, KD_ESTORE, "export.rights_order",
                              "rights came out of number order (%s after %s)",
                              s->text.data + s->off[i], s->text.data + s->off[i - 1]);
    return KD_OK;
}

/* The summary of number's rights, or NULL when it has none. */
static const char *summary_of(const struct summaries *s, const char *number)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = s->text.data + s->off[mid];
        int c = strcmp(number, k);
        if (c == 0)
            return k + strlen(k) + 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void summaries_fini(struct summaries *s)
{
    kd_buf_fini(&s->text);
    free(s->off);
    memset(s, 0, sizeof *s);
}

static enum kd_code parcel_cb(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct writer *w = ud;
    OGRFeatureH f;
    enum kd_code rc;

    f = OGR_F_Create(w->defn);
    if (!f)
        return kd_err_set(err, KD_ENOMEM, "export.nomem", "out of memory");
    set_str(f, F_NUMBER, p->number);
    set_str(f, F_CATEGORY, p->land_category);
    set_str(f, F_USE, p->land_use);
    set_str(f, F_ADDRESS, p->address);
    OGR_F_SetFieldDouble(f, F_AREA, round2(p->area_m2));
    OGR_F_SetFieldDouble(f, F_GEOD, round2(p->geodesic_area_m2));
    if (isnan(p->declared_area_m2))
        OGR_F_SetFieldNull(f, F_DECLARED);
    else
        OGR_F_SetFieldDouble(f, F_DECLARED, round2(p->declared_area_m2));
    set_str(f, F_FROM, p->valid_from);
    set_str(f, F_TO, p->valid_to);
    set_str(f, F_RIGHTS, summary_of(&w->rights, p->number));
    rc = set_geometry(w, f, p->wkb, p->wkb_len, err);
    if (!rc)
        rc = write_feature(w, f, p->number, err);
    if (rc)
        kd_err_where(err, "parcel %s", p->number);
    OGR_F_Destroy(f);
    return rc;
}

static enum kd_code area_cb(void *ud, const struct kd_area *a, struct kd_err *err)
{
    struct writer *w = ud;
    OGRFeatureH f = OGR_F_Create(w->defn);
    enum kd_code rc;

    if (!f)
        return kd_err_set(err, KD_ENOMEM, "export.nomem", "out of memory");
    set_str(f, 0, a->code);
    set_str(f, 1, a->kind);
    set_str(f, 2, a->name);
    if (a->layer != KD_LAYER_RESTRICTIONS)
        set_str(f, 3, a->extra); /* permitted uses; parent code */
    rc = set_geometry(w, f, a->wkb, a->wkb_len, err);
    if (!rc)
        rc = write_feature(w, f, a->code, err);
    if (rc)
        kd_err_where(err, "%s %s", kd_layer_name(a->layer), a->code);
    OGR_F_Destroy(f);
    return rc;
}

static const struct format *format_of(const char *path)
{
    size_t n = strlen(path), i;

    for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        size_t k = strlen(formats[i].ext);
        if (n > k && strcasecmp(path + n - k, formats[i].ext) == 0)
            return &formats[i];
    }
    return NULL;
}

/* Removes what a failed export left: the file and the side files of SQLite-based formats. */
static void remove_partial(const char *path)
{
    static const char *const side[] = {"-journal", "-wal", "-shm"};
    char p[4096];
    size_t i;

    unlink(path);
    for (i = 0; i < sizeof side / sizeof side[0]; i++)
        if (kd_snprintf(p, sizeof p, "%s%s", path, side[i]) > 0)
            unlink(p);
}

/* When a file cannot be created: the usual cause is its directory, missing or read-only. */
static void hint_directory(const char *path, struct kd_err *err)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    struct stat sb;

    if (!slash)
        kd_strlcpy(dir, ".", sizeof dir);
    else if (slash == path)
        kd_strlcpy(dir, "/", sizeof dir);
    else if (kd_snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) < 0)
        return;
    if (stat(dir, &sb) != 0)
        kd_err_hint(err,
                    "the directory %s does not exist: create it first (export makes no "
                    "directories)",
                    dir);
    else if (!S_ISDIR(sb.st_mode))
        kd_err_hint(err, "%s is not a directory", dir);
    else if (access(dir, W_OK) != 0)
        kd_err_hint(err, "the directory %s is not writable", dir);
    else
        kd_err_hint(err, "check the file name and the free space of %s", dir);
}

static enum kd_code create_fields(struct writer *w, const char *const *names, size_t n,
                                  struct kd_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int real = names == parcel_fields && (i == F_AREA || i == F_GEOD || i == F_DECLARED);
        OGRFieldDefnH fd = OGR_Fld_Create(names[i], real ? OFTReal : OFTString);
        OGRErr e = OGR_L_CreateField(w->layer, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            gdal_fail(w, "export.create", "creating a field failed", err);
            kd_err_where(err, "field %s", names[i]);
            return KD_EIO;
        }
    }
    return KD_OK;
}

enum kd_code kd_export_layer(struct kd_store *st, struct kd_geo *g, const char *path,
                             const struct kd_export_opts *o, struct kd_export_stats *stats,
                             struct kd_err *err)
{
    const struct kd_store_config *cfg = kd_store_config(st);
    const struct format *fmt = format_of(path);
    struct gdal_msg msg;
    struct writer w;
    GDALDriverH drv;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    char **lco = NULL;
    const char *const *names = NULL;
    size_t n_names = 0;
    int srid = o->srid ? o->srid : cfg->srid, in_tx = 0, created = 0;
    enum kd_code rc = KD_OK;

    memset(&w, 0, sizeof w);
    memset(&msg, 0, sizeof msg);
    kd_buf_init(&w.rights.text);
    w.st = st;
    w.o = o;
    w.msg = &msg;
    switch (o->layer) {
    case KD_LAYER_PARCELS:
        names = parcel_fields, n_names = N_PARCEL_FIELDS;
        break;
    case KD_LAYER_ZONES:
        names = zone_fields, n_names = 4;
        break;
    case KD_LAYER_RESTRICTIONS:
        names = restriction_fields, n_names = 3;
        break;
    case KD_LAYER_ADMIN_UNITS:
        names = admin_fields, n_names = 4;
        break;
    default:
        kd_err_set(err, KD_EINVAL, "export.layer", "the %s layer is not open data",
                   kd_layer_name(o->layer));
        kd_err_hint(err, "export parcels, zones, restrictions or admin_units");
        return KD_EINVAL;
    }
    if (!fmt) {
        kd_err_set(err, KD_EINVAL, "export.format", "%s: the extension names no format", path);
        kd_err_hint(err, "end the file name in .gpkg, .geojson, .fgb or .csv");
        return KD_EINVAL;
    }
    if (access(path, F_OK) == 0) {
        kd_err_set(err, KD_EINVAL, "export.exists", "%s already exists", path);
        kd_err_hint(err, "choose a new file name; an export never overwrites a file");
        return KD_EINVAL;
    }
    if (srid != cfg->srid) {
        char name[128];
        /* checked here: kd_xform_epsg would say "the CRS of the office" of an unknown target */
        kd_crs_name(g, srid, name, sizeof name);
        if (!name[0]) {
            kd_err_set(err, KD_EINVAL, "crs.unknown", "PROJ does not know the CRS EPSG:%d", srid);
            kd_err_hint(err, "name the output CRS by an EPSG code PROJ knows, e.g. EPSG:4326");
            return KD_EINVAL;
        }
        if ((rc = kd_xform_epsg(g, cfg->srid, srid, cfg->area, &w.xf, err)))
            return rc;
    }

    CPLPushErrorHandlerEx(gdal_handler, &msg);
    GDALAllRegister();
    drv = GDALGetDriverByName(fmt->driver);
    if (!drv) {
        rc = kd_err_set(err, KD_EIO, "export.format", "this GDAL has no %s driver", fmt->driver);
        goto out;
    }
    srs = OSRNewSpatialReference(NULL);
    if (!srs || OSRImportFromEPSG(srs, srid) != OGRERR_NONE) {
        rc = kd_err_set(err, KD_EINVAL, "crs.unknown", "GDAL does not know EPSG:%d", srid);
        goto out;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER); /* x = easting / longitude */
    if (strcmp(fmt->driver, "GeoJSON") == 0 && srid == 4326)
        lco = CSLSetNameValue(lco, "RFC7946", "YES");
    /* GDAL reads a string property such as 10:26:01:02:03:0045 as the time 10:26:01 unless
     * the reader asks otherwise; a feature id it reads intact (a String "id" field), and
     * `kadastr load` reads the id as the number when there is no cadastral_number field */
    if (strcmp(fmt->driver, "GeoJSON") == 0 && o->layer == KD_LAYER_PARCELS)
        lco = CSLSetNameValue(lco, "ID_FIELD", parcel_fields[F_NUMBER]);
    if (strcmp(fmt->driver, "CSV") == 0)
        lco = CSLSetNameValue(lco, "GEOMETRY", "AS_WKT");
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        rc = gdal_fail(&w, "export.create", "creating the file failed", err);
        hint_directory(path, err);
        goto out; /* where: the path, added there */
    }
    created = 1;
    w.layer = GDALDatasetCreateLayer(ds, kd_layer_name(o->layer), srs, wkbMultiPolygon, lco);
    if (!w.layer) {
        rc = gdal_fail(&w, "export.create", "creating the layer failed", err);
        goto out;
    }
    rc = create_fields(&w, names, n_names, err);
    if (rc)
        goto out;
    w.defn = OGR_L_GetLayerDefn(w.layer);
    /* one transaction where the driver has them (GeoPackage); others write as they go */
    in_tx = GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
    if (o->layer == KD_LAYER_PARCELS && !(rc = read_summaries(st, o->as_of, &w.rights, err)))
        rc = kd_store_parcels_foreach(st, o->as_of, 1, parcel_cb, &w, err);
    else
        rc = kd_store_areas_foreach(st, o->layer, o->as_of, 1, area_cb, &w, err);
    if (rc)
        goto out;
    if (in_tx) {
        in_tx = 0;
        if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
            rc = gdal_fail(&w, "export.write", "committing the file failed", err);
            goto out;
        }
    }
    msg.last[0] = '\0';
    GDALClose(ds); /* writes what drivers keep for the end (FlatGeobuf's index) */
    ds = NULL;
    if (msg.last[0]) {
        rc = kd_err_set(err, KD_EIO, "export.write", "closing the file failed: %s", msg.last);
        goto out;
    }
    if (stats) {
        stats->n_features = w.n;
        kd_strlcpy(stats->driver, fmt->driver, sizeof stats->driver);
        stats->srid = srid;
    }
out:
    if (ds) {
        if (in_tx)
            GDALDatasetRollbackTransaction(ds);
        GDALClose(ds);
    }
    if (rc && created)
        remove_partial(path);
    if (rc)
        kd_err_where(err, "%s", path);
    CPLPopErrorHandler();
    CSLDestroy(lco);
    if (srs)
        OSRDestroySpatialReference(srs);
    kd_xform_free(w.xf);
    summaries_fini(&w.rights);
    free(w.wkb);
    return rc;
}
