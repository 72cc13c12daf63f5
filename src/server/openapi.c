/* SPDX-License-Identifier: Apache-2.0 */
/* GET /api: the OpenAPI 3.0 document of the whole HTTP API (data/openapi.json). The one idea:
 * the document is data kept beside the code, read, checked and written out once when the
 * server starts (with servers[0].url set to the base URL), so a request only copies immutable
 * bytes; tests/integration/test_openapi.sh holds document and routes to each other both ways,
 * and lints the document with @redocly/cli. */
#include "server_int.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define OPENAPI_MAX_BYTES (4u << 20) /* the document is about 100 KB: refuse a runaway file */

/* The whole file, NUL-terminated. OUT text (free) and len. */
static enum kd_code read_all(const char *path, char **text, size_t *len, struct kd_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, why[128];
    size_t n = 0, cap = 0, got;

    if (!f) {
        int e = errno;
        if (strerror_r(e, why, sizeof why) != 0)
            kd_snprintf(why, sizeof why, "error %d", e);
        return kd_err_set(err, KD_EIO, "openapi.read", "cannot open: %s", why);
    }
    for (;;) {
        if (n == cap) {
            char *nb;
            if (cap >= OPENAPI_MAX_BYTES) {
                fclose(f);
                free(buf);
                return kd_err_set(err, KD_EIO, "openapi.read", "larger than %u bytes",
                                  OPENAPI_MAX_BYTES);
            }
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                fclose(f);
                free(buf);
                return kd_err_set(err, KD_ENOMEM, "openapi.nomem", "out of memory");
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return kd_err_set(err, KD_EIO, "openapi.read", "read error");
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return KD_OK;
}

/* The member key of o when it is of type t, else NULL. */
static json_object *member(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, t) ? v : NULL;
}

enum kd_code kd_openapi_load(const char *path, const char *base_url, char **doc, size_t *len,
                             struct kd_err *err)
{
    json_tokener *tok = NULL;
    json_object *root = NULL, *info, *paths, *servers, *first, *v;
    char *text = NULL, *out;
    size_t text_len = 0, end;
    const char *s;
    enum kd_code rc;

    rc = read_all(path, &text, &text_len, err);
    if (rc)
        goto out;
    tok = json_tokener_new();
    if (!tok) {
        rc = kd_err_set(err, KD_ENOMEM, "openapi.nomem", "out of memory");
        goto out;
    }
    root = json_tokener_parse_ex(tok, text, (int)text_len);
    end = json_tokener_get_parse_end(tok);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        text[end + strspn(text + end, " \t\r\n")] != '\0') {
        enum json_tokener_error e = json_tokener_get_error(tok);
        const char *why = e == json_tokener_success    ? "text after the document"
                          : e == json_tokener_continue ? "the document ends early"
                                                       : json_tokener_error_desc(e);
        rc = kd_err_set(err, KD_EIO, "openapi.parse", "not a JSON document: %s at byte %zu", why,
                        end);
        goto out;
    }
    s = (v = member(root, "openapi", json_type_string)) ? json_object_get_string(v) : NULL;
    if (!s || strncmp(s, "3.0.", 4) != 0) {
        rc = kd_err_set(err, KD_EIO, "openapi.version", "not an OpenAPI 3.0 document (openapi: %s)",
                        s ? s : "missing");
        goto out;
    }
    info = member(root, "info", json_type_object);
    paths = member(root, "paths", json_type_object);
    if (!info || !member(info, "title", json_type_string) ||
        !member(info, "version", json_type_string) || !paths ||
        json_object_object_length(paths) == 0) {
        rc = kd_err_set(err, KD_EIO, "openapi.shape",
                        "an OpenAPI document needs info.title, info.version and paths");
        goto out;
    }
    /* servers[0].url: this server, as every link it writes (on the base URL) */
    servers = member(root, "servers", json_type_array);
    if (!servers) {
        servers = json_object_new_array();
        if (!servers || json_object_object_add(root, "servers", servers) != 0)
            goto nomem;
    }
    first = json_object_array_length(servers) ? json_object_array_get_idx(servers, 0) : NULL;
    if (!first || !json_object_is_type(first, json_type_object)) {
        first = json_object_new_object();
        if (!first || json_object_array_put_idx(servers, 0, first) != 0)
            goto nomem;
    }
    v = json_object_new_string(base_url);
    if (!v || json_object_object_add(first, "url", v) != 0)
        goto nomem;
    s = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &text_len);
    if (!s || !(out = malloc(text_len + 1)))
        goto nomem;
    memcpy(out, s, text_len + 1);
    *doc = out;
    *len = text_len;
    rc = KD_OK;
    goto out;
nomem:
    rc = kd_err_set(err, KD_ENOMEM, "openapi.nomem", "out of memory");
out:
    if (rc)
        kd_err_where(err, "%s", path);
    json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    free(text);
    return rc;
}

void kd_openapi_answer(struct req *r, struct answer *a)
{
    static const char *const allowed[] = {"f", NULL};
    const char *f;

    if (kd_req_check_args(r, a, allowed))
        return;
    /* OGC's f parameter: JSON is the one format of the document */
    f = kd_req_arg(r, "f");
    if (f && strcmp(f, "json") != 0) {
        kd_answer_problem(r, a, 406, "http.not_acceptable", "f", NULL);
        return;
    }
    a->content_type = KD_OPENAPI_TYPE;
    kd_buf_add(&a->body, r->srv->openapi, r->srv->openapi_len);
}
