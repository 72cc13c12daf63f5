/* SPDX-License-Identifier: Apache-2.0 */
/* Mapping files: which source field feeds which kadastr field, value maps, and what to do
 * with features sharing a number. A small JSON document (docs/mappings.md):
 *   {"layer": "PARCELLE_id", "duplicates": "reject",
 *    "fields": {"cadastral_number": "IDU", "zone_kind": {"const": "base"},
 *               "land_use": {"field": "USE", "default": "unknown", "map": {"R": "housing"}}}} */
#include "ingest_int.h"

#include <stdio.h>
#include <string.h>

static const char *const field_names[F_COUNT] = {
    [F_CADASTRAL_NUMBER] = "cadastral_number",
    [F_DECLARED_AREA] = "declared_area_m2",
    [F_LAND_CATEGORY] = "land_category",
    [F_LAND_USE] = "land_use",
    [F_ADDRESS] = "address",
    [F_ZONE_CODE] = "zone_code",
    [F_ZONE_KIND] = "zone_kind",
    [F_ZONE_NAME] = "zone_name",
    [F_PERMITTED_USES] = "permitted_uses",
    [F_RESTRICTION_CODE] = "restriction_code",
    [F_RESTRICTION_KIND] = "restriction_kind",
    [F_RESTRICTION_NAME] = "restriction_name",
    [F_ADMIN_CODE] = "admin_code",
    [F_ADMIN_LEVEL] = "admin_level",
    [F_ADMIN_NAME] = "admin_name",
    [F_PARENT_CODE] = "parent_code",
    [F_PARTY_ID] = "party_id",
    [F_PARTY_KIND] = "party_kind",
    [F_NAME] = "name",
    [F_RIGHT_KIND] = "right_kind",
    [F_SHARE] = "share",
    [F_DOCUMENT] = "document",
    [F_DOCUMENT_DATE] = "document_date",
    [F_REGISTERED_ON] = "registered_on",
};

/* The longest value the register keeps per field, in bytes (the store's record sizes less
 * the terminator): longer values are rejected, never cut. */
static const size_t field_max[F_COUNT] = {
    [F_CADASTRAL_NUMBER] = 63,
    [F_DECLARED_AREA] = 63,
    [F_LAND_CATEGORY] = 63,
    [F_LAND_USE] = 63,
    [F_ADDRESS] = 255,
    [F_ZONE_CODE] = 127,
    [F_ZONE_KIND] = 63,
    [F_ZONE_NAME] = 255,
    [F_PERMITTED_USES] = 511,
    [F_RESTRICTION_CODE] = 127,
    [F_RESTRICTION_KIND] = 63,
    [F_RESTRICTION_NAME] = 255,
    [F_ADMIN_CODE] = 127,
    [F_ADMIN_LEVEL] = 63,
    [F_ADMIN_NAME] = 255,
    [F_PARENT_CODE] = 511,
    [F_PARTY_ID] = 15,
    [F_PARTY_KIND] = 15,
    [F_NAME] = 255,
    [F_RIGHT_KIND] = 47,
    [F_SHARE] = 31,
    [F_DOCUMENT] = 255,
    [F_DOCUMENT_DATE] = 31,
    [F_REGISTERED_ON] = 31,
};

int kd_mapping_too_long(struct field_bind bind[F_COUNT], OGRFeatureH feat, const enum kd_field *fs,
                        size_t n, enum kd_field *which, size_t *len)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t k = strlen(kd_mapping_value(bind, fs[i], feat, NULL));
        if (k > field_max[fs[i]]) {
            *which = fs[i];
            *len = k;
            return 1;
        }
    }
    return 0;
}

size_t kd_field_max(enum kd_field f)
{
    return (unsigned)f < F_COUNT ? field_max[f] : 0;
}

const char *kd_field_name(enum kd_field f)
{
    return (unsigned)f < F_COUNT ? field_names[f] : "?";
}

static int field_parse(const char *s)
{
    int i;

    for (i = 0; i < F_COUNT; i++)
        if (strcmp(s, field_names[i]) == 0)
            return i;
    return -1;
}

void kd_mapping_identity(struct kd_mapping *m)
{
    memset(m, 0, sizeof *m);
    /* sources that use kadastr's own names need no mapping: bind lazily by name */
}

void kd_mapping_fini(struct kd_mapping *m)
{
    if (m->doc)
        json_object_put(m->doc);
    memset(m, 0, sizeof *m);
}

static enum kd_code bad(struct kd_err *err, const char *path, const char *key, const char *msg)
{
    kd_err_set(err, KD_EINVAL, key, "%s", msg);
    kd_err_where(err, "%s", path);
    kd_err_hint(err, "see docs/mappings.md for the mapping file format");
    return KD_EINVAL;
}

static char *str_of(json_object *o)
{
    return (char *)json_object_get_string(o);
}

enum kd_code kd_mapping_read(const char *path, struct kd_mapping *m, struct kd_err *err)
{
    json_object *doc, *fields, *v;
    char msg[300];

    memset(m, 0, sizeof *m);
    doc = json_object_from_file(path);
    if (!doc) {
        kd_err_set(err, KD_EINVAL, "mapping.read", "cannot read the mapping: %s",
                   json_util_get_last_err() ? json_util_get_last_err() : "not JSON");
        kd_err_where(err, "%s", path);
        kd_err_hint(err, "a mapping is a JSON document, see docs/mappings.md");
        return KD_EINVAL;
    }
    m->doc = doc;
    if (!json_object_is_type(doc, json_type_object))
        return bad(err, path, "mapping.syntax", "the mapping is not a JSON object");
    if (json_object_object_get_ex(doc, "layer", &v)) {
        if (!json_object_is_type(v, json_type_string))
            return bad(err, path, "mapping.syntax", "\"layer\" must be a string");
        m->layer = str_of(v);
    }
    if (json_object_object_get_ex(doc, "duplicates", &v)) {
        const char *d = json_object_get_string(v);
        if (strcmp(d, "reject") == 0)
            m->duplicates = KD_DUP_REJECT;
        else if (strcmp(d, "merge") == 0)
            m->duplicates = KD_DUP_MERGE;
        else
            return bad(err, path, "mapping.duplicates",
                       "\"duplicates\" must be \"reject\" or \"merge\"");
    }
    if (!json_object_object_get_ex(doc, "fields", &fields) ||
        !json_object_is_type(fields, json_type_object))
        return bad(err, path, "mapping.syntax", "the mapping has no \"fields\" object");
    json_object_object_foreach(fields, key, spec)
    {
        int f = field_parse(key);
        struct field_spec *fs;
        if (f < 0) {
            snprintf(msg, sizeof msg, "\"%s\" is not a kadastr field", key);
            return bad(err, path, "mapping.unknown_field", msg);
        }
        fs = &m->f[f];
        if (json_object_is_type(spec, json_type_string)) {
            fs->source = str_of(spec);
            continue;
        }
        if (!json_object_is_type(spec, json_type_object)) {
            snprintf(msg, sizeof msg, "field \"%s\": expected a source field name or an object",
                     key);
            return bad(err, path, "mapping.syntax", msg);
        }
        if (json_object_object_get_ex(spec, "field", &v))
            fs->source = str_of(v);
        if (json_object_object_get_ex(spec, "const", &v))
            fs->constant = str_of(v);
        if (json_object_object_get_ex(spec, "default", &v))
            fs->fallback = str_of(v);
        if (json_object_object_get_ex(spec, "map", &v)) {
            if (!json_object_is_type(v, json_type_object)) {
                snprintf(msg, sizeof msg, "field \"%s\": \"map\" must be an object", key);
                return bad(err, path, "mapping.syntax", msg);
            }
            fs->map = v;
        }
        if (!fs->source && !fs->constant) {
            snprintf(msg, sizeof msg, "field \"%s\" names neither \"field\" nor \"const\"", key);
            return bad(err, path, "mapping.syntax", msg);
        }
    }
    return KD_OK;
}

enum kd_code kd_mapping_bind(const struct kd_mapping *m, OGRFeatureDefnH defn,
                             struct field_bind bind[F_COUNT], struct kd_err *err)
{
    int f;

    for (f = 0; f < F_COUNT; f++) {
        const struct field_spec *fs = &m->f[f];
        const char *name = fs->source ? fs->source : (fs->constant ? NULL : field_names[f]);
        bind[f].spec = fs;
        bind[f].idx = name ? OGR_FD_GetFieldIndex(defn, name) : -1;
        /* a Shapefile cuts field names to 10 characters: cadastral_number is cadastral_ */
        if (bind[f].idx < 0 && name && !fs->source && strlen(name) > 10) {
            char cut[11];
            memcpy(cut, name, 10);
            cut[10] = '\0';
            bind[f].idx = OGR_FD_GetFieldIndex(defn, cut);
        }
        /* a GeoJSON written with the number as its feature id (kadastr export does this so
         * that GDAL clients read it intact) gives it back as the field "id" */
        bind[f].alt = f == F_CADASTRAL_NUMBER && !fs->source && !fs->constant
                          ? OGR_FD_GetFieldIndex(defn, "id")
                          : -1;
        if (fs->source && bind[f].idx < 0) {
            char have[200] = "";
            int i, n = OGR_FD_GetFieldCount(defn);
            for (i = 0; i < n && strlen(have) < sizeof have - 40; i++) {
                char piece[64];
                snprintf(piece, sizeof piece, "%s%s", i ? ", " : "",
                         OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
                kd_strlcpy(have + strlen(have), piece, sizeof have - strlen(have));
            }
            kd_err_set(err, KD_EINVAL, "mapping.field_missing",
                       "the mapping reads field '%s' for %s, but the source has no such field",
                       fs->source, field_names[f]);
            kd_err_hint(err, "the source's fields are: %s", have);
            return KD_EINVAL;
        }
    }
    return KD_OK;
}

const char *kd_mapping_value(struct field_bind bind[F_COUNT], enum kd_field f, OGRFeatureH feat,
                             int *is_date_typed)
{
    struct field_bind *b = &bind[f];
    const char *v = "";

    if (is_date_typed)
        *is_date_typed = 0;
    if (b->spec && b->spec->constant)
        return b->spec->constant;
    if (b->idx >= 0 && OGR_F_IsFieldSetAndNotNull(feat, b->idx)) {
        OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(feat, b->idx));
        if (is_date_typed)
            *is_date_typed = t == OFTDate || t == OFTTime || t == OFTDateTime;
        v = OGR_F_GetFieldAsString(feat, b->idx);
    }
    if (!v[0] && b->alt >= 0 && OGR_F_IsFieldSetAndNotNull(feat, b->alt))
        v = OGR_F_GetFieldAsString(feat, b->alt);
    if (b->spec && b->spec->map && v[0]) {
        json_object *to;
        if (json_object_object_get_ex(b->spec->map, v, &to))
            v = json_object_get_string(to);
    }
    if (!v[0] && b->spec && b->spec->fallback)
        v = b->spec->fallback;
    kd_strlcpy(b->val, v, sizeof b->val);
    return b->val;
}
