/* SPDX-License-Identifier: Apache-2.0 */
/* Prepared answers on a real SpatiaLite register (the cadastre fixture): every live parcel
 * gets the bytes kd_answer_parcel makes from the register; each kind of write clears exactly
 * the answers it changes, in its own transaction (the triggers of schema v4), and nothing
 * else; a later pass prepares only those; answers of another fingerprint are all made again;
 * the server's batches make each answer once. */
#include "kadastr/cadastre.h"

#include "fixture.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define NX 10
#define NY 10
#define N_LIVE (NX * NY + FX_N_SPECIAL_LIVE)

static char path[600];

struct check {
    struct kd_store *st;
    struct kd_xform *xf;
    long prepared, cleared;
};

/* Every live parcel's prepared answer is the register's, or absent (cleared). */
static enum kd_code check_one(void *ud, const struct kd_parcel *p, struct kd_err *err)
{
    struct check *c = ud;
    struct kd_buf kept, made;
    int found = 0;

    kd_buf_init(&kept);
    kd_buf_init(&made);
    assert_int_equal(kd_store_answer_get(c->st, p->number, &kept, &found, err), KD_OK);
    assert_int_equal(kd_answer_parcel(c->st, c->xf, p, &made, err), KD_OK);
    if (found) {
        assert_int_equal(kept.len, made.len);
        assert_memory_equal(kept.data, made.data, made.len);
        c->prepared++;
    } else {
        c->cleared++;
    }
    kd_buf_fini(&kept);
    kd_buf_fini(&made);
    return KD_OK;
}

/* OUT prepared, cleared: live parcels with and without an answer (all checked). */
static void check_all(struct kd_store *st, struct kd_geo *g, long *prepared, long *cleared)
{
    const struct kd_store_config *cfg = kd_store_config(st);
    struct check c = {st, NULL, 0, 0};
    struct kd_err err;

    kd_err_init(&err);
    assert_int_equal(kd_xform_epsg(g, cfg->srid, 4326, cfg->area, &c.xf, &err), KD_OK);
    assert_int_equal(kd_store_parcels_foreach(st, NULL, 1, check_one, &c, &err), KD_OK);
    kd_xform_free(c.xf);
    *prepared = c.prepared;
    *cleared = c.cleared;
}

static int has_answer(struct kd_store *st, const char *number)
{
    struct kd_buf b;
    struct kd_err err;
    int found = 0;

    kd_err_init(&err);
    kd_buf_init(&b);
    assert_int_equal(kd_store_answer_get(st, number, &b, &found, &err), KD_OK);
    kd_buf_fini(&b);
    return found;
}

static void sql(const char *s)
{
    sqlite3 *db;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, s, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", s, msg);
    sqlite3_close(db);
}

static void test_answers_prepared_and_cleared(void **state)
{
    struct fx f;
    struct kd_parcel p;
    struct kd_right r;
    char n2[KD_CADNUM_MAX], n3[KD_CADNUM_MAX], n4[KD_CADNUM_MAX], n1[KD_CADNUM_MAX];
    long prepared, cleared;
    int64_t n, zone = 0;
    int status, usable;

    (void)state;
    snprintf(path, sizeof path, "%s/answers-%d.sqlite", KD_TEST_WORK, (int)getpid());
    fx_number(1, n1);
    fx_number(2, n2);
    fx_number(3, n3);
    fx_number(4, n4);

    /* a first write prepares every live parcel's answer */
    assert_int_equal(fx_open(&f, path), KD_OK);
    assert_int_equal(fx_grid(&f, NX, NY), KD_OK);
    assert_int_equal(fx_specials(&f), KD_OK);
    assert_int_equal(kd_answers_prepare(f.st, f.g, &n, &f.err), KD_OK);
    assert_int_equal(n, N_LIVE);
    check_all(f.st, f.g, &prepared, &cleared);
    assert_int_equal(prepared, N_LIVE);
    assert_int_equal(cleared, 0);
    /* nothing changed: nothing to prepare */
    assert_int_equal(kd_answers_prepare(f.st, f.g, &n, &f.err), KD_OK);
    assert_int_equal(n, 0);

    /* writes through the store clear the answers they change, and no other */
    kd_parcel_init(&p);
    assert_int_equal(kd_store_parcel_get(f.st, n2, NULL, 0, &p, &f.err), KD_OK);
    memset(&r, 0, sizeof r);
    kd_strlcpy(r.number, n2, sizeof r.number);
    kd_strlcpy(r.kind, "lease", sizeof r.kind);
    r.share.num = 1, r.share.den = 1;
    kd_strlcpy(r.valid_from, FX_FROM, sizeof r.valid_from);
    assert_int_equal(kd_store_right_put(f.st, &r, 1, "test", &status, &f.err), KD_OK);
    assert_false(has_answer(f.st, n2));
    assert_true(has_answer(f.st, n1));
    assert_int_equal(kd_store_parcel_get(f.st, n3, NULL, 0, &p, &f.err), KD_OK);
    assert_int_equal(kd_store_overlay_put(f.st, p.id, KD_LAYER_RESTRICTIONS, 1, 12.5, &f.err),
                     KD_OK);
    assert_false(has_answer(f.st, n3));
    assert_int_equal(kd_store_parcel_get(f.st, n4, NULL, 0, &p, &f.err), KD_OK);
    assert_int_equal(kd_store_parcel_retire(f.st, p.id, "2024-01-01T00:00:00Z", &f.err), KD_OK);
    assert_false(has_answer(f.st, n4));
    check_all(f.st, f.g, &prepared, &cleared);
    assert_int_equal(cleared, 2); /* n2 and n3; n4 is no longer live */
    assert_int_equal(prepared, N_LIVE - 3);
    /* the next pass prepares those two again and drops the retired version's */
    assert_int_equal(kd_answers_prepare(f.st, f.g, &n, &f.err), KD_OK);
    assert_int_equal(n, 2);
    check_all(f.st, f.g, &prepared, &cleared);
    assert_int_equal(prepared, N_LIVE - 1);
    assert_int_equal(cleared, 0);
    kd_parcel_fini(&p);
    assert_int_equal(fx_close(&f), KD_OK);
    {
        sqlite3 *db;
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT count(*) FROM parcel_answers a JOIN parcels p "
                                            "ON p.id = a.parcel_id WHERE p.valid_to IS NOT NULL",
                                            -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 0);
        sqlite3_finalize(q);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM zones", -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        zone = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    assert_true(zone > 0);

    /* changes made in SQL by other tools clear answers too: a zone renamed (parcel 1 lies in
     * it), a right ended */
    sql("UPDATE zones SET name = 'Housing' WHERE code = 'R1'");
    {
        struct kd_store *st;
        struct kd_geo *g;
        struct kd_err err;
        kd_err_init(&err);
        assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
        assert_int_equal(kd_geo_new(&g, &err), KD_OK);
        assert_false(has_answer(st, n1));
        assert_true(has_answer(st, n2));
        check_all(st, g, &prepared, &cleared);
        assert_int_equal(cleared, 1);
        kd_store_close(st);
        sql("UPDATE rights SET valid_to = '2025-01-01T00:00:00Z' WHERE kind = 'lease'");
        assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
        assert_false(has_answer(st, n2));
        check_all(st, g, &prepared, &cleared);
        assert_int_equal(cleared, 2);
        assert_int_equal(kd_store_begin(st, &err), KD_OK);
        assert_int_equal(kd_answers_prepare(st, g, &n, &err), KD_OK);
        assert_int_equal(n, 2);
        check_all(st, g, &prepared, &cleared);
        assert_int_equal(cleared, 0);
        assert_int_equal(kd_store_commit(st, &err), KD_OK);
        kd_store_close(st);

        /* answers of another fingerprint (another build or PROJ) are not this build's, and
         * the next pass makes all of them again */
        sql("UPDATE kd_meta SET value = '0000000000000000' WHERE key = 'answers_fingerprint'");
        assert_int_equal(kd_store_open(path, KD_STORE_RW, &st, &err), KD_OK);
        {
            const struct kd_store_config *cfg = kd_store_config(st);
            struct kd_xform *xf;
            assert_int_equal(kd_xform_epsg(g, cfg->srid, 4326, cfg->area, &xf, &err), KD_OK);
            assert_int_equal(kd_answers_usable(st, xf, &usable, &err), KD_OK);
            assert_int_equal(usable, 0);
            assert_int_equal(kd_store_begin(st, &err), KD_OK);
            assert_int_equal(kd_answers_prepare(st, g, &n, &err), KD_OK);
            assert_int_equal(n, N_LIVE - 1);
            assert_int_equal(kd_answers_usable(st, xf, &usable, &err), KD_OK);
            assert_int_equal(usable, 1);
            assert_int_equal(kd_store_commit(st, &err), KD_OK);
            kd_xform_free(xf);
        }
        check_all(st, g, &prepared, &cleared);
        assert_int_equal(prepared, N_LIVE - 1);
        kd_store_close(st);
        kd_geo_free(g);
    }
}

/* The server's preparer works in batches: each step makes at most max answers and says
 * whether more may be left; the batches together make every answer once. */
static void test_answers_in_batches(void **state)
{
    struct fx f;
    struct kd_answers *a;
    int64_t n, total = 0;
    long prepared, cleared;
    int more = 1, steps = 0;

    (void)state;
    snprintf(path, sizeof path, "%s/answers-batches-%d.sqlite", KD_TEST_WORK, (int)getpid());
    assert_int_equal(fx_open(&f, path), KD_OK);
    assert_int_equal(fx_grid(&f, NX, NY), KD_OK);
    assert_int_equal(fx_specials(&f), KD_OK);
    assert_int_equal(kd_answers_open(f.st, f.g, &a, &f.err), KD_OK);
    while (more) {
        assert_int_equal(kd_answers_step(a, 10, &n, &more, &f.err), KD_OK);
        assert_true(n <= 10);
        assert_int_equal(kd_answers_renewed(a), steps == 0); /* the first writes the fingerprint */
        total += n;
        steps++;
        assert_true(steps <= N_LIVE);
    }
    assert_int_equal(total, N_LIVE);
    assert_int_equal(steps, (N_LIVE + 9) / 10);
    check_all(f.st, f.g, &prepared, &cleared);
    assert_int_equal(prepared, N_LIVE);
    assert_int_equal(kd_answers_step(a, 10, &n, &more, &f.err), KD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(more, 0);
    kd_answers_close(a);
    assert_int_equal(fx_close(&f), KD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_prepared_and_cleared),
        cmocka_unit_test(test_answers_in_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
