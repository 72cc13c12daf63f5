/* SPDX-License-Identifier: Apache-2.0 */
/* OGC API - Features (Part 1 Core with GeoJSON, Part 2 CRS): the landing page, conformance,
 * the four collections (parcels, zones, restrictions, admin_units) with their extents, CRSs,
 * queryables and a GML application schema; the items themselves are in ogc_items.c. Every
 * document is written into the answer's buffer with absolute links on the server's base URL.
 * The one idea: a collection is a row of the table below (layer, properties, which of them
 * filter), so routes, schemas and queryables are all read from it. */
#include "server_int.h"

#include "kadastr/cadastre.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON "application/json"

#define CRS84_URI "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define EPSG_URI "http://www.opengis.net/def/crs/EPSG/0/"
#define CONF "http://www.opengis.net/spec/ogcapi-features-"

/* ---- the collections ---------------------------------------------------------------------- */

static const struct kd_ogc_prop parcel_props[] = {
    {"land_category", "string", "Land category (Land Code, article 8)", "land_category"},
    {"land_use", "string", "Permitted use", "land_use"},
    {"address", "string", "Address", NULL},
    {"area_m2", "number", "Planar area in the office CRS, m2", NULL},
    {"geodesic_area_m2", "number", "Area on the ellipsoid, m2", NULL},
    {"declared_area_m2", "number", "Area in the title documents, m2", NULL},
    {"valid_from", "date-time", "Registered from", NULL},
    {"valid_to", "date-time", "Registered until (null while live)", NULL},
    {"operation", "string", "How this version came to be (load, split, merge, ...)", NULL},
    {NULL, NULL, NULL, NULL}};
static const struct kd_ogc_prop zone_props[] = {
    {"code", "string", "Zone code", "code"},
    {"kind", "string", "Kind of zone (base, overlay, ...)", "kind"},
    {"name", "string", "Name", NULL},
    {"permitted_uses", "string", "Permitted land uses, comma-separated", NULL},
    {"valid_from", "date-time", "Registered from", NULL},
    {"valid_to", "date-time", "Registered until (null while live)", NULL},
    {NULL, NULL, NULL, NULL}};
static const struct kd_ogc_prop restriction_props[] = {
    {"code", "string", "Restriction code", "code"},
    {"kind", "string", "Kind (water_protection, utility_corridor, heritage, ...)", "kind"},
    {"name", "string", "Name", NULL},
    {"valid_from", "date-time", "Registered from", NULL},
    {"valid_to", "date-time", "Registered until (null while live)", NULL},
    {NULL, NULL, NULL, NULL}};
static const struct kd_ogc_prop admin_props[] = {
    {"code", "string",
     "Code: the leading groups of the cadastral numbers within, '.' between groups", "code"},
    {"level", "string", "Level (region, district, zone, massiv, mavze)", "level"},
    {"name", "string", "Name", NULL},
    {"parent_code", "string", "Code of the unit above, written as code", "parent_code"},
    {"valid_from", "date-time", "Registered from", NULL},
    {"valid_to", "date-time", "Registered until (null while live)", NULL},
    {NULL, NULL, NULL, NULL}};

static const struct kd_ogc_coll colls[] = {
    {"parcels", KD_LAYER_PARCELS, "Land parcels",
     "Land parcels of the register; the feature id is the cadastral number", parcel_props},
    {"zones", KD_LAYER_ZONES, "Zoning", "Zones of the zoning plan with their permitted uses",
     zone_props},
    {"restrictions", KD_LAYER_RESTRICTIONS, "Restrictions",
     "Protection zones, utility corridors and heritage areas that restrict land use",
     restriction_props},
    {"admin_units", KD_LAYER_ADMIN_UNITS, "Administrative units",
     "Regions, districts, cadastral zones, massivs and mavzes", admin_props},
};
#define N_COLLS (sizeof colls / sizeof colls[0])

const struct kd_ogc_coll *kd_ogc_coll_find(const char *id)
{
    size_t i;

    for (i = 0; i < N_COLLS; i++)
        if (strcmp(colls[i].id, id) == 0)
            return &colls[i];
    return NULL;
}

/* ---- CRSs --------------------------------------------------------------------------------- */

int kd_ogc_crs_parse(const char *s, int office_srid, enum kd_ogc_crs *out)
{
    static const char *const crs84[] = {"http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                        "OGC:CRS84", "[OGC:CRS84]", NULL};
    static const char *const epsg[] = {"http://www.opengis.net/def/crs/EPSG/0/",
                                       "https://www.opengis.net/def/crs/EPSG/0/",
                                       "EPSG:", "[EPSG:", NULL};
    size_t i;

    for (i = 0; crs84[i]; i++)
        if (strcmp(s, crs84[i]) == 0) {
            *out = KD_OGC_CRS84;
            return 0;
        }
    for (i = 0; epsg[i]; i++) {
        size_t n = strlen(epsg[i]), k;
        long code = 0;
        if (strncmp(s, epsg[i], n) != 0)
            continue;
        /* digits only (no sign, no spaces), at most 9 of them, and "]" after the CURIE */
        for (k = n; s[k] >= '0' && s[k] <= '9' && k - n < 9; k++)
            code = code * 10 + (s[k] - '0');
        if (k == n || strcmp(s + k, s[0] == '[' ? "]" : "") != 0)
            return -1;
        if (code == 3857) {
            *out = KD_OGC_3857;
            return 0;
        }
        if (code == office_srid) {
            *out = KD_OGC_OFFICE;
            return 0;
        }
        return -1;
    }
    return -1;
}

void kd_ogc_crs_uri(enum kd_ogc_crs c, int office_srid, char *out, size_t size)
{
    if (c == KD_OGC_CRS84)
        kd_snprintf(out, size, "%s", CRS84_URI);
    else
        kd_snprintf(out, size, EPSG_URI "%d", c == KD_OGC_3857 ? 3857 : office_srid);
}

void kd_ogc_bad_crs(struct req *r, struct worker *w, struct answer *a, const char *param,
                    const char *value)
{
    char supported[256];

    kd_snprintf(supported, sizeof supported, CRS84_URI ", " EPSG_URI "%d, " EPSG_URI "3857",
                w->srid);
    kd_answer_problem(r, a, 400, "query.bad_crs", param,
                      (const char *const[]){"value", value, "supported", supported, NULL});
}

/* ---- documents ---------------------------------------------------------------------------- */

/* {"href":base+path,"rel":rel,"type":type,"title":title} (title may be NULL). */
static void add_link(struct kd_buf *b, struct req *r, const char *path, const char *rel,
                     const char *type, const char *title)
{
    kd_buf_adds(b, "{\"href\":");
    {
        struct kd_buf href;
        kd_buf_init(&href);
        kd_buf_adds(&href, r->srv->base_url);
        kd_buf_adds(&href, path);
        kd_buf_add_json_str(b, href.data ? href.data : "");
        b->failed |= href.failed;
        kd_buf_fini(&href);
    }
    kd_buf_adds(b, ",\"rel\":");
    kd_buf_add_json_str(b, rel);
    kd_buf_adds(b, ",\"type\":");
    kd_buf_add_json_str(b, type);
    if (title) {
        kd_buf_adds(b, ",\"title\":");
        kd_buf_add_json_str(b, title);
    }
    kd_buf_adds(b, "}");
}

static void landing(struct req *r, struct answer *a)
{
    struct kd_buf *b = &a->body;

    a->content_type = JSON;
    kd_buf_adds(b, "{\"title\":\"kadastr\",\"description\":\"The land register of the cadastre "
                   "office: land parcels, zoning, restrictions and administrative units "
                   "(OGC API - Features)\",\"links\":[");
    add_link(b, r, "/", "self", JSON, "This document");
    kd_buf_adds(b, ",");
    add_link(b, r, "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
             "The API definition");
    kd_buf_adds(b, ",");
    add_link(b, r, "/conformance", "conformance", JSON, "Conformance classes");
    kd_buf_adds(b, ",");
    add_link(b, r, "/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
             "Conformance classes");
    kd_buf_adds(b, ",");
    add_link(b, r, "/collections", "data", JSON, "The collections");
    kd_buf_adds(b, ",");
    add_link(b, r, "/collections", "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
             "The collections");
    kd_buf_adds(b, "]}");
}

static void conformance(struct answer *a)
{
    a->content_type = JSON;
    kd_buf_adds(&a->body,
                "{\"conformsTo\":[\"" CONF "1/1.0/conf/core\",\"" CONF
                "1/1.0/conf/geojson\",\"" CONF "1/1.0/conf/oas30\",\"" CONF "2/1.0/conf/crs\"]}");
}

/* The layer's extent in lon/lat, rounded outwards to 7 decimals; 0 when there is none (an
 * empty layer, or a box PROJ cannot bring to lon/lat: the extent is then left out). */
static int extent_lonlat(struct worker *w, enum kd_layer layer, double ll[4], struct kd_err *err)
{
    double box[4];
    int empty = 1;
    struct kd_err ignored;

    if (kd_store_ogc_extent(w->st, layer, box, &empty, err))
        return -1;
    kd_err_init(&ignored);
    if (empty || kd_xform_box(w->to_4326, 0, box, ll, &ignored))
        return 0;
    ll[0] = floor(ll[0] * 1e7) / 1e7, ll[1] = floor(ll[1] * 1e7) / 1e7;
    ll[2] = ceil(ll[2] * 1e7) / 1e7, ll[3] = ceil(ll[3] * 1e7) / 1e7;
    return 1;
}

/* One collection's description; -1 on a store failure (err set). */
static int collection_json(struct req *r, struct worker *w, const struct kd_ogc_coll *c,
                           struct kd_buf *b, struct kd_err *err)
{
    char path[128], uri[96];
    double ll[4];
    int i, has = extent_lonlat(w, c->layer, ll, err);

    if (has < 0)
        return -1;
    kd_buf_adds(b, "{\"id\":");
    kd_buf_add_json_str(b, c->id);
    kd_buf_adds(b, ",\"title\":");
    kd_buf_add_json_str(b, c->title);
    kd_buf_adds(b, ",\"description\":");
    kd_buf_add_json_str(b, c->description);
    kd_buf_adds(b, ",\"itemType\":\"feature\"");
    if (has) {
        kd_buf_adds(b, ",\"extent\":{\"spatial\":{\"bbox\":[[");
        for (i = 0; i < 4; i++) {
            if (i)
                kd_buf_adds(b, ",");
            kd_buf_add_fixed(b, ll[i], 7);
        }
        kd_buf_adds(b, "]],\"crs\":\"" CRS84_URI "\"}}");
    }
    kd_buf_adds(b, ",\"crs\":[\"" CRS84_URI "\"");
    kd_ogc_crs_uri(KD_OGC_OFFICE, w->srid, uri, sizeof uri);
    if (w->srid != 3857) {
        kd_buf_adds(b, ",");
        kd_buf_add_json_str(b, uri);
    }
    kd_buf_adds(b, ",\"" EPSG_URI "3857\"],\"storageCrs\":");
    kd_buf_add_json_str(b, uri);
    kd_buf_adds(b, ",\"links\":[");
    kd_snprintf(path, sizeof path, "/collections/%s", c->id);
    add_link(b, r, path, "self", JSON, c->title);
    kd_buf_adds(b, ",");
    kd_snprintf(path, sizeof path, "/collections/%s/items", c->id);
    add_link(b, r, path, "items", "application/geo+json", "The features");
    /* OGC spells the relation describedby; GDAL 3.6 matches only describedBy (and then
     * types its fields from the schema): both, to the same document */
    kd_snprintf(path, sizeof path, "/collections/%s/schema.xsd", c->id);
    kd_buf_adds(b, ",");
    add_link(b, r, path, "describedby", "application/xml", "GML application schema");
    kd_buf_adds(b, ",");
    add_link(b, r, path, "describedBy", "application/xml", "GML application schema");
    kd_buf_adds(b, ",");
    kd_snprintf(path, sizeof path, "/collections/%s/queryables", c->id);
    add_link(b, r, path, "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "application/schema+json", "Properties that filter the features");
    kd_buf_adds(b, "]}");
    return 0;
}

static void collections(struct req *r, struct worker *w, struct answer *a)
{
    struct kd_err err;
    size_t i;

    kd_err_init(&err);
    a->content_type = JSON;
    kd_buf_adds(&a->body, "{\"links\":[");
    add_link(&a->body, r, "/collections", "self", JSON, "The collections");
    kd_buf_adds(&a->body, "],\"collections\":[");
    for (i = 0; i < N_COLLS; i++) {
        if (i)
            kd_buf_adds(&a->body, ",");
        if (collection_json(r, w, &colls[i], &a->body, &err)) {
            kd_answer_failed(r, a, &err);
            return;
        }
    }
    kd_buf_adds(&a->body, "]}");
}

static void collection(struct req *r, struct worker *w, struct answer *a,
                       const struct kd_ogc_coll *c)
{
    struct kd_err err;

    kd_err_init(&err);
    a->content_type = JSON;
    if (collection_json(r, w, c, &a->body, &err))
        kd_answer_failed(r, a, &err);
}

/* JSON Schema of the properties that filter (Part 3's queryables document; Part 1 lets any
 * of them be a query parameter of /items with an equality test). */
static void queryables(struct req *r, struct answer *a, const struct kd_ogc_coll *c)
{
    struct kd_buf *b = &a->body;
    char id[700];
    const struct kd_ogc_prop *p;
    int n = 0;

    a->content_type = "application/schema+json";
    kd_snprintf(id, sizeof id, "%s/collections/%s/queryables", r->srv->base_url, c->id);
    kd_buf_adds(b, "{\"$schema\":\"https://json-schema.org/draft/2019-09/schema\",\"$id\":");
    kd_buf_add_json_str(b, id);
    kd_buf_adds(b, ",\"type\":\"object\",\"title\":");
    kd_buf_add_json_str(b, c->title);
    kd_buf_adds(b, ",\"properties\":{");
    if (c->layer == KD_LAYER_PARCELS) {
        /* the number is the feature id, not a property (docs/api.md: clients built on GDAL
         * would read a "10:26:01:02:03:0045" property as the time 10:26:01) */
        kd_buf_adds(b, "\"cadastral_number\":{\"title\":\"Cadastral number (the feature id)\","
                       "\"type\":\"string\",\"x-ogc-role\":\"id\"}");
        n++;
    }
    for (p = c->props; p->name; p++) {
        if (!p->column)
            continue;
        kd_buf_adds(b, n++ ? "," : "");
        kd_buf_add_json_str(b, p->name);
        kd_buf_adds(b, ":{\"title\":");
        kd_buf_add_json_str(b, p->title);
        kd_buf_adds(b, ",\"type\":\"string\"}");
    }
    kd_buf_adds(b, "},\"additionalProperties\":false}");
}

/* Text for an XML attribute value in double quotes. */
static void add_xml_attr(struct kd_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            kd_buf_adds(b, "&amp;");
        else if (*s == '"')
            kd_buf_adds(b, "&quot;");
        else if (*s == '<')
            kd_buf_adds(b, "&lt;");
        else
            kd_buf_add(b, s, 1);
    }
}

/* A GML 3.2 application schema of the collection's properties: GDAL's OAPIF driver (3.6)
 * follows the describedBy link and declares its fields from it ("Using XML schema"). */
static void schema_xsd(struct req *r, struct answer *a, const struct kd_ogc_coll *c)
{
    struct kd_buf *b = &a->body;
    const struct kd_ogc_prop *p;

    a->content_type = "application/xml";
    /* the target namespace is a name, not a document: the base URL plus a fixed path. Every
     * interpolated text is ours (collection ids and property names from the table above)
     * except the base URL, which the operator sets; it is XML-escaped below. */
    kd_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
                   "xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:kd=\"");
    add_xml_attr(b, r->srv->base_url);
    kd_buf_adds(b, "/ns\" targetNamespace=\"");
    add_xml_attr(b, r->srv->base_url);
    kd_buf_addf(b,
                "/ns\" elementFormDefault=\"qualified\" version=\"1.0\">\n"
                "  <xs:import namespace=\"http://www.opengis.net/gml/3.2\"/>\n"
                "  <xs:element name=\"%s\" type=\"kd:%sType\" "
                "substitutionGroup=\"gml:AbstractFeature\"/>\n"
                "  <xs:complexType name=\"%sType\">\n"
                "    <xs:complexContent>\n"
                "      <xs:extension base=\"gml:AbstractFeatureType\">\n"
                "        <xs:sequence>\n"
                "          <xs:element name=\"geometry\" type=\"gml:MultiSurfacePropertyType\" "
                "minOccurs=\"0\"/>\n",
                c->id, c->id, c->id);
    for (p = c->props; p->name; p++)
        kd_buf_addf(b, "          <xs:element name=\"%s\" type=\"xs:%s\" minOccurs=\"0\"/>\n",
                    p->name,
                    strcmp(p->type, "number") == 0      ? "double"
                    : strcmp(p->type, "date-time") == 0 ? "dateTime"
                                                        : "string");
    kd_buf_adds(b, "        </xs:sequence>\n"
                   "      </xs:extension>\n"
                   "    </xs:complexContent>\n"
                   "  </xs:complexType>\n"
                   "</xs:schema>\n");
}

/* ---- routing ------------------------------------------------------------------------------ */

static const char *const no_args[] = {NULL};

int kd_ogc_route(struct req *r, struct worker *w, struct answer *a)
{
    static const char prefix[] = "/collections/";
    const char *path = r->path, *rest, *slash;
    const struct kd_ogc_coll *c;
    char id[64];

    if (strcmp(path, "/") == 0 || strcmp(path, "/conformance") == 0 ||
        strcmp(path, "/collections") == 0) {
        if (kd_req_check_args(r, a, no_args))
            return 1;
        if (path[1] == '\0')
            landing(r, a);
        else if (strcmp(path, "/conformance") == 0)
            conformance(a);
        else
            collections(r, w, a);
        return 1;
    }
    if (strcmp(path, "/api") == 0) { /* the service-desc of the landing page (openapi.c) */
        kd_openapi_answer(r, a);
        return 1;
    }
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return 0;
    rest = path + sizeof prefix - 1;
    slash = strchr(rest, '/');
    if (kd_snprintf(id, sizeof id, "%.*s", slash ? (int)(slash - rest) : (int)strlen(rest), rest) <
            0 ||
        !(c = kd_ogc_coll_find(id))) {
        kd_answer_problem(r, a, 404, "collection.not_found", "collectionId",
                          (const char *const[]){"collection", id, NULL});
        return 1;
    }
    if (!slash) {
        if (!kd_req_check_args(r, a, no_args))
            collection(r, w, a, c);
    } else if (strcmp(slash, "/items") == 0) {
        kd_ogc_items(r, w, a, c);
    } else if (strncmp(slash, "/items/", 7) == 0 && slash[7]) {
        kd_ogc_item(r, w, a, c, slash + 7);
    } else if (strcmp(slash, "/queryables") == 0) {
        if (!kd_req_check_args(r, a, no_args))
            queryables(r, a, c);
    } else if (strcmp(slash, "/schema.xsd") == 0) {
        if (!kd_req_check_args(r, a, no_args))
            schema_xsd(r, a, c);
    } else {
        kd_answer_problem(r, a, 404, "http.not_found", NULL,
                          (const char *const[]){"path", path, NULL});
    }
    return 1;
}
