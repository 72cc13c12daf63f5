/* SPDX-License-Identifier: Apache-2.0 */
/* kd_load: two passes over every source of the command. The first reads only the numbers
 * (a duplicate group is every feature of the command sharing a number, whatever else
 * rejects some of them) and refuses fields GDAL typed as dates; the second transforms,
 * validates and writes, inside one transaction that a failure or a signal rolls back.
 * Each rejected feature gets exactly one reason, the first that applies (enum kd_reason). */
#include "ingest_int.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const reason_names[KD_R_COUNT] = {
    "null_geometry",  "wrong_type",       "invalid_geometry",  "missing_number",
    "bad_number",     "duplicate_number", "bad_declared_area", "missing_code",
    "missing_field",  "bad_party_id",     "bad_share",         "bad_date",
    "unknown_parcel", "unknown_party",    "conflict",          "field_too_long"};

const char *kd_reason_name(enum kd_reason r)
{
    return (unsigned)r < KD_R_COUNT ? reason_names[r] : "?";
}

void kd_load_result_fini(struct kd_load_result *r)
{
    if (!r)
        return;
    free(r->sources);
    kd_store_op_fini(&r->op);
    memset(r, 0, sizeof *r);
}

/* ---- number counts: an open-addressing set of strings with counts ------------------------ */

struct numslot {
    char *key;
    int count;               /* features of the command with this number */
    int seen;                /* how many of them pass 2 has met */
    GEOSGeometry *merged;    /* merge mode: the polygons gathered so far */
    OGRFeatureH first;       /* merge mode: the first member, for the attributes */
    struct field_bind *bind; /* merge mode: how to read first */
};

struct numset {
    struct numslot *slots;
    size_t cap, n;
};

static size_t numset_index(const struct numset *s, const char *key)
{
    uint64_t h = kd_hash64(0, key, strlen(key));
    size_t i = (size_t)h & (s->cap - 1);

    while (s->slots[i].key && strcmp(s->slots[i].key, key) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static struct numslot *numset_get(struct numset *s, const char *key, int add)
{
    size_t i;

    if (add && (s->n + 1) * 2 > s->cap) {
        struct numset bigger = {NULL, s->cap ? s->cap * 2 : 1024, 0};
        size_t k;
        bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
        if (!bigger.slots)
            return NULL;
        for (k = 0; k < s->cap; k++)
            if (s->slots[k].key)
                bigger.slots[numset_index(&bigger, s->slots[k].key)] = s->slots[k];
        bigger.n = s->n;
        free(s->slots);
        *s = bigger;
    }
    if (!s->cap)
        return NULL;
    i = numset_index(s, key);
    if (!s->slots[i].key) {
        if (!add)
            return NULL;
        s->slots[i].key = strdup(key);
        if (!s->slots[i].key)
            return NULL;
        s->n++;
    }
    return &s->slots[i];
}

static void numset_free(struct numset *s, GEOSContextHandle_t h)
{
    size_t i;

    for (i = 0; i < s->cap; i++) {
        free(s->slots[i].key);
        if (s->slots[i].merged)
            GEOSGeom_destroy_r(h, s->slots[i].merged);
        if (s->slots[i].first)
            OGR_F_Destroy(s->slots[i].first);
        free(s->slots[i].bind);
    }
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- the loader ------------------------------------------------------------------------ */

/* Which feature a count or a reject is about. */
struct fctx {
    const char *src_name;
    char fid[32];
    struct kd_load_counts *counts;
};

struct loader {
    struct kd_store *st;
    struct kd_geo *g;
    GEOSContextHandle_t h;
    const struct kd_load_opts *o;
    struct kd_load_result *res;
    const struct kd_store_config *cfg;
    struct kd_mapping map;
    char now[32];
    struct kd_writer *w; /* geometry layers only */
    struct kd_xform *xf; /* source CRS -> office CRS for the current layer */
    struct xcache {
        char key[256];
        struct kd_xform *xf;
    } * xcache; /* one operation per source CRS met by this command */
    size_t n_xcache;
    struct numset nums;
    /* rejects */
    GDALDatasetH rej_ds;
    OGRLayerH rej_layer;
    /* the current feature (the producer's; jobs carry their own copy) */
    struct fctx cur;
    struct kd_pipe *pipe;        /* parcels: the SQLite side on its own thread, or NULL */
    struct kd_writer_proj *proj; /* the PROJ side of parcels, on the pipe's thread */
    long done, total;
    time_t last_progress;
};

static void note(struct loader *L, const char *fmt, ...) KD_PRINTF(2, 3);
static void note(struct loader *L, const char *fmt, ...)
{
    char line[768];
    va_list ap;

    if (!L->o->note)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    L->o->note(L->o->note_ud, line);
}

static void count(struct loader *L, const struct fctx *f, int what)
{
    /* what: 0 loaded, 1 unchanged */
    long *t = what ? &L->res->total.unchanged : &L->res->total.loaded;
    long *s = what ? &f->counts->unchanged : &f->counts->loaded;

    (*t)++;
    (*s)++;
}

static enum kd_code rejects_open(struct loader *L, struct kd_err *err)
{
    const char *path = L->o->rejects;
    char def[1024];
    GDALDriverH drv;
    OGRSpatialReferenceH srs;
    static const char *const fields[] = {"source",  "feature_id", "reason",
                                         "message", "location",   "number"};
    size_t i;

    if (!path) {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (kd_snprintf(def, sizeof def, "%s.rejects-%s.gpkg",
                        L->o->db_path ? L->o->db_path : "kadastr", stamp) < 0)
            return kd_err_set(err, KD_EINVAL, "load.rejects", "the rejects path is too long");
        path = def;
    }
    drv =
        GDALGetDriverByName(strlen(path) > 8 && (strcmp(path + strlen(path) - 8, ".geojson") == 0 ||
                                                 strcmp(path + strlen(path) - 5, ".json") == 0)
                                ? "GeoJSON"
                                : "GPKG");
    if (access(path, F_OK) == 0) {
        kd_err_set(err, KD_EINVAL, "load.rejects_exists", "the rejects file %s already exists",
                   path);
        kd_err_hint(err, "choose another --rejects file, or remove the old one");
        return KD_EINVAL;
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    L->rej_ds = drv ? GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    CPLPopErrorHandler();
    if (!L->rej_ds) {
        kd_err_set(err, KD_EIO, "load.rejects", "cannot create the rejects file %s: %s", path,
                   CPLGetLastErrorMsg());
        kd_err_hint(err, "give a writable --rejects FILE ending in .gpkg or .geojson");
        return KD_EIO;
    }
    srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, L->cfg->srid);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    L->rej_layer = GDALDatasetCreateLayer(L->rej_ds, "rejects", srs, wkbUnknown, NULL);
    OSRRelease(srs);
    for (i = 0; L->rej_layer && i < sizeof fields / sizeof fields[0]; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i], OFTString);
        OGR_L_CreateField(L->rej_layer, fd, 1);
        OGR_Fld_Destroy(fd);
    }
    if (!L->rej_layer)
        return kd_err_set(err, KD_EIO, "load.rejects", "cannot create the rejects layer in %s",
                          path);
    GDALDatasetStartTransaction(L->rej_ds, 1);
    kd_strlcpy(L->res->rejects_path, path, sizeof L->res->rejects_path);
    return KD_OK;
}

/* Counts and writes out a rejected feature. geom_wkb: in the office CRS, or NULL. */
static enum kd_code reject_at(struct loader *L, const struct fctx *fc, enum kd_reason r,
                              const char *number, const char *location, const unsigned char *wkb,
                              size_t wkb_len, const char *msg, struct kd_err *err)
{
    OGRFeatureH f;
    OGRGeometryH geom = NULL;

    L->res->total.rejected++;
    L->res->total.by_reason[r]++;
    fc->counts->rejected++;
    fc->counts->by_reason[r]++;
    if (!L->rej_ds && rejects_open(L, err))
        return err->code;
    f = OGR_F_Create(OGR_L_GetLayerDefn(L->rej_layer));
    OGR_F_SetFieldString(f, 0, fc->src_name);
    OGR_F_SetFieldString(f, 1, fc->fid);
    OGR_F_SetFieldString(f, 2, kd_reason_name(r));
    OGR_F_SetFieldString(f, 3, msg);
    if (location && location[0])
        OGR_F_SetFieldString(f, 4, location);
    if (number && number[0])
        OGR_F_SetFieldString(f, 5, number);
    if (wkb && OGR_G_CreateFromWkbEx(wkb, NULL, &geom, wkb_len) == OGRERR_NONE)
        OGR_F_SetGeometryDirectly(f, geom);
    if (OGR_L_CreateFeature(L->rej_layer, f) != OGRERR_NONE) {
        OGR_F_Destroy(f);
        return kd_err_set(err, KD_EIO, "load.rejects", "cannot write to the rejects file %s",
                          L->res->rejects_path);
    }
    OGR_F_Destroy(f);
    return KD_OK;
}

/* The current feature's reject, on the calling thread (layers without a pipe). */
static enum kd_code reject(struct loader *L, enum kd_reason r, const char *number,
                           const char *location, const unsigned char *wkb, size_t wkb_len,
                           const char *msg, struct kd_err *err)
{
    return reject_at(L, &L->cur, r, number, location, wkb, wkb_len, msg, err);
}

static void rejects_close(struct loader *L, int keep)
{
    if (!L->rej_ds)
        return;
    if (keep)
        GDALDatasetCommitTransaction(L->rej_ds);
    GDALClose(L->rej_ds);
    L->rej_ds = NULL;
    if (!keep && L->res->rejects_path[0]) {
        VSIUnlink(L->res->rejects_path);
        L->res->rejects_path[0] = '\0';
    }
}

/* ---- features --------------------------------------------------------------------------- */

/* The feature's geometry in the office CRS as a valid MultiPolygon, or a reason. On
 * success OUT geom (GEOS, the caller destroys it); on rejection *reason and msg are set
 * and wkb/wkb_len carry what there is to show in the rejects file (free()). */
static enum kd_code feature_polygon(struct loader *L, OGRFeatureH feat, GEOSGeometry **geom,
                                    int *reason, char *msg, size_t msg_size, char *loc,
                                    size_t loc_size, unsigned char **wkb, size_t *wkb_len,
                                    struct kd_err *err)
{
    OGRGeometryH src = OGR_F_GetGeometryRef(feat), flat = NULL;
    OGRwkbGeometryType t;
    GEOSGeometry *gg = NULL, *fixed;
    struct kd_err e2;
    double x, y;
    int v;

    *geom = NULL;
    *reason = -1;
    *wkb = NULL;
    loc[0] = '\0';
    if (!src || OGR_G_IsEmpty(src)) {
        *reason = KD_R_NULL_GEOMETRY;
        kd_snprintf(msg, msg_size, "the feature has %s geometry", src ? "an empty" : "no");
        return KD_OK;
    }
    t = wkbFlatten(OGR_G_GetGeometryType(src));
    if (t == wkbCurvePolygon || t == wkbMultiSurface) {
        flat = OGR_G_GetLinearGeometry(src, 0, NULL);
    } else if (t == wkbPolygon || t == wkbMultiPolygon) {
        flat = OGR_G_Clone(src);
    } else {
        *reason = KD_R_WRONG_TYPE;
        kd_snprintf(msg, msg_size, "a %s is not an area: expected a Polygon or MultiPolygon",
                    OGRGeometryTypeToName(t));
        return KD_OK;
    }
    if (!flat)
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    OGR_G_FlattenTo2D(flat);
    *wkb_len = (size_t)OGR_G_WkbSize(flat);
    *wkb = malloc(*wkb_len ? *wkb_len : 1);
    if (!*wkb) {
        OGR_G_DestroyGeometry(flat);
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    OGR_G_ExportToIsoWkb(flat, wkbNDR, *wkb);
    OGR_G_DestroyGeometry(flat);
    kd_err_init(&e2);
    if (kd_xform_wkb(L->xf, 0, *wkb, *wkb_len, &e2)) {
        *reason = KD_R_INVALID_GEOMETRY;
        kd_snprintf(msg, msg_size, "cannot be transformed to the office CRS: %s", e2.msg);
        free(*wkb);
        *wkb = NULL;
        return KD_OK;
    }
    gg = kd_geos_from_wkb(L->g, *wkb, *wkb_len, &e2);
    if (!gg) {
        *reason = KD_R_INVALID_GEOMETRY;
        kd_snprintf(msg, msg_size, "%s", e2.msg);
        return KD_OK;
    }
    v = kd_geos_validity(L->g, gg, msg, msg_size, &x, &y);
    if (v < 0) {
        GEOSGeom_destroy_r(L->h, gg);
        return kd_err_set(err, KD_EGEO, "geos.valid", "%s", msg);
    }
    if (v == 0) {
        char why[256];
        kd_snprintf(loc, loc_size, "%.3f %.3f", x, y);
        kd_strlcpy(why, msg, sizeof why);
        if (!L->o->repair) {
            *reason = KD_R_INVALID_GEOMETRY;
            kd_snprintf(msg, msg_size, "%s at %.3f %.3f (office CRS)", why, x, y);
            GEOSGeom_destroy_r(L->h, gg);
            return KD_OK;
        }
        fixed = kd_geos_make_valid_polygonal(L->g, gg);
        GEOSGeom_destroy_r(L->h, gg);
        if (!fixed) {
            *reason = KD_R_INVALID_GEOMETRY;
            kd_snprintf(msg, msg_size, "%s at %.3f %.3f; repair left nothing polygonal", why, x, y);
            return KD_OK;
        }
        L->res->total.repaired++;
        L->cur.counts->repaired++;
        {
            size_t used = strlen(L->res->repaired_ids);
            char piece[160];
            const char *base = strrchr(L->cur.src_name, '/');
            kd_snprintf(piece, sizeof piece, "%s%s:%s", used ? ", " : "",
                        base ? base + 1 : L->cur.src_name, L->cur.fid);
            if (used + strlen(piece) + 5 < sizeof L->res->repaired_ids)
                kd_strlcpy(L->res->repaired_ids + used, piece, sizeof L->res->repaired_ids - used);
            else if (!strstr(L->res->repaired_ids, ", ..."))
                kd_strlcpy(L->res->repaired_ids + used, ", ...",
                           sizeof L->res->repaired_ids - used);
        }
        *geom = fixed;
        return KD_OK;
    }
    *geom = kd_geos_to_multipolygon(L->g, gg);
    GEOSGeom_destroy_r(L->h, gg);
    if (!*geom)
        return kd_err_set(err, KD_EGEO, "geos.multi", "cannot make a MultiPolygon");
    return KD_OK;
}

static int parse_area_value(const char *s, double *v)
{
    char *end;

    if (!s[0]) {
        *v = NAN;
        return 0;
    }
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end || !isfinite(*v) ? -1 : 0;
}

/* A parcel on its way to the register: everything the SQLite side needs, made by the
 * producer (reading, PROJ, GEOS). A job is either a reject to write out, or a valid parcel
 * to insert, find unchanged, replace, or reject (a live duplicate, a bad attribute). */
struct pjob {
    struct fctx fc;
    int is_reject;
    enum kd_reason reason;
    char *raw;    /* the number as the source gave it */
    char *msg;    /* reject */
    char loc[64]; /* reject */
    char number[KD_CADNUM_MAX];
    char *attrs[4]; /* land_category, land_use, address, declared (text) */
    double declared;
    int declared_ok, too_long;
    enum kd_field long_field;
    size_t long_len;
    uint64_t hash;
    unsigned char *cad; /* office CRS WKB (also the reject's geometry) */
    size_t cad_len;
    struct kd_parcel_prep prep;
};

static void pjob_free(void *p)
{
    struct pjob *j = p;
    int i;

    if (!j)
        return;
    free(j->raw);
    free(j->msg);
    for (i = 0; i < 4; i++)
        free(j->attrs[i]);
    free(j->cad);
    kd_parcel_prep_fini(&j->prep);
    free(j);
}

static struct pjob *pjob_new(struct loader *L, const char *raw)
{
    struct pjob *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    j->fc = L->cur;
    j->raw = strdup(raw ? raw : "");
    if (!j->raw) {
        free(j);
        return NULL;
    }
    return j;
}

/* The SQLite side of a parcel (on the consumer thread when there is a pipe). */
/* The record a job's parcel is written as: the operation "load" or "replace". */
static struct kd_parcel_new parcel_new(const struct loader *L, const struct pjob *j,
                                       const char *number, const char *op)
{
    struct kd_parcel_new pn = {number,
                               j->attrs[0][0] ? j->attrs[0] : NULL,
                               j->attrs[1][0] ? j->attrs[1] : NULL,
                               j->attrs[2][0] ? j->attrs[2] : NULL,
                               j->declared,
                               0,
                               0,
                               L->now,
                               NULL,
                               op,
                               j->fc.src_name,
                               j->fc.fid,
                               j->hash,
                               j->cad,
                               j->cad_len,
                               NULL,
                               0};
    return pn;
}

static enum kd_code pjob_run(void *ud, void *p, struct kd_err *err)
{
    struct loader *L = ud;
    struct pjob *j = p;
    const char *number = j->number;
    char msg[512];
    struct kd_parcel old;
    struct kd_err e2;
    int have_old = 0;
    int64_t id;
    enum kd_code rc;

    if (j->is_reject)
        return reject_at(L, &j->fc, j->reason, j->raw, j->loc, j->cad, j->cad_len, j->msg, err);
    rc = kd_writer_parcel_project(L->proj, j->cad, j->cad_len, &j->prep, err);
    if (rc)
        return rc;
    kd_parcel_init(&old);
    if (j->declared_ok && !j->too_long) {
        /* optimistic: most numbers are new, and the live-number index says when not */
        struct kd_parcel_new pn = parcel_new(L, j, number, "load");
        kd_err_init(&e2);
        rc = kd_writer_parcel_commit(L->w, &pn, &j->prep, &id, &e2);
        if (rc == KD_OK) {
            count(L, &j->fc, 0);
            goto out;
        }
        if (strcmp(e2.key, "store.duplicate_live") != 0) {
            rc = kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
            goto out;
        }
    }
    /* the number is live already (or an attribute is bad, and a live duplicate is the
     * earlier reason) */
    kd_err_init(&e2);
    rc = kd_store_parcel_get(L->st, number, NULL, 0, &old, &e2);
    if (rc == KD_OK) {
        have_old = 1;
    } else if (rc != KD_ENOTFOUND) {
        rc = kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
        goto out;
    }
    rc = KD_OK;
    if (have_old && old.content_hash == j->hash) {
        count(L, &j->fc, 1);
        goto out;
    }
    if (have_old && !L->o->replace) {
        kd_snprintf(msg, sizeof msg,
                    "cadastral number %s is already live in the register with other content "
                    "(use --replace to register this as its new version)",
                    number);
        rc =
            reject_at(L, &j->fc, KD_R_DUPLICATE_NUMBER, j->raw, NULL, j->cad, j->cad_len, msg, err);
        goto out;
    }
    if (!j->declared_ok) {
        kd_snprintf(msg, sizeof msg, "declared area '%s' is not a positive number of m²",
                    j->attrs[3]);
        rc = reject_at(L, &j->fc, KD_R_BAD_DECLARED_AREA, j->raw, NULL, j->cad, j->cad_len, msg,
                       err);
        goto out;
    }
    if (j->too_long) {
        kd_snprintf(msg, sizeof msg, "%s has %zu bytes; the register keeps at most %zu",
                    kd_field_name(j->long_field), j->long_len, kd_field_max(j->long_field));
        rc = reject_at(L, &j->fc, KD_R_FIELD_TOO_LONG, j->raw, NULL, j->cad, j->cad_len, msg, err);
        goto out;
    }
    if (!have_old) {
        rc = kd_err_set(err, KD_ESTORE, "load.live_number",
                        "cadastral number %s is neither new nor live", number);
        goto out;
    }
    rc = kd_store_parcel_retire(L->st, old.id, L->now, err);
    if (rc)
        goto out;
    L->res->total.replaced++;
    j->fc.counts->replaced++;
    {
        struct kd_parcel_new pn = parcel_new(L, j, number, "replace");
        rc = kd_writer_parcel_commit(L->w, &pn, &j->prep, &id, err);
    }
    if (!rc)
        rc = kd_store_lineage_add(L->st, id, old.id, "replaces", err);
    if (!rc)
        count(L, &j->fc, 0);
out:
    kd_parcel_fini(&old);
    if (rc)
        kd_err_where(err, "%s: feature %s", j->fc.src_name, j->fc.fid);
    return rc;
}

/* Hands a job to the SQLite side: queued for the consumer thread, or run here. Takes j. */
static enum kd_code pjob_emit(struct loader *L, struct pjob *j, struct kd_err *err)
{
    enum kd_code rc;

    if (L->pipe)
        return kd_pipe_push(L->pipe, j, err);
    rc = pjob_run(L, j, err);
    pjob_free(j);
    return rc;
}

static enum kd_code emit_reject(struct loader *L, enum kd_reason r, const char *raw,
                                const char *loc, unsigned char **wkb, size_t wkb_len,
                                const char *msg, struct kd_err *err)
{
    struct pjob *j = pjob_new(L, raw);

    if (!j || !(j->msg = strdup(msg))) {
        pjob_free(j);
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    j->is_reject = 1;
    j->reason = r;
    kd_strlcpy(j->loc, loc ? loc : "", sizeof j->loc);
    j->cad = *wkb; /* the job takes the geometry */
    j->cad_len = wkb_len;
    *wkb = NULL;
    return pjob_emit(L, j, err);
}

/* The GEOS/PROJ side of a validated parcel (geom: a valid MultiPolygon in the office CRS;
 * attributes from feat through bind): a job with everything the SQLite side decides on. */
static enum kd_code emit_parcel(struct loader *L, OGRFeatureH feat, struct field_bind *bind,
                                const GEOSGeometry *geom, const unsigned char *wkb, size_t wkb_len,
                                const char *number, const char *raw, struct kd_err *err)
{
    static const enum kd_field text[] = {F_LAND_CATEGORY, F_LAND_USE, F_ADDRESS};
    static const enum kd_field attr_fields[4] = {F_LAND_CATEGORY, F_LAND_USE, F_ADDRESS,
                                                 F_DECLARED_AREA};
    struct pjob *j = pjob_new(L, raw);
    enum kd_code rc;
    int i;

    if (!j)
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    kd_strlcpy(j->number, number, sizeof j->number);
    for (i = 0; i < 4; i++) {
        j->attrs[i] = strdup(kd_mapping_value(bind, attr_fields[i], feat, NULL));
        if (!j->attrs[i]) {
            pjob_free(j);
            return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
        }
    }
    j->declared_ok = parse_area_value(j->attrs[3], &j->declared) == 0 && !(j->declared <= 0);
    j->too_long = kd_mapping_too_long(bind, feat, text, 3, &j->long_field, &j->long_len);
    if (wkb) {
        /* the source's own WKB, transformed and found valid: no need to write it again */
        j->cad = malloc(wkb_len);
        if (j->cad)
            memcpy(j->cad, wkb, wkb_len);
        j->cad_len = wkb_len;
    } else {
        j->cad = kd_geos_to_wkb(L->g, geom, &j->cad_len, err);
    }
    if (!j->cad) {
        pjob_free(j);
        return err->code ? err->code : kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    /* content: geometry and attributes, to tell a reload of the same data */
    j->hash = kd_hash64(0, j->cad, j->cad_len);
    j->hash = kd_hash64(j->hash, number, strlen(number) + 1);
    for (i = 0; i < 4; i++)
        j->hash = kd_hash64(j->hash, j->attrs[i], strlen(j->attrs[i]) + 1);
    rc = kd_writer_parcel_prepare(L->w, j->cad, j->cad_len, geom, 1, &j->prep, err);
    if (rc) {
        pjob_free(j);
        return rc;
    }
    return pjob_emit(L, j, err);
}

/* Merge mode: the group's parts are gathered in its slot with the first member's
 * attributes; when the last member has come (or been rejected), the union is written. */
static enum kd_code merge_flush(struct loader *L, struct numslot *slot, struct kd_err *err)
{
    GEOSGeometry *u, *geom;
    enum kd_code rc;

    if (slot->seen < slot->count || !slot->merged)
        return KD_OK;
    u = GEOSUnaryUnion_r(L->h, slot->merged);
    geom = u ? kd_geos_to_multipolygon(L->g, u) : NULL;
    if (u && !geom)
        geom = kd_geos_make_valid_polygonal(L->g, u);
    if (u)
        GEOSGeom_destroy_r(L->h, u);
    GEOSGeom_destroy_r(L->h, slot->merged);
    slot->merged = NULL;
    if (!geom)
        rc = kd_err_set(err, KD_EGEO, "geos.merge", "cannot merge the parts of %s", slot->key);
    else
        rc = emit_parcel(L, slot->first, slot->bind, geom, NULL, 0, slot->key, slot->key, err);
    if (geom)
        GEOSGeom_destroy_r(L->h, geom);
    OGR_F_Destroy(slot->first);
    slot->first = NULL;
    free(slot->bind);
    slot->bind = NULL;
    return rc;
}

static enum kd_code parcel_feature(struct loader *L, OGRFeatureH feat, struct field_bind *bind,
                                   struct kd_err *err)
{
    GEOSGeometry *geom = NULL;
    unsigned char *wkb = NULL;
    size_t wkb_len = 0;
    char msg[512], loc[64], number[KD_CADNUM_MAX] = "";
    const char *raw;
    struct numslot *slot = NULL;
    struct kd_err e2;
    int reason = -1, merging;
    long repaired_before = L->res->total.repaired, repaired;
    enum kd_code rc;

    rc = feature_polygon(L, feat, &geom, &reason, msg, sizeof msg, loc, sizeof loc, &wkb, &wkb_len,
                         err);
    if (rc)
        goto out;
    repaired = L->res->total.repaired != repaired_before;
    raw = kd_mapping_value(bind, F_CADASTRAL_NUMBER, feat, NULL);
    kd_err_init(&e2);
    if (raw[0] && kd_cadnum_normalize(L->cfg->numfmt, raw, number, &e2) == KD_OK)
        slot = numset_get(&L->nums, number, 0);
    else if (raw[0])
        slot = numset_get(&L->nums, raw, 0);
    if (slot)
        slot->seen++;
    merging = slot && slot->count > 1 && L->map.duplicates == KD_DUP_MERGE;
    if (reason < 0 && !raw[0]) {
        reason = KD_R_MISSING_NUMBER;
        kd_snprintf(msg, sizeof msg, "the feature has no cadastral number");
    } else if (reason < 0 && !number[0]) {
        reason = KD_R_BAD_NUMBER;
        kd_snprintf(msg, sizeof msg, "%s", e2.msg);
    } else if (reason < 0 && slot && slot->count > 1 && !merging) {
        reason = KD_R_DUPLICATE_NUMBER;
        kd_snprintf(msg, sizeof msg, "%d features of this load share cadastral number %s",
                    slot->count, number);
    }
    if (reason >= 0) {
        rc = emit_reject(L, (enum kd_reason)reason, raw, loc, &wkb, wkb_len, msg, err);
        if (!rc && merging) {
            /* the group is written without this member */
            slot->count--;
            slot->seen--;
            rc = merge_flush(L, slot, err);
        }
        goto out;
    }
    if (!merging) {
        /* a repaired geometry is GEOS's; a valid one is the source's, as transformed */
        rc = emit_parcel(L, feat, bind, geom, repaired ? NULL : wkb, wkb_len, number, raw, err);
        goto out;
    }
    if (!slot->first) {
        slot->first = OGR_F_Clone(feat);
        slot->bind = malloc(F_COUNT * sizeof *slot->bind);
        if (!slot->first || !slot->bind) {
            rc = kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
            goto out;
        }
        memcpy(slot->bind, bind, F_COUNT * sizeof *slot->bind);
    }
    if (slot->merged) {
        GEOSGeometry *parts[2] = {slot->merged, geom};
        slot->merged = GEOSGeom_createCollection_r(L->h, GEOS_GEOMETRYCOLLECTION, parts, 2);
        if (!slot->merged) {
            GEOSGeom_destroy_r(L->h, parts[0]);
            rc = kd_err_set(err, KD_EGEO, "geos.merge", "cannot merge %s", number);
            goto out;
        }
    } else {
        slot->merged = geom;
    }
    geom = NULL;
    rc = merge_flush(L, slot, err);
out:
    if (geom)
        GEOSGeom_destroy_r(L->h, geom);
    free(wkb);
    return rc;
}

static enum kd_code area_feature(struct loader *L, OGRFeatureH feat, struct field_bind *bind,
                                 struct kd_err *err)
{
    enum kd_layer layer = L->o->as;
    enum kd_field fcode = layer == KD_LAYER_ZONES          ? F_ZONE_CODE
                          : layer == KD_LAYER_RESTRICTIONS ? F_RESTRICTION_CODE
                                                           : F_ADMIN_CODE;
    const char *code, *kind, *name, *extra;
    GEOSGeometry *geom = NULL;
    unsigned char *wkb = NULL, *cad = NULL;
    size_t wkb_len = 0, cad_len = 0;
    char msg[512], loc[64];
    uint64_t hash;
    int reason = -1, found = 0;
    enum kd_code rc;

    code = kd_mapping_value(bind, fcode, feat, NULL);
    kind = kd_mapping_value(bind, fcode + 1, feat, NULL);
    name = kd_mapping_value(bind, fcode + 2, feat, NULL);
    extra = layer == KD_LAYER_ZONES         ? kd_mapping_value(bind, F_PERMITTED_USES, feat, NULL)
            : layer == KD_LAYER_ADMIN_UNITS ? kd_mapping_value(bind, F_PARENT_CODE, feat, NULL)
                                            : "";
    rc = feature_polygon(L, feat, &geom, &reason, msg, sizeof msg, loc, sizeof loc, &wkb, &wkb_len,
                         err);
    if (rc)
        goto out;
    if (reason < 0 && !code[0]) {
        reason = KD_R_MISSING_CODE;
        kd_snprintf(msg, sizeof msg, "the feature has no %s", kd_field_name(fcode));
    }
    if (reason < 0) {
        const enum kd_field text[] = {fcode, fcode + 1, fcode + 2,
                                      layer == KD_LAYER_ZONES ? F_PERMITTED_USES : F_PARENT_CODE};
        enum kd_field which;
        size_t len;
        if (kd_mapping_too_long(bind, feat, text, layer == KD_LAYER_RESTRICTIONS ? 3 : 4, &which,
                                &len)) {
            reason = KD_R_FIELD_TOO_LONG;
            kd_snprintf(msg, sizeof msg, "%s has %zu bytes; the register keeps at most %zu",
                        kd_field_name(which), len, kd_field_max(which));
        }
    }
    if (reason >= 0) {
        rc = reject(L, (enum kd_reason)reason, code, loc, wkb, wkb_len, msg, err);
        goto out;
    }
    cad = kd_geos_to_wkb(L->g, geom, &cad_len, err);
    if (!cad) {
        rc = err->code;
        goto out;
    }
    /* the same code, kind and geometry as a live one: unchanged */
    hash = kd_hash64(0, cad, cad_len);
    hash = kd_hash64(hash, code, strlen(code) + 1);
    hash = kd_hash64(hash, kind, strlen(kind) + 1);
    rc = kd_store_area_exists(L->st, layer, code, kind, hash, &found, err);
    if (rc)
        goto out;
    if (found) {
        count(L, &L->cur, 1);
        goto out;
    }
    {
        struct kd_area_new an = {layer,
                                 code,
                                 kind,
                                 name[0] ? name : NULL,
                                 extra[0] ? extra : NULL,
                                 L->now,
                                 L->cur.src_name,
                                 L->cur.fid,
                                 hash,
                                 cad,
                                 cad_len,
                                 NULL,
                                 0};
        rc = kd_writer_area(L->w, &an, geom, NULL, err);
    }
    if (!rc)
        count(L, &L->cur, 0);
out:
    if (geom)
        GEOSGeom_destroy_r(L->h, geom);
    free(wkb);
    free(cad);
    return rc;
}

static int is_future(const char *iso, const char *now)
{
    return strcmp(iso, now) > 0;
}

/* A date field: empty is fine; else it must parse and not be in the future. */
static int check_date(const char *v, char out[32], const char *now)
{
    struct kd_err e;

    out[0] = '\0';
    if (!v[0])
        return 0;
    kd_err_init(&e);
    if (kd_time_parse(v, out, &e) || is_future(out, now))
        return -1;
    out[10] = '\0'; /* legal dates are dates */
    return 0;
}

static enum kd_code party_feature(struct loader *L, OGRFeatureH feat, struct field_bind *bind,
                                  struct kd_err *err)
{
    const char *pid = kd_mapping_value(bind, F_PARTY_ID, feat, NULL);
    const char *kind = kd_mapping_value(bind, F_PARTY_KIND, feat, NULL);
    const char *name = kd_mapping_value(bind, F_NAME, feat, NULL);
    struct kd_party p;
    struct kd_err e2;
    char msg[512];
    int64_t id;
    int status, chk;
    enum kd_code rc;

    memset(&p, 0, sizeof p);
    if (!pid[0] || !name[0]) {
        kd_snprintf(msg, sizeof msg, "the party has no %s", !pid[0] ? "party_id" : "name");
        return reject(L, KD_R_MISSING_FIELD, pid, NULL, NULL, 0, msg, err);
    }
    if (strlen(name) > kd_field_max(F_NAME)) {
        kd_snprintf(msg, sizeof msg, "name has %zu bytes; the register keeps at most %zu",
                    strlen(name), kd_field_max(F_NAME));
        return reject(L, KD_R_FIELD_TOO_LONG, pid, NULL, NULL, 0, msg, err);
    }
    if (strlen(pid) == 14) {
        chk = kd_pinfl_check(pid);
        if (chk == 1) {
            L->res->total.warnings++;
            L->cur.counts->warnings++;
            note(L,
                 "warning: %s:%s: PINFL %s fails its check digit (loaded: the algorithm is "
                 "uncertain, DOMAIN.md)",
                 L->cur.src_name, L->cur.fid, pid);
        }
        if (!kind[0])
            kind = "person";
    } else {
        chk = kd_stir_check(pid);
        if (!kind[0])
            kind = "organisation";
    }
    if (chk < 0) {
        kd_snprintf(msg, sizeof msg, "'%s' is neither a PINFL (14 digits) nor a STIR (9 digits)",
                    pid);
        return reject(L, KD_R_BAD_PARTY_ID, pid, NULL, NULL, 0, msg, err);
    }
    if (strcmp(kind, "person") != 0 && strcmp(kind, "organisation") != 0 &&
        strcmp(kind, "group") != 0) {
        kd_snprintf(msg, sizeof msg, "party kind '%s' is not person, organisation or group", kind);
        return reject(L, KD_R_MISSING_FIELD, pid, NULL, NULL, 0, msg, err);
    }
    kd_strlcpy(p.party_id, pid, sizeof p.party_id);
    kd_strlcpy(p.kind, kind, sizeof p.kind);
    kd_strlcpy(p.name, name, sizeof p.name);
    kd_err_init(&e2);
    rc = kd_store_party_put(L->st, &p, L->cur.src_name, &id, &status, &e2);
    if (rc == KD_EINVAL)
        return reject(L, KD_R_CONFLICT, pid, NULL, NULL, 0, e2.msg, err);
    if (rc)
        return kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
    count(L, &L->cur, status);
    return KD_OK;
}

static enum kd_code right_feature(struct loader *L, OGRFeatureH feat, struct field_bind *bind,
                                  struct kd_err *err)
{
    const char *raw = kd_mapping_value(bind, F_CADASTRAL_NUMBER, feat, NULL);
    const char *pid = kd_mapping_value(bind, F_PARTY_ID, feat, NULL);
    const char *kind = kd_mapping_value(bind, F_RIGHT_KIND, feat, NULL);
    const char *share = kd_mapping_value(bind, F_SHARE, feat, NULL);
    struct kd_right r;
    struct kd_parcel par;
    struct kd_err e2;
    char msg[512];
    int status;
    enum kd_code rc;

    memset(&r, 0, sizeof r);
    kd_err_init(&e2);
    if (!raw[0])
        return reject(L, KD_R_MISSING_NUMBER, raw, NULL, NULL, 0,
                      "the right names no cadastral number", err);
    if (kd_cadnum_normalize(L->cfg->numfmt, raw, r.number, &e2))
        return reject(L, KD_R_BAD_NUMBER, raw, NULL, NULL, 0, e2.msg, err);
    if (!pid[0] || !kind[0] || !share[0]) {
        kd_snprintf(msg, sizeof msg, "the right has no %s",
                    !pid[0]    ? "party_id"
                    : !kind[0] ? "right_kind"
                               : "share");
        return reject(L, KD_R_MISSING_FIELD, raw, NULL, NULL, 0, msg, err);
    }
    if (kd_frac_parse(share, &r.share, &e2))
        return reject(L, KD_R_BAD_SHARE, raw, NULL, NULL, 0, e2.msg, err);
    {
        static const enum kd_field text[] = {F_RIGHT_KIND, F_DOCUMENT};
        enum kd_field which;
        size_t len;
        if (kd_mapping_too_long(bind, feat, text, 2, &which, &len)) {
            kd_snprintf(msg, sizeof msg, "%s has %zu bytes; the register keeps at most %zu",
                        kd_field_name(which), len, kd_field_max(which));
            return reject(L, KD_R_FIELD_TOO_LONG, raw, NULL, NULL, 0, msg, err);
        }
    }
    if (check_date(kd_mapping_value(bind, F_DOCUMENT_DATE, feat, NULL), r.document_date, L->now) ||
        check_date(kd_mapping_value(bind, F_REGISTERED_ON, feat, NULL), r.registered_on, L->now))
        return reject(L, KD_R_BAD_DATE, raw, NULL, NULL, 0,
                      "document_date or registered_on is not YYYY-MM-DD, or in the future", err);
    kd_parcel_init(&par);
    kd_err_init(&e2);
    rc = kd_store_parcel_get(L->st, r.number, NULL, 0, &par, &e2);
    kd_parcel_fini(&par);
    if (rc == KD_ENOTFOUND) {
        kd_snprintf(msg, sizeof msg, "no live parcel has cadastral number %s", r.number);
        return reject(L, KD_R_UNKNOWN_PARCEL, raw, NULL, NULL, 0, msg, err);
    }
    if (rc)
        return kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
    rc = kd_store_party_get(L->st, pid, &r.party, &e2);
    if (rc == KD_ENOTFOUND) {
        kd_snprintf(msg, sizeof msg, "no party %s in the register (load parties first)", pid);
        return reject(L, KD_R_UNKNOWN_PARTY, raw, NULL, NULL, 0, msg, err);
    }
    if (rc)
        return kd_err_set(err, e2.code, e2.key, "%s", e2.msg);
    kd_strlcpy(r.kind, kind, sizeof r.kind);
    kd_strlcpy(r.document, kd_mapping_value(bind, F_DOCUMENT, feat, NULL), sizeof r.document);
    kd_strlcpy(r.valid_from, L->now, sizeof r.valid_from);
    rc = kd_store_right_put(L->st, &r, r.party.id, L->cur.src_name, &status, err);
    if (!rc)
        count(L, &L->cur, status);
    return rc;
}

/* ---- layers and sources ----------------------------------------------------------------- */

static int has_geometry(enum kd_layer l)
{
    return l == KD_LAYER_PARCELS || l == KD_LAYER_ZONES || l == KD_LAYER_RESTRICTIONS ||
           l == KD_LAYER_ADMIN_UNITS;
}

static enum kd_code pick_layer(struct loader *L, const struct kd_source *s, OGRLayerH *out,
                               struct kd_err *err)
{
    const char *want = L->o->layer ? L->o->layer : L->map.layer;
    int i, n = GDALDatasetGetLayerCount(s->ds);
    OGRLayerH lyr = NULL;
    char names[400] = "";

    if (want)
        lyr = GDALDatasetGetLayerByName(s->ds, want);
    else if (n == 1)
        lyr = GDALDatasetGetLayer(s->ds, 0);
    else
        lyr = GDALDatasetGetLayerByName(s->ds, kd_layer_name(L->o->as));
    if (lyr) {
        *out = lyr;
        return KD_OK;
    }
    for (i = 0; i < n && strlen(names) < sizeof names - 70; i++) {
        char piece[80];
        kd_snprintf(piece, sizeof piece, "%s%s", i ? ", " : "",
                    OGR_L_GetName(GDALDatasetGetLayer(s->ds, i)));
        kd_strlcpy(names + strlen(names), piece, sizeof names - strlen(names));
    }
    if (want)
        kd_err_set(err, KD_EINVAL, "load.layer", "no layer '%s' in it", want);
    else
        kd_err_set(err, KD_EINVAL, "load.layer", "%d layers and none named '%s'", n,
                   kd_layer_name(L->o->as));
    kd_err_hint(err, "choose one with --layer; its layers are: %s", names[0] ? names : "none");
    return KD_EINVAL;
}

/* Binds the mapping and refuses a mapped text field that GDAL typed as a date or time:
 * its values are already cut ("10:26:01"), loading them would register wrong numbers. */
static enum kd_code bind_layer(struct loader *L, OGRLayerH lyr, struct field_bind bind[F_COUNT],
                               struct kd_err *err)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    enum kd_code rc = kd_mapping_bind(&L->map, defn, bind, err);
    int f;

    if (rc)
        return rc;
    for (f = 0; f < F_COUNT; f++) {
        OGRFieldType t;
        int idx = bind[f].idx >= 0 ? bind[f].idx : bind[f].alt;
        if (idx < 0 || f == F_DOCUMENT_DATE || f == F_REGISTERED_ON)
            continue;
        t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, idx));
        if (t == OFTDate || t == OFTTime || t == OFTDateTime) {
            kd_err_set(err, KD_EINVAL, "load.cut_number",
                       "field '%s' (for %s) arrives as a %s: GDAL has already cut values such "
                       "as 10:26:01:02:03:0045 to 10:26:01",
                       OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, idx)),
                       kd_field_name((enum kd_field)f), OGR_GetFieldTypeName(t));
            kd_err_hint(err, "convert the source to GeoJSON, GeoPackage or CSV (whose readers "
                             "keep text), e.g. ogr2ogr -f GPKG out.gpkg SOURCE");
            return KD_EINVAL;
        }
    }
    return KD_OK;
}

/* The key under which the source CRS's operation is stored, and PROJ's definition. */
static enum kd_code source_crs(struct loader *L, OGRLayerH lyr, char *key, size_t key_size,
                               char **def, struct kd_err *err)
{
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(lyr);
    const char *auth, *code;
    char *wkt = NULL;
    const char *opts[] = {"FORMAT=WKT2_2019", NULL};
    int srid;

    *def = NULL;
    if (L->o->s_srs) {
        struct kd_err e2;
        kd_err_init(&e2);
        if (kd_crs_parse_epsg(L->o->s_srs, &srid, &e2) == KD_OK)
            kd_snprintf(key, key_size, "EPSG:%d", srid);
        else
            kd_strlcpy(key, L->o->s_srs, key_size);
        *def = strdup(key);
        return *def ? KD_OK : kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    if (!srs) {
        kd_err_set(err, KD_EINVAL, "load.no_crs", "the data does not say its CRS");
        kd_err_hint(err, "name it with --s-srs, e.g. --s-srs EPSG:4326 for lon/lat or "
                         "--s-srs EPSG:28412 for SK-42 zone 12");
        return KD_EINVAL;
    }
    auth = OSRGetAuthorityName(srs, NULL);
    code = OSRGetAuthorityCode(srs, NULL);
    if (auth && code && strcmp(auth, "EPSG") == 0) {
        kd_snprintf(key, key_size, "EPSG:%s", code);
        *def = strdup(key);
    } else if (OSRExportToWktEx(srs, &wkt, opts) == OGRERR_NONE && wkt) {
        kd_snprintf(key, key_size, "WKT:%016llx %s",
                    (unsigned long long)kd_hash64(0, wkt, strlen(wkt)),
                    OSRGetName(srs) ? OSRGetName(srs) : "");
        *def = strdup(wkt);
    }
    CPLFree(wkt);
    if (!*def)
        return kd_err_set(err, KD_EGEO, "load.crs", "the data's CRS cannot be read");
    return KD_OK;
}

/* The operation from lyr's CRS to the office CRS (OUT xf, owned by the loader's cache):
 * the stored one, or chosen now and stored. Reads and writes the store. */
static enum kd_code prepare_xform(struct loader *L, OGRLayerH lyr, struct kd_xform **xf,
                                  struct kd_err *err)
{
    char key[256], *def = NULL;
    struct kd_store_op op;
    struct xcache *xc;
    enum kd_code rc;
    size_t i;

    rc = source_crs(L, lyr, key, sizeof key, &def, err);
    if (rc)
        return rc;
    for (i = 0; i < L->n_xcache; i++)
        if (strcmp(key, L->xcache[i].key) == 0) {
            *xf = L->xcache[i].xf;
            free(def);
            return KD_OK;
        }
    xc = realloc(L->xcache, (L->n_xcache + 1) * sizeof *xc);
    if (!xc) {
        free(def);
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    L->xcache = xc;
    xc = &L->xcache[L->n_xcache];
    memset(xc, 0, sizeof *xc);
    memset(&op, 0, sizeof op);
    rc = kd_store_op_get(L->st, key, &op, err);
    if (rc == KD_ENOTFOUND) {
        struct kd_op_choice c;
        OGREnvelope env;
        double data_box[4], data_ll[4];
        const double *data_area = NULL;
        struct kd_err e2;
        kd_err_init(&e2);
        if (OGR_L_GetExtent(lyr, &env, 1) == OGRERR_NONE) {
            data_box[0] = env.MinX, data_box[1] = env.MinY;
            data_box[2] = env.MaxX, data_box[3] = env.MaxY;
            if (kd_crs_box_lonlat(L->g, def, data_box, data_ll, &e2) == KD_OK)
                data_area = data_ll;
        }
        rc = kd_op_choose(L->g, def, L->cfg->srid, L->cfg->area, data_area, &c, err);
        if (rc)
            goto out;
        memset(&op, 0, sizeof op);
        kd_strlcpy(op.source_crs, key, sizeof op.source_crs);
        op.definition = c.definition;
        c.definition = NULL;
        kd_strlcpy(op.name, c.name, sizeof op.name);
        kd_strlcpy(op.transformation, c.transformation, sizeof op.transformation);
        op.accuracy_m = c.accuracy_m;
        kd_strlcpy(op.warning, c.warning, sizeof op.warning);
        kd_op_choice_fini(&c);
        rc = kd_store_op_put(L->st, &op, err);
        if (rc)
            goto out;
    } else if (rc) {
        goto out;
    }
    {
        char acc[32];
        if (op.accuracy_m >= 0)
            kd_snprintf(acc, sizeof acc, "%.2f m", op.accuracy_m);
        else
            kd_strlcpy(acc, "unknown", sizeof acc);
        note(L, "transformation %s -> EPSG:%d: %s%s%s; stated accuracy %s", key, L->cfg->srid,
             op.transformation[0] ? op.transformation : op.name, op.transformation[0] ? " in " : "",
             op.transformation[0] ? op.name : "", acc);
    }
    if (op.warning[0])
        note(L, "warning: %s", op.warning);
    rc = kd_xform_new(L->g, op.definition, &xc->xf, err);
    if (rc)
        goto out;
    kd_strlcpy(xc->key, key, sizeof xc->key);
    L->n_xcache++;
    *xf = xc->xf;
    kd_strlcpy(L->res->source_crs, key, sizeof L->res->source_crs);
    kd_store_op_fini(&L->res->op);
    L->res->op = op;
    op.definition = NULL;
out:
    kd_store_op_fini(&op);
    free(def);
    return rc;
}

/* Pass 1: counts features and numbers, without reading geometries where the driver can
 * skip them. */
static enum kd_code count_pass(struct loader *L, struct kd_source *srcs, int n, struct kd_err *err)
{
    struct field_bind bind[F_COUNT];
    const char *ignore[] = {"OGR_GEOMETRY", NULL};
    int i;

    for (i = 0; i < n; i++) {
        OGRLayerH lyr;
        OGRFeatureH feat;
        enum kd_code rc = pick_layer(L, &srcs[i], &lyr, err);
        if (!rc)
            rc = bind_layer(L, lyr, bind, err);
        if (rc) {
            kd_err_where(err, "%s", srcs[i].path);
            return rc;
        }
        OGR_L_SetIgnoredFields(lyr, ignore);
        OGR_L_ResetReading(lyr);
        while ((feat = OGR_L_GetNextFeature(lyr)) != NULL) {
            L->total++;
            if (L->o->as == KD_LAYER_PARCELS) {
                const char *raw = kd_mapping_value(bind, F_CADASTRAL_NUMBER, feat, NULL);
                char num[KD_CADNUM_MAX];
                struct kd_err e2;
                struct numslot *s;
                kd_err_init(&e2);
                if (raw[0]) {
                    s = numset_get(
                        &L->nums,
                        kd_cadnum_normalize(L->cfg->numfmt, raw, num, &e2) == KD_OK ? num : raw, 1);
                    if (!s) {
                        OGR_F_Destroy(feat);
                        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
                    }
                    s->count++;
                }
            }
            OGR_F_Destroy(feat);
            if (L->o->interrupted && *L->o->interrupted)
                return kd_err_set(err, KD_EINTERRUPTED, "load.interrupted",
                                  "interrupted: nothing was loaded");
        }
        OGR_L_SetIgnoredFields(lyr, NULL);
    }
    return KD_OK;
}

static enum kd_code load_source(struct loader *L, struct kd_source *s, struct kd_xform *xf,
                                struct kd_err *err)
{
    struct field_bind bind[F_COUNT];
    OGRLayerH lyr;
    OGRFeatureH feat;
    enum kd_code rc;

    rc = pick_layer(L, s, &lyr, err);
    if (!rc)
        rc = bind_layer(L, lyr, bind, err);
    if (rc)
        return rc;
    L->xf = xf;
    OGR_L_ResetReading(lyr);
    while ((feat = OGR_L_GetNextFeature(lyr)) != NULL) {
        L->res->total.read++;
        L->cur.counts->read++;
        kd_snprintf(L->cur.fid, sizeof L->cur.fid, "%lld", (long long)OGR_F_GetFID(feat));
        switch (L->o->as) {
        case KD_LAYER_PARCELS:
            rc = parcel_feature(L, feat, bind, err);
            break;
        case KD_LAYER_PARTIES:
            rc = party_feature(L, feat, bind, err);
            break;
        case KD_LAYER_RIGHTS:
            rc = right_feature(L, feat, bind, err);
            break;
        default:
            rc = area_feature(L, feat, bind, err);
        }
        OGR_F_Destroy(feat);
        if (rc) {
            kd_err_where(err, "feature %s", L->cur.fid);
            return rc;
        }
        if (L->o->interrupted && *L->o->interrupted)
            return kd_err_set(err, KD_EINTERRUPTED, "load.interrupted",
                              "interrupted: the database is as it was before this load");
        if (L->o->progress && (++L->done & 255) == 0)
            L->o->progress(L->o->progress_ud, L->done, L->total);
    }
    return KD_OK;
}

enum kd_code kd_load(struct kd_store *st, struct kd_geo *g, const char *const *args, int n_args,
                     const struct kd_load_opts *o, struct kd_load_result *res, struct kd_err *err)
{
    struct loader L;
    struct kd_source **srcs = NULL;
    struct kd_xform ***xfs = NULL;
    int *n_srcs = NULL, i, j, in_tx = 0;
    char scratch[1024];
    struct timespec t0, t1;
    enum kd_code rc = KD_OK;

    memset(&L, 0, sizeof L);
    memset(res, 0, sizeof *res);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    L.st = st;
    L.g = g;
    L.h = kd_geo_geos(g);
    L.o = o;
    L.res = res;
    L.cfg = kd_store_config(st);
    kd_time_now(L.now);
    res->sources = calloc((size_t)n_args, sizeof *res->sources);
    srcs = calloc((size_t)n_args, sizeof *srcs);
    n_srcs = calloc((size_t)n_args, sizeof *n_srcs);
    if (!res->sources || !srcs || !n_srcs) {
        rc = kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
        goto out;
    }
    res->n_sources = n_args;
    if (o->mapping)
        rc = kd_mapping_read(o->mapping, &L.map, err);
    else
        kd_mapping_identity(&L.map);
    if (rc)
        goto out;
    if (o->as == KD_LAYER_PARCELS && L.map.duplicates == KD_DUP_DEFAULT)
        L.map.duplicates = KD_DUP_REJECT;
    kd_strlcpy(scratch, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", sizeof scratch);
    for (i = 0; i < n_args; i++) {
        kd_strlcpy(res->sources[i].name, args[i], sizeof res->sources[i].name);
        rc = kd_sources_open(args[i], scratch, &srcs[i], &n_srcs[i], err);
        if (rc)
            goto out;
    }
    for (i = 0; i < n_args && !rc; i++)
        rc = count_pass(&L, srcs[i], n_srcs[i], err);
    if (rc)
        goto out;
    if (has_geometry(o->as)) {
        rc = kd_writer_open(st, g, &L.w, err);
        if (rc)
            goto out;
    }
    rc = kd_store_begin(st, err);
    if (rc)
        goto out;
    in_tx = 1;
    if (has_geometry(o->as)) {
        rc = kd_store_bulk_begin(st, err);
        if (rc)
            goto out;
    }
    /* every source's operation is chosen (and stored) before the writer thread owns the
     * store connection */
    xfs = calloc((size_t)n_args, sizeof *xfs);
    if (!xfs) {
        rc = kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
        goto out;
    }
    for (i = 0; i < n_args && !rc; i++) {
        xfs[i] = calloc((size_t)n_srcs[i] + 1, sizeof *xfs[i]);
        if (!xfs[i]) {
            rc = kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
            break;
        }
        for (j = 0; j < n_srcs[i] && !rc && has_geometry(o->as); j++) {
            OGRLayerH lyr;
            rc = pick_layer(&L, &srcs[i][j], &lyr, err);
            if (!rc)
                rc = prepare_xform(&L, lyr, &xfs[i][j], err);
            if (rc)
                kd_err_where(err, "%s", args[i]);
        }
    }
    if (!rc && o->as == KD_LAYER_PARCELS) {
        /* parcels: GEOS/PROJ here, SQLite on a second thread */
        rc = kd_writer_ready(L.w, err);
        if (!rc)
            rc = kd_writer_proj_new(L.w, &L.proj, err);
        if (!rc)
            rc = kd_pipe_start(&L.pipe, 512, pjob_run, pjob_free, &L, err);
    }
    for (i = 0; i < n_args && !rc; i++) {
        L.cur.counts = &res->sources[i].counts;
        L.cur.src_name = args[i];
        for (j = 0; j < n_srcs[i] && !rc; j++) {
            OGRLayerH lyr;
            struct kd_err e2;
            kd_err_init(&e2);
            if (pick_layer(&L, &srcs[i][j], &lyr, &e2) == KD_OK)
                kd_strlcpy(res->sources[i].layer, OGR_L_GetName(lyr), sizeof res->sources[i].layer);
            rc = load_source(&L, &srcs[i][j], xfs[i][j], err);
            if (rc && err->code != KD_EINTERRUPTED)
                kd_err_where(err, "%s", args[i]);
        }
    }
    if (L.pipe) {
        enum kd_code prc = kd_pipe_finish(L.pipe, rc != KD_OK, err);
        L.pipe = NULL;
        if (!rc)
            rc = prc;
    }
    if (o->progress)
        o->progress(o->progress_ud, L.total, L.total);
    if (!rc) {
        rc = kd_store_commit(st, err);
        if (!rc)
            in_tx = 0;
    }
out:
    if (L.pipe)
        kd_pipe_finish(L.pipe, 1, err);
    if (in_tx)
        kd_store_rollback(st);
    rejects_close(&L, rc == KD_OK);
    for (i = 0; xfs && i < n_args; i++)
        free(xfs[i]);
    free(xfs);
    for (size_t k = 0; k < L.n_xcache; k++)
        kd_xform_free(L.xcache[k].xf);
    free(L.xcache);
    for (i = 0; srcs && i < n_args; i++)
        kd_sources_close(srcs[i], n_srcs[i]);
    free(srcs);
    free(n_srcs);
    numset_free(&L.nums, L.h);
    kd_writer_proj_free(L.proj);
    kd_writer_close(L.w);
    kd_mapping_fini(&L.map);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}
