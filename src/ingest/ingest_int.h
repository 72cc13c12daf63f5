/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of ingest shared by its files: kadastr's field names, the mapping of source
 * fields onto them, and the source opener (archives, open options). */
#ifndef KADASTR_INGEST_INT_H
#define KADASTR_INGEST_INT_H

#include "kadastr/ingest.h"

#include <gdal.h>
#include <json-c/json.h>
#include <ogr_api.h>

/* kadastr's own field names: a source field with one of these names is used as it is. */
enum kd_field {
    F_CADASTRAL_NUMBER = 0,
    F_DECLARED_AREA,
    F_LAND_CATEGORY,
    F_LAND_USE,
    F_ADDRESS,
    F_ZONE_CODE,
    F_ZONE_KIND,
    F_ZONE_NAME,
    F_PERMITTED_USES,
    F_RESTRICTION_CODE,
    F_RESTRICTION_KIND,
    F_RESTRICTION_NAME,
    F_ADMIN_CODE,
    F_ADMIN_LEVEL,
    F_ADMIN_NAME,
    F_PARENT_CODE,
    F_PARTY_ID,
    F_PARTY_KIND,
    F_NAME,
    F_RIGHT_KIND,
    F_SHARE,
    F_DOCUMENT,
    F_DOCUMENT_DATE,
    F_REGISTERED_ON,
    F_COUNT
};
const char *kd_field_name(enum kd_field f);

struct field_spec {
    char *source;     /* source field name, or NULL */
    char *constant;   /* a constant value, or NULL */
    char *fallback;   /* used when the source value is null or empty, or NULL */
    json_object *map; /* source value -> kadastr value, or NULL (borrowed from the doc) */
};

struct kd_mapping {
    json_object *doc; /* owns every string below */
    char *layer;      /* default source layer, or NULL */
    struct field_spec f[F_COUNT];
    enum kd_dup_policy duplicates;
};

/* Reads a mapping file (docs/mappings.md). OUT m (kd_mapping_fini). */
enum kd_code kd_mapping_read(const char *path, struct kd_mapping *m, struct kd_err *err);
/* The identity mapping: every kadastr field read from the source field of the same name. */
void kd_mapping_identity(struct kd_mapping *m);
void kd_mapping_fini(struct kd_mapping *m);

/* A field of one layer resolved against a source layer's definition. */
struct field_bind {
    int idx; /* source field index, -1 when absent */
    int alt; /* cadastral_number without a mapping: the "id" field, read when
                idx gives nothing (-1 when absent) */
    const struct field_spec *spec;
    char val[1024]; /* the last value read (GDAL's own string is overwritten by the
                       next numeric field read of the feature) */
};
/* Resolves the mapping for the fields of a layer. Errors: "mapping.field_missing" when a
 * mapped source field does not exist (with the fields that do). */
enum kd_code kd_mapping_bind(const struct kd_mapping *m, OGRFeatureDefnH defn,
                             struct field_bind bind[F_COUNT], struct kd_err *err);
/* The value of field f for a feature after mapping ("" when absent), copied into
 * bind[f].val: valid until the next call for the same field. OUT is_date: the source field
 * is a date/time type (a cut number, GDAL issue 6351). */
const char *kd_mapping_value(struct field_bind bind[F_COUNT], enum kd_field f, OGRFeatureH feat,
                             int *is_date_typed);

/* Is the value of one of the fields fs[0..n) longer than the register keeps? OUT which,
 * len: the first such field and its length in bytes. */
int kd_mapping_too_long(struct field_bind bind[F_COUNT], OGRFeatureH feat, const enum kd_field *fs,
                        size_t n, enum kd_field *which, size_t *len);
size_t kd_field_max(enum kd_field f);

/* pipe.c: jobs run in order on one consumer thread (see the file's header). run returns an
 * error (in err) to stop the pipe; free_job is called for every job, run or not. */
typedef enum kd_code (*kd_pipe_run_fn)(void *ud, void *job, struct kd_err *err);
typedef void (*kd_pipe_free_fn)(void *job);
struct kd_pipe;
enum kd_code kd_pipe_start(struct kd_pipe **p, size_t capacity, kd_pipe_run_fn run,
                           kd_pipe_free_fn free_job, void *ud, struct kd_err *err);
/* Queues a job (the pipe owns it from now). An error: the consumer's, the job freed. */
enum kd_code kd_pipe_push(struct kd_pipe *p, void *job, struct kd_err *err);
/* Waits until every job has run (abort: discards the rest), joins and frees the pipe.
 * Returns the consumer's error, if any; accepts NULL. */
enum kd_code kd_pipe_finish(struct kd_pipe *p, int abort, struct kd_err *err);

/* A source on the command line, opened: the dataset and the path GDAL opened, plus the
 * temporary directory of an extracted archive (removed by kd_source_close). */
struct kd_source {
    GDALDatasetH ds;
    char path[1024];
    char tmpdir[1024];
};
/* Opens the vector datasets of a source path: a file, a directory of files, or an archive
 * (.zip, .tar, .tar.gz/.tgz read through GDAL's /vsi, .tar.bz2 extracted to a temporary
 * directory). OUT srcs (kd_sources_close), n. Errors: KD_EIO "load.missing",
 * KD_EIO "load.open". */
enum kd_code kd_sources_open(const char *arg, const char *scratch_dir, struct kd_source **srcs,
                             int *n, struct kd_err *err);
void kd_sources_close(struct kd_source *srcs, int n);

#endif
