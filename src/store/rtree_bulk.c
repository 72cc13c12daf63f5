/* SPDX-License-Identifier: Apache-2.0 */
/* Bulk-built R*Trees. An SQLite R*Tree insert costs ~6 µs (choose a leaf, split, adjust the
 * path: node blobs written through SQL), two per parcel; a first load of a million parcels
 * spent most of its time there. When a write transaction starts on a table whose indexes
 * are empty,
 * the store collects the boxes instead and, before COMMIT, packs them with Sort-Tile-
 * Recursive into full nodes and writes SQLite's own shadow tables (%_node, %_rowid,
 * %_parent) in the format of ext/rtree/rtree.c: a node is a 2-byte depth (root only), a
 * 2-byte cell count, then cells of a big-endian 64-bit id and four big-endian 32-bit floats,
 * lower bounds rounded down and upper bounds up as rtree.c does. SQLite's rtreecheck()
 * verifies the result in the tests. */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RNDTOWARDS (1.0 - 1.0 / 8388608.0) /* as rtree.c */
#define RNDAWAY (1.0 + 1.0 / 8388608.0)

static float value_down(double d)
{
    float f = (float)d;

    if (f > d)
        f = (float)(d * (d < 0 ? RNDAWAY : RNDTOWARDS));
    return f;
}

static float value_up(double d)
{
    float f = (float)d;

    if (f < d)
        f = (float)(d * (d < 0 ? RNDTOWARDS : RNDAWAY));
    return f;
}

struct cell {
    int64_t id;   /* row id (leaves) or child node number */
    float box[4]; /* xmin, xmax, ymin, ymax as stored */
};

static void put_be16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_cell(unsigned char *p, const struct cell *c)
{
    uint64_t id = (uint64_t)c->id;
    int i, k;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(id >> (56 - 8 * i));
    for (k = 0; k < 4; k++) {
        uint32_t u;
        memcpy(&u, &c->box[k], 4);
        for (i = 0; i < 4; i++)
            p[8 + 4 * k + i] = (unsigned char)(u >> (24 - 8 * i));
    }
}

static int by_x(const void *a, const void *b)
{
    const struct cell *p = a, *q = b;
    float x = p->box[0] + p->box[1], y = q->box[0] + q->box[1];

    return (x > y) - (x < y);
}

static int by_y(const void *a, const void *b)
{
    const struct cell *p = a, *q = b;
    float x = p->box[2] + p->box[3], y = q->box[2] + q->box[3];

    return (x > y) - (x < y);
}

/* Sort-Tile-Recursive order of n cells for nodes of m cells. */
static void str_order(struct cell *c, size_t n, size_t m)
{
    size_t leaves = (n + m - 1) / m, strips = (size_t)ceil(sqrt((double)leaves));
    size_t per = strips ? ((leaves + strips - 1) / strips) * m : n, i;

    qsort(c, n, sizeof *c, by_x);
    for (i = 0; i < n; i += per)
        qsort(c + i, n - i < per ? n - i : per, sizeof *c, by_y);
}

struct writer {
    struct kd_store *st;
    sqlite3_stmt *node, *rowid, *parent;
    unsigned char *blob;
    int node_size;
};

static enum kd_code write_node(struct writer *w, int64_t nodeno, const struct cell *c, size_t k,
                               int depth_for_root, struct kd_err *err)
{
    size_t i;

    memset(w->blob, 0, (size_t)w->node_size);
    if (nodeno == 1)
        put_be16(w->blob, (unsigned)depth_for_root);
    put_be16(w->blob + 2, (unsigned)k);
    for (i = 0; i < k; i++)
        put_cell(w->blob + 4 + 24 * i, &c[i]);
    sqlite3_bind_int64(w->node, 1, nodeno);
    sqlite3_bind_blob(w->node, 2, w->blob, w->node_size, SQLITE_STATIC);
    if (sqlite3_step(w->node) != SQLITE_DONE)
        return kd_store_fail(w->st, "store.rtree", "writing an index node failed", err);
    sqlite3_reset(w->node);
    return KD_OK;
}

static enum kd_code map_row(sqlite3_stmt *q, struct kd_store *st, int64_t a, int64_t b,
                            struct kd_err *err)
{
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    if (sqlite3_step(q) != SQLITE_DONE)
        return kd_store_fail(st, "store.rtree", "writing an index map failed", err);
    sqlite3_reset(q);
    return KD_OK;
}

/* Writes the R*Tree `name` (which must be empty) holding n boxes (W,S,E,N per id). */
static enum kd_code bulk_write(struct kd_store *st, const char *name, const int64_t *ids,
                               const double *boxes, size_t n, struct kd_err *err)
{
    struct writer w = {st, NULL, NULL, NULL, NULL, 0};
    struct cell *level = NULL, *up = NULL;
    char sql[256];
    sqlite3_stmt *q = NULL;
    enum kd_code rc = KD_OK;
    size_t m, i, count, n_up;
    int64_t next_node = 2;
    int depth = 0;

    /* the node size is that of the root the module created */
    snprintf(sql, sizeof sql, "SELECT length(data) FROM \"%s_node\" WHERE nodeno = 1", name);
    q = kd_store_prepare(st, sql, err);
    if (!q)
        return err->code;
    if (sqlite3_step(q) == SQLITE_ROW)
        w.node_size = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (w.node_size < 4 + 24 * 4)
        return kd_err_set(err, KD_ESTORE, "store.rtree", "index %s has no usable root", name);
    m = (size_t)(w.node_size - 4) / 24;
    w.blob = malloc((size_t)w.node_size);
    level = malloc((n ? n : 1) * sizeof *level);
    if (!w.blob || !level) {
        rc = kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        level[i].id = ids[i];
        level[i].box[0] = value_down(boxes[4 * i + 0]);
        level[i].box[1] = value_up(boxes[4 * i + 2]);
        level[i].box[2] = value_down(boxes[4 * i + 1]);
        level[i].box[3] = value_up(boxes[4 * i + 3]);
    }
    snprintf(sql, sizeof sql,
             "DELETE FROM \"%s_node\"; DELETE FROM \"%s_rowid\"; DELETE FROM \"%s_parent\";", name,
             name, name);
    rc = kd_store_exec(st, sql, err);
    if (rc)
        goto out;
    snprintf(sql, sizeof sql, "INSERT INTO \"%s_node\"(nodeno, data) VALUES(?1, ?2)", name);
    w.node = kd_store_prepare(st, sql, err);
    snprintf(sql, sizeof sql, "INSERT INTO \"%s_rowid\"(rowid, nodeno) VALUES(?1, ?2)", name);
    w.rowid = w.node ? kd_store_prepare(st, sql, err) : NULL;
    snprintf(sql, sizeof sql, "INSERT INTO \"%s_parent\"(nodeno, parentnode) VALUES(?1, ?2)", name);
    w.parent = w.rowid ? kd_store_prepare(st, sql, err) : NULL;
    if (!w.parent) {
        rc = err->code;
        goto out;
    }
    /* bottom-up: each level is packed into nodes; the last single node is the root (1) */
    count = n;
    for (;;) {
        size_t n_nodes = count ? (count + m - 1) / m : 1;
        int is_root = n_nodes == 1;
        str_order(level, count, m);
        up = malloc(n_nodes * sizeof *up);
        if (!up) {
            rc = kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
            goto out;
        }
        n_up = 0;
        for (i = 0; i < count || (i == 0 && count == 0); i += m) {
            size_t k = count - i < m ? count - i : m, j;
            int64_t nodeno = is_root ? 1 : next_node++;
            struct cell *u = &up[n_up++];
            u->id = nodeno;
            u->box[0] = u->box[2] = INFINITY;
            u->box[1] = u->box[3] = -INFINITY;
            for (j = 0; j < k; j++) {
                const struct cell *c = &level[i + j];
                u->box[0] = fminf(u->box[0], c->box[0]);
                u->box[1] = fmaxf(u->box[1], c->box[1]);
                u->box[2] = fminf(u->box[2], c->box[2]);
                u->box[3] = fmaxf(u->box[3], c->box[3]);
                rc = depth == 0 ? map_row(w.rowid, st, c->id, nodeno, err)
                                : map_row(w.parent, st, c->id, nodeno, err);
                if (rc)
                    goto out;
            }
            rc = write_node(&w, nodeno, &level[i], k, depth, err);
            if (rc)
                goto out;
            if (count == 0)
                break;
        }
        free(level);
        level = up;
        up = NULL;
        if (is_root)
            break;
        count = n_up;
        depth++;
    }
out:
    free(level);
    free(up);
    free(w.blob);
    sqlite3_finalize(w.node);
    sqlite3_finalize(w.rowid);
    sqlite3_finalize(w.parent);
    return rc;
}

static const char *const bulk_tables[KD_N_LAYERS] = {
    [KD_LAYER_PARCELS] = "parcels",
    [KD_LAYER_ZONES] = "zones",
    [KD_LAYER_RESTRICTIONS] = "restrictions",
    [KD_LAYER_ADMIN_UNITS] = "admin_units",
};

enum kd_code kd_store_bulk_begin(struct kd_store *st, struct kd_err *err)
{
    char sql[256];
    sqlite3_stmt *q;
    int l;

    for (l = 0; l < KD_N_LAYERS; l++) {
        struct kd_store_bulk *b = &st->bulk[l];
        if (!bulk_tables[l] || b->active)
            continue;
        snprintf(sql, sizeof sql,
                 "SELECT NOT EXISTS (SELECT 1 FROM \"idx_%s_geom_cad_rowid\") "
                 "AND NOT EXISTS (SELECT 1 FROM \"idx_%s_geom_3857_rowid\")",
                 bulk_tables[l], bulk_tables[l]);
        q = kd_store_prepare(st, sql, err);
        if (!q)
            return err->code;
        b->active = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
        b->n = 0;
        sqlite3_finalize(q);
    }
    return KD_OK;
}

enum kd_code kd_store_bulk_add(struct kd_store *st, enum kd_layer layer, int64_t id,
                               const double box_cad[4], const double box_3857[4],
                               struct kd_err *err)
{
    struct kd_store_bulk *b = &st->bulk[layer];

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        int64_t *ids = realloc(b->ids, cap * sizeof *ids);
        double *c, *w;
        if (ids)
            b->ids = ids;
        c = realloc(b->box_cad, cap * 4 * sizeof *c);
        if (c)
            b->box_cad = c;
        w = realloc(b->box_3857, cap * 4 * sizeof *w);
        if (w)
            b->box_3857 = w;
        if (!ids || !c || !w)
            return kd_err_set(err, KD_ENOMEM, "store.nomem", "out of memory");
        b->cap = cap;
    }
    b->ids[b->n] = id;
    memcpy(&b->box_cad[4 * b->n], box_cad, 4 * sizeof(double));
    memcpy(&b->box_3857[4 * b->n], box_3857, 4 * sizeof(double));
    b->n++;
    return KD_OK;
}

enum kd_code kd_store_bulk_flush(struct kd_store *st, int layer, struct kd_err *err)
{
    char name[64];
    enum kd_code rc = KD_OK;
    int l;

    for (l = 0; l < KD_N_LAYERS && !rc; l++) {
        struct kd_store_bulk *b = &st->bulk[l];
        if (!b->active || (layer >= 0 && l != layer))
            continue;
        /* nothing gathered: the index is still empty, which is what a read must see */
        if (b->n == 0 && layer >= 0)
            continue;
        b->active = 0;
        if (b->n == 0)
            continue;
        snprintf(name, sizeof name, "idx_%s_geom_cad", bulk_tables[l]);
        rc = bulk_write(st, name, b->ids, b->box_cad, b->n, err);
        snprintf(name, sizeof name, "idx_%s_geom_3857", bulk_tables[l]);
        if (!rc)
            rc = bulk_write(st, name, b->ids, b->box_3857, b->n, err);
        b->n = 0;
    }
    return rc;
}

void kd_store_bulk_cancel(struct kd_store *st)
{
    int l;

    for (l = 0; l < KD_N_LAYERS; l++) {
        st->bulk[l].active = 0;
        st->bulk[l].n = 0;
    }
}

void kd_store_bulk_fini(struct kd_store *st)
{
    int l;

    for (l = 0; l < KD_N_LAYERS; l++) {
        free(st->bulk[l].ids);
        free(st->bulk[l].box_cad);
        free(st->bulk[l].box_3857);
    }
    memset(st->bulk, 0, sizeof st->bulk);
}
