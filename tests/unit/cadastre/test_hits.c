/* SPDX-License-Identifier: Apache-2.0 */
/* The list of hits (hits.c): growth, number order whatever the insertion order, and the
 * records it keeps when asked, freed on reset and fini (AddressSanitizer sees leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../src/cadastre/cadastre_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_hits_push_grows_and_sorts_by_number_then_id(void **state)
{
    struct kd_hits h;
    int i;

    (void)state;
    kd_hits_init(&h);
    for (i = 0; i < 100; i++) { /* past the insertion sort's 16 */
        struct kd_parcel_hit *x = kd_hits_push(&h);
        assert_non_null(x);
        assert_null(x->parcel);
        x->id = 1000 - i;
        snprintf(x->number, sizeof x->number, "10:26:01:02:03:%04d", (i * 37) % 50);
    }
    assert_int_equal(h.n, 100);
    kd_hits_sort(&h);
    for (i = 1; i < 100; i++) {
        int c = strcmp(h.v[i - 1].number, h.v[i].number);
        assert_true(c < 0 || (c == 0 && h.v[i - 1].id < h.v[i].id));
    }
    kd_hits_reset(&h);
    assert_int_equal(h.n, 0);
    assert_true(h.cap >= 100); /* kept for the next query */
    kd_hits_fini(&h);
    assert_null(h.v);
}

static void test_hits_keep_record_copies_as_asked(void **state)
{
    unsigned char wkb[] = {1, 2, 3, 4};
    struct kd_parcel p;
    struct kd_parcel_hit *x;
    struct kd_hits h;

    (void)state;
    kd_parcel_init(&p);
    kd_strlcpy(p.number, "10:26:01:02:03:0001", sizeof p.number);
    kd_strlcpy(p.land_use, "residential", sizeof p.land_use);
    p.wkb = wkb;
    p.wkb_len = sizeof wkb;
    kd_hits_init(&h);

    /* not asked: nothing kept */
    x = kd_hits_push(&h);
    assert_int_equal(kd_hits_keep_record(&h, x, &p), 0);
    assert_null(x->parcel);

    /* the record without geometry */
    h.keep = KD_HITS_KEEP_RECORD;
    x = kd_hits_push(&h);
    assert_int_equal(kd_hits_keep_record(&h, x, &p), 0);
    assert_non_null(x->parcel);
    assert_string_equal(x->parcel->land_use, "residential");
    assert_null(x->parcel->wkb);

    /* with a copy of the geometry, not the borrowed buffer */
    h.keep = KD_HITS_KEEP_GEOM;
    x = kd_hits_push(&h);
    assert_int_equal(kd_hits_keep_record(&h, x, &p), 0);
    assert_non_null(x->parcel->wkb);
    assert_ptr_not_equal(x->parcel->wkb, wkb);
    assert_int_equal(x->parcel->wkb_len, sizeof wkb);
    assert_memory_equal(x->parcel->wkb, wkb, sizeof wkb);

    /* records move with their hits when sorted, and are freed on reset */
    snprintf(h.v[0].number, sizeof h.v[0].number, "z");
    kd_hits_sort(&h);
    assert_string_equal(h.v[2].number, "z");
    assert_null(h.v[2].parcel);
    kd_hits_reset(&h);
    assert_int_equal(h.n, 0);
    assert_int_equal(h.keep, KD_HITS_KEEP_GEOM); /* the mode stays */
    x = kd_hits_push(&h);
    assert_int_equal(kd_hits_keep_record(&h, x, &p), 0);
    kd_hits_fini(&h); /* frees the kept record */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hits_push_grows_and_sorts_by_number_then_id),
        cmocka_unit_test(test_hits_keep_record_copies_as_asked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
