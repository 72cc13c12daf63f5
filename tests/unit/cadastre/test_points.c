/* SPDX-License-Identifier: Apache-2.0 */
/* A batch of points (points.c) against a 4 x 4 fixture grid: the exact CSV and JSON answers
 * to a header, good, malformed, empty, \r\n-ended and unterminated lines, a point on a shared
 * edge, a point with no image in the office CRS, a line longer than the read buffer; the
 * sink's blocks and flushes; a sink that refuses; inputs that cannot be opened; and the
 * parser of x,y. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kadastr/cadastre.h"

#include "fixture.h"

#include <sys/stat.h>

#define DB KD_TEST_WORK "/cadastre_points.sqlite"
#define INPUT KD_TEST_WORK "/cadastre_points.txt"
#define P1 "10:26:01:02:03:0001" /* grid parcel (0, 0): [523000, 523020] x [4573000, 4573020] */
#define P2 "10:26:01:02:03:0002" /* grid parcel (1, 0), east of it */

struct world {
    struct kd_store *st;
    struct kd_geo *g;
    struct kd_parcel_index *idx;
    struct kd_err err;
};

/* What the sink was given. */
struct sink {
    struct kd_buf all;
    int n_calls, n_flushes, last_flush;
    int refuse, n_refused; /* refuse: refuse every block with data in it */
};

static int sink_write(void *ud, const char *data, size_t len, int flush)
{
    struct sink *s = ud;

    s->n_calls++;
    s->n_flushes += flush != 0;
    s->last_flush = flush;
    if (s->refuse && len) {
        s->n_refused++;
        return -1;
    }
    kd_buf_add(&s->all, data, len);
    return 0;
}

static int setup(void **state)
{
    static struct world w;
    struct kd_err err;

    kd_err_init(&err);
    memset(&w, 0, sizeof w);
    kd_err_init(&w.err);
    if (fx_write(DB, 4, 4, &err) || kd_store_open(DB, KD_STORE_RO, &w.st, &err) ||
        kd_geo_new(&w.g, &err) || kd_parcel_index_build(w.st, w.g, NULL, &w.idx, &err)) {
        fprintf(stderr, "setup: %s: %s\n", err.key, err.msg);
        return -1;
    }
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;

    kd_parcel_index_free(w->idx);
    kd_geo_free(w->g);
    kd_store_close(w->st);
    unlink(INPUT);
    return 0;
}

static void write_input(const char *data, size_t len)
{
    FILE *f = fopen(INPUT, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Writes n lines of one point inside P1 to INPUT. */
static void write_repeated_point(int n)
{
    struct kd_buf in;
    int i;

    kd_buf_init(&in);
    for (i = 0; i < n; i++)
        kd_buf_adds(&in, "523010,4573010\n");
    assert_false(in.failed);
    write_input(in.data, in.len);
    kd_buf_fini(&in);
}

/* Runs the batch over INPUT; the answers in s->all (kd_buf_fini it). */
static enum kd_code run(struct world *w, int json, struct kd_xform *to_office, struct sink *s,
                        struct kd_points_stats *ps)
{
    struct kd_points *pts = NULL;
    struct kd_points_opts o;
    enum kd_code rc;

    kd_err_init(&w->err);
    kd_buf_init(&s->all);
    memset(&o, 0, sizeof o);
    o.json = json;
    o.to_office = to_office;
    o.write = sink_write;
    o.write_ud = s;
    assert_int_equal(kd_points_open(INPUT, &pts, &w->err), KD_OK);
    rc = kd_points_run(pts, w->idx, &o, ps, &w->err);
    kd_points_close(pts);
    return rc;
}

static const char MIXED[] = "x,y\n523010,4573010\nbad\n\n0,0\r\n523020, 4573010";

static void test_points_run_answers_csv(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;

    write_input(MIXED, sizeof MIXED - 1);
    assert_int_equal(run(w, 0, NULL, &s, &ps), KD_OK);
    assert_string_equal(s.all.data, "x,y,cadastral_number\n"
                                    "523010,4573010," P1 "\n"
                                    "bad,,,\"not x,y\"\n"
                                    ",,,empty line\n"
                                    "0,0,\n"
                                    "523020, 4573010," P1 ";" P2 "\n");
    assert_int_equal(ps.n_lines, 6);
    assert_int_equal(ps.n_bad, 2);
    assert_true(ps.seconds >= 0);
    assert_int_equal(s.last_flush, 1); /* the end reaches the reader */
    kd_buf_fini(&s.all);
}

static void test_points_run_answers_json_lines(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;
    static const char in[] = "lon,lat\n+523010,4573010.\n1,2,3\n523020,4573010\n";

    write_input(in, sizeof in - 1);
    assert_int_equal(run(w, 1, NULL, &s, &ps), KD_OK);
    assert_string_equal(
        s.all.data,
        "{\"header\":\"lon,lat\"}\n"
        "{\"x\":523010,\"y\":4573010,\"parcels\":[\"" P1 "\"],\"on_boundary\":false}\n"
        "{\"x\":null,\"y\":null,\"input\":\"1,2,3\",\"error\":\"not x,y\"}\n"
        "{\"x\":523020,\"y\":4573010,\"parcels\":[\"" P1 "\",\"" P2 "\"],\"on_boundary\":true}\n");
    assert_int_equal(ps.n_lines, 4);
    assert_int_equal(ps.n_bad, 1);
    kd_buf_fini(&s.all);
}

static void test_points_run_answers_untransformable_point(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;
    struct kd_xform *xf = NULL;
    const struct kd_store_config *cfg = kd_store_config(w->st);
    static const char in[] = "500,500\n";

    assert_int_equal(kd_xform_epsg(w->g, 4326, cfg->srid, cfg->area, &xf, &w->err), KD_OK);
    write_input(in, sizeof in - 1);
    assert_int_equal(run(w, 0, xf, &s, &ps), KD_OK);
    assert_string_equal(s.all.data, "500,500,,cannot transform to the office CRS\n");
    assert_int_equal(ps.n_bad, 1);
    kd_buf_fini(&s.all);
    kd_xform_free(xf);
}

static void test_points_run_answers_too_long_line_once(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;
    size_t n = (1u << 20) + 100000;
    char *in = malloc(n + 32);

    assert_non_null(in);
    memset(in, '1', n);
    memcpy(in + n, "\n523010,4573010\n", 16);
    write_input(in, n + 16);
    free(in);
    assert_int_equal(run(w, 0, NULL, &s, &ps), KD_OK);
    assert_string_equal(s.all.data, ",,,line too long\n523010,4573010," P1 "\n");
    assert_int_equal(ps.n_lines, 2);
    assert_int_equal(ps.n_bad, 1);
    kd_buf_fini(&s.all);
}

static void test_points_run_hands_out_blocks(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;

    write_repeated_point(5000);
    assert_int_equal(run(w, 0, NULL, &s, &ps), KD_OK);
    assert_int_equal(ps.n_lines, 5000);
    assert_int_equal(s.all.len, 5000 * strlen("523010,4573010," P1 "\n"));
    assert_true(s.n_calls > 2); /* 170 KB of answers: in blocks, not one */
    assert_int_equal(s.last_flush, 1);
    kd_buf_fini(&s.all);
}

static void test_points_run_stops_when_sink_refuses(void **state)
{
    struct world *w = *state;
    struct sink s = {0};
    struct kd_points_stats ps;

    write_repeated_point(5000);
    s.refuse = 1;
    assert_int_equal(run(w, 0, NULL, &s, &ps), KD_EIO);
    assert_string_equal(w->err.key, "lookup.points_write");
    assert_int_equal(strncmp(w->err.where, INPUT ": line ", strlen(INPUT ": line ")), 0);
    assert_int_equal(s.n_refused, 1); /* nothing more is handed to a sink that refused */
    assert_int_equal(s.all.len, 0);
    kd_buf_fini(&s.all);
}

static void test_points_open_rejects_missing_file(void **state)
{
    struct world *w = *state;
    struct kd_points *pts = NULL;

    kd_err_init(&w->err);
    assert_int_equal(kd_points_open(KD_TEST_WORK "/no-such-points.txt", &pts, &w->err), KD_EIO);
    assert_null(pts);
    assert_string_equal(w->err.key, "lookup.points_open");
    assert_string_equal(w->err.where, KD_TEST_WORK "/no-such-points.txt");
    assert_string_equal(w->err.msg, "cannot open it: No such file or directory");
    assert_string_equal(w->err.hint, "give a file of x,y lines, or - for standard input");
}

static void test_points_open_rejects_directory(void **state)
{
    struct world *w = *state;
    struct kd_points *pts = NULL;

    kd_err_init(&w->err);
    assert_int_equal(kd_points_open(KD_TEST_WORK, &pts, &w->err), KD_EIO);
    assert_null(pts);
    assert_string_equal(w->err.key, "lookup.points_open");
    assert_string_equal(w->err.where, KD_TEST_WORK);
    assert_string_equal(w->err.msg, "is a directory, not a file of lines");
}

static void test_points_parse_numbers_cases(void **state)
{
    double v[4];

    (void)state;
    assert_int_equal(kd_points_parse_numbers("1.5,-2", v, 2), 0);
    assert_true(v[0] == 1.5 && v[1] == -2);
    assert_int_equal(kd_points_parse_numbers(" 1 ,\t2 ", v, 2), 0);
    assert_int_equal(kd_points_parse_numbers("1,2,3,4", v, 4), 0);
    assert_true(v[3] == 4);
    assert_int_equal(kd_points_parse_numbers("1,2,3", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("1", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("1,", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("nan,1", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("1e999,1", v, 2), -1);
    assert_int_equal(kd_points_parse_numbers("1;2", v, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_run_answers_csv),
        cmocka_unit_test(test_points_run_answers_json_lines),
        cmocka_unit_test(test_points_run_answers_untransformable_point),
        cmocka_unit_test(test_points_run_answers_too_long_line_once),
        cmocka_unit_test(test_points_run_hands_out_blocks),
        cmocka_unit_test(test_points_run_stops_when_sink_refuses),
        cmocka_unit_test(test_points_open_rejects_missing_file),
        cmocka_unit_test(test_points_open_rejects_directory),
        cmocka_unit_test(test_points_parse_numbers_cases),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
