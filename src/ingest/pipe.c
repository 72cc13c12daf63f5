/* SPDX-License-Identifier: Apache-2.0 */
/* A two-thread pipeline: the producer (GDAL reading, PROJ, GEOS) pushes jobs, one consumer
 * thread runs them in order (SQLite writes, the rejects file). A bounded ring of jobs keeps
 * memory flat; the first error on either side stops both. The consumer owns the store
 * connection while the pipe runs: nothing else may touch it until kd_pipe_finish. */
#include "ingest_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct kd_pipe {
    pthread_t thread;
    int joined;
    pthread_mutex_t mu;
    pthread_cond_t can_push, can_pop;
    void **ring;
    size_t cap, head, n;
    int closing;  /* the producer has no more jobs */
    int aborting; /* stop now, discard what is queued */
    int failed;   /* the consumer met an error (in err) */
    struct kd_err err;
    kd_pipe_run_fn run;
    kd_pipe_free_fn free_job;
    void *ud;
};

static void *consumer(void *arg)
{
    struct kd_pipe *p = arg;

    for (;;) {
        void *job;
        enum kd_code rc;
        pthread_mutex_lock(&p->mu);
        while (p->n == 0 && !p->closing && !p->aborting)
            pthread_cond_wait(&p->can_pop, &p->mu);
        if (p->aborting || (p->n == 0 && p->closing)) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        job = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->n--;
        pthread_cond_signal(&p->can_push);
        pthread_mutex_unlock(&p->mu);
        rc = p->run(p->ud, job, &p->err);
        p->free_job(job);
        if (rc) {
            pthread_mutex_lock(&p->mu);
            p->failed = 1;
            p->aborting = 1;
            pthread_cond_broadcast(&p->can_push);
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
    }
}

enum kd_code kd_pipe_start(struct kd_pipe **out, size_t capacity, kd_pipe_run_fn run,
                           kd_pipe_free_fn free_job, void *ud, struct kd_err *err)
{
    struct kd_pipe *p = calloc(1, sizeof *p);

    if (p)
        p->ring = calloc(capacity, sizeof *p->ring);
    if (!p || !p->ring) {
        if (p)
            free(p->ring);
        free(p);
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    p->cap = capacity;
    p->run = run;
    p->free_job = free_job;
    p->ud = ud;
    kd_err_init(&p->err);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->can_push, NULL);
    pthread_cond_init(&p->can_pop, NULL);
    if (pthread_create(&p->thread, NULL, consumer, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->can_push);
        pthread_cond_destroy(&p->can_pop);
        free(p->ring);
        free(p);
        return kd_err_set(err, KD_ENOMEM, "load.thread", "cannot start the writer thread");
    }
    *out = p;
    return KD_OK;
}

/* Copies the consumer's error into err (first error wins there too). */
static enum kd_code consumer_error(struct kd_pipe *p, struct kd_err *err)
{
    if (err->code == KD_OK) {
        kd_err_set(err, p->err.code, p->err.key, "%s", p->err.msg);
        kd_strlcpy(err->where, p->err.where, sizeof err->where);
        kd_strlcpy(err->hint, p->err.hint, sizeof err->hint);
    }
    return err->code;
}

enum kd_code kd_pipe_push(struct kd_pipe *p, void *job, struct kd_err *err)
{
    pthread_mutex_lock(&p->mu);
    while (p->n == p->cap && !p->aborting)
        pthread_cond_wait(&p->can_push, &p->mu);
    if (p->aborting) {
        pthread_mutex_unlock(&p->mu);
        p->free_job(job);
        /* the consumer has stopped: wait for it, then report its error */
        if (!p->joined)
            pthread_join(p->thread, NULL);
        p->joined = 1;
        return consumer_error(p, err);
    }
    p->ring[(p->head + p->n) % p->cap] = job;
    p->n++;
    pthread_cond_signal(&p->can_pop);
    pthread_mutex_unlock(&p->mu);
    return KD_OK;
}

static void destroy(struct kd_pipe *p)
{
    while (p->n) {
        p->free_job(p->ring[p->head]);
        p->head = (p->head + 1) % p->cap;
        p->n--;
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->can_push);
    pthread_cond_destroy(&p->can_pop);
    free(p->ring);
    free(p);
}

enum kd_code kd_pipe_finish(struct kd_pipe *p, int abort, struct kd_err *err)
{
    enum kd_code rc = KD_OK;

    if (!p)
        return err->code;
    pthread_mutex_lock(&p->mu);
    if (abort)
        p->aborting = 1;
    else
        p->closing = 1;
    pthread_cond_broadcast(&p->can_pop);
    pthread_cond_broadcast(&p->can_push);
    pthread_mutex_unlock(&p->mu);
    if (!p->joined)
        pthread_join(p->thread, NULL);
    p->joined = 1;
    if (p->failed)
        rc = consumer_error(p, err);
    destroy(p);
    return rc ? rc : (abort ? err->code : KD_OK);
}
