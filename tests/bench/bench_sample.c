/* SPDX-License-Identifier: Apache-2.0 */
/* bench_sample: times kd_sample_generate into a sink that only counts (and sums the bytes it
 * was given, so nothing is optimised away). Not run by CI. Build by hand against the library:
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude tests/bench/bench_sample.c \
 *      build/libkadastr.a -lm -o build/bench_sample && build/bench_sample 1000000 [seed] */
#include "kadastr/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct count {
    unsigned long long bytes;
};

static enum kd_code on_admin(void *ud, const struct kd_sample_admin_unit *a, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += a->wkb_len;
    return KD_OK;
}

static enum kd_code on_area(void *ud, const struct kd_sample_area *z, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += z->wkb_len;
    return KD_OK;
}

static enum kd_code on_party(void *ud, const struct kd_sample_party *p, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += (unsigned char)p->name[0];
    return KD_OK;
}

static enum kd_code on_parcel(void *ud, const struct kd_sample_parcel *p, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += p->wkb_len;
    return KD_OK;
}

static enum kd_code on_right(void *ud, const struct kd_sample_right *r, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += (unsigned char)r->share[0];
    return KD_OK;
}

static enum kd_code on_app(void *ud, const struct kd_sample_application *a, struct kd_err *err)
{
    (void)err;
    ((struct count *)ud)->bytes += (unsigned char)a->number[0];
    return KD_OK;
}

int main(int argc, char **argv)
{
    struct kd_sample_opts opts = {argc > 1 ? strtol(argv[1], NULL, 10) : 1000000,
                                  argc > 2 ? strtoull(argv[2], NULL, 10) : 42};
    struct count c = {0};
    struct kd_sample_sink sink = {&c,       on_admin,  on_area,  on_area,
                                  on_party, on_parcel, on_right, on_app};
    struct kd_sample_stats st;
    struct kd_err err;
    struct timespec t0, t1;
    enum kd_code rc;

    kd_err_init(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = kd_sample_generate(&opts, &sink, &st, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != KD_OK) {
        fprintf(stderr, "bench_sample: %s: %s (%s)\n", err.where, err.msg, err.key);
        return 1;
    }
    printf("n=%ld seed=%llu: %.3f s; admin %ld zones %ld restrictions %ld parties %ld "
           "parcels %ld live + %ld historic, rights %ld, applications %ld, %llu WKB bytes\n",
           opts.n_parcels, (unsigned long long)opts.seed,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           st.n_admin_units, st.n_zones, st.n_restrictions, st.n_parties, st.n_parcels_live,
           st.n_parcels_historic, st.n_rights, st.n_applications, c.bytes);
    return 0;
}
