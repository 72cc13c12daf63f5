/* SPDX-License-Identifier: Apache-2.0 */
/* The answer preparer: one background thread of the server that keeps the parcels' prepared
 * answers (src/cadastre/answers.c) up to date, so that /api/v1/parcels/{number} reads one
 * row. Writers (load, sample) only clear answers, through the schema's triggers, in their own
 * transactions: 1,000,000 answers take 7.5 s here and 650 MB, which a load should not pay
 * before it commits. The preparer notices a commit by another connection (PRAGMA
 * data_version, polled four times a second), then makes the missing answers in transactions
 * of BATCH parcels, each read and written inside one write transaction (so no answer is kept
 * that a concurrent write made stale). A writer waits at most one batch for the lock; the
 * preparer waits 250 ms for it, and while a load holds it tries again every second (said once
 * in the log). Until an answer is made the route makes it from the register: the same
 * bytes, slower. A database the server cannot write is served all the same, and the log says
 * why once. */
#include "server_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 500
#define POLL_MS 250

/* Waits up to ms for a stop or a wake-up. Returns 1 when stopping. */
static int nap(struct kd_server *srv, long ms)
{
    struct timespec until;
    int stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->prep.mu);
    if (!srv->prep.stop && !srv->prep.woken)
        pthread_cond_timedwait(&srv->prep.cv, &srv->prep.mu, &until);
    srv->prep.woken = 0;
    stop = srv->prep.stop;
    pthread_mutex_unlock(&srv->prep.mu);
    return stop;
}

static int stopping(struct kd_server *srv)
{
    int stop;

    pthread_mutex_lock(&srv->prep.mu);
    stop = srv->prep.stop;
    pthread_mutex_unlock(&srv->prep.mu);
    return stop;
}

struct prep {
    struct kd_store *st;
    struct kd_answers *a;
    unsigned generation;
};

static void prep_close(struct prep *p)
{
    kd_answers_close(p->a);
    kd_store_close(p->st);
    p->a = NULL;
    p->st = NULL;
}

/* Makes every missing answer, a batch per transaction. Returns 0 when all are made, 1 when
 * stopped (the server stops, or the file changed), -1 on error (the database stayed locked
 * past the busy timeout, or cannot be written; err says which). */
static int pass(struct kd_server *srv, struct prep *p, struct kd_err *err)
{
    struct timespec t0, t1;
    int64_t n, total = 0;
    int more = 1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (more) {
        if (stopping(srv) || atomic_load(&srv->generation) != p->generation)
            return 1;
        if (kd_store_begin(p->st, err)) /* locked past 250 ms (a load), or read-only */
            return -1;
        if (kd_answers_step(p->a, BATCH, &n, &more, err) || kd_store_commit(p->st, err)) {
            kd_store_rollback(p->st);
            return -1;
        }
        total += n;
        atomic_fetch_add(&srv->prep.made, (unsigned long)n);
        if (kd_answers_renewed(p->a)) {
            /* a new fingerprint: the workers look at it again at their next request */
            pthread_mutex_lock(&srv->shapes_mu);
            p->generation = atomic_fetch_add(&srv->generation, 1) + 1;
            pthread_mutex_unlock(&srv->shapes_mu);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (total >= 1000)
        fprintf(srv->log, "kadastr serve: prepared %lld parcel answers in %.1f s\n",
                (long long)total,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

static void *preparer(void *arg)
{
    struct kd_server *srv = arg;
    struct prep p = {NULL, NULL, 0};
    struct kd_geo *g = NULL;
    struct kd_err err;
    int64_t seen = -1, v;
    int warned = 0, failing = 0, r;

    kd_err_init(&err);
    if (kd_geo_new(&g, &err)) {
        fprintf(srv->log, "kadastr serve: no answer preparer (%s: %s)\n", err.key, err.msg);
        return NULL;
    }
    while (!stopping(srv)) {
        unsigned gen = atomic_load(&srv->generation);
        if (!p.st || p.generation != gen) {
            prep_close(&p);
            kd_err_init(&err);
            /* read-only first: a database of an older schema is refused, not migrated (the
             * server does not upgrade a file behind its operator's back) */
            if (kd_store_open(srv->db_path, KD_STORE_RO, &p.st, &err) == KD_OK) {
                kd_store_close(p.st);
                p.st = NULL;
            }
            if (err.code || kd_store_open(srv->db_path, KD_STORE_RW, &p.st, &err) ||
                kd_store_background(p.st, &err) || kd_answers_open(p.st, g, &p.a, &err)) {
                if (!warned)
                    fprintf(srv->log,
                            "kadastr serve: cannot prepare parcel answers (%s: %s%s%s): "
                            "/api/v1/parcels/{number} answers from the register\n",
                            err.key, err.where, err.where[0] ? ": " : "", err.msg);
                warned = 1;
                prep_close(&p);
                /* a SIGHUP may bring a file that can be written */
                while (!nap(srv, POLL_MS * 4) && atomic_load(&srv->generation) == gen)
                    ;
                continue;
            }
            p.generation = gen;
            seen = -1;
        }
        kd_err_init(&err);
        if (kd_store_data_version(p.st, &v, &err)) {
            prep_close(&p);
            nap(srv, POLL_MS);
            continue;
        }
        if (v == seen) {
            atomic_store(&srv->prep.idle, 1);
            nap(srv, POLL_MS);
            continue;
        }
        atomic_store(&srv->prep.idle, 0);
        r = pass(srv, &p, &err);
        if (r == 0) {
            seen = v;
            failing = 0;
        } else if (r < 0) {
            /* said once until a pass succeeds: a long load holds the lock for minutes */
            if (!failing)
                fprintf(srv->log,
                        "kadastr serve: preparing parcel answers failed (%s: %s%s%s); "
                        "trying again every second\n",
                        err.key, err.where, err.where[0] ? ": " : "", err.msg);
            failing = 1;
            prep_close(&p);
            nap(srv, POLL_MS * 4);
        } else {
            nap(srv, POLL_MS);
        }
    }
    prep_close(&p);
    kd_geo_free(g);
    return NULL;
}

enum kd_code kd_preparer_start(struct kd_server *srv, struct kd_err *err)
{
    int e;

    pthread_mutex_init(&srv->prep.mu, NULL);
    pthread_cond_init(&srv->prep.cv, NULL);
    srv->prep.inited = 1;
    e = pthread_create(&srv->prep.thread, NULL, preparer, srv);
    if (e != 0) {
        char why[128] = "unknown error";
        if (strerror_r(e, why, sizeof why) != 0)
            kd_strlcpy(why, "unknown error", sizeof why);
        return kd_err_set(err, KD_ENOMEM, "serve.thread", "cannot start the answer preparer: %s",
                          why);
    }
    srv->prep.started = 1;
    return KD_OK;
}

void kd_preparer_wake(struct kd_server *srv)
{
    if (!srv->prep.inited)
        return;
    pthread_mutex_lock(&srv->prep.mu);
    srv->prep.woken = 1;
    pthread_cond_broadcast(&srv->prep.cv);
    pthread_mutex_unlock(&srv->prep.mu);
}

void kd_preparer_request_stop(struct kd_server *srv)
{
    if (!srv->prep.inited)
        return;
    pthread_mutex_lock(&srv->prep.mu);
    srv->prep.stop = 1;
    pthread_cond_broadcast(&srv->prep.cv);
    pthread_mutex_unlock(&srv->prep.mu);
}

void kd_preparer_stop(struct kd_server *srv)
{
    if (!srv->prep.inited)
        return;
    kd_preparer_request_stop(srv);
    if (srv->prep.started)
        pthread_join(srv->prep.thread, NULL);
    pthread_cond_destroy(&srv->prep.cv);
    pthread_mutex_destroy(&srv->prep.mu);
    srv->prep.inited = srv->prep.started = 0;
}
