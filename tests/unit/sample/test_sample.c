/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of sample: the generator against its promises (exact counts, determinism, valid and
 * unique numbers, PINFL check digits, shares summing exactly to 1, all land categories,
 * valid non-overlapping parcels checked with GEOS, lineage) and the GeoPackage sink read
 * back with GDAL. A collecting sink keeps copies of everything it is handed. */
#include "kadastr/geo.h"
#include "kadastr/sample.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <gdal.h>
#include <geos_c.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- a collecting sink ------------------------------------------------------------------- */

struct rec_parcel {
    char *cad, *cat, *use, *from, *to, *op, *par[2];
    size_t n_par;
    double decl;
    unsigned char *wkb;
    size_t wkb_len;
};

struct rec_right {
    char *cad, *party, *kind, *share, *doc_date, *reg;
};

struct rec_admin {
    char *code, *level, *parent;
    unsigned char *wkb;
    size_t wkb_len;
};

struct rec_area {
    unsigned char *wkb;
    size_t wkb_len;
};

struct collect {
    uint64_t hash;
    int keep;
    int stage, order_ok;
    long fail_at_parcel; /* > 0: refuse that parcel */
    long n_admin, n_zones, n_restr, n_parties, n_live, n_hist, n_rights, n_apps;
    struct rec_parcel *parcels;
    size_t n_parcels, cap_parcels;
    struct rec_right *rights;
    size_t n_rightv, cap_rights;
    struct rec_admin *admins;
    size_t n_adminv, cap_admins;
    struct rec_area *areas;
    size_t n_areas, cap_areas;
    char **party_ids;
    int *party_person;
    size_t n_partyv, cap_parties;
};

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? 2 * *cap : 256;
    p = realloc(p, *cap * size);
    assert_non_null(p);
    return p;
}

static char *sdup(const char *s)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    assert_non_null(d);
    return d;
}

static unsigned char *dup_bytes(const unsigned char *b, size_t n)
{
    unsigned char *d = malloc(n);

    assert_non_null(d);
    memcpy(d, b, n);
    return d;
}

/* FNV-1a over everything the sink is handed, absent strings included. */
static void h_bytes(struct collect *c, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        c->hash ^= b[i];
        c->hash *= UINT64_C(0x100000001b3);
    }
}

static void h_str(struct collect *c, const char *s)
{
    if (s)
        h_bytes(c, s, strlen(s) + 1);
    else
        h_bytes(c, "\xff", 1);
}

static void stage(struct collect *c, int s)
{
    if (s < c->stage)
        c->order_ok = 0;
    c->stage = s;
}

static enum kd_code on_admin(void *ud, const struct kd_sample_admin_unit *a, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 0);
    c->n_admin++;
    h_str(c, a->code);
    h_str(c, a->level);
    h_str(c, a->name);
    h_str(c, a->parent_code);
    h_bytes(c, a->wkb, a->wkb_len);
    if (c->keep) {
        struct rec_admin *r;
        c->admins = grow(c->admins, &c->cap_admins, c->n_adminv, sizeof *c->admins);
        r = &c->admins[c->n_adminv++];
        r->code = sdup(a->code);
        r->level = sdup(a->level);
        r->parent = sdup(a->parent_code);
        r->wkb = dup_bytes(a->wkb, a->wkb_len);
        r->wkb_len = a->wkb_len;
    }
    return KD_OK;
}

static void keep_area(struct collect *c, const struct kd_sample_area *z)
{
    struct rec_area *r;

    if (!c->keep)
        return;
    c->areas = grow(c->areas, &c->cap_areas, c->n_areas, sizeof *c->areas);
    r = &c->areas[c->n_areas++];
    r->wkb = dup_bytes(z->wkb, z->wkb_len);
    r->wkb_len = z->wkb_len;
}

static void h_area(struct collect *c, const struct kd_sample_area *z)
{
    h_str(c, z->code);
    h_str(c, z->kind);
    h_str(c, z->name);
    h_str(c, z->permitted_uses);
    h_bytes(c, z->wkb, z->wkb_len);
}

static enum kd_code on_zone(void *ud, const struct kd_sample_area *z, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 1);
    c->n_zones++;
    h_area(c, z);
    assert_string_equal(z->kind, "base");
    assert_non_null(z->permitted_uses);
    keep_area(c, z);
    return KD_OK;
}

static enum kd_code on_restriction(void *ud, const struct kd_sample_area *z, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 2);
    c->n_restr++;
    h_area(c, z);
    assert_true(strcmp(z->kind, "water_protection") == 0 ||
                strcmp(z->kind, "utility_corridor") == 0 || strcmp(z->kind, "heritage") == 0);
    assert_null(z->permitted_uses);
    keep_area(c, z);
    return KD_OK;
}

static enum kd_code on_party(void *ud, const struct kd_sample_party *p, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 3);
    c->n_parties++;
    h_str(c, p->kind);
    h_str(c, p->pinfl);
    h_str(c, p->stir);
    h_str(c, p->name);
    if (c->keep) {
        c->party_ids = grow(c->party_ids, &c->cap_parties, c->n_partyv, sizeof *c->party_ids);
        c->party_person = realloc(c->party_person, c->cap_parties * sizeof *c->party_person);
        assert_non_null(c->party_person);
        c->party_person[c->n_partyv] = strcmp(p->kind, "person") == 0;
        c->party_ids[c->n_partyv++] = sdup(p->pinfl ? p->pinfl : p->stir);
    }
    return KD_OK;
}

static enum kd_code on_parcel(void *ud, const struct kd_sample_parcel *p, struct kd_err *err)
{
    struct collect *c = ud;
    size_t i;

    stage(c, 4);
    if (p->valid_to)
        c->n_hist++;
    else
        c->n_live++;
    if (c->fail_at_parcel > 0 && c->n_live + c->n_hist == c->fail_at_parcel)
        return kd_err_set(err, KD_EIO, "test.refused", "refused by the test sink");
    h_str(c, p->cadastral_number);
    h_str(c, p->land_category);
    h_str(c, p->land_use);
    h_str(c, p->address);
    h_bytes(c, &p->declared_area_m2, sizeof p->declared_area_m2);
    h_str(c, p->valid_from);
    h_str(c, p->valid_to);
    h_str(c, p->operation);
    for (i = 0; i < p->n_parents; i++)
        h_str(c, p->parents[i]);
    h_bytes(c, p->wkb, p->wkb_len);
    if (c->keep) {
        struct rec_parcel *r;
        c->parcels = grow(c->parcels, &c->cap_parcels, c->n_parcels, sizeof *c->parcels);
        r = &c->parcels[c->n_parcels++];
        memset(r, 0, sizeof *r);
        r->cad = sdup(p->cadastral_number);
        r->cat = sdup(p->land_category);
        r->use = sdup(p->land_use);
        r->from = sdup(p->valid_from);
        r->to = sdup(p->valid_to);
        r->op = sdup(p->operation);
        assert_true(p->n_parents <= 2);
        for (i = 0; i < p->n_parents; i++)
            r->par[i] = sdup(p->parents[i]);
        r->n_par = p->n_parents;
        r->decl = p->declared_area_m2;
        r->wkb = dup_bytes(p->wkb, p->wkb_len);
        r->wkb_len = p->wkb_len;
    }
    return KD_OK;
}

static enum kd_code on_right(void *ud, const struct kd_sample_right *r, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 5);
    c->n_rights++;
    h_str(c, r->cadastral_number);
    h_str(c, r->party_id);
    h_str(c, r->kind);
    h_str(c, r->share);
    h_str(c, r->document);
    h_str(c, r->document_date);
    h_str(c, r->registered_on);
    if (c->keep) {
        struct rec_right *k;
        c->rights = grow(c->rights, &c->cap_rights, c->n_rightv, sizeof *c->rights);
        k = &c->rights[c->n_rightv++];
        k->cad = sdup(r->cadastral_number);
        k->party = sdup(r->party_id);
        k->kind = sdup(r->kind);
        k->share = sdup(r->share);
        k->doc_date = sdup(r->document_date);
        k->reg = sdup(r->registered_on);
    }
    return KD_OK;
}

static enum kd_code on_app(void *ud, const struct kd_sample_application *a, struct kd_err *err)
{
    struct collect *c = ud;

    (void)err;
    stage(c, 6);
    c->n_apps++;
    h_str(c, a->number);
    h_str(c, a->kind);
    h_str(c, a->cadastral_number);
    h_str(c, a->status);
    h_str(c, a->submitted_at);
    return KD_OK;
}

static void collect_init(struct collect *c, int keep)
{
    memset(c, 0, sizeof *c);
    c->hash = UINT64_C(0xcbf29ce484222325);
    c->keep = keep;
    c->order_ok = 1;
}

static void collect_fini(struct collect *c)
{
    size_t i;

    for (i = 0; i < c->n_parcels; i++) {
        struct rec_parcel *r = &c->parcels[i];
        free(r->cad);
        free(r->cat);
        free(r->use);
        free(r->from);
        free(r->to);
        free(r->op);
        free(r->par[0]);
        free(r->par[1]);
        free(r->wkb);
    }
    for (i = 0; i < c->n_rightv; i++) {
        free(c->rights[i].cad);
        free(c->rights[i].party);
        free(c->rights[i].kind);
        free(c->rights[i].share);
        free(c->rights[i].doc_date);
        free(c->rights[i].reg);
    }
    for (i = 0; i < c->n_adminv; i++) {
        free(c->admins[i].code);
        free(c->admins[i].level);
        free(c->admins[i].parent);
        free(c->admins[i].wkb);
    }
    for (i = 0; i < c->n_areas; i++)
        free(c->areas[i].wkb);
    for (i = 0; i < c->n_partyv; i++)
        free(c->party_ids[i]);
    free(c->parcels);
    free(c->rights);
    free(c->admins);
    free(c->areas);
    free(c->party_ids);
    free(c->party_person);
}

static void make_sink(struct collect *c, struct kd_sample_sink *sink)
{
    sink->ud = c;
    sink->admin_unit = on_admin;
    sink->zone = on_zone;
    sink->restriction = on_restriction;
    sink->party = on_party;
    sink->parcel = on_parcel;
    sink->right = on_right;
    sink->application = on_app;
}

/* Generates n parcels with seed into c (kept when keep); asserts success and the stats. */
static void run(struct collect *c, long n, uint64_t seed, int keep, struct kd_sample_stats *st)
{
    struct kd_sample_opts opts;
    struct kd_sample_sink sink;
    struct kd_err err;
    enum kd_code rc;

    opts.n_parcels = n;
    opts.seed = seed;
    collect_init(c, keep);
    make_sink(c, &sink);
    kd_err_init(&err);
    rc = kd_sample_generate(&opts, &sink, st, &err);
    if (rc != KD_OK)
        fail_msg("kd_sample_generate(%ld): %s: %s (%s)", n, err.where, err.msg, err.key);
    assert_int_equal(st->n_parcels_live, n);
    assert_int_equal(st->n_parcels_live, c->n_live);
    assert_int_equal(st->n_parcels_historic, c->n_hist);
    assert_int_equal(st->n_admin_units, c->n_admin);
    assert_int_equal(st->n_zones, c->n_zones);
    assert_int_equal(st->n_restrictions, c->n_restr);
    assert_int_equal(st->n_parties, c->n_parties);
    assert_int_equal(st->n_rights, c->n_rights);
    assert_int_equal(st->n_applications, c->n_apps);
    assert_true(c->order_ok);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- generator: counts, determinism, identifiers ----------------------------------------- */

static void test_sample_generate_is_deterministic(void **state)
{
    struct collect a, b, c;
    struct kd_sample_stats sa, sb, sc;

    (void)state;
    run(&a, 3000, 7, 0, &sa);
    run(&b, 3000, 7, 0, &sb);
    run(&c, 3000, 8, 0, &sc);
    assert_true(a.hash == b.hash);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_true(a.hash != c.hash);
    collect_fini(&a);
    collect_fini(&b);
    collect_fini(&c);
}

static void test_sample_generate_exact_live_count(void **state)
{
    static const long ns[] = {1, 7, 500, 5000};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        struct collect c;
        struct kd_sample_stats st;
        run(&c, ns[i], 42, 0, &st); /* run() asserts the count */
        assert_true(st.n_admin_units >= 5);
        assert_true(st.n_zones >= 1);
        collect_fini(&c);
    }
}

static void test_sample_generate_rejects_bad_n(void **state)
{
    struct kd_sample_opts opts = {0, 1};
    struct collect c;
    struct kd_sample_sink sink;
    struct kd_err err;

    (void)state;
    collect_init(&c, 0);
    make_sink(&c, &sink);
    kd_err_init(&err);
    assert_int_equal(kd_sample_generate(&opts, &sink, NULL, &err), KD_EINVAL);
    assert_string_equal(err.key, "sample.n_parcels");
    opts.n_parcels = -5;
    kd_err_init(&err);
    assert_int_equal(kd_sample_generate(&opts, &sink, NULL, &err), KD_EINVAL);
    assert_string_equal(err.key, "sample.n_parcels");
    assert_int_equal(c.n_admin, 0);
    collect_fini(&c);
}

static void test_sample_generate_stops_on_sink_error(void **state)
{
    struct kd_sample_opts opts = {500, 1};
    struct collect c;
    struct kd_sample_sink sink;
    struct kd_err err;

    (void)state;
    collect_init(&c, 0);
    c.fail_at_parcel = 10;
    make_sink(&c, &sink);
    kd_err_init(&err);
    assert_int_equal(kd_sample_generate(&opts, &sink, NULL, &err), KD_EIO);
    assert_string_equal(err.key, "test.refused");
    assert_non_null(strstr(err.where, "parcel 10:"));
    assert_int_equal(c.n_live + c.n_hist, 10);
    assert_int_equal(c.n_rights, 0);
    collect_fini(&c);
}

static void test_sample_generate_numbers_unique_and_valid(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    char **live, **mavze;
    size_t i, n = 0, nm = 0;

    (void)state;
    run(&c, 5000, 42, 1, &st);
    live = malloc(c.n_parcels * sizeof *live);
    mavze = malloc(c.n_adminv * sizeof *mavze);
    assert_non_null(live);
    assert_non_null(mavze);
    for (i = 0; i < c.n_parcels; i++) {
        char norm[KD_CADNUM_MAX];
        struct kd_err err;
        kd_err_init(&err);
        assert_int_equal(kd_cadnum_normalize(KD_NUMFMT_UZ, c.parcels[i].cad, norm, &err), KD_OK);
        assert_string_equal(norm, c.parcels[i].cad);
        assert_int_equal(strlen(norm), 19); /* AA:BB:CC:DD:EE:FFFF */
        assert_memory_equal(norm, "10:", 3);
        if (!c.parcels[i].to)
            live[n++] = c.parcels[i].cad;
    }
    assert_int_equal(n, 5000);
    qsort(live, n, sizeof *live, str_cmp);
    for (i = 1; i < n; i++)
        assert_string_not_equal(live[i - 1], live[i]);
    /* the hierarchy: each live number's first five groups name an emitted mavze, whose
     * parents came before it */
    for (i = 0; i < c.n_adminv; i++) {
        size_t j;
        int seen = c.admins[i].parent == NULL;
        for (j = 0; j < i && !seen; j++)
            seen = strcmp(c.admins[j].code, c.admins[i].parent) == 0;
        assert_true(seen);
        if (strcmp(c.admins[i].level, "mavze") == 0)
            mavze[nm++] = c.admins[i].code;
    }
    assert_string_equal(c.admins[0].level, "region");
    assert_string_equal(c.admins[0].code, "10");
    qsort(mavze, nm, sizeof *mavze, str_cmp);
    for (i = 0; i < n; i++) {
        char prefix[15], *key = prefix;
        memcpy(prefix, live[i], 14);
        prefix[14] = '\0';
        assert_non_null(bsearch(&key, mavze, nm, sizeof *mavze, str_cmp));
    }
    free(live);
    free(mavze);
    collect_fini(&c);
}

static int valid_ddmmyy(const char *s, int century)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int d = (s[0] - '0') * 10 + s[1] - '0', m = (s[2] - '0') * 10 + s[3] - '0';
    int y = century + (s[4] - '0') * 10 + s[5] - '0';
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !leap);
}

static void test_sample_generate_party_ids_valid(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    size_t i, persons = 0;
    char **ids;

    (void)state;
    run(&c, 5000, 42, 1, &st);
    for (i = 0; i < c.n_partyv; i++) {
        const char *id = c.party_ids[i];
        if (c.party_person[i]) {
            char first13[14];
            persons++;
            assert_int_equal(strlen(id), 14);
            assert_int_equal(kd_pinfl_check(id), 0);
            assert_true(id[0] >= '3' && id[0] <= '6');
            assert_true(valid_ddmmyy(id + 1, id[0] <= '4' ? 1900 : 2000));
            memcpy(first13, id, 13);
            first13[13] = '\0';
            assert_int_equal(kd_pinfl_check_digit(first13), id[13] - '0');
        } else {
            assert_int_equal(kd_stir_check(id), 0);
            assert_int_equal(id[0], '2');
        }
    }
    assert_true(persons > 1000);
    ids = malloc(c.n_partyv * sizeof *ids);
    assert_non_null(ids);
    memcpy(ids, c.party_ids, c.n_partyv * sizeof *ids);
    qsort(ids, c.n_partyv, sizeof *ids, str_cmp);
    for (i = 1; i < c.n_partyv; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
    collect_fini(&c);
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int is_primary(const char *kind)
{
    return strcmp(kind, "ownership") == 0 || strcmp(kind, "permanent_possession") == 0 ||
           strcmp(kind, "permanent_use") == 0 || strcmp(kind, "life_inheritable_possession") == 0;
}

static int right_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rec_right *)a)->cad, ((const struct rec_right *)b)->cad);
}

static void test_sample_generate_primary_shares_sum_to_one(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    char **live, **ids;
    size_t i, j, n = 0, groups = 0;

    (void)state;
    run(&c, 5000, 42, 1, &st);
    live = malloc(c.n_parcels * sizeof *live);
    ids = malloc(c.n_partyv * sizeof *ids);
    assert_non_null(live);
    assert_non_null(ids);
    for (i = 0; i < c.n_parcels; i++)
        if (!c.parcels[i].to)
            live[n++] = c.parcels[i].cad;
    qsort(live, n, sizeof *live, str_cmp);
    memcpy(ids, c.party_ids, c.n_partyv * sizeof *ids);
    qsort(ids, c.n_partyv, sizeof *ids, str_cmp);
    qsort(c.rights, c.n_rightv, sizeof *c.rights, right_cmp);
    for (i = 0; i < c.n_rightv; i = j) {
        struct kd_frac sum = {0, 1};
        const char *kind = NULL;
        for (j = i; j < c.n_rightv && strcmp(c.rights[j].cad, c.rights[i].cad) == 0; j++) {
            struct rec_right *r = &c.rights[j];
            struct kd_frac f;
            struct kd_err err;
            char *key = r->party;
            kd_err_init(&err);
            assert_int_equal(kd_frac_parse(r->share, &f, &err), KD_OK);
            assert_non_null(bsearch(&key, ids, c.n_partyv, sizeof *ids, str_cmp));
            assert_true(strcmp(r->doc_date, r->reg) <= 0);
            assert_true(strcmp(r->reg, "2005-01-01") >= 0 && strcmp(r->reg, "2024-12-31") <= 0);
            if (!is_primary(r->kind)) {
                assert_string_equal(r->share, "1");
                continue;
            }
            if (kind) /* one primary group: one kind */
                assert_string_equal(kind, r->kind);
            kind = r->kind;
            sum.num = sum.num * f.den + f.num * sum.den;
            sum.den *= f.den;
            {
                int64_t g = gcd64(sum.num, sum.den);
                sum.num /= g;
                sum.den /= g;
            }
        }
        {
            char *key = c.rights[i].cad;
            assert_non_null(bsearch(&key, live, n, sizeof *live, str_cmp));
        }
        assert_non_null(kind);
        assert_true(sum.num == 1 && sum.den == 1);
        groups++;
    }
    assert_int_equal(groups, n); /* every live parcel has exactly one primary group */
    free(live);
    free(ids);
    collect_fini(&c);
}

static void test_sample_generate_all_land_categories(void **state)
{
    static const char *const cats[] = {
        "agricultural",        "settlements", "industry_transport", "nature_protection",
        "historical_cultural", "forest_fund", "water_fund",         "reserve"};
    struct collect c;
    struct kd_sample_stats st;
    size_t i, k;
    int seen[8] = {0};

    (void)state;
    run(&c, 5000, 42, 1, &st);
    for (i = 0; i < c.n_parcels; i++) {
        int known = 0;
        for (k = 0; k < 8; k++)
            if (strcmp(c.parcels[i].cat, cats[k]) == 0) {
                seen[k] |= !c.parcels[i].to;
                known = 1;
            }
        assert_true(known);
    }
    for (k = 0; k < 8; k++)
        if (!seen[k])
            fail_msg("no live parcel of category %s", cats[k]);
    collect_fini(&c);
    /* the landmarks make this hold for any seed */
    run(&c, 5000, 12345, 1, &st);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < c.n_parcels; i++)
        for (k = 0; k < 8; k++)
            seen[k] |= strcmp(c.parcels[i].cat, cats[k]) == 0;
    for (k = 0; k < 8; k++)
        assert_true(seen[k]);
    collect_fini(&c);
}

static void test_sample_generate_history_and_lineage(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    size_t i, j, splits = 0, merges = 0, corrections = 0;

    (void)state;
    run(&c, 5000, 42, 1, &st);
    assert_true(st.n_parcels_historic > 50);
    for (i = 0; i < c.n_parcels; i++) {
        struct rec_parcel *p = &c.parcels[i];
        struct kd_err err;
        char t[32];
        kd_err_init(&err);
        assert_int_equal(kd_time_parse(p->from, t, &err), KD_OK);
        assert_string_equal(t, p->from);
        assert_true(strcmp(p->from, "2005-01-01") >= 0 && strcmp(p->from, "2025") < 0);
        if (p->to) {
            assert_true(strcmp(p->from, p->to) < 0);
            assert_true(strcmp(p->to, "2025") < 0);
        }
        if (strcmp(p->op, "create") == 0) {
            assert_int_equal(p->n_par, 0);
            continue;
        }
        assert_null(p->to);
        if (strcmp(p->op, "split") == 0) {
            splits++;
            assert_int_equal(p->n_par, 1);
        } else if (strcmp(p->op, "merge") == 0) {
            merges++;
            assert_int_equal(p->n_par, 2);
        } else {
            assert_string_equal(p->op, "correction");
            corrections++;
            assert_int_equal(p->n_par, 1);
            assert_string_equal(p->par[0], p->cad);
        }
        /* each parent is a historic version emitted before, retired when this one began */
        for (j = 0; j < p->n_par; j++) {
            size_t k;
            int found = 0;
            for (k = 0; k < i && !found; k++)
                found = strcmp(c.parcels[k].cad, p->par[j]) == 0 && c.parcels[k].to &&
                        strcmp(c.parcels[k].to, p->from) == 0;
            assert_true(found);
        }
    }
    assert_true(splits > 0 && merges > 0 && corrections > 0);
    collect_fini(&c);
}

/* ---- geometry, checked with GEOS --------------------------------------------------------- */

struct geo {
    GEOSContextHandle_t ctx;
    GEOSWKBReader *rd;
};

static void geo_init(struct geo *g)
{
    g->ctx = GEOS_init_r();
    assert_non_null(g->ctx);
    g->rd = GEOSWKBReader_create_r(g->ctx);
    assert_non_null(g->rd);
}

static void geo_fini(struct geo *g)
{
    GEOSWKBReader_destroy_r(g->ctx, g->rd);
    GEOS_finish_r(g->ctx);
}

static GEOSGeometry *geo_read(struct geo *g, const unsigned char *wkb, size_t len)
{
    GEOSGeometry *x = GEOSWKBReader_read_r(g->ctx, g->rd, wkb, len);

    assert_non_null(x);
    return x;
}

static double geo_area_of(struct geo *g, GEOSGeometry *x)
{
    double a = -1.0;

    assert_int_equal(GEOSArea_r(g->ctx, x, &a), 1);
    return a;
}

static void test_sample_generate_parcels_valid_and_disjoint(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    struct geo g;
    GEOSGeometry **live;
    double *x0, *x1, *y0_, *y1_;
    size_t i, j, n = 0, within_1pct = 0;

    (void)state;
    run(&c, 500, 42, 1, &st);
    geo_init(&g);
    live = calloc(c.n_parcels, sizeof *live);
    x0 = calloc(c.n_parcels, sizeof *x0);
    x1 = calloc(c.n_parcels, sizeof *x1);
    y0_ = calloc(c.n_parcels, sizeof *y0_);
    y1_ = calloc(c.n_parcels, sizeof *y1_);
    assert_true(live && x0 && x1 && y0_ && y1_);
    for (i = 0; i < c.n_parcels; i++) {
        GEOSGeometry *x = geo_read(&g, c.parcels[i].wkb, c.parcels[i].wkb_len);
        double a;
        assert_int_equal(GEOSGeomTypeId_r(g.ctx, x), GEOS_MULTIPOLYGON);
        assert_int_equal(GEOSGetNumGeometries_r(g.ctx, x), 1);
        if (GEOSisValid_r(g.ctx, x) != 1) {
            char *why = GEOSisValidReason_r(g.ctx, x);
            fail_msg("parcel %s is not valid: %s", c.parcels[i].cad, why);
        }
        a = geo_area_of(&g, x);
        assert_true(a > 1.0);
        if (c.parcels[i].to) {
            GEOSGeom_destroy_r(g.ctx, x);
            continue;
        }
        /* declared areas: close to the drawn one, a few off by more (never by 10 %) */
        assert_true(fabs(c.parcels[i].decl - a) < 0.1 * a);
        within_1pct += fabs(c.parcels[i].decl - a) <= 0.01 * a;
        GEOSGeom_getXMin_r(g.ctx, x, &x0[n]);
        GEOSGeom_getXMax_r(g.ctx, x, &x1[n]);
        GEOSGeom_getYMin_r(g.ctx, x, &y0_[n]);
        GEOSGeom_getYMax_r(g.ctx, x, &y1_[n]);
        live[n++] = x;
    }
    assert_int_equal(n, 500);
    assert_true(within_1pct >= n * 9 / 10);
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            GEOSGeometry *ix;
            double a;
            if (x0[j] > x1[i] || x1[j] < x0[i] || y0_[j] > y1_[i] || y1_[j] < y0_[i])
                continue;
            ix = GEOSIntersection_r(g.ctx, live[i], live[j]);
            assert_non_null(ix);
            a = geo_area_of(&g, ix);
            GEOSGeom_destroy_r(g.ctx, ix);
            if (a > 1e-6)
                fail_msg("live parcels %zu and %zu overlap by %g m2", i, j, a);
        }
    }
    for (i = 0; i < n; i++)
        GEOSGeom_destroy_r(g.ctx, live[i]);
    free(live);
    free(x0);
    free(x1);
    free(y0_);
    free(y1_);
    geo_fini(&g);
    collect_fini(&c);
}

/* Splits and merges keep the union: parents and children cover the same ground (A2). */
static void test_sample_generate_lineage_keeps_area(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    struct geo g;
    size_t i, j, k, checked = 0;

    (void)state;
    run(&c, 5000, 42, 1, &st);
    geo_init(&g);
    for (i = 0; i < c.n_parcels; i++) {
        struct rec_parcel *p = &c.parcels[i];
        double a_new = 0.0, a_old = 0.0;
        if (strcmp(p->op, "split") == 0) {
            /* both children share the parent: sum them once, at the first child */
            if (i + 1 >= c.n_parcels || strcmp(c.parcels[i + 1].op, "split") != 0 ||
                strcmp(c.parcels[i + 1].par[0], p->par[0]) != 0)
                continue;
            for (k = i; k <= i + 1; k++) {
                GEOSGeometry *x = geo_read(&g, c.parcels[k].wkb, c.parcels[k].wkb_len);
                a_new += geo_area_of(&g, x);
                GEOSGeom_destroy_r(g.ctx, x);
            }
        } else if (strcmp(p->op, "merge") == 0) {
            GEOSGeometry *x = geo_read(&g, p->wkb, p->wkb_len);
            assert_int_equal(GEOSisValid_r(g.ctx, x), 1);
            a_new = geo_area_of(&g, x);
            GEOSGeom_destroy_r(g.ctx, x);
        } else {
            continue;
        }
        for (k = 0; k < p->n_par; k++) {
            for (j = i; j-- > 0;) {
                if (strcmp(c.parcels[j].cad, p->par[k]) == 0) {
                    GEOSGeometry *x = geo_read(&g, c.parcels[j].wkb, c.parcels[j].wkb_len);
                    a_old += geo_area_of(&g, x);
                    GEOSGeom_destroy_r(g.ctx, x);
                    break;
                }
            }
        }
        assert_true(fabs(a_new - a_old) < 1e-6 * a_old);
        checked++;
    }
    assert_true(checked > 10);
    geo_fini(&g);
    collect_fini(&c);
}

/* Admin units, zones and restrictions are valid; each live parcel lies in its mavze. */
static void test_sample_generate_areas_valid_and_parcels_in_mavze(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    struct geo g;
    size_t i, j;

    (void)state;
    run(&c, 500, 42, 1, &st);
    geo_init(&g);
    for (i = 0; i < c.n_areas; i++) {
        GEOSGeometry *x = geo_read(&g, c.areas[i].wkb, c.areas[i].wkb_len);
        if (GEOSisValid_r(g.ctx, x) != 1)
            fail_msg("zone/restriction %zu invalid: %s", i, GEOSisValidReason_r(g.ctx, x));
        GEOSGeom_destroy_r(g.ctx, x);
    }
    for (i = 0; i < c.n_adminv; i++) {
        GEOSGeometry *x = geo_read(&g, c.admins[i].wkb, c.admins[i].wkb_len);
        if (GEOSisValid_r(g.ctx, x) != 1)
            fail_msg("admin unit %s invalid: %s", c.admins[i].code, GEOSisValidReason_r(g.ctx, x));
        GEOSGeom_destroy_r(g.ctx, x);
    }
    for (i = 0; i < c.n_parcels; i++) {
        struct rec_parcel *p = &c.parcels[i];
        GEOSGeometry *x, *m, *d;
        if (p->to)
            continue;
        for (j = 0; j < c.n_adminv; j++)
            if (strlen(c.admins[j].code) == 14 && strncmp(c.admins[j].code, p->cad, 14) == 0)
                break;
        assert_true(j < c.n_adminv);
        x = geo_read(&g, p->wkb, p->wkb_len);
        m = geo_read(&g, c.admins[j].wkb, c.admins[j].wkb_len);
        d = GEOSDifference_r(g.ctx, x, m);
        assert_non_null(d);
        assert_true(geo_area_of(&g, d) < 1e-6);
        GEOSGeom_destroy_r(g.ctx, d);
        GEOSGeom_destroy_r(g.ctx, m);
        GEOSGeom_destroy_r(g.ctx, x);
    }
    geo_fini(&g);
    collect_fini(&c);
}

static void test_sample_generate_timing_100k(void **state)
{
    struct collect c;
    struct kd_sample_stats st;
    struct timespec t0, t1;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run(&c, 100000, 42, 0, &st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("sample: 100000 parcels (+%ld historic, %ld rights, %ld parties) in %.3f s\n",
           st.n_parcels_historic, st.n_rights, st.n_parties,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    collect_fini(&c);
}

/* ---- the GeoPackage sink ----------------------------------------------------------------- */

static void work_path(char *buf, size_t cap, const char *name)
{
    mkdir(KD_TEST_WORK, 0777);
    assert_true(kd_snprintf(buf, cap, "%s/%s", KD_TEST_WORK, name) > 0);
    unlink(buf);
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void expect_fields(OGRLayerH lyr, const char *const *names)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    int i;

    for (i = 0; names[i]; i++) {
        OGRFieldDefnH fd;
        assert_true(i < OGR_FD_GetFieldCount(defn));
        fd = OGR_FD_GetFieldDefn(defn, i);
        assert_string_equal(OGR_Fld_GetNameRef(fd), names[i]);
        assert_int_equal(OGR_Fld_GetType(fd),
                         strcmp(names[i], "declared_area_m2") ? OFTString : OFTReal);
    }
    assert_int_equal(OGR_FD_GetFieldCount(defn), i);
}

static void test_sample_gpkg_writes_readable_file(void **state)
{
    static const char *const f_parcels[] = {
        "cadastral_number", "land_category", "land_use", "address",
        "declared_area_m2", "valid_from",    NULL};
    static const char *const f_zones[] = {"zone_code", "zone_kind", "zone_name", "permitted_uses",
                                          NULL};
    static const char *const f_restr[] = {"restriction_code", "restriction_kind",
                                          "restriction_name", NULL};
    static const char *const f_admin[] = {"admin_code", "admin_level", "admin_name", "parent_code",
                                          NULL};
    static const char *const f_parties[] = {"party_id", "party_kind", "name", NULL};
    static const char *const f_rights[] = {
        "cadastral_number", "party_id",      "right_kind",    "share",
        "document",         "document_date", "registered_on", NULL};
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_sample_sink sink;
    struct kd_sample_opts opts = {500, 42};
    struct kd_sample_stats st;
    struct kd_err err;
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRSpatialReferenceH srs;
    OGREnvelope env;
    OGRFeatureH f;

    (void)state;
    work_path(path, sizeof path, "sample_500.gpkg");
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, "EPSG:28412", &gp, &err), KD_OK);
    kd_sample_gpkg_sink(gp, &sink);
    if (kd_sample_generate(&opts, &sink, &st, &err) != KD_OK)
        fail_msg("%s: %s (%s)", err.where, err.msg, err.key);
    assert_int_equal(kd_sample_gpkg_close(gp, &err), KD_OK);

    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    lyr = GDALDatasetGetLayerByName(ds, "parcels");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), 500);
    expect_fields(lyr, f_parcels);
    srs = OGR_L_GetSpatialRef(lyr);
    assert_non_null(srs);
    assert_string_equal(OSRGetAuthorityCode(srs, NULL), "28412");
    /* SK-42 Gauss-Kruger zone 12: easting prefixed with the zone, about 12 523 km */
    assert_int_equal(OGR_L_GetExtent(lyr, &env, TRUE), OGRERR_NONE);
    assert_true(env.MinX > 12400000.0 && env.MaxX < 12700000.0);
    assert_true(env.MinY > 4500000.0 && env.MaxY < 4650000.0);
    OGR_L_ResetReading(lyr);
    f = OGR_L_GetNextFeature(lyr);
    assert_non_null(f);
    assert_int_equal(strlen(OGR_F_GetFieldAsString(f, 0)), 19);
    assert_true(OGR_F_GetFieldAsDouble(f, 4) > 0.0);
    OGR_F_Destroy(f);

    lyr = GDALDatasetGetLayerByName(ds, "zones");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), st.n_zones);
    expect_fields(lyr, f_zones);
    lyr = GDALDatasetGetLayerByName(ds, "restrictions");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), st.n_restrictions);
    expect_fields(lyr, f_restr);
    lyr = GDALDatasetGetLayerByName(ds, "admin_units");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), st.n_admin_units);
    expect_fields(lyr, f_admin);
    lyr = GDALDatasetGetLayerByName(ds, "parties");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetGeomType(lyr), wkbNone);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), st.n_parties);
    expect_fields(lyr, f_parties);
    lyr = GDALDatasetGetLayerByName(ds, "rights");
    assert_non_null(lyr);
    assert_int_equal(OGR_L_GetGeomType(lyr), wkbNone);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), st.n_rights);
    expect_fields(lyr, f_rights);
    GDALClose(ds);
}

/* The export's operation is the one `kadastr load` chooses (kd_op_choose over Uzbekistan), so
 * transforming it back that way gives the generator's coordinates again within 1 mm (PROJ's
 * inverse Helmert with small-angle rotations is itself off by ~0.4 mm); GDAL's own choice
 * for Tashkent (an operation meant for Russia) would come back 2-3 m off. */
static void test_sample_gpkg_round_trips_through_the_loaders_operation(void **state)
{
    static const double uz[4] = {55.99, 37.18, 73.17, 45.58};
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_sample_sink sink;
    struct kd_sample_opts opts = {300, 9};
    struct kd_sample_stats st;
    struct collect c;
    struct kd_err err;
    struct kd_geo *geo = NULL;
    struct kd_op_choice op;
    struct kd_xform *xf = NULL;
    const char *tr;
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureH f;
    size_t i, checked = 0;

    (void)state;
    run(&c, 300, 9, 1, &st);
    work_path(path, sizeof path, "sample_roundtrip.gpkg");
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, "EPSG:28412", &gp, &err), KD_OK);
    kd_sample_gpkg_sink(gp, &sink);
    assert_int_equal(kd_sample_generate(&opts, &sink, NULL, &err), KD_OK);
    assert_int_equal(kd_sample_gpkg_close(gp, &err), KD_OK);

    assert_int_equal(kd_geo_new(&geo, &err), KD_OK);
    assert_int_equal(kd_op_choose(geo, "EPSG:28412", KD_SAMPLE_SRID, uz, uz, &op, &err), KD_OK);
    assert_int_equal(kd_xform_new(geo, op.definition, &xf, &err), KD_OK);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    tr = GDALGetMetadataItem(ds, "KADASTR_TRANSFORMATION", NULL);
    assert_non_null(tr);
    assert_string_equal(tr, op.transformation);
    lyr = GDALDatasetGetLayerByName(ds, "parcels");
    assert_non_null(lyr);
    OGR_L_ResetReading(lyr);
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        OGRGeometryH gm = OGR_F_GetGeometryRef(f);
        const char *cad = OGR_F_GetFieldAsString(f, 0);
        int size = OGR_G_WkbSize(gm);
        unsigned char *w = malloc((size_t)size);
        assert_non_null(w);
        assert_int_equal(OGR_G_ExportToIsoWkb(gm, wkbNDR, w), OGRERR_NONE);
        assert_int_equal(kd_xform_wkb(xf, 0, w, (size_t)size, &err), KD_OK);
        for (i = 0; i < c.n_parcels; i++) {
            const struct rec_parcel *p = &c.parcels[i];
            size_t k;
            if (p->to || strcmp(p->cad, cad) != 0)
                continue;
            assert_int_equal(p->wkb_len, (size_t)size);
            for (k = 22; k + 8 <= p->wkb_len; k += 8) { /* the doubles after the headers */
                double a, b;
                memcpy(&a, p->wkb + k, 8);
                memcpy(&b, w + k, 8);
                if (fabs(a - b) > 1e-3)
                    fail_msg("%s: coordinate %.9f came back as %.9f", cad, a, b);
            }
            checked++;
        }
        free(w);
        OGR_F_Destroy(f);
    }
    assert_int_equal(checked, 300);
    GDALClose(ds);
    kd_xform_free(xf);
    kd_op_choice_fini(&op);
    kd_geo_free(geo);
    collect_fini(&c);
}

static void test_sample_gpkg_abort_removes_file(void **state)
{
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_err err;

    (void)state;
    work_path(path, sizeof path, "sample_abort.gpkg");
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, "EPSG:32642", &gp, &err), KD_OK);
    assert_true(exists(path));
    kd_sample_gpkg_abort(gp);
    assert_false(exists(path));
    kd_sample_gpkg_abort(NULL);
    assert_int_equal(kd_sample_gpkg_close(NULL, &err), KD_OK);
}

static void test_sample_gpkg_open_refuses_existing_file(void **state)
{
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_err err;
    FILE *fp;

    (void)state;
    work_path(path, sizeof path, "sample_exists.gpkg");
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("not a GeoPackage\n", fp);
    fclose(fp);
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, NULL, &gp, &err), KD_EIO);
    assert_string_equal(err.key, "sample.gpkg_exists");
    assert_non_null(strstr(err.where, "sample_exists.gpkg"));
    assert_true(err.hint[0] != '\0');
    assert_null(gp);
    assert_true(exists(path)); /* never touched */
    unlink(path);
}

static void test_sample_gpkg_open_fails_in_missing_directory(void **state)
{
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_err err;

    (void)state;
    assert_true(kd_snprintf(path, sizeof path, "%s/no/such/dir/s.gpkg", KD_TEST_WORK) > 0);
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, "EPSG:28412", &gp, &err), KD_EIO);
    assert_string_equal(err.key, "sample.gpkg_create");
    assert_non_null(strstr(err.where, "s.gpkg"));
    assert_null(gp);
    assert_false(exists(path));
}

static void test_sample_gpkg_open_rejects_unknown_crs(void **state)
{
    char path[512];
    struct kd_sample_gpkg *gp = NULL;
    struct kd_err err;

    (void)state;
    work_path(path, sizeof path, "sample_crs.gpkg");
    kd_err_init(&err);
    assert_int_equal(kd_sample_gpkg_open(path, "EPSG:999999", &gp, &err), KD_EINVAL);
    assert_string_equal(err.key, "sample.gpkg_crs");
    assert_null(gp);
    assert_false(exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_generate_is_deterministic),
        cmocka_unit_test(test_sample_generate_exact_live_count),
        cmocka_unit_test(test_sample_generate_rejects_bad_n),
        cmocka_unit_test(test_sample_generate_stops_on_sink_error),
        cmocka_unit_test(test_sample_generate_numbers_unique_and_valid),
        cmocka_unit_test(test_sample_generate_party_ids_valid),
        cmocka_unit_test(test_sample_generate_primary_shares_sum_to_one),
        cmocka_unit_test(test_sample_generate_all_land_categories),
        cmocka_unit_test(test_sample_generate_history_and_lineage),
        cmocka_unit_test(test_sample_generate_parcels_valid_and_disjoint),
        cmocka_unit_test(test_sample_generate_lineage_keeps_area),
        cmocka_unit_test(test_sample_generate_areas_valid_and_parcels_in_mavze),
        cmocka_unit_test(test_sample_generate_timing_100k),
        cmocka_unit_test(test_sample_gpkg_writes_readable_file),
        cmocka_unit_test(test_sample_gpkg_round_trips_through_the_loaders_operation),
        cmocka_unit_test(test_sample_gpkg_abort_removes_file),
        cmocka_unit_test(test_sample_gpkg_open_refuses_existing_file),
        cmocka_unit_test(test_sample_gpkg_open_fails_in_missing_directory),
        cmocka_unit_test(test_sample_gpkg_open_rejects_unknown_crs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
