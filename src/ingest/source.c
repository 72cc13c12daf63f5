/* SPDX-License-Identifier: Apache-2.0 */
/* Opening what the user names: a file, a directory, or an archive. GDAL reads .zip and
 * .tar(.gz) through /vsizip/ and /vsitar/, but not .tar.bz2: those are extracted with tar
 * into a temporary directory that kd_sources_close removes. Open options are chosen per
 * driver so that no reader guesses a cadastral number to be a time (DOMAIN.md). */
#define _LARGEFILE64_SOURCE 1 /* VSIStatBufL is a struct stat64 */
#include "ingest_int.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Files GDAL opens as the entry point of a dataset (EDIGEO's is .THF; its other files are
 * parts of it). */
static int is_entry_file(const char *name)
{
    static const char *const ext[] = {".thf", ".shp", ".gpkg", ".geojson",  ".json",     ".gml",
                                      ".kml", ".dxf", ".csv",  ".fgb",      ".topojson", ".sqlite",
                                      ".gdb", ".tab", ".mif",  ".geojsonl", ".geojsons", ".xml"};
    size_t i;

    for (i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ends_with(name, ext[i]))
            return 1;
    return 0;
}

static GDALDatasetH open_vector(const char *path, char *msg, size_t msg_size)
{
    GDALDriverH drv = GDALIdentifyDriverEx(path, GDAL_OF_VECTOR, NULL, NULL);
    const char *name = drv ? GDALGetDriverShortName(drv) : "";
    char **oo = NULL;
    GDALDatasetH ds;

    if (strcmp(name, "GeoJSON") == 0)
        oo = CSLAddString(oo, "DATE_AS_STRING=YES"); /* "10:26:01:02:03:0045" stays text */
    else if (strcmp(name, "GML") == 0)
        oo = CSLAddString(oo, "WRITE_GFS=NO"); /* inputs may be read-only */
    else if (strcmp(name, "CSV") == 0) {
        /* keep every column a string (no AUTODETECT_TYPE); geometry from WKT or X/Y */
        oo = CSLAddString(oo, "GEOM_POSSIBLE_NAMES=WKT,wkt,geometry,geom,the_geom");
        oo = CSLAddString(oo, "X_POSSIBLE_NAMES=x,X,lon,longitude,easting,Easting");
        oo = CSLAddString(oo, "Y_POSSIBLE_NAMES=y,Y,lat,latitude,northing,Northing");
        oo = CSLAddString(oo, "KEEP_GEOM_COLUMNS=NO");
    }
    CPLErrorReset();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, (const char *const *)oo, NULL);
    CPLPopErrorHandler();
    if (!ds)
        kd_strlcpy(msg,
                   CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg()
                                           : "GDAL recognizes no vector format in it",
                   msg_size);
    CSLDestroy(oo);
    return ds;
}

static int extract_tar(const char *archive, const char *dir)
{
    char *argv[] = {"tar", "-xjf", (char *)archive, "-C", (char *)dir, NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = -1, rc;

    posix_spawn_file_actions_init(&fa);
    /* GNU tar says "A lone zero block" about some sheets and still succeeds */
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, "tar", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void remove_tree(const char *dir)
{
    char **list;
    int i;

    if (!dir[0])
        return;
    list = VSIReadDirRecursive(dir);
    /* deepest first: the list has directories before their contents */
    for (i = CSLCount(list) - 1; i >= 0; i--) {
        char path[2048];
        VSIStatBufL sb;
        if (kd_snprintf(path, sizeof path, "%s/%s", dir, list[i]) < 0)
            continue;
        if (VSIStatL(path, &sb) == 0 && VSI_ISDIR(sb.st_mode))
            rmdir(path);
        else
            unlink(path);
    }
    CSLDestroy(list);
    rmdir(dir);
}

static enum kd_code add_source(struct kd_source **srcs, int *n, GDALDatasetH ds, const char *path,
                               struct kd_err *err)
{
    struct kd_source *s = realloc(*srcs, (size_t)(*n + 1) * sizeof *s);

    if (!s) {
        GDALClose(ds);
        return kd_err_set(err, KD_ENOMEM, "load.nomem", "out of memory");
    }
    *srcs = s;
    memset(&s[*n], 0, sizeof s[*n]);
    s[*n].ds = ds;
    kd_strlcpy(s[*n].path, path, sizeof s[*n].path);
    (*n)++;
    return KD_OK;
}

enum kd_code kd_sources_open(const char *arg, const char *scratch_dir, struct kd_source **out,
                             int *n_out, struct kd_err *err)
{
    struct kd_source *srcs = NULL;
    char base[1200], tmpdir[1024] = "", msg[512] = "";
    char **list = NULL;
    GDALDatasetH ds;
    VSIStatBufL sb;
    struct stat st;
    enum kd_code rc = KD_OK;
    int n = 0, i;

    if (stat(arg, &st) != 0) {
        kd_err_set(err, KD_EIO, "load.missing", "no such file or directory");
        kd_err_where(err, "%s", arg);
        kd_err_hint(err, "check the path of the source");
        return KD_EIO;
    }
    if (ends_with(arg, ".tar.bz2") || ends_with(arg, ".tbz2") || ends_with(arg, ".tbz")) {
        if (kd_snprintf(tmpdir, sizeof tmpdir, "%s/kadastr-load-XXXXXX", scratch_dir) < 0 ||
            !mkdtemp(tmpdir)) {
            kd_err_set(err, KD_EIO, "load.tmpdir", "cannot create a temporary directory in %s",
                       scratch_dir);
            kd_err_hint(err, "set TMPDIR to a writable directory");
            return KD_EIO;
        }
        if (extract_tar(arg, tmpdir)) {
            remove_tree(tmpdir);
            kd_err_set(err, KD_EIO, "load.archive", "cannot extract the .tar.bz2 archive");
            kd_err_where(err, "%s", arg);
            kd_err_hint(err, "check that the archive is complete (tar -tjf shows its files)");
            return KD_EIO;
        }
        kd_strlcpy(base, tmpdir, sizeof base);
    } else if (ends_with(arg, ".zip")) {
        snprintf(base, sizeof base, "/vsizip/%s", arg);
    } else if (ends_with(arg, ".tar") || ends_with(arg, ".tar.gz") || ends_with(arg, ".tgz")) {
        snprintf(base, sizeof base, "/vsitar/%s", arg);
    } else {
        kd_strlcpy(base, arg, sizeof base);
    }
    if (VSIStatL(base, &sb) == 0 && !VSI_ISDIR(sb.st_mode)) {
        ds = open_vector(base, msg, sizeof msg);
        if (ds) {
            rc = add_source(&srcs, &n, ds, base, err);
            goto done;
        }
        if (strncmp(base, "/vsi", 4) != 0) {
            kd_err_set(err, KD_EIO, "load.open", "GDAL cannot read it as vector data: %s", msg);
            kd_err_where(err, "%s", arg);
            kd_err_hint(err, "kadastr reads what GDAL reads: GeoPackage, Shapefile, GeoJSON, "
                             "GML, KML, DXF, CSV, FlatGeobuf, EDIGEO (ogrinfo shows if it can)");
            rc = KD_EIO;
            goto done;
        }
    }
    /* a directory or an archive: every entry file inside */
    list = VSIReadDirRecursive(base);
    for (i = 0; list && list[i] && !rc; i++) {
        char path[2400];
        if (!is_entry_file(list[i]) || ends_with(list[i], ".aux.xml"))
            continue;
        snprintf(path, sizeof path, "%s/%s", base, list[i]);
        ds = open_vector(path, msg, sizeof msg);
        if (ds)
            rc = add_source(&srcs, &n, ds, path, err);
    }
    if (!rc && n == 0) {
        kd_err_set(err, KD_EIO, "load.open", "no vector dataset GDAL can read in it");
        kd_err_where(err, "%s", arg);
        kd_err_hint(err, "kadastr reads what GDAL reads, also inside .zip, .tar.gz and .tar.bz2");
        rc = KD_EIO;
    }
done:
    CSLDestroy(list);
    if (rc) {
        kd_sources_close(srcs, n);
        remove_tree(tmpdir);
        return rc;
    }
    /* the first source owns the temporary directory */
    kd_strlcpy(srcs[0].tmpdir, tmpdir, sizeof srcs[0].tmpdir);
    *out = srcs;
    *n_out = n;
    return KD_OK;
}

void kd_sources_close(struct kd_source *srcs, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (srcs[i].ds)
            GDALClose(srcs[i].ds);
    for (i = 0; i < n; i++)
        remove_tree(srcs[i].tmpdir);
    free(srcs);
}
