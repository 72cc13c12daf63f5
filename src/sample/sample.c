/* SPDX-License-Identifier: Apache-2.0 */
/* sample: a deterministic Tashkent-like region (docs/sample.md). The region is a rotated,
 * jittered street grid: arterials every 6th street bound massivs, 2 x 2 massivs make a
 * cadastral zone, rectangles of zones make districts. Every street, node and block draws
 * its randomness from a hash of (seed, what, where), so a block is the same whichever window
 * holds it; the planner counts the parcels of each block first, picks the smallest window
 * holding n, fills blocks from the centre out, and cuts the last block to exactly the rest.
 * Parcels are built valid by construction (convex quads, shared vertices), never by GEOS. */
#include "sample_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the model --------------------------------------------------------------------------- */

#define BPM 6  /* blocks along a massiv side: an arterial every 6th street */
#define BPZ 12 /* blocks along a cadastral zone side: 2 x 2 massivs */
/* UTM 42N of 69.2797 E 41.3111 N (Amir Temur square, Tashkent):
 * echo 69.2797 41.3111 | cs2cs +proj=longlat +datum=WGS84 +to EPSG:32642 */
#define CENTRE_E 523412.258
#define CENTRE_N 4573330.773
#define GRID_ROT_RAD (-0.20943951023931956) /* -12 degrees: the street grid vs grid north */
#define JITTER_M 7.0
#define ARTERIAL_HALF_M 20.0
#define N_MAX 10000000L
#define ZONES_MAX 99 /* zones along a side; keeps <= 99 districts of <= 99 zones */
#define MAX_PIECES 128
#define MAX_CORRIDORS 32
#define P_SPLIT 0.035 /* per pair of neighbouring lots */
#define P_MERGE 0.012 /* per pair of neighbouring lots */
#define P_CORR 0.015  /* per lot */
#define P_APP 0.005   /* per live parcel */
#define TWO_PI 6.283185307179586

enum tag {
    T_LINE_U = 1,
    T_LINE_V,
    T_HALF_U,
    T_HALF_V,
    T_JITTER,
    T_MZONE,
    T_BTYPE,
    T_LAYOUT,
    T_HIST,
    T_ATTR,
    T_RIGHTS,
    T_PERSON,
    T_ORG,
    T_WATER,
    T_CORRIDOR,
    T_HERITAGE,
    T_NAME,
    T_STREET,
    T_APP
};

enum zone { Z_C1, Z_R2, Z_R1, Z_I1, Z_AG, Z_PARK, Z_HIST, Z_FOREST, Z_WATER, Z_RESERVE };

static const struct {
    const char *code, *name, *uses;
} zone_defs[] = {
    {"C1", "Central business and commercial", "commercial,multi_apartment,public_service"},
    {"R2", "Multi-storey residential", "multi_apartment,commercial,public_service"},
    {"R1", "Individual housing (mahalla)", "individual_housing,commercial,public_service"},
    {"I1", "Industrial and utility", "industrial,transport,commercial,public_service"},
    {"AG", "Agricultural", "farming,dehkan"},
    {"PARK", "Parks and recreation", "park,public_service"},
    {"HIST", "Historical and cultural heritage", "heritage_site,public_service"},
    {"FOREST", "Forest fund", "forest"},
    {"WATER", "Water fund", "water_body"},
    {"RESERVE", "Reserve land", "reserve"},
};

enum btype {
    B_MAHALLA,
    B_APART,
    B_COMM,
    B_INDUS,
    B_AGRI,
    B_PUBLIC,
    B_PARK,
    B_HERITAGE,
    B_FOREST,
    B_WATER,
    B_RESERVE
};
/* the zone a block type lies in; -1: its massiv's */
static const signed char btype_zone[] = {Z_R1,   Z_R2,   Z_C1,     Z_I1,    Z_AG,     -1,
                                         Z_PARK, Z_HIST, Z_FOREST, Z_WATER, Z_RESERVE};

enum use {
    U_HOUSING,
    U_APART,
    U_COMM,
    U_PUBLIC,
    U_INDUS,
    U_TRANSPORT,
    U_FARMING,
    U_DEHKAN,
    U_PARK,
    U_HERITAGE,
    U_FOREST,
    U_WATER,
    U_RESERVE
};
static const char *const use_names[] = {"individual_housing",
                                        "multi_apartment",
                                        "commercial",
                                        "public_service",
                                        "industrial",
                                        "transport",
                                        "farming",
                                        "dehkan",
                                        "park",
                                        "heritage_site",
                                        "forest",
                                        "water_body",
                                        "reserve"};
/* the 8 land categories of the Land Code, article 8 (DOMAIN.md) */
static const char *const categories[] = {
    "agricultural",        "settlements", "industry_transport", "nature_protection",
    "historical_cultural", "forest_fund", "water_fund",         "reserve"};
static const unsigned char use_category[] = {1, 1, 1, 1, 2, 2, 0, 0, 3, 4, 5, 6, 7};

struct pick {
    unsigned char v;
    double p;
};

/* base zone of a massiv by its distance from the centre, relative to the window */
static const struct pick mz_core[] = {{Z_C1, .40}, {Z_R2, .40}, {Z_PARK, .05}, {Z_R1, .15}};
static const struct pick mz_inner[] = {
    {Z_R1, .66}, {Z_R2, .14}, {Z_C1, .05}, {Z_I1, .08}, {Z_PARK, .07}};
static const struct pick mz_outer[] = {
    {Z_R1, .55}, {Z_I1, .18}, {Z_AG, .17}, {Z_R2, .05}, {Z_PARK, .05}};
static const struct pick mz_edge[] = {{Z_AG, .55}, {Z_R1, .35}, {Z_I1, .10}};

/* block types by the massiv's base zone */
static const struct pick bt_c1[] = {
    {B_COMM, .80}, {B_APART, .08}, {B_PUBLIC, .04}, {B_PARK, .05}, {B_HERITAGE, .03}};
static const struct pick bt_r2[] = {{B_APART, .82}, {B_PUBLIC, .09},    {B_PARK, .05},
                                    {B_COMM, .03},  {B_HERITAGE, .005}, {B_RESERVE, .005}};
static const struct pick bt_r1[] = {{B_MAHALLA, .895}, {B_PUBLIC, .05},    {B_PARK, .025},
                                    {B_RESERVE, .012}, {B_HERITAGE, .006}, {B_AGRI, .012}};
static const struct pick bt_i1[] = {
    {B_INDUS, .88}, {B_RESERVE, .05}, {B_COMM, .04}, {B_FOREST, .03}};
static const struct pick bt_ag[] = {
    {B_AGRI, .85}, {B_FOREST, .06}, {B_RESERVE, .05}, {B_MAHALLA, .04}};
static const struct pick bt_park[] = {
    {B_PARK, .80}, {B_FOREST, .12}, {B_PUBLIC, .05}, {B_HERITAGE, .03}};

/* land uses by block type */
static const struct pick use_mahalla[] = {{U_HOUSING, .95}, {U_COMM, .03}, {U_PUBLIC, .02}};
static const struct pick use_apart[] = {{U_APART, .75}, {U_COMM, .10}, {U_PUBLIC, .15}};
static const struct pick use_comm[] = {{U_COMM, .75}, {U_APART, .10}, {U_PUBLIC, .15}};
static const struct pick use_indus[] = {{U_INDUS, .82}, {U_TRANSPORT, .12}, {U_COMM, .06}};
static const struct pick use_park[] = {{U_PARK, .85}, {U_PUBLIC, .15}};

/* Landmarks: blocks near the centre (global block indices) whose type is fixed, so that
 * every land category occurs as soon as the region has a few thousand parcels. */
static const struct {
    int ga, gb;
    unsigned char type;
} landmarks[] = {{-2, 1, B_HERITAGE}, {1, -2, B_PARK},  {2, 1, B_WATER}, {-3, -2, B_FOREST},
                 {3, -3, B_RESERVE},  {-3, 2, B_INDUS}, {2, 3, B_AGRI}};

/* State bodies: the first parties, holders of public land. */
enum org {
    ORG_CITY,
    ORG_PARKS,
    ORG_HERITAGE,
    ORG_FOREST,
    ORG_WATER,
    ORG_ENFORCE,
    ORG_POWER,
    ORG_GAS,
    ORG_RAIL,
    ORG_EDU,
    ORG_HEALTH,
    N_STATE
};
static const char *const state_orgs[N_STATE] = {
    "Toshkent shahar hokimligi",
    "Toshkent shahar obodonlashtirish bosh boshqarmasi",
    "Madaniy meros agentligi",
    "O'rmon xo'jaligi davlat qo'mitasi",
    "Suv xo'jaligi vazirligi",
    "Majburiy ijro byurosi",
    "Hududiy elektr tarmoqlari AJ",
    "Hududgaztaminot AJ",
    "O'zbekiston temir yo'llari AJ",
    "Toshkent shahar maktab ta'limi boshqarmasi",
    "Toshkent shahar sog'liqni saqlash bosh boshqarmasi"};

/* ---- state ------------------------------------------------------------------------------- */

/* The window: gu x gv cadastral zones centred on Tashkent. */
struct win {
    int gu, gv;
    int nbu, nbv;              /* blocks across and up: 12 gu, 12 gv */
    double *lu, *lv;           /* street centre lines, local metres from the centre */
    double *hu, *hv;           /* their half widths */
    struct kd_sample_pt *node; /* (nbu + 1) x (nbv + 1) crossings, EPSG:32642 */
    unsigned char *mzone;      /* base zone per massiv, 2 gu x 2 gv */
    unsigned char *btype;      /* per block */
    uint16_t *bcount;          /* live parcels a block holds when it is not the last */
};

struct water {
    int present;
    struct kd_sample_pt o; /* a point of the axis */
    double dx, dy;         /* axis direction; the channel meanders around it */
    double amp_m, wl_m, phase, bank_m, wp_m;
    const char *name;
};

struct corridor {
    struct kd_sample_pt *pts;
    size_t n;
    double half_m;
    int power; /* 1 power line, 0 gas pipeline */
    double x0, y0, x1, y1;
};

struct piece {
    struct kd_sample_pt c[4]; /* counter-clockwise */
    unsigned char sib;        /* shares a whole edge with the next piece */
    unsigned char row;        /* mahalla row (0: front on the long side 0, 1: on side 2) */
    unsigned char idx;        /* position in its row */
};

enum ev_kind { EV_PLAIN, EV_SPLIT, EV_MERGE, EV_CORR };

struct event {
    unsigned char kind, i;
};

/* Per block scratch, reused: pieces, history events, and the final rings (quads with the
 * neighbours' corners inserted, so shared edges have identical vertices). */
struct scratch {
    struct piece pc[MAX_PIECES];
    size_t np;
    struct event ev[MAX_PIECES];
    size_t nev;
    int rot;  /* the block quad's rotation putting its long sides at edges 0 and 2 */
    int farm; /* agricultural blocks: farming fields (1) or dehkan plots (0) */
    struct kd_sample_pt *pool;
    size_t pool_len, pool_cap;
    size_t off[MAX_PIECES], len[MAX_PIECES];
    size_t corner[MAX_PIECES][4];
};

/* A live parcel, kept compact for the rights and applications that follow all parcels. */
struct live {
    uint32_t ub; /* index in used[] */
    uint16_t plot;
    uint8_t use;
    uint8_t flags;
    int32_t title_day; /* when the current primary right was registered */
};
#define LIVE_APP 1
#define LIVE_POWER 2
#define LIVE_GAS 4

struct gen {
    uint64_t seed;
    long n;
    const struct kd_sample_sink *sink;
    struct kd_err *err;
    struct kd_sample_stats st;
    double cr, sr; /* rotation of the grid */
    int32_t d_first, d_last, d_2020, d_2024;
    struct win w;
    int w_size; /* the size index the window was built for, -1: none */
    long w_cap; /* the parcels it holds */
    struct water water[2];
    struct corridor cor[MAX_CORRIDORS];
    size_t n_cor;
    /* districts: zone columns dcol[c] .. dcol[c + 1], rows drow[r] .. drow[r + 1] */
    int du, dv, dcol[16], drow[16];
    unsigned char *zone_bb, *zone_cc; /* per cadastral zone */
    /* the fill */
    int32_t *used; /* blocks holding parcels, in cadastral number order */
    size_t n_used;
    int32_t clamp_block; /* the last block, cut to clamp_count parcels; -1: none */
    long clamp_count;
    /* parties: state bodies, district khokimiyats, banks, companies, then persons */
    uint32_t n_orgs, n_persons, org_hokim, org_bank, org_com, n_com;
    struct live *live;
    size_t n_live;
    uint32_t app_seq;
    struct scratch sc;
    struct kd_sample_wkb wkb;
    struct kd_sample_pt *tmp;
    size_t tmp_cap;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static double unit_of(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static unsigned pick_of(const struct pick *t, size_t n, double u)
{
    double acc = 0.0;
    size_t i;

    for (i = 0; i < n; i++) {
        acc += t[i].p;
        if (u < acc)
            return t[i].v;
    }
    return t[n - 1].v;
}
#define PICK(t, u) pick_of(t, COUNT(t), u)

static struct kd_sample_pt lerp(struct kd_sample_pt a, struct kd_sample_pt b, double t)
{
    struct kd_sample_pt p;

    p.x = a.x + (b.x - a.x) * t;
    p.y = a.y + (b.y - a.y) * t;
    return p;
}

static double dist(struct kd_sample_pt a, struct kd_sample_pt b)
{
    return hypot(b.x - a.x, b.y - a.y);
}

static struct kd_sample_pt world(const struct gen *g, double u, double v)
{
    struct kd_sample_pt p;

    p.x = CENTRE_E + u * g->cr - v * g->sr;
    p.y = CENTRE_N + u * g->sr + v * g->cr;
    return p;
}

static void local(const struct gen *g, struct kd_sample_pt p, double *u, double *v)
{
    double dx = p.x - CENTRE_E, dy = p.y - CENTRE_N;

    *u = dx * g->cr + dy * g->sr;
    *v = -dx * g->sr + dy * g->cr;
}

static struct kd_sample_pt node(const struct win *w, int i, int j)
{
    return w->node[(size_t)j * (size_t)(w->nbu + 1) + (size_t)i];
}

static enum kd_code nomem(struct gen *g)
{
    return kd_err_set(g->err, KD_ENOMEM, "sample.nomem", "out of memory generating the sample");
}

static int tmp_room(struct gen *g, size_t n)
{
    struct kd_sample_pt *p;
    size_t cap;

    if (n <= g->tmp_cap)
        return 0;
    cap = g->tmp_cap ? g->tmp_cap : 1024;
    while (cap < n)
        cap *= 2;
    p = realloc(g->tmp, cap * sizeof *p);
    if (!p)
        return -1;
    g->tmp = p;
    g->tmp_cap = cap;
    return 0;
}

/* ---- the window -------------------------------------------------------------------------- */

static void win_free(struct win *w)
{
    free(w->lu);
    free(w->lv);
    free(w->hu);
    free(w->hv);
    free(w->node);
    free(w->mzone);
    free(w->btype);
    free(w->bcount);
    memset(w, 0, sizeof *w);
}

/* Street lines grow outwards from the centre line, each spacing drawn by its own index, so
 * a bigger window only adds streets at its edges. */
static void lines(uint64_t seed, int nb, int tag_w, int tag_h, double wlo, double whi, double *pos,
                  double *half)
{
    int c = nb / 2, i;

    pos[c] = 0.0;
    for (i = c + 1; i <= nb; i++)
        pos[i] = pos[i - 1] + wlo +
                 (whi - wlo) * unit_of(kd_sample_hash(seed, (uint64_t)tag_w, i - c, 0));
    for (i = c - 1; i >= 0; i--)
        pos[i] = pos[i + 1] - wlo -
                 (whi - wlo) * unit_of(kd_sample_hash(seed, (uint64_t)tag_w, i - c, 0));
    for (i = 0; i <= nb; i++) {
        int k = i - c;
        half[i] = k % BPM == 0 ? ARTERIAL_HALF_M
                               : 6.0 + 3.0 * unit_of(kd_sample_hash(seed, (uint64_t)tag_h, k, 0));
    }
}

static void block_quad(const struct win *w, int a, int b, struct kd_sample_pt q[4])
{
    struct kd_sample_pt c[4];
    double d[4];

    c[0] = node(w, a, b);
    c[1] = node(w, a + 1, b);
    c[2] = node(w, a + 1, b + 1);
    c[3] = node(w, a, b + 1);
    d[0] = w->hv[b];
    d[1] = w->hu[a + 1];
    d[2] = w->hv[b + 1];
    d[3] = w->hu[a];
    kd_sample_geom_inset(c, d, q);
}

/* Signed offset of p from a waterway's channel (metres, across the axis). */
static double water_offset(const struct water *wt, struct kd_sample_pt p)
{
    double rx = p.x - wt->o.x, ry = p.y - wt->o.y;
    double s = rx * wt->dx + ry * wt->dy, t = -rx * wt->dy + ry * wt->dx;

    return t - wt->amp_m * sin(TWO_PI * s / wt->wl_m + wt->phase);
}

static int water_hits(const struct gen *g, const struct kd_sample_pt q[4])
{
    int k, m;

    for (m = 0; m < 2; m++) {
        double lo = HUGE_VAL, hi = -HUGE_VAL, near = HUGE_VAL;
        for (k = 0; k < 4; k++) {
            double f = water_offset(&g->water[m], q[k]);
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
            near = fabs(f) < near ? fabs(f) : near;
        }
        if ((lo < 0.0 && hi > 0.0) || near < g->water[m].bank_m)
            return 1;
    }
    return 0;
}

static unsigned block_type(const struct gen *g, int a, int b)
{
    const struct win *w = &g->w;
    int ga = a - w->nbu / 2, gb = b - w->nbv / 2;
    unsigned mz = w->mzone[(size_t)(b / BPM) * (size_t)(2 * w->gu) + (size_t)(a / BPM)];
    struct kd_sample_pt q[4];
    double u;
    size_t k;

    for (k = 0; k < COUNT(landmarks); k++)
        if (landmarks[k].ga == ga && landmarks[k].gb == gb)
            return landmarks[k].type;
    block_quad(w, a, b, q);
    if (water_hits(g, q))
        return B_WATER;
    u = unit_of(kd_sample_hash(g->seed, T_BTYPE, ga, gb));
    switch (mz) {
    case Z_C1:
        return PICK(bt_c1, u);
    case Z_R2:
        return PICK(bt_r2, u);
    case Z_R1:
        return PICK(bt_r1, u);
    case Z_I1:
        return PICK(bt_i1, u);
    case Z_AG:
        return PICK(bt_ag, u);
    default:
        return PICK(bt_park, u);
    }
}

/* size index -> zones across and up: (1,1) (2,1) (2,2) (3,2) (3,3) ... */
static void size_dims(int s, int *gu, int *gv)
{
    *gv = s / 2 + 1;
    *gu = (s + 1) / 2 + 1;
}

static enum kd_code win_build(struct gen *g, int s)
{
    struct win *w = &g->w;
    int gu, gv, i, j, nmu, nmv;
    double hu_m, hv_m;

    win_free(w);
    g->w_size = -1;
    size_dims(s, &gu, &gv);
    w->gu = gu;
    w->gv = gv;
    w->nbu = BPZ * gu;
    w->nbv = BPZ * gv;
    nmu = 2 * gu;
    nmv = 2 * gv;
    w->lu = malloc((size_t)(w->nbu + 1) * sizeof *w->lu);
    w->hu = malloc((size_t)(w->nbu + 1) * sizeof *w->hu);
    w->lv = malloc((size_t)(w->nbv + 1) * sizeof *w->lv);
    w->hv = malloc((size_t)(w->nbv + 1) * sizeof *w->hv);
    w->node = malloc((size_t)(w->nbu + 1) * (size_t)(w->nbv + 1) * sizeof *w->node);
    w->mzone = malloc((size_t)nmu * (size_t)nmv);
    w->btype = malloc((size_t)w->nbu * (size_t)w->nbv);
    w->bcount = malloc((size_t)w->nbu * (size_t)w->nbv * sizeof *w->bcount);
    if (!w->lu || !w->hu || !w->lv || !w->hv || !w->node || !w->mzone || !w->btype || !w->bcount)
        return nomem(g);
    lines(g->seed, w->nbu, T_LINE_U, T_HALF_U, 130.0, 230.0, w->lu, w->hu);
    lines(g->seed, w->nbv, T_LINE_V, T_HALF_V, 90.0, 160.0, w->lv, w->hv);
    for (j = 0; j <= w->nbv; j++) {
        for (i = 0; i <= w->nbu; i++) {
            int gi = i - w->nbu / 2, gj = j - w->nbv / 2;
            struct kd_sample_rng r;
            double jx, jy;
            kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_JITTER, gi, gj));
            jx = kd_sample_rng_range(&r, -JITTER_M, JITTER_M);
            jy = kd_sample_rng_range(&r, -JITTER_M, JITTER_M);
            if (gi == 0 && gj == 0)
                jx = jy = 0.0; /* the square itself stays put */
            w->node[(size_t)j * (size_t)(w->nbu + 1) + (size_t)i] =
                world(g, w->lu[i] + jx, w->lv[j] + jy);
        }
    }
    hu_m = fmax(-w->lu[0], w->lu[w->nbu]);
    hv_m = fmax(-w->lv[0], w->lv[w->nbv]);
    for (j = 0; j < nmv; j++) {
        for (i = 0; i < nmu; i++) {
            double cu = (w->lu[BPM * i] + w->lu[BPM * i + BPM]) / (2.0 * hu_m);
            double cv = (w->lv[BPM * j] + w->lv[BPM * j + BPM]) / (2.0 * hv_m);
            double rho = sqrt(cu * cu + cv * cv);
            double u = unit_of(kd_sample_hash(g->seed, T_MZONE, i - gu, j - gv));
            unsigned z = rho < 0.22  ? PICK(mz_core, u)
                         : rho < 0.6 ? PICK(mz_inner, u)
                         : rho < 0.9 ? PICK(mz_outer, u)
                                     : PICK(mz_edge, u);
            w->mzone[(size_t)j * (size_t)nmu + (size_t)i] = (unsigned char)z;
        }
    }
    for (j = 0; j < w->nbv; j++)
        for (i = 0; i < w->nbu; i++)
            w->btype[(size_t)j * (size_t)w->nbu + (size_t)i] = (unsigned char)block_type(g, i, j);
    g->w_size = s;
    return KD_OK;
}

/* ---- block layout ------------------------------------------------------------------------ */

static int long_rot(const struct kd_sample_pt q[4])
{
    return dist(q[0], q[1]) + dist(q[2], q[3]) >= dist(q[1], q[2]) + dist(q[3], q[0]) ? 0 : 1;
}

static struct piece *add_piece(struct scratch *s, struct kd_sample_pt a, struct kd_sample_pt b,
                               struct kd_sample_pt c, struct kd_sample_pt d)
{
    struct piece *p;

    if (s->np >= MAX_PIECES) /* not reached: rows hold <= 40 lots, splits <= 64 */
        return NULL;
    p = &s->pc[s->np++];
    p->c[0] = a;
    p->c[1] = b;
    p->c[2] = c;
    p->c[3] = d;
    p->sib = 0;
    p->row = 0;
    p->idx = (unsigned char)(s->np - 1);
    return p;
}

/* Splits q into exactly r pieces, halving along the long axis; the two leaves of a last
 * halving are siblings (their union is a quad of the tree). */
static void split_exact(struct scratch *s, const struct kd_sample_pt q[4], long r,
                        struct kd_sample_rng *rng)
{
    struct kd_sample_pt ql[4], p, qq, c1[4], c2[4];
    long r1 = r / 2;
    double f, f2;
    int rot, k;

    if (r <= 1) {
        add_piece(s, q[0], q[1], q[2], q[3]);
        return;
    }
    rot = long_rot(q);
    for (k = 0; k < 4; k++)
        ql[k] = q[(k + rot) % 4];
    f = (double)r1 / (double)r + kd_sample_rng_range(rng, -0.05, 0.05);
    f2 = f + kd_sample_rng_range(rng, -0.05, 0.05);
    f = f < 0.15 ? 0.15 : f > 0.85 ? 0.85 : f;
    f2 = f2 < 0.15 ? 0.15 : f2 > 0.85 ? 0.85 : f2;
    p = lerp(ql[0], ql[1], f);
    qq = lerp(ql[3], ql[2], f2);
    c1[0] = ql[0];
    c1[1] = p;
    c1[2] = qq;
    c1[3] = ql[3];
    c2[0] = p;
    c2[1] = ql[1];
    c2[2] = ql[2];
    c2[3] = qq;
    if (r == 2) {
        struct piece *a = add_piece(s, c1[0], c1[1], c1[2], c1[3]);
        struct piece *b = add_piece(s, c2[0], c2[1], c2[2], c2[3]);
        if (a && b)
            a->sib = 1;
        return;
    }
    split_exact(s, c1, r1, rng);
    split_exact(s, c2, r - r1, rng);
}

static void split_target(struct scratch *s, const struct kd_sample_pt q[4], double target_m2,
                         struct kd_sample_rng *rng)
{
    double a = fabs(kd_sample_geom_ring_area(q, 4));
    long r = lround(a / (target_m2 * kd_sample_rng_range(rng, 0.8, 1.25)));

    split_exact(s, q, r < 1 ? 1 : r > 64 ? 64 : r, rng);
}

/* One row of mahalla lots fronting the street on edge q0 -> q1; lots 12-22 m wide. */
static void mahalla_row(struct scratch *s, const struct kd_sample_pt q[4], int row,
                        struct kd_sample_rng *rng)
{
    double len = dist(q[0], q[1]), back = dist(q[3], q[2]), w, fr[41], gr[41];
    long k, i;
    struct piece *p;

    w = kd_sample_rng_range(rng, 12.0, 22.0);
    k = lround(len / w);
    k = len < 20.0 || k < 1 ? 1 : k > 40 ? 40 : k;
    fr[0] = gr[0] = 0.0;
    fr[k] = gr[k] = 1.0;
    for (i = 1; i < k; i++) {
        fr[i] = ((double)i + kd_sample_rng_range(rng, -0.12, 0.12)) / (double)k;
        /* the back line of a lot is a little skew, as surveyed */
        gr[i] = fr[i] + kd_sample_rng_range(rng, -1.5, 1.5) / back;
        if (gr[i] <= gr[i - 1] + 0.2 / (double)k)
            gr[i] = gr[i - 1] + 0.2 / (double)k;
    }
    for (i = 0; i < k; i++) {
        struct kd_sample_pt a = i == 0 ? q[0] : lerp(q[0], q[1], fr[i]);
        struct kd_sample_pt b = i + 1 == k ? q[1] : lerp(q[0], q[1], fr[i + 1]);
        struct kd_sample_pt c = i + 1 == k ? q[2] : lerp(q[3], q[2], gr[i + 1]);
        struct kd_sample_pt d = i == 0 ? q[3] : lerp(q[3], q[2], gr[i]);
        p = add_piece(s, a, b, c, d);
        if (!p)
            return;
        p->sib = i + 1 < k;
        p->row = (unsigned char)row;
        p->idx = (unsigned char)i;
    }
}

/* Two back-to-back rows of house lots along the long sides of the block. */
static void mahalla(struct scratch *s, const struct kd_sample_pt q[4], struct kd_sample_rng *rng)
{
    struct kd_sample_pt ql[4], m1, m2, r1[4], r2[4];
    double f, f2;
    int k;

    for (k = 0; k < 4; k++)
        ql[k] = q[(k + s->rot) % 4];
    f = kd_sample_rng_range(rng, 0.42, 0.58);
    f2 = f + kd_sample_rng_range(rng, -0.04, 0.04);
    m1 = lerp(ql[1], ql[2], f);
    m2 = lerp(ql[0], ql[3], f2);
    r1[0] = ql[0];
    r1[1] = ql[1];
    r1[2] = m1;
    r1[3] = m2;
    /* the second row fronts edge 2, so it starts at C */
    r2[0] = ql[2];
    r2[1] = ql[3];
    r2[2] = m2;
    r2[3] = m1;
    mahalla_row(s, r1, 0, rng);
    mahalla_row(s, r2, 1, rng);
}

/* Lays out block (a, b) into s->pc; clamp > 0 cuts it into exactly clamp pieces. */
static void layout(const struct gen *g, int a, int b, long clamp, struct scratch *s)
{
    const struct win *w = &g->w;
    int ga = a - w->nbu / 2, gb = b - w->nbv / 2;
    unsigned t = w->btype[(size_t)b * (size_t)w->nbu + (size_t)a];
    struct kd_sample_pt q[4];
    struct kd_sample_rng r;

    block_quad(w, a, b, q);
    kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_LAYOUT, ga, gb));
    s->np = 0;
    s->rot = long_rot(q);
    s->farm = 0;
    if (clamp > 0) {
        split_exact(s, q, clamp, &r);
        return;
    }
    switch (t) {
    case B_MAHALLA:
        mahalla(s, q, &r);
        break;
    case B_APART:
        split_target(s, q, 5000.0, &r);
        break;
    case B_COMM:
        split_target(s, q, 1500.0, &r);
        break;
    case B_INDUS:
        split_target(s, q, 8000.0, &r);
        break;
    case B_AGRI:
        s->farm = kd_sample_rng_unit(&r) < 0.6;
        if (s->farm)
            split_exact(s, q, fabs(kd_sample_geom_ring_area(q, 4)) > 12000.0 ? 2 : 1, &r);
        else
            split_target(s, q, 2500.0, &r);
        break;
    case B_PUBLIC:
        split_target(s, q, 5000.0, &r);
        break;
    case B_PARK:
        split_exact(s, q, kd_sample_rng_unit(&r) < 0.8 ? 1 : 2, &r);
        break;
    case B_HERITAGE:
        split_exact(s, q, kd_sample_rng_unit(&r) < 0.6 ? 1 : 2, &r);
        break;
    case B_WATER:
        split_exact(s, q, kd_sample_rng_unit(&r) < 0.5 ? 1 : 2, &r);
        break;
    case B_RESERVE:
        split_target(s, q, 4000.0, &r);
        break;
    default: /* B_FOREST */
        split_exact(s, q, 1, &r);
        break;
    }
}

/* Draws the block's history (splits, merges, corrections) over its pieces; returns the
 * number of merges, each of which makes one live parcel of two pieces. Agricultural land is
 * never split or merged (DOMAIN.md I2), nor is public land of the other funds. */
static size_t history(const struct gen *g, int a, int b, int clamped, struct scratch *s)
{
    const struct win *w = &g->w;
    unsigned t = w->btype[(size_t)b * (size_t)w->nbu + (size_t)a];
    int pairs = t == B_MAHALLA || t == B_APART || t == B_COMM || t == B_INDUS || t == B_PUBLIC ||
                t == B_RESERVE;
    struct kd_sample_rng r;
    size_t i = 0, merges = 0;

    kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_HIST, a - w->nbu / 2, b - w->nbv / 2));
    s->nev = 0;
    while (i < s->np) {
        double u = kd_sample_rng_unit(&r);
        struct event *e = &s->ev[s->nev++];
        e->i = (unsigned char)i;
        if (pairs && s->pc[i].sib && u < P_SPLIT) {
            e->kind = EV_SPLIT;
            i += 2;
        } else if (pairs && !clamped && s->pc[i].sib && u < P_SPLIT + P_MERGE) {
            e->kind = EV_MERGE;
            merges++;
            i += 2;
        } else if (u >= 1.0 - P_CORR) {
            e->kind = EV_CORR;
            i++;
        } else {
            e->kind = EV_PLAIN;
            i++;
        }
    }
    return merges;
}

static int pool_room(struct scratch *s, size_t extra)
{
    struct kd_sample_pt *p;
    size_t cap;

    if (s->pool_len + extra <= s->pool_cap)
        return 0;
    cap = s->pool_cap ? s->pool_cap : 4096;
    while (cap < s->pool_len + extra)
        cap *= 2;
    p = realloc(s->pool, cap * sizeof *p);
    if (!p)
        return -1;
    s->pool = p;
    s->pool_cap = cap;
    return 0;
}

/* Is p strictly inside segment a-b (within 1 um)? OUT t: its parameter. */
static int on_segment(struct kd_sample_pt a, struct kd_sample_pt b, struct kd_sample_pt p,
                      double *t)
{
    double dx = b.x - a.x, dy = b.y - a.y, l2 = dx * dx + dy * dy, len, cr, tt;

    if (l2 <= 0.0)
        return 0;
    tt = ((p.x - a.x) * dx + (p.y - a.y) * dy) / l2;
    if (tt <= 0.0 || tt >= 1.0)
        return 0;
    len = sqrt(l2);
    cr = (p.x - a.x) * dy - (p.y - a.y) * dx;
    if (fabs(cr) / len > 1e-6 || tt * len < 1e-6 || (1.0 - tt) * len < 1e-6)
        return 0;
    *t = tt;
    return 1;
}

/* Builds the final rings: every corner of a neighbour lying on an edge becomes a vertex of
 * that edge too, so neighbours share identical vertices (no T-junctions). */
static int final_rings(struct scratch *s)
{
    double bx0[MAX_PIECES], by0[MAX_PIECES], bx1[MAX_PIECES], by1[MAX_PIECES];
    size_t i, j, k, m;
    const double eps = 1e-6;

    for (i = 0; i < s->np; i++) {
        bx0[i] = bx1[i] = s->pc[i].c[0].x;
        by0[i] = by1[i] = s->pc[i].c[0].y;
        for (k = 1; k < 4; k++) {
            bx0[i] = fmin(bx0[i], s->pc[i].c[k].x);
            bx1[i] = fmax(bx1[i], s->pc[i].c[k].x);
            by0[i] = fmin(by0[i], s->pc[i].c[k].y);
            by1[i] = fmax(by1[i], s->pc[i].c[k].y);
        }
    }
    s->pool_len = 0;
    for (i = 0; i < s->np; i++) {
        s->off[i] = s->pool_len;
        for (k = 0; k < 4; k++) {
            struct kd_sample_pt a = s->pc[i].c[k], b = s->pc[i].c[(k + 1) % 4];
            struct kd_sample_pt cand[32];
            double ct[32];
            size_t nc = 0, x;
            double ex0 = fmin(a.x, b.x) - eps, ex1 = fmax(a.x, b.x) + eps;
            double ey0 = fmin(a.y, b.y) - eps, ey1 = fmax(a.y, b.y) + eps;
            for (j = 0; j < s->np; j++) {
                if (j == i || bx0[j] > ex1 || bx1[j] < ex0 || by0[j] > ey1 || by1[j] < ey0)
                    continue;
                for (m = 0; m < 4; m++) {
                    struct kd_sample_pt p = s->pc[j].c[m];
                    double t;
                    int dup = 0;
                    if (!on_segment(a, b, p, &t))
                        continue;
                    for (x = 0; x < nc; x++)
                        if (cand[x].x == p.x && cand[x].y == p.y)
                            dup = 1;
                    if (dup || nc == COUNT(cand))
                        continue;
                    /* insertion sort by position along the edge */
                    for (x = nc; x > 0 && ct[x - 1] > t; x--) {
                        ct[x] = ct[x - 1];
                        cand[x] = cand[x - 1];
                    }
                    ct[x] = t;
                    cand[x] = p;
                    nc++;
                }
            }
            if (pool_room(s, 1 + nc))
                return -1;
            s->corner[i][k] = s->pool_len - s->off[i];
            s->pool[s->pool_len++] = a;
            for (x = 0; x < nc; x++)
                s->pool[s->pool_len++] = cand[x];
        }
        s->len[i] = s->pool_len - s->off[i];
    }
    return 0;
}

/* Live parcels block (a, b) holds when it is cut to clamp (> 0) or laid out naturally. */
static long block_count(const struct gen *g, int a, int b, long clamp, struct scratch *s)
{
    size_t merges;

    layout(g, a, b, clamp, s);
    merges = history(g, a, b, clamp > 0, s);
    return (long)(s->np - merges);
}

/* ---- planning ---------------------------------------------------------------------------- */

static long capacity(struct gen *g)
{
    struct win *w = &g->w;
    long total = 0;
    int a, b;

    for (b = 0; b < w->nbv; b++) {
        for (a = 0; a < w->nbu; a++) {
            long c = block_count(g, a, b, 0, &g->sc);
            w->bcount[(size_t)b * (size_t)w->nbu + (size_t)a] = (uint16_t)c;
            total += c;
        }
    }
    return total;
}

static enum kd_code capacity_of(struct gen *g, int s, long *out)
{
    int gu, gv;
    enum kd_code rc;

    size_dims(s, &gu, &gv);
    if (gu > ZONES_MAX) /* not reached: plan() stops at the largest size */
        return kd_err_set(g->err, KD_EINVAL, "sample.n_parcels",
                          "%ld parcels do not fit the sample grid", g->n);
    if (g->w_size != s) {
        rc = win_build(g, s);
        if (rc != KD_OK)
            return rc;
        g->w_cap = capacity(g);
    }
    *out = g->w_cap;
    return KD_OK;
}

struct fill_key {
    int64_t ring;
    double angle;
    int32_t block;
};

static int fill_cmp(const void *pa, const void *pb)
{
    const struct fill_key *a = pa, *b = pb;

    if (a->ring != b->ring)
        return a->ring < b->ring ? -1 : 1;
    if (a->angle != b->angle)
        return a->angle < b->angle ? -1 : 1;
    return a->block < b->block ? -1 : a->block > b->block;
}

static uint32_t block_key(const struct gen *g, int32_t bi);

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

    return a < b ? -1 : a > b;
}

/* Sorts used[] by cadastral number: the key is BB CC DD EE packed above the block index. */
static enum kd_code sort_used(struct gen *g)
{
    uint64_t *keys = malloc(g->n_used * sizeof *keys);
    size_t i;

    if (!keys)
        return nomem(g);
    for (i = 0; i < g->n_used; i++)
        keys[i] = (uint64_t)block_key(g, g->used[i]) << 32 | (uint32_t)g->used[i];
    qsort(keys, g->n_used, sizeof *keys, u64_cmp);
    for (i = 0; i < g->n_used; i++)
        g->used[i] = (int32_t)(keys[i] & 0xffffffffu);
    free(keys);
    return KD_OK;
}

/* Districts are rectangles of zones; zones are numbered in reading order (north to south,
 * west to east) within their district, districts likewise within the region. */
static enum kd_code number_zones(struct gen *g)
{
    struct win *w = &g->w;
    int c, r, za, zb;

    g->du = w->gu < 4 ? w->gu : 4;
    g->dv = w->gv < 3 ? w->gv : 3;
    if ((w->gu + 8) / 9 > g->du)
        g->du = (w->gu + 8) / 9;
    if ((w->gv + 10) / 11 > g->dv)
        g->dv = (w->gv + 10) / 11;
    for (c = 0; c <= g->du; c++)
        g->dcol[c] = c * w->gu / g->du;
    for (r = 0; r <= g->dv; r++)
        g->drow[r] = r * w->gv / g->dv;
    free(g->zone_bb);
    free(g->zone_cc);
    g->zone_bb = malloc((size_t)w->gu * (size_t)w->gv);
    g->zone_cc = malloc((size_t)w->gu * (size_t)w->gv);
    if (!g->zone_bb || !g->zone_cc)
        return nomem(g);
    for (r = 0; r < g->dv; r++) {
        for (c = 0; c < g->du; c++) {
            int bb = (g->dv - 1 - r) * g->du + c + 1, cols = g->dcol[c + 1] - g->dcol[c];
            for (zb = g->drow[r]; zb < g->drow[r + 1]; zb++) {
                for (za = g->dcol[c]; za < g->dcol[c + 1]; za++) {
                    size_t z = (size_t)zb * (size_t)w->gu + (size_t)za;
                    g->zone_bb[z] = (unsigned char)bb;
                    g->zone_cc[z] =
                        (unsigned char)((g->drow[r + 1] - 1 - zb) * cols + (za - g->dcol[c]) + 1);
                }
            }
        }
    }
    return KD_OK;
}

static void block_numbers(const struct gen *g, int a, int b, int *bb, int *cc, int *dd, int *ee)
{
    int ma = a / BPM, mb = b / BPM;
    size_t z = (size_t)(mb / 2) * (size_t)g->w.gu + (size_t)(ma / 2);

    *bb = g->zone_bb[z];
    *cc = g->zone_cc[z];
    *dd = (1 - mb % 2) * 2 + ma % 2 + 1;
    *ee = (BPM - 1 - b % BPM) * BPM + a % BPM + 1;
}

static uint32_t block_key(const struct gen *g, int32_t bi)
{
    int bb, cc, dd, ee;

    block_numbers(g, bi % g->w.nbu, bi / g->w.nbu, &bb, &cc, &dd, &ee);
    return (uint32_t)bb << 24 | (uint32_t)cc << 16 | (uint32_t)dd << 8 | (uint32_t)ee;
}

/* A pseudo-angle in [0, 4) of a non-zero vector: orders a ring without trigonometry. */
static double diamond(double x, double y)
{
    if (y >= 0.0)
        return x >= 0.0 ? y / (x + y) : 1.0 - x / (-x + y);
    return x < 0.0 ? 2.0 - y / (-x - y) : 3.0 + x / (x - y);
}

/* Fills blocks ring by ring from the centre until exactly n live parcels. */
static enum kd_code fill(struct gen *g)
{
    struct win *w = &g->w;
    size_t nb = (size_t)w->nbu * (size_t)w->nbv, k;
    struct fill_key *keys = malloc(nb * sizeof *keys);
    long acc = 0;
    enum kd_code rc = KD_OK;

    free(g->used);
    g->used = malloc(nb * sizeof *g->used);
    if (!keys || !g->used) {
        rc = nomem(g);
        goto out;
    }
    for (k = 0; k < nb; k++) {
        int a = (int)(k % (size_t)w->nbu), b = (int)(k / (size_t)w->nbu);
        int64_t ca = 2 * a + 1 - w->nbu, cb = 2 * b + 1 - w->nbv;
        int64_t ra = (ca < 0 ? -ca : ca) * w->nbv, rb = (cb < 0 ? -cb : cb) * w->nbu;
        keys[k].ring = ra > rb ? ra : rb;
        keys[k].angle = diamond((double)ca, (double)cb);
        keys[k].block = (int32_t)k;
    }
    qsort(keys, nb, sizeof *keys, fill_cmp);
    g->n_used = 0;
    g->clamp_block = -1;
    g->clamp_count = 0;
    for (k = 0; k < nb && acc < g->n; k++) {
        int32_t bi = keys[k].block;
        long c = w->bcount[bi];
        g->used[g->n_used++] = bi;
        if (acc + c > g->n) {
            g->clamp_block = bi;
            g->clamp_count = g->n - acc;
            c = g->clamp_count;
        }
        acc += c;
    }
    if (acc != g->n) /* not reached: the window was chosen to hold n */
        rc = kd_err_set(g->err, KD_EINVAL, "sample.n_parcels",
                        "the sample grid holds %ld parcels, not %ld", acc, g->n);
out:
    free(keys);
    return rc;
}

/* The longest run of a polyline's points inside the window shrunk by margin_m; OUT: run in
 * pts (moved to the front), its length. */
static size_t inside_run(const struct gen *g, struct kd_sample_pt *pts, size_t n, double margin_m)
{
    const struct win *w = &g->w;
    double u0 = w->lu[0] + margin_m, u1 = w->lu[w->nbu] - margin_m;
    double v0 = w->lv[0] + margin_m, v1 = w->lv[w->nbv] - margin_m;
    size_t best = 0, best_at = 0, run = 0, i;

    for (i = 0; i < n; i++) {
        double u, v;
        local(g, pts[i], &u, &v);
        if (u > u0 && u < u1 && v > v0 && v < v1) {
            run++;
            if (run > best) {
                best = run;
                best_at = i + 1 - run;
            }
        } else {
            run = 0;
        }
    }
    if (best)
        memmove(pts, pts + best_at, best * sizeof *pts);
    return best;
}

/* Clips a polyline (local coordinates) to the window shrunk by margin_m (Liang-Barsky per
 * segment), keeping the first stretch inside. OUT: world points. */
static size_t clip_polyline(const struct gen *g, const double *pu, const double *pv, size_t n,
                            double margin_m, struct kd_sample_pt *out)
{
    const struct win *w = &g->w;
    double lo[2] = {w->lu[0] + margin_m, w->lv[0] + margin_m};
    double hi[2] = {w->lu[w->nbu] - margin_m, w->lv[w->nbv] - margin_m};
    size_t k, m = 0;

    for (k = 0; k + 1 < n; k++) {
        double p0[2] = {pu[k], pv[k]}, d[2] = {pu[k + 1] - pu[k], pv[k + 1] - pv[k]};
        double t0 = 0.0, t1 = 1.0;
        int ax, ok = 1;
        for (ax = 0; ax < 2 && ok; ax++) {
            if (d[ax] == 0.0) {
                ok = p0[ax] > lo[ax] && p0[ax] < hi[ax];
                continue;
            }
            double ta = (lo[ax] - p0[ax]) / d[ax], tb = (hi[ax] - p0[ax]) / d[ax];
            if (ta > tb) {
                double x = ta;
                ta = tb;
                tb = x;
            }
            t0 = fmax(t0, ta);
            t1 = fmin(t1, tb);
            ok = t0 < t1;
        }
        if (!ok) {
            if (m)
                break;
            continue;
        }
        if (!m)
            out[m++] = world(g, p0[0] + d[0] * t0, p0[1] + d[1] * t0);
        out[m++] = world(g, p0[0] + d[0] * t1, p0[1] + d[1] * t1);
        if (t1 < 1.0)
            break;
    }
    return m;
}

static enum kd_code plan_corridors(struct gen *g)
{
    const struct win *w = &g->w;
    double hu_m = fmax(-w->lu[0], w->lu[w->nbu]), hv_m = fmax(-w->lv[0], w->lv[w->nbv]);
    double len = 1.2 * hypot(hu_m, hv_m);
    int n_lines = 1 + (int)(fmax(hu_m, hv_m) / 6000.0), k, kind;

    for (k = 0; k < n_lines; k++) {
        for (kind = 1; kind >= 0; kind--) {
            struct kd_sample_rng r;
            double ang, cu, cv, ca, sa, pu[7], pv[7], half = kind ? 25.0 : 16.0;
            struct corridor *c;
            size_t i;
            if (g->n_cor >= MAX_CORRIDORS)
                return KD_OK;
            kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_CORRIDOR, k, kind));
            ang = kd_sample_rng_range(&r, 0.0, TWO_PI / 2.0);
            cu = kd_sample_rng_range(&r, -0.5, 0.5) * hu_m;
            cv = kd_sample_rng_range(&r, -0.5, 0.5) * hv_m;
            ca = cos(ang);
            sa = sin(ang);
            for (i = 0; i < 7; i++) {
                double s = -len + (double)i * len / 3.0;
                double t = kd_sample_rng_range(&r, -0.02, 0.02) * len; /* gentle bends */
                pu[i] = cu + s * ca - t * sa;
                pv[i] = cv + s * sa + t * ca;
            }
            c = &g->cor[g->n_cor];
            c->pts = malloc(14 * sizeof *c->pts);
            if (!c->pts)
                return nomem(g);
            c->n = clip_polyline(g, pu, pv, 7, half + 15.0, c->pts);
            c->half_m = half;
            c->power = kind;
            if (c->n < 2) {
                free(c->pts);
                c->pts = NULL;
                continue;
            }
            c->x0 = c->x1 = c->pts[0].x;
            c->y0 = c->y1 = c->pts[0].y;
            for (i = 1; i < c->n; i++) {
                c->x0 = fmin(c->x0, c->pts[i].x);
                c->x1 = fmax(c->x1, c->pts[i].x);
                c->y0 = fmin(c->y0, c->pts[i].y);
                c->y1 = fmax(c->y1, c->pts[i].y);
            }
            c->x0 -= half;
            c->y0 -= half;
            c->x1 += half;
            c->y1 += half;
            g->n_cor++;
        }
    }
    return KD_OK;
}

static void plan_water(struct gen *g)
{
    static const struct {
        double off_lo, off_hi, ang, amp, wl, bank, wp;
        const char *name;
    } defs[2] = {{400.0, 900.0, 0.55, 250.0, 2600.0, 15.0, 150.0, "Chirchiq daryosi"},
                 {1600.0, 2600.0, -0.95, 90.0, 1400.0, 6.0, 50.0, "Anhor kanali"}};
    int m;

    for (m = 0; m < 2; m++) {
        struct water *wt = &g->water[m];
        struct kd_sample_rng r;
        double ang = GRID_ROT_RAD + defs[m].ang, off;
        kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_WATER, m, 0));
        off = kd_sample_rng_range(&r, defs[m].off_lo, defs[m].off_hi);
        if (kd_sample_rng_unit(&r) < 0.5)
            off = -off;
        wt->present = 1;
        wt->dx = cos(ang);
        wt->dy = sin(ang);
        wt->o.x = CENTRE_E - wt->dy * off;
        wt->o.y = CENTRE_N + wt->dx * off;
        wt->amp_m = defs[m].amp;
        wt->wl_m = defs[m].wl;
        wt->phase = kd_sample_rng_range(&r, 0.0, TWO_PI);
        wt->bank_m = defs[m].bank;
        wt->wp_m = defs[m].wp;
        wt->name = defs[m].name;
    }
}

/* The smallest size index whose window has at least `zones` cadastral zones. */
static int size_for(double zones)
{
    int s = 0, gu, gv;

    for (;; s++) {
        size_dims(s, &gu, &gv);
        if ((double)gu * (double)gv >= zones || (gu >= ZONES_MAX && gv >= ZONES_MAX))
            return s;
    }
}

/* Picks the smallest window holding n parcels: a few estimates from the parcels per zone of
 * the last window counted, then single steps; fills it and numbers it. */
static enum kd_code plan(struct gen *g)
{
    int s = 0, s_max = size_for(1e18), k, gu, gv;
    long cap = 0, c2;
    enum kd_code rc;

    plan_water(g);
    rc = capacity_of(g, 0, &cap);
    for (k = 0; k < 4 && rc == KD_OK && cap < g->n; k++) {
        int next;
        size_dims(s, &gu, &gv);
        next = size_for((double)g->n * (double)gu * (double)gv / (double)(cap > 0 ? cap : 1));
        next = next > s_max ? s_max : next;
        if (next == s)
            break;
        s = next;
        rc = capacity_of(g, s, &cap);
    }
    while (rc == KD_OK && cap < g->n) {
        if (s >= s_max)
            return kd_err_set(g->err, KD_EINVAL, "sample.n_parcels",
                              "%ld parcels do not fit the sample grid", g->n);
        rc = capacity_of(g, ++s, &cap);
    }
    while (rc == KD_OK && s > 0) {
        rc = capacity_of(g, s - 1, &c2);
        if (rc != KD_OK || c2 < g->n)
            break;
        s--;
    }
    if (rc == KD_OK)
        rc = capacity_of(g, s, &cap);
    if (rc == KD_OK)
        rc = number_zones(g);
    if (rc == KD_OK)
        rc = fill(g);
    if (rc == KD_OK)
        rc = sort_used(g);
    if (rc == KD_OK)
        rc = plan_corridors(g);
    return rc;
}

/* ---- sink calls -------------------------------------------------------------------------- */

static enum kd_code sink_failed(struct gen *g, enum kd_code rc, const char *what, const char *id)
{
    if (g->err && g->err->code == KD_OK)
        kd_err_set(g->err, rc, "sample.sink", "the sink refused %s %s", what, id);
    kd_err_where(g->err, "%s %s", what, id);
    return g->err ? g->err->code : rc;
}

static enum kd_code put_admin(struct gen *g, const char *code, const char *level, const char *name,
                              const char *parent)
{
    struct kd_sample_admin_unit a;
    enum kd_code rc;

    if (g->wkb.failed)
        return nomem(g);
    g->st.n_admin_units++;
    if (!g->sink->admin_unit)
        return KD_OK;
    a.code = code;
    a.level = level;
    a.name = name;
    a.parent_code = parent;
    a.wkb = g->wkb.p;
    a.wkb_len = g->wkb.len;
    rc = g->sink->admin_unit(g->sink->ud, &a, g->err);
    return rc == KD_OK ? KD_OK : sink_failed(g, rc, "admin unit", code);
}

static enum kd_code put_area(struct gen *g, int zone, const char *code, const char *kind,
                             const char *name, const char *uses)
{
    struct kd_sample_area z;
    enum kd_code rc;
    enum kd_code (*cb)(void *, const struct kd_sample_area *, struct kd_err *) =
        zone ? g->sink->zone : g->sink->restriction;

    if (g->wkb.failed)
        return nomem(g);
    if (zone)
        g->st.n_zones++;
    else
        g->st.n_restrictions++;
    if (!cb)
        return KD_OK;
    z.code = code;
    z.kind = kind;
    z.name = name;
    z.permitted_uses = uses;
    z.wkb = g->wkb.p;
    z.wkb_len = g->wkb.len;
    rc = cb(g->sink->ud, &z, g->err);
    return rc == KD_OK ? KD_OK : sink_failed(g, rc, zone ? "zone" : "restriction", code);
}

/* A MultiPolygon of one polygon with one ring into g->wkb. */
static void wkb_simple(struct gen *g, const struct kd_sample_pt *ring, size_t n)
{
    kd_sample_geom_wkb_reset(&g->wkb);
    kd_sample_geom_wkb_multipolygon(&g->wkb, 1);
    kd_sample_geom_wkb_polygon(&g->wkb, 1);
    kd_sample_geom_wkb_ring(&g->wkb, ring, n, 0);
}

/* The boundary of line rectangle [i0, i1] x [j0, j1] through every crossing on it. */
static size_t rect_ring(const struct win *w, int i0, int j0, int i1, int j1,
                        struct kd_sample_pt *out)
{
    size_t n = 0;
    int i, j;

    for (i = i0; i < i1; i++)
        out[n++] = node(w, i, j0);
    for (j = j0; j < j1; j++)
        out[n++] = node(w, i1, j);
    for (i = i1; i > i0; i--)
        out[n++] = node(w, i, j1);
    for (j = j1; j > j0; j--)
        out[n++] = node(w, i0, j);
    return n;
}

static void code_of(char *buf, size_t cap, int bb, int cc, int dd, int ee, int plot)
{
    struct kd_sample_txt t;

    kd_sample_txt_init(&t, buf, cap);
    kd_sample_txt_s(&t, "10");
    if (bb > 0) {
        kd_sample_txt_c(&t, ':');
        kd_sample_txt_u(&t, (uint64_t)bb, 2);
    }
    if (cc > 0) {
        kd_sample_txt_c(&t, ':');
        kd_sample_txt_u(&t, (uint64_t)cc, 2);
    }
    if (dd > 0) {
        kd_sample_txt_c(&t, ':');
        kd_sample_txt_u(&t, (uint64_t)dd, 2);
    }
    if (ee > 0) {
        kd_sample_txt_c(&t, ':');
        kd_sample_txt_u(&t, (uint64_t)ee, 2);
    }
    if (plot > 0) {
        kd_sample_txt_c(&t, ':');
        kd_sample_txt_u(&t, (uint64_t)plot, 4);
    }
}

static void district_name(char *buf, size_t cap, int bb)
{
    struct kd_sample_txt t;

    kd_sample_txt_init(&t, buf, cap);
    kd_sample_txt_s(&t, kd_sample_text_district(bb));
    if (bb > 12 + 16) {
        kd_sample_txt_c(&t, '-');
        kd_sample_txt_u(&t, (uint64_t)((bb - 13) / 16 + 1), 1);
    }
}

/* ---- admin units, zones, restrictions ---------------------------------------------------- */

/* A massiv with its numbers; massivs_in_order lists them all in cadastral order (district,
 * zone, massiv), four per zone. */
struct massiv_ref {
    int bb, cc, dd, ma, mb;
};

static size_t massivs_in_order(const struct gen *g, struct massiv_ref *out)
{
    const struct win *w = &g->w;
    size_t n = 0;
    int r, c, za, zb, k;

    for (r = g->dv - 1; r >= 0; r--)
        for (c = 0; c < g->du; c++)
            for (zb = g->drow[r + 1] - 1; zb >= g->drow[r]; zb--)
                for (za = g->dcol[c]; za < g->dcol[c + 1]; za++)
                    for (k = 0; k < 4; k++) {
                        struct massiv_ref *m = &out[n++];
                        size_t z = (size_t)zb * (size_t)w->gu + (size_t)za;
                        m->ma = 2 * za + k % 2;
                        m->mb = 2 * zb + 1 - k / 2;
                        m->bb = g->zone_bb[z];
                        m->cc = g->zone_cc[z];
                        m->dd = k + 1;
                    }
    return n;
}

static enum kd_code emit_admin(struct gen *g, const struct massiv_ref *ms, size_t n_ms)
{
    const struct win *w = &g->w;
    char code[32], parent[32], name[128], dname[64];
    struct kd_sample_txt t;
    enum kd_code rc;
    size_t k, n;
    int r, c;

    if (tmp_room(g, 2 * (size_t)(w->nbu + w->nbv) + 8))
        return nomem(g);
    n = rect_ring(w, 0, 0, w->nbu, w->nbv, g->tmp);
    wkb_simple(g, g->tmp, n);
    /* Tashkent city: SOATO 1726 */
    rc = put_admin(g, "10", "region", "Toshkent shahri", NULL);
    for (r = g->dv - 1; r >= 0 && rc == KD_OK; r--) {
        for (c = 0; c < g->du && rc == KD_OK; c++) {
            int bb = (g->dv - 1 - r) * g->du + c + 1;
            n = rect_ring(w, g->dcol[c] * BPZ, g->drow[r] * BPZ, g->dcol[c + 1] * BPZ,
                          g->drow[r + 1] * BPZ, g->tmp);
            wkb_simple(g, g->tmp, n);
            code_of(code, sizeof code, bb, 0, 0, 0, 0);
            district_name(dname, sizeof dname, bb);
            kd_sample_txt_init(&t, name, sizeof name);
            kd_sample_txt_s(&t, dname);
            kd_sample_txt_s(&t, " tumani");
            rc = put_admin(g, code, "district", name, "10");
        }
    }
    for (k = 0; k < n_ms && rc == KD_OK; k += 4) { /* cadastral zones: 4 massivs each */
        const struct massiv_ref *m = &ms[k];
        int za = m->ma / 2, zb = m->mb / 2;
        n = rect_ring(w, za * BPZ, zb * BPZ, za * BPZ + BPZ, zb * BPZ + BPZ, g->tmp);
        wkb_simple(g, g->tmp, n);
        code_of(code, sizeof code, m->bb, m->cc, 0, 0, 0);
        code_of(parent, sizeof parent, m->bb, 0, 0, 0, 0);
        district_name(dname, sizeof dname, m->bb);
        kd_sample_txt_init(&t, name, sizeof name);
        kd_sample_txt_s(&t, dname);
        kd_sample_txt_s(&t, " tumani ");
        kd_sample_txt_u(&t, (uint64_t)m->cc, 0);
        kd_sample_txt_s(&t, "-kadastr zonasi");
        rc = put_admin(g, code, "zone", name, parent);
    }
    for (k = 0; k < n_ms && rc == KD_OK; k++) {
        const struct massiv_ref *m = &ms[k];
        uint64_t h = kd_sample_hash(g->seed, T_NAME, m->ma - w->gu, m->mb - w->gv);
        n = rect_ring(w, m->ma * BPM, m->mb * BPM, m->ma * BPM + BPM, m->mb * BPM + BPM, g->tmp);
        wkb_simple(g, g->tmp, n);
        code_of(code, sizeof code, m->bb, m->cc, m->dd, 0, 0);
        code_of(parent, sizeof parent, m->bb, m->cc, 0, 0, 0);
        kd_sample_txt_init(&t, name, sizeof name);
        kd_sample_txt_s(&t, kd_sample_text_massiv(h));
        kd_sample_txt_c(&t, '-');
        kd_sample_txt_u(&t, (h >> 40) % 24 + 1, 0);
        kd_sample_txt_s(&t, " massivi");
        rc = put_admin(g, code, "massiv", name, parent);
    }
    for (k = 0; k < g->n_used && rc == KD_OK; k++) {
        int32_t bi = g->used[k];
        int a = bi % w->nbu, b = bi / w->nbu, bb, cc, dd, ee;
        struct kd_sample_pt q[4];
        block_quad(w, a, b, q);
        wkb_simple(g, q, 4);
        block_numbers(g, a, b, &bb, &cc, &dd, &ee);
        code_of(code, sizeof code, bb, cc, dd, ee, 0);
        code_of(parent, sizeof parent, bb, cc, dd, 0, 0);
        kd_sample_txt_init(&t, name, sizeof name);
        kd_sample_txt_u(&t, (uint64_t)ee, 0);
        kd_sample_txt_s(&t, "-mavze");
        rc = put_admin(g, code, "mavze", name, parent);
    }
    return rc;
}

static unsigned block_zone(const struct win *w, int a, int b)
{
    unsigned t = w->btype[(size_t)b * (size_t)w->nbu + (size_t)a];
    unsigned mz = w->mzone[(size_t)(b / BPM) * (size_t)(2 * w->gu) + (size_t)(a / BPM)];

    return btype_zone[t] < 0 ? mz : (unsigned)btype_zone[t];
}

/* Zoning: per massiv its base zone with holes where a block has a zone of its own, and
 * those blocks; together they cover the region without overlaps. */
static enum kd_code emit_zones(struct gen *g, const struct massiv_ref *ms, size_t n_ms)
{
    const struct win *w = &g->w;
    enum kd_code rc = KD_OK;
    size_t k;

    if (tmp_room(g, 4 * BPM + 4 * BPM * BPM + 8))
        return nomem(g);
    for (k = 0; k < n_ms && rc == KD_OK; k++) {
        const struct massiv_ref *m = &ms[k];
        unsigned mz = w->mzone[(size_t)m->mb * (size_t)(2 * w->gu) + (size_t)m->ma];
        size_t n =
            rect_ring(w, m->ma * BPM, m->mb * BPM, m->ma * BPM + BPM, m->mb * BPM + BPM, g->tmp);
        uint32_t holes = 0;
        int i, j;
        for (j = BPM - 1; j >= 0; j--)
            for (i = 0; i < BPM; i++)
                holes += block_zone(w, m->ma * BPM + i, m->mb * BPM + j) != mz;
        kd_sample_geom_wkb_reset(&g->wkb);
        kd_sample_geom_wkb_multipolygon(&g->wkb, 1);
        kd_sample_geom_wkb_polygon(&g->wkb, 1 + holes);
        kd_sample_geom_wkb_ring(&g->wkb, g->tmp, n, 0);
        for (j = BPM - 1; j >= 0; j--) {
            for (i = 0; i < BPM; i++) {
                struct kd_sample_pt q[4];
                int a = m->ma * BPM + i, b = m->mb * BPM + j;
                if (block_zone(w, a, b) == mz)
                    continue;
                block_quad(w, a, b, q);
                kd_sample_geom_wkb_ring(&g->wkb, q, 4, 1);
            }
        }
        rc = put_area(g, 1, zone_defs[mz].code, "base", zone_defs[mz].name, zone_defs[mz].uses);
        for (j = BPM - 1; j >= 0 && rc == KD_OK; j--) {
            for (i = 0; i < BPM && rc == KD_OK; i++) {
                struct kd_sample_pt q[4];
                int a = m->ma * BPM + i, b = m->mb * BPM + j;
                unsigned z = block_zone(w, a, b);
                if (z == mz)
                    continue;
                block_quad(w, a, b, q);
                wkb_simple(g, q, 4);
                rc =
                    put_area(g, 1, zone_defs[z].code, "base", zone_defs[z].name, zone_defs[z].uses);
            }
        }
    }
    return rc;
}

static enum kd_code emit_restrictions(struct gen *g)
{
    const struct win *w = &g->w;
    char code[16], name[160];
    struct kd_sample_txt t;
    enum kd_code rc = KD_OK;
    unsigned n_wp = 0, n_uc = 0, n_hr = 0;
    size_t k;
    int a, b;

    for (k = 0; k < 2 && rc == KD_OK; k++) {
        const struct water *wt = &g->water[k];
        double hu_m = fmax(-w->lu[0], w->lu[w->nbu]), hv_m = fmax(-w->lv[0], w->lv[w->nbv]);
        double span = 1.5 * (hu_m + hv_m) + 2000.0, step = 20.0;
        size_t n = (size_t)(2.0 * span / step) + 1, i, m;
        if (tmp_room(g, 3 * n))
            return nomem(g);
        for (i = 0; i < n; i++) {
            double s = -span + step * (double)i;
            double off = wt->amp_m * sin(TWO_PI * s / wt->wl_m + wt->phase);
            g->tmp[i].x = wt->o.x + s * wt->dx - off * wt->dy;
            g->tmp[i].y = wt->o.y + s * wt->dy + off * wt->dx;
        }
        m = inside_run(g, g->tmp, n, wt->wp_m + 15.0);
        if (m < 2)
            continue;
        kd_sample_geom_strip(g->tmp, m, wt->wp_m, g->tmp + m);
        wkb_simple(g, g->tmp + m, 2 * m);
        kd_sample_txt_init(&t, code, sizeof code);
        kd_sample_txt_s(&t, "WP-");
        kd_sample_txt_u(&t, ++n_wp, 3);
        kd_sample_txt_init(&t, name, sizeof name);
        kd_sample_txt_s(&t, wt->name);
        kd_sample_txt_s(&t, " suvni muhofaza qilish zonasi");
        rc = put_area(g, 0, code, "water_protection", name, NULL);
    }
    for (k = 0; k < g->n_cor && rc == KD_OK; k++) {
        const struct corridor *c = &g->cor[k];
        if (tmp_room(g, 2 * c->n))
            return nomem(g);
        kd_sample_geom_strip(c->pts, c->n, c->half_m, g->tmp);
        wkb_simple(g, g->tmp, 2 * c->n);
        kd_sample_txt_init(&t, code, sizeof code);
        kd_sample_txt_s(&t, "UC-");
        kd_sample_txt_u(&t, ++n_uc, 3);
        kd_sample_txt_init(&t, name, sizeof name);
        kd_sample_txt_s(&t, c->power ? "220 kV elektr uzatish liniyasi "
                                     : "Yuqori bosimli gaz "
                                       "quvuri ");
        kd_sample_txt_u(&t, k / 2 + 1, 0);
        kd_sample_txt_s(&t, "-tarmoq qo'riqlash zonasi");
        rc = put_area(g, 0, code, "utility_corridor", name, NULL);
    }
    if (tmp_room(g, 48))
        return nomem(g);
    for (b = 0; b < w->nbv && rc == KD_OK; b++) {
        for (a = 0; a < w->nbu && rc == KD_OK; a++) {
            int ga = a - w->nbu / 2, gb = b - w->nbv / 2;
            struct kd_sample_pt q[4], c;
            uint64_t h;
            if (w->btype[(size_t)b * (size_t)w->nbu + (size_t)a] != B_HERITAGE)
                continue;
            h = kd_sample_hash(g->seed, T_HERITAGE, ga, gb);
            block_quad(w, a, b, q);
            c.x = (q[0].x + q[1].x + q[2].x + q[3].x) / 4.0;
            c.y = (q[0].y + q[1].y + q[2].y + q[3].y) / 4.0;
            kd_sample_geom_circle(c, 100.0 + 150.0 * unit_of(h), 48, g->tmp);
            wkb_simple(g, g->tmp, 48);
            kd_sample_txt_init(&t, code, sizeof code);
            kd_sample_txt_s(&t, "HR-");
            kd_sample_txt_u(&t, ++n_hr, 3);
            kd_sample_txt_init(&t, name, sizeof name);
            kd_sample_txt_s(&t, kd_sample_text_heritage(h >> 7));
            kd_sample_txt_s(&t, " muhofaza zonasi");
            rc = put_area(g, 0, code, "heritage", name, NULL);
        }
    }
    return rc;
}

/* ---- parties ----------------------------------------------------------------------------- */

static void org_id(const struct gen *g, uint32_t j, char out[10])
{
    kd_sample_text_stir(out, j, g->seed);
}

static enum kd_code emit_parties(struct gen *g)
{
    struct kd_sample_party p;
    char id[16], name[160], dname[64];
    struct kd_sample_txt t;
    enum kd_code rc = KD_OK;
    uint32_t j;
    int nd = g->du * g->dv;

    g->org_hokim = N_STATE;
    g->org_bank = g->org_hokim + (uint32_t)nd;
    g->org_com = g->org_bank + KD_SAMPLE_N_BANKS;
    g->n_com = (uint32_t)(g->n / 20 > 16 ? g->n / 20 : 16);
    g->n_orgs = g->org_com + g->n_com;
    g->n_persons = (uint32_t)(g->n * 7 / 10 > 16 ? g->n * 7 / 10 : 16);
    for (j = 0; j < g->n_orgs + g->n_persons && rc == KD_OK; j++) {
        kd_sample_txt_init(&t, name, sizeof name);
        if (j < g->n_orgs) {
            org_id(g, j, id);
            if (j < N_STATE) {
                kd_sample_txt_s(&t, state_orgs[j]);
            } else if (j < g->org_bank) {
                district_name(dname, sizeof dname, (int)(j - g->org_hokim) + 1);
                kd_sample_txt_s(&t, dname);
                kd_sample_txt_s(&t, " tumani hokimligi");
            } else if (j < g->org_com) {
                kd_sample_txt_s(&t, kd_sample_text_bank(j - g->org_bank));
            } else {
                kd_sample_text_org(&t, kd_sample_hash(g->seed, T_ORG, j, 0),
                                   (j - g->org_com) % 4 == 0);
            }
            p.kind = "organisation";
            p.pinfl = NULL;
            p.stir = id;
        } else {
            int male;
            kd_sample_text_pinfl(id, j - g->n_orgs, g->seed, &male);
            kd_sample_text_person(&t, kd_sample_hash(g->seed, T_PERSON, j, 0), male);
            p.kind = "person";
            p.pinfl = id;
            p.stir = NULL;
        }
        p.name = name;
        g->st.n_parties++;
        if (g->sink->party) {
            rc = g->sink->party(g->sink->ud, &p, g->err);
            if (rc != KD_OK)
                rc = sink_failed(g, rc, "party", id);
        }
    }
    return rc;
}

/* ---- parcels ----------------------------------------------------------------------------- */

struct bctx {
    int a, b, ga, gb;
    unsigned type;
    uint32_t ub;
    int bb;
    char prefix[24]; /* "10:BB:CC:DD:EE:" */
    char head[160];  /* "Toshkent shahri, X tumani, Y MFY, " */
    char street[2][96];
    int house_base[2];
    struct kd_sample_rng attr;
};

static void street_of(const struct gen *g, const struct bctx *bc, int edge, char *buf, size_t cap,
                      int *base)
{
    /* edges 0 and 2 lie on streets along u (v-lines b, b + 1), 1 and 3 on u-lines */
    int along_u = edge % 2 == 0;
    int line = along_u ? bc->gb + (edge == 2) : bc->ga + (edge == 1);
    int pos = along_u ? bc->ga : bc->gb;
    uint64_t h = kd_sample_hash(g->seed, T_STREET, line, along_u);
    struct kd_sample_txt t;

    kd_sample_txt_init(&t, buf, cap);
    if (line % BPM != 0 && (h >> 40) % 3 == 0) {
        kd_sample_txt_u(&t, (h >> 44) % 9 + 1, 0);
        kd_sample_txt_s(&t, "-tor ");
    }
    kd_sample_txt_s(&t, kd_sample_text_street(h));
    kd_sample_txt_s(&t, line % BPM == 0 ? " shoh ko'chasi" : " ko'chasi");
    *base = (pos % 10 + 10) % 10 * 24;
}

static void address(const struct bctx *bc, const struct piece *p, int use, char *buf, size_t cap)
{
    struct kd_sample_txt t;
    int row = bc->type == B_MAHALLA ? p->row : 0;
    unsigned house = bc->type == B_MAHALLA ? (unsigned)(bc->house_base[row] + 2 * p->idx + 1 + row)
                                           : (unsigned)(bc->house_base[0] + p->idx + 1);

    kd_sample_txt_init(&t, buf, cap);
    kd_sample_txt_s(&t, bc->head);
    kd_sample_txt_s(&t, bc->street[row]);
    kd_sample_txt_s(&t, ", ");
    kd_sample_txt_u(&t, house, 0);
    if (use == U_HOUSING || use == U_APART)
        kd_sample_txt_s(&t, "-uy");
}

static unsigned draw_use(unsigned type, int farm, int first, struct kd_sample_rng *r)
{
    double u = kd_sample_rng_unit(r);

    switch (type) {
    case B_MAHALLA:
        return PICK(use_mahalla, u);
    case B_APART:
        return PICK(use_apart, u);
    case B_COMM:
        return PICK(use_comm, u);
    case B_INDUS:
        return PICK(use_indus, u);
    case B_AGRI:
        return farm ? U_FARMING : U_DEHKAN;
    case B_PUBLIC:
        return U_PUBLIC;
    case B_PARK:
        return PICK(use_park, u);
    case B_HERITAGE:
        return first || u < 0.6 ? U_HERITAGE : U_PUBLIC;
    case B_FOREST:
        return U_FOREST;
    case B_WATER:
        return U_WATER;
    default:
        return U_RESERVE;
    }
}

/* A register time: a day in [lo, hi] and an office hour in Tashkent (UTC+5), as UTC. */
struct when {
    int32_t day, sec;
};

static struct when when_between(struct kd_sample_rng *r, int32_t lo, int32_t hi)
{
    struct when w;

    w.day = lo + (int32_t)kd_sample_rng_below(r, (uint32_t)(hi - lo + 1));
    w.sec = 4 * 3600 + (int32_t)kd_sample_rng_below(r, 9 * 3600);
    return w;
}

static enum kd_code put_parcel(struct gen *g, struct bctx *bc, const struct kd_sample_pt *ring,
                               size_t n, unsigned plot, unsigned use, struct when from,
                               const struct when *to, const char *op, const unsigned *parents,
                               size_t n_parents, const char *addr)
{
    struct kd_sample_parcel p;
    char cad[32], from_s[24], to_s[24], par[2][32];
    const char *pp[2];
    struct kd_sample_txt t;
    double area, cx = 0.0, k, e, decl;
    size_t i;
    enum kd_code rc;

    kd_sample_txt_init(&t, cad, sizeof cad);
    kd_sample_txt_s(&t, bc->prefix);
    kd_sample_txt_u(&t, plot, 4);
    for (i = 0; i < n_parents && i < 2; i++) {
        kd_sample_txt_init(&t, par[i], sizeof par[i]);
        kd_sample_txt_s(&t, bc->prefix);
        kd_sample_txt_u(&t, parents[i], 4);
        pp[i] = par[i];
    }
    kd_sample_txt_init(&t, from_s, sizeof from_s);
    kd_sample_text_time(&t, from.day, from.sec);
    if (to) {
        kd_sample_txt_init(&t, to_s, sizeof to_s);
        kd_sample_text_time(&t, to->day, to->sec);
    }
    wkb_simple(g, ring, n);
    if (g->wkb.failed)
        return nomem(g);
    /* Declared areas are surveyed on the ground: the planar UTM area divided by the square
     * of the scale factor there (0.9996 at the central meridian), then the survey's noise. */
    area = fabs(kd_sample_geom_ring_area(ring, n));
    for (i = 0; i < n; i++)
        cx += ring[i].x;
    cx = cx / (double)n - 500000.0;
    k = 0.9996 * (1.0 + cx * cx / (2.0 * 6381000.0 * 6381000.0));
    if (kd_sample_rng_unit(&bc->attr) < 0.03) {
        e = kd_sample_rng_range(&bc->attr, 0.015, 0.06);
        e = kd_sample_rng_unit(&bc->attr) < 0.5 ? -e : e;
    } else {
        e = kd_sample_rng_range(&bc->attr, -0.004, 0.004);
    }
    decl = area / (k * k) * (1.0 + e);
    decl = use == U_FARMING || use == U_DEHKAN || use == U_FOREST || use == U_WATER
               ? floor(decl + 0.5)
               : floor(decl * 10.0 + 0.5) / 10.0;
    p.cadastral_number = cad;
    p.land_use = use_names[use];
    p.land_category = categories[use_category[use]];
    p.address = addr;
    p.declared_area_m2 = decl;
    p.valid_from = from_s;
    p.valid_to = to ? to_s : NULL;
    p.operation = op;
    p.parents = n_parents ? pp : NULL;
    p.n_parents = n_parents;
    p.wkb = g->wkb.p;
    p.wkb_len = g->wkb.len;
    if (to)
        g->st.n_parcels_historic++;
    else
        g->st.n_parcels_live++;
    if (!g->sink->parcel)
        return KD_OK;
    rc = g->sink->parcel(g->sink->ud, &p, g->err);
    return rc == KD_OK ? KD_OK : sink_failed(g, rc, "parcel", cad);
}

/* Records a live parcel for the rights and applications that follow all parcels. */
static void keep_live(struct gen *g, struct bctx *bc, const struct kd_sample_pt *ring, size_t n,
                      unsigned plot, unsigned use, int32_t title_day)
{
    struct live *l;
    struct kd_sample_pt c = {0.0, 0.0};
    size_t i, k;

    if (g->n_live >= (size_t)g->n) /* not reached; emit_parcels reports the miscount */
        return;
    l = &g->live[g->n_live++];

    for (i = 0; i < n; i++) {
        c.x += ring[i].x;
        c.y += ring[i].y;
    }
    c.x /= (double)n;
    c.y /= (double)n;
    l->ub = bc->ub;
    l->plot = (uint16_t)plot;
    l->use = (uint8_t)use;
    l->title_day = title_day;
    l->flags = kd_sample_rng_unit(&bc->attr) < P_APP ? LIVE_APP : 0;
    for (k = 0; k < g->n_cor; k++) {
        const struct corridor *cor = &g->cor[k];
        if (c.x < cor->x0 || c.x > cor->x1 || c.y < cor->y0 || c.y > cor->y1)
            continue;
        if (kd_sample_geom_dist_polyline(c, cor->pts, cor->n) < cor->half_m)
            l->flags |= cor->power ? LIVE_POWER : LIVE_GAS;
    }
}

/* A corrected lot's earlier geometry: one corner surveyed 0.3-1.5 m off. Moving a corner by
 * less than its adjacent edges keeps the ring simple. */
static void displaced(struct gen *g, struct bctx *bc, size_t i, struct kd_sample_pt *out)
{
    struct scratch *s = &g->sc;
    const struct kd_sample_pt *ring = s->pool + s->off[i];
    size_t n = s->len[i], c = s->corner[i][kd_sample_rng_below(&bc->attr, 4)];
    double lp = dist(ring[(c + n - 1) % n], ring[c]), ln = dist(ring[c], ring[(c + 1) % n]);
    double d = fmin(1.5, 0.3 * fmin(lp, ln)) * kd_sample_rng_range(&bc->attr, 0.3, 1.0);
    double dx, dy, l2;

    do {
        dx = kd_sample_rng_range(&bc->attr, -1.0, 1.0);
        dy = kd_sample_rng_range(&bc->attr, -1.0, 1.0);
        l2 = dx * dx + dy * dy;
    } while (l2 > 1.0 || l2 < 0.01);
    memcpy(out, ring, n * sizeof *out);
    out[c].x += dx / sqrt(l2) * d;
    out[c].y += dy / sqrt(l2) * d;
}

static enum kd_code emit_block(struct gen *g, uint32_t ub)
{
    struct win *w = &g->w;
    struct scratch *s = &g->sc;
    int32_t bi = g->used[ub];
    struct bctx bc;
    long clamp = bi == g->clamp_block ? g->clamp_count : 0;
    int bb, cc, dd, ee, k;
    unsigned plot = 0;
    char addr[2][256], dname[64];
    struct kd_sample_txt t;
    enum kd_code rc = KD_OK;
    size_t e, un;
    uint64_t h;

    bc.a = bi % w->nbu;
    bc.b = bi / w->nbu;
    bc.ga = bc.a - w->nbu / 2;
    bc.gb = bc.b - w->nbv / 2;
    bc.type = w->btype[bi];
    bc.ub = ub;
    layout(g, bc.a, bc.b, clamp, s);
    history(g, bc.a, bc.b, clamp > 0, s);
    if (final_rings(s))
        return nomem(g);
    kd_sample_rng_seed(&bc.attr, kd_sample_hash(g->seed, T_ATTR, bc.ga, bc.gb));
    block_numbers(g, bc.a, bc.b, &bb, &cc, &dd, &ee);
    bc.bb = bb;
    code_of(bc.prefix, sizeof bc.prefix, bb, cc, dd, ee, 0);
    kd_sample_txt_init(&t, bc.prefix + strlen(bc.prefix), sizeof bc.prefix - strlen(bc.prefix));
    kd_sample_txt_c(&t, ':');
    /* a mahalla covers a quarter of a massiv */
    h = kd_sample_hash(g->seed, T_NAME, (bc.a / 3) - w->nbu, (bc.b / 3) - w->nbv);
    district_name(dname, sizeof dname, bb);
    kd_sample_txt_init(&t, bc.head, sizeof bc.head);
    kd_sample_txt_s(&t, "Toshkent shahri, ");
    kd_sample_txt_s(&t, dname);
    kd_sample_txt_s(&t, " tumani, ");
    kd_sample_txt_s(&t, kd_sample_text_mahalla(h));
    kd_sample_txt_s(&t, " MFY, ");
    for (k = 0; k < 2; k++)
        street_of(g, &bc, (s->rot + 2 * k) % 4, bc.street[k], sizeof bc.street[k],
                  &bc.house_base[k]);
    if (tmp_room(g, 2 * s->pool_len + 8))
        return nomem(g);
    for (e = 0; e < s->nev && rc == KD_OK; e++) {
        const struct event *ev = &s->ev[e];
        size_t i = ev->i;
        const struct kd_sample_pt *ring = s->pool + s->off[i];
        unsigned use = draw_use(bc.type, s->farm, e == 0, &bc.attr), par[2];
        struct when d0, d1, d0b;
        address(&bc, &s->pc[i], use, addr[0], sizeof addr[0]);
        switch (ev->kind) {
        case EV_PLAIN:
            d0 = when_between(&bc.attr, g->d_first, g->d_last);
            rc = put_parcel(g, &bc, ring, s->len[i], ++plot, use, d0, NULL, "create", NULL, 0,
                            addr[0]);
            keep_live(g, &bc, ring, s->len[i], plot, use, d0.day);
            break;
        case EV_CORR:
            d0 = when_between(&bc.attr, g->d_first, g->d_2020);
            d1 = when_between(&bc.attr, d0.day + 60, g->d_last);
            displaced(g, &bc, i, g->tmp);
            par[0] = ++plot;
            rc = put_parcel(g, &bc, g->tmp, s->len[i], plot, use, d0, &d1, "create", NULL, 0,
                            addr[0]);
            if (rc == KD_OK)
                rc = put_parcel(g, &bc, ring, s->len[i], plot, use, d1, NULL, "correction", par, 1,
                                addr[0]);
            keep_live(g, &bc, ring, s->len[i], plot, use, d0.day);
            break;
        case EV_SPLIT:
            if (kd_sample_geom_union_adjacent(ring, s->len[i], s->pool + s->off[i + 1],
                                              s->len[i + 1], g->tmp, &un))
                return kd_err_set(g->err, KD_EGEO, "sample.internal",
                                  "lots %s%u and the next share no edge", bc.prefix, plot + 1);
            d0 = when_between(&bc.attr, g->d_first, g->d_2020);
            d1 = when_between(&bc.attr, d0.day + 30, g->d_last);
            par[0] = ++plot;
            rc = put_parcel(g, &bc, g->tmp, un, plot, use, d0, &d1, "create", NULL, 0, addr[0]);
            if (rc == KD_OK)
                rc = put_parcel(g, &bc, ring, s->len[i], ++plot, use, d1, NULL, "split", par, 1,
                                addr[0]);
            keep_live(g, &bc, ring, s->len[i], plot, use, d1.day);
            address(&bc, &s->pc[i + 1], use, addr[1], sizeof addr[1]);
            if (rc == KD_OK)
                rc = put_parcel(g, &bc, s->pool + s->off[i + 1], s->len[i + 1], ++plot, use, d1,
                                NULL, "split", par, 1, addr[1]);
            keep_live(g, &bc, s->pool + s->off[i + 1], s->len[i + 1], plot, use, d1.day);
            break;
        default: /* EV_MERGE */
            if (kd_sample_geom_union_adjacent(ring, s->len[i], s->pool + s->off[i + 1],
                                              s->len[i + 1], g->tmp, &un))
                return kd_err_set(g->err, KD_EGEO, "sample.internal",
                                  "lots %s%u and the next share no edge", bc.prefix, plot + 1);
            d0 = when_between(&bc.attr, g->d_first, g->d_2020);
            d0b = when_between(&bc.attr, g->d_first, g->d_2020);
            d1 = when_between(&bc.attr, (d0.day > d0b.day ? d0.day : d0b.day) + 30, g->d_last);
            address(&bc, &s->pc[i + 1], use, addr[1], sizeof addr[1]);
            par[0] = ++plot;
            rc =
                put_parcel(g, &bc, ring, s->len[i], plot, use, d0, &d1, "create", NULL, 0, addr[0]);
            par[1] = ++plot;
            if (rc == KD_OK)
                rc = put_parcel(g, &bc, s->pool + s->off[i + 1], s->len[i + 1], plot, use, d0b, &d1,
                                "create", NULL, 0, addr[1]);
            if (rc == KD_OK)
                rc =
                    put_parcel(g, &bc, g->tmp, un, ++plot, use, d1, NULL, "merge", par, 2, addr[0]);
            keep_live(g, &bc, g->tmp, un, plot, use, d1.day);
            break;
        }
    }
    return rc;
}

static enum kd_code emit_parcels(struct gen *g)
{
    enum kd_code rc = KD_OK;
    uint32_t ub;

    g->live = malloc((size_t)g->n * sizeof *g->live);
    if (!g->live)
        return nomem(g);
    g->n_live = 0;
    for (ub = 0; ub < g->n_used && rc == KD_OK; ub++)
        rc = emit_block(g, ub);
    if (rc == KD_OK && g->n_live != (size_t)g->n) /* not reached: planned exactly */
        rc = kd_err_set(g->err, KD_EINVAL, "sample.internal",
                        "generated %zu live parcels instead of %ld", g->n_live, g->n);
    return rc;
}

/* ---- rights and applications ------------------------------------------------------------- */

struct rctx {
    const char *cad;
    struct kd_sample_rng r;
    int32_t title_day;
    char doc[96], doc_date[16], reg[16];
};

static const char *const share_patterns[][3] = {{"1", NULL, NULL},
                                                {"1/2", "1/2", NULL},
                                                {"1/3", "2/3", NULL},
                                                {"1/3", "1/3", "1/3"},
                                                {"1/2", "1/4", "1/4"}};

static void set_doc(struct rctx *c, const char *title, int32_t reg_day)
{
    struct kd_sample_txt t;
    int32_t doc_day = reg_day - 1 - (int32_t)kd_sample_rng_below(&c->r, 20);
    int y, m, d;

    kd_sample_text_civil(doc_day, &y, &m, &d);
    kd_sample_txt_init(&t, c->doc, sizeof c->doc);
    kd_sample_txt_s(&t, title);
    kd_sample_txt_s(&t, " No. ");
    kd_sample_txt_u(&t, 1 + kd_sample_rng_below(&c->r, 9000), 0);
    kd_sample_txt_c(&t, '/');
    kd_sample_txt_u(&t, (uint64_t)y, 4);
    kd_sample_txt_init(&t, c->doc_date, sizeof c->doc_date);
    kd_sample_text_date(&t, doc_day);
    kd_sample_txt_init(&t, c->reg, sizeof c->reg);
    kd_sample_text_date(&t, reg_day);
}

static enum kd_code put_right(struct gen *g, struct rctx *c, const char *party_id, const char *kind,
                              const char *share)
{
    struct kd_sample_right r;
    enum kd_code rc;

    g->st.n_rights++;
    if (!g->sink->right)
        return KD_OK;
    r.cadastral_number = c->cad;
    r.party_id = party_id;
    r.kind = kind;
    r.share = share;
    r.document = c->doc;
    r.document_date = c->doc_date;
    r.registered_on = c->reg;
    rc = g->sink->right(g->sink->ud, &r, g->err);
    return rc == KD_OK ? KD_OK : sink_failed(g, rc, "right on", c->cad);
}

static enum kd_code right_org(struct gen *g, struct rctx *c, uint32_t org, const char *kind,
                              const char *doc, int32_t reg_day)
{
    char id[10];

    org_id(g, org, id);
    set_doc(c, doc, reg_day);
    return put_right(g, c, id, kind, "1");
}

static uint32_t pick_company(struct gen *g, struct rctx *c, int farm)
{
    uint32_t k = kd_sample_rng_below(&c->r, g->n_com);

    /* every 4th company is a farm enterprise */
    k = farm ? k - k % 4 : (k % 4 == 0 ? (k + 1 < g->n_com ? k + 1 : k - 1) : k);
    return g->org_com + k;
}

/* Persons holding a primary right in shares: 1, 1/2+1/2, 1/3+2/3, 3 x 1/3, 1/2+1/4+1/4. */
static enum kd_code right_persons(struct gen *g, struct rctx *c, const char *kind, const char *doc,
                                  int max_holders)
{
    double u = kd_sample_rng_unit(&c->r);
    int pat = u < 0.72 ? 0 : u < 0.86 ? 1 : u < 0.91 ? 2 : u < 0.96 ? 3 : 4, k, m;
    uint32_t who[3];
    enum kd_code rc = KD_OK;

    if (max_holders < 3 && pat >= 3)
        pat = 1;
    if (max_holders < 2)
        pat = 0;
    set_doc(c, doc, c->title_day);
    for (k = 0; k < 3 && share_patterns[pat][k] && rc == KD_OK; k++) {
        char id[15];
        int male, again;
        do { /* co-holders are distinct persons */
            who[k] = kd_sample_rng_below(&c->r, g->n_persons);
            for (again = 0, m = 0; m < k; m++)
                again |= who[m] == who[k];
        } while (again);
        kd_sample_text_pinfl(id, who[k], g->seed, &male);
        rc = put_right(g, c, id, kind, share_patterns[pat][k]);
    }
    return rc;
}

/* A day after the primary right's registration, for rights that came later. */
static int32_t later(struct gen *g, struct rctx *c)
{
    uint32_t span = (uint32_t)(g->d_last - c->title_day) + 1;

    return c->title_day + (int32_t)kd_sample_rng_below(&c->r, span);
}

static enum kd_code emit_rights_of(struct gen *g, size_t li)
{
    const struct live *l = &g->live[li];
    int32_t bi = g->used[l->ub];
    int bb, cc, dd, ee;
    char cad[32];
    struct rctx c;
    uint32_t hokim;
    enum kd_code rc;
    double u;
    const char *owner_doc;

    block_numbers(g, bi % g->w.nbu, bi / g->w.nbu, &bb, &cc, &dd, &ee);
    code_of(cad, sizeof cad, bb, cc, dd, ee, l->plot);
    c.cad = cad;
    c.title_day = l->title_day;
    kd_sample_rng_seed(&c.r, kd_sample_hash(g->seed, T_RIGHTS, (int64_t)li, 0));
    hokim = g->org_hokim + (uint32_t)bb - 1;
    u = kd_sample_rng_unit(&c.r);
    owner_doc = u < 0.5    ? "Oldi-sotdi shartnomasi"
                : u < 0.75 ? "Meros huquqi to'g'risidagi guvohnoma"
                : u < 0.9  ? "Hadya shartnomasi"
                           : "Xususiylashtirish orderi";
    u = kd_sample_rng_unit(&c.r);
    switch (l->use) {
    case U_HOUSING:
        rc = u < 0.55 ? right_persons(g, &c, "ownership", owner_doc, 3)
                      : right_persons(g, &c, "life_inheritable_possession",
                                      "Tuman hokimining qarori", 3);
        if (rc == KD_OK && kd_sample_rng_unit(&c.r) < 0.04)
            rc = right_org(g, &c, g->org_bank + kd_sample_rng_below(&c.r, KD_SAMPLE_N_BANKS),
                           "mortgage", "Ipoteka shartnomasi", later(g, &c));
        if (rc == KD_OK && kd_sample_rng_unit(&c.r) < 0.004)
            rc = right_org(g, &c, ORG_ENFORCE, "arrest", "Sud ajrimi", later(g, &c));
        break;
    case U_DEHKAN:
        rc = right_persons(g, &c, "life_inheritable_possession", "Tuman hokimining qarori", 2);
        break;
    case U_APART:
        rc = right_org(g, &c, pick_company(g, &c, 0), u < 0.6 ? "permanent_use" : "ownership",
                       u < 0.6 ? "Toshkent shahar hokimining qarori" : "Auksion bayonnomasi",
                       c.title_day);
        if (rc == KD_OK && kd_sample_rng_unit(&c.r) < 0.05)
            rc = right_org(g, &c, g->org_bank + kd_sample_rng_below(&c.r, KD_SAMPLE_N_BANKS),
                           "mortgage", "Ipoteka shartnomasi", later(g, &c));
        break;
    case U_COMM:
        if (u < 0.45) {
            rc = right_org(g, &c, pick_company(g, &c, 0), "ownership", "Auksion bayonnomasi",
                           c.title_day);
        } else if (u < 0.6) {
            rc = right_persons(g, &c, "ownership", "Oldi-sotdi shartnomasi", 2);
        } else {
            rc = right_org(g, &c, hokim, "permanent_possession",
                           "Toshkent shahar hokimining qarori", c.title_day);
            if (rc == KD_OK)
                rc = right_org(g, &c, pick_company(g, &c, 0), "lease", "Ijara shartnomasi",
                               later(g, &c));
        }
        if (rc == KD_OK && kd_sample_rng_unit(&c.r) < 0.004)
            rc = right_org(g, &c, ORG_ENFORCE, "arrest", "Sud ajrimi", later(g, &c));
        break;
    case U_PUBLIC:
        rc = right_org(g, &c,
                       u < 0.5   ? ORG_EDU
                       : u < 0.7 ? ORG_HEALTH
                                 : hokim,
                       "permanent_use", "Toshkent shahar hokimining qarori", c.title_day);
        break;
    case U_INDUS:
        rc = right_org(g, &c, pick_company(g, &c, 0), u < 0.5 ? "ownership" : "permanent_use",
                       u < 0.5 ? "Xususiylashtirish orderi" : "Toshkent shahar hokimining qarori",
                       c.title_day);
        if (rc == KD_OK && kd_sample_rng_unit(&c.r) < 0.06)
            rc = right_org(g, &c, g->org_bank + kd_sample_rng_below(&c.r, KD_SAMPLE_N_BANKS),
                           "mortgage", "Ipoteka shartnomasi", later(g, &c));
        break;
    case U_TRANSPORT:
        rc = right_org(g, &c, ORG_RAIL, "permanent_use", "Vazirlar Mahkamasining qarori",
                       c.title_day);
        break;
    case U_FARMING:
        /* state land: the farm holds a lease, never ownership (DOMAIN.md I2) */
        rc =
            right_org(g, &c, hokim, "permanent_possession", "Tuman hokimining qarori", c.title_day);
        if (rc == KD_OK)
            rc =
                right_org(g, &c, pick_company(g, &c, 1), "lease", "Ijara shartnomasi", c.title_day);
        break;
    case U_PARK:
        rc = right_org(g, &c, ORG_PARKS, "permanent_use", "Toshkent shahar hokimining qarori",
                       c.title_day);
        break;
    case U_HERITAGE:
        rc = right_org(g, &c, ORG_HERITAGE, "permanent_use", "Vazirlar Mahkamasining qarori",
                       c.title_day);
        break;
    case U_FOREST:
        rc = right_org(g, &c, ORG_FOREST, "permanent_possession", "Vazirlar Mahkamasining qarori",
                       c.title_day);
        break;
    case U_WATER:
        rc = right_org(g, &c, ORG_WATER, "permanent_possession", "Vazirlar Mahkamasining qarori",
                       c.title_day);
        break;
    default: /* U_RESERVE */
        rc =
            right_org(g, &c, hokim, "permanent_possession", "Tuman hokimining qarori", c.title_day);
        break;
    }
    if (rc == KD_OK && (l->flags & LIVE_POWER))
        rc = right_org(g, &c, ORG_POWER, "servitude", "Servitut shartnomasi", later(g, &c));
    if (rc == KD_OK && (l->flags & LIVE_GAS))
        rc = right_org(g, &c, ORG_GAS, "servitude", "Servitut shartnomasi", later(g, &c));
    return rc;
}

static enum kd_code emit_application(struct gen *g, size_t li)
{
    static const char *const kinds[] = {"registration", "correction", "split", "merge"};
    static const char *const states[] = {"submitted", "in_review", "approved", "rejected"};
    const struct live *l = &g->live[li];
    int32_t bi = g->used[l->ub], lo;
    int bb, cc, dd, ee;
    char cad[32], num[32], at[24];
    struct kd_sample_txt t;
    struct kd_sample_rng r;
    struct kd_sample_application a;
    struct when when;
    double u, v;
    enum kd_code rc;

    block_numbers(g, bi % g->w.nbu, bi / g->w.nbu, &bb, &cc, &dd, &ee);
    code_of(cad, sizeof cad, bb, cc, dd, ee, l->plot);
    kd_sample_rng_seed(&r, kd_sample_hash(g->seed, T_APP, (int64_t)li, 0));
    u = kd_sample_rng_unit(&r);
    v = kd_sample_rng_unit(&r);
    lo = l->title_day + 1 > g->d_2024 ? l->title_day + 1 : g->d_2024;
    when = when_between(&r, lo < g->d_last ? lo : g->d_last, g->d_last);
    kd_sample_txt_init(&t, num, sizeof num);
    kd_sample_txt_s(&t, "APP-2024-");
    kd_sample_txt_u(&t, ++g->app_seq, 6);
    kd_sample_txt_init(&t, at, sizeof at);
    kd_sample_text_time(&t, when.day, when.sec);
    a.number = num;
    a.kind = kinds[u < 0.4 ? 0 : u < 0.7 ? 1 : u < 0.9 ? 2 : 3];
    a.cadastral_number = cad;
    a.status = states[v < 0.3 ? 0 : v < 0.6 ? 1 : v < 0.85 ? 2 : 3];
    a.submitted_at = at;
    g->st.n_applications++;
    if (!g->sink->application)
        return KD_OK;
    rc = g->sink->application(g->sink->ud, &a, g->err);
    return rc == KD_OK ? KD_OK : sink_failed(g, rc, "application", num);
}

/* ---- the entry point --------------------------------------------------------------------- */

static void gen_free(struct gen *g)
{
    size_t k;

    if (!g)
        return;
    win_free(&g->w);
    for (k = 0; k < g->n_cor; k++)
        free(g->cor[k].pts);
    free(g->zone_bb);
    free(g->zone_cc);
    free(g->used);
    free(g->live);
    free(g->sc.pool);
    free(g->tmp);
    kd_sample_geom_wkb_fini(&g->wkb);
    free(g);
}

enum kd_code kd_sample_generate(const struct kd_sample_opts *opts,
                                const struct kd_sample_sink *sink, struct kd_sample_stats *stats,
                                struct kd_err *err)
{
    struct gen *g = NULL;
    struct massiv_ref *ms = NULL;
    size_t n_ms = 0, k;
    enum kd_code rc;

    if (!opts || !sink)
        return kd_err_set(err, KD_EINVAL, "sample.args", "no options or no sink given");
    if (opts->n_parcels < 1 || opts->n_parcels > N_MAX) {
        kd_err_set(err, KD_EINVAL, "sample.n_parcels",
                   "cannot generate %ld parcels: the sample holds 1 to %ld", opts->n_parcels,
                   N_MAX);
        kd_err_hint(err, "ask for between 1 and %ld parcels", N_MAX);
        return KD_EINVAL;
    }
    g = calloc(1, sizeof *g);
    if (!g)
        return kd_err_set(err, KD_ENOMEM, "sample.nomem", "out of memory generating the sample");
    g->seed = opts->seed;
    g->n = opts->n_parcels;
    g->sink = sink;
    g->err = err;
    g->w_size = -1;
    g->cr = cos(GRID_ROT_RAD);
    g->sr = sin(GRID_ROT_RAD);
    g->d_first = kd_sample_text_days(2005, 1, 1);
    g->d_2020 = kd_sample_text_days(2020, 12, 31);
    g->d_2024 = kd_sample_text_days(2024, 1, 1);
    g->d_last = kd_sample_text_days(2024, 12, 31);
    kd_sample_geom_wkb_init(&g->wkb);
    rc = plan(g);
    if (rc != KD_OK)
        goto out;
    ms = malloc((size_t)(4 * g->w.gu * g->w.gv) * sizeof *ms);
    if (!ms) {
        rc = nomem(g);
        goto out;
    }
    n_ms = massivs_in_order(g, ms);
    rc = emit_admin(g, ms, n_ms);
    if (rc == KD_OK)
        rc = emit_zones(g, ms, n_ms);
    if (rc == KD_OK)
        rc = emit_restrictions(g);
    if (rc == KD_OK)
        rc = emit_parties(g);
    if (rc == KD_OK)
        rc = emit_parcels(g);
    for (k = 0; k < g->n_live && rc == KD_OK; k++)
        rc = emit_rights_of(g, k);
    for (k = 0; k < g->n_live && rc == KD_OK; k++)
        if (g->live[k].flags & LIVE_APP)
            rc = emit_application(g, k);
    if (rc == KD_OK && stats)
        *stats = g->st;
out:
    free(ms);
    gen_free(g);
    return rc;
}
