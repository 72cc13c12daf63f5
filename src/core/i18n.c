/* SPDX-License-Identifier: Apache-2.0 */
/* Languages and message catalogues. The catalogue is checked whole when it is loaded (every
 * key of en.json in every language, with the same {placeholders}), so that nothing at request
 * time can find a message missing; after the load it is a sorted key array and one
 * title/detail array per language, read without locks by every server thread. */
#include "kadastr/i18n.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* A catalogue file larger than this is a mistake (the four together are a few tens of KB). */
#define CATALOG_MAX_BYTES (4u << 20)
/* kd_err.key has 64 bytes: a message key must fit, since errors carry it. */
#define KEY_MAX 63
#define PLACEHOLDER_MAX 63

static const char *const lang_tags[KD_N_LANGS] = {"en", "uz", "uz-Cyrl", "ru"};

const char *kd_lang_tag(enum kd_lang l)
{
    return (unsigned)l < KD_N_LANGS ? lang_tags[l] : lang_tags[KD_LANG_EN];
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive comparison of s (n bytes, not terminated) with a lower-case word. */
static int eq_nocase(const char *s, size_t n, const char *word)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (word[i] == '\0' || lower((unsigned char)s[i]) != word[i])
            return 0;
    return word[n] == '\0';
}

int kd_lang_parse(const char *tag, enum kd_lang *out)
{
    int l;

    if (!tag)
        return -1;
    for (l = 0; l < KD_N_LANGS; l++) {
        const char *t = lang_tags[l];
        size_t i;
        for (i = 0; t[i] && lower((unsigned char)tag[i]) == lower((unsigned char)t[i]); i++)
            ;
        if (t[i] == '\0' && tag[i] == '\0') {
            *out = (enum kd_lang)l;
            return 0;
        }
    }
    return -1;
}

/* ---- Accept-Language ----------------------------------------------------------------------- */

#define RANGE_MALFORMED (-1)
#define RANGE_OTHER (-2) /* well formed, a language we do not have */
#define RANGE_STAR (-3)

/* What a language-range (RFC 4647 §2.1: 1*8ALPHA *("-" 1*8alphanum) / "*") of n bytes asks for:
 * a kd_lang, RANGE_OTHER, RANGE_STAR or RANGE_MALFORMED. Any "Cyrl" subtag after "uz" means
 * the Cyrillic script; every other Uzbek (uz, uz-Latn, uz-UZ, uz-Latn-UZ) gets Latin, the
 * script of the republic's official alphabet. */
static int range_lang(const char *s, size_t n)
{
    size_t i = 0, start, first_len = 0;
    int cyrl = 0, subtag = 0;

    if (n == 1 && s[0] == '*')
        return RANGE_STAR;
    while (i <= n) {
        start = i;
        while (i < n && s[i] != '-') {
            int c = (unsigned char)s[i];
            if (!(is_alpha(c) || (subtag > 0 && is_digit(c))))
                return RANGE_MALFORMED;
            i++;
        }
        if (i == start || i - start > 8)
            return RANGE_MALFORMED;
        if (subtag == 0)
            first_len = i - start;
        else if (eq_nocase(s + start, i - start, "cyrl"))
            cyrl = 1;
        subtag++;
        i++; /* past '-' (or past the end, which ends the loop) */
    }
    if (eq_nocase(s, first_len, "en"))
        return KD_LANG_EN;
    if (eq_nocase(s, first_len, "ru"))
        return KD_LANG_RU;
    if (eq_nocase(s, first_len, "uz"))
        return cyrl ? KD_LANG_UZ_CYRL : KD_LANG_UZ;
    return RANGE_OTHER;
}

/* qvalue = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3("0")]), in thousandths; -1 if malformed. */
static int parse_qvalue(const char *s, size_t n)
{
    int q, scale = 100;
    size_t i;

    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    q = s[0] == '1' ? 1000 : 0;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    for (i = 2; i < n; i++, scale /= 10) {
        if (!is_digit((unsigned char)s[i]) || (q == 1000 && s[i] != '0'))
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses one list member [b, e) ("ru-RU;q=0.9"): sets *lang (as range_lang) and *q
 * (thousandths). Returns 0, or -1 when the member is malformed. Parameters other than q are
 * not defined for Accept-Language; a well-formed one is ignored. */
static int parse_member(const char *b, const char *e, int *lang, int *q)
{
    const char *p;

    while (b < e && is_ows(*b))
        b++;
    while (e > b && is_ows(e[-1]))
        e--;
    for (p = b; p < e && *p != ';' && !is_ows(*p); p++)
        ;
    *lang = range_lang(b, (size_t)(p - b));
    if (*lang == RANGE_MALFORMED)
        return -1;
    *q = 1000;
    while (p < e) {
        const char *name, *val;
        while (p < e && is_ows(*p))
            p++;
        if (p == e)
            break;
        if (*p != ';')
            return -1;
        p++;
        while (p < e && is_ows(*p))
            p++;
        for (name = p; p < e && *p != '=' && *p != ';' && !is_ows(*p); p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                return -1;
        if (p == name || p == e || *p != '=')
            return -1;
        val = ++p;
        while (p < e && *p != ';' && !is_ows(*p))
            p++;
        if (eq_nocase(name, (size_t)(val - 1 - name), "q")) {
            *q = parse_qvalue(val, (size_t)(p - val));
            if (*q < 0)
                return -1;
        } else if (p == val) {
            return -1;
        }
    }
    return 0;
}

enum kd_lang kd_lang_negotiate(const char *accept_language)
{
    /* per language: the highest q of the ranges naming it (-1: none) and the first member
     * that gave it; "*" stands for every language the header does not name */
    int q_of[KD_N_LANGS], star_q = -1, best = -1, best_q = 0, l;
    size_t pos_of[KD_N_LANGS], star_pos = 0, best_pos = 0, pos = 0;
    const char *p = accept_language;

    if (!p)
        return KD_LANG_EN;
    for (l = 0; l < KD_N_LANGS; l++) {
        q_of[l] = -1;
        pos_of[l] = 0;
    }
    while (*p) {
        const char *e = strchr(p, ',');
        int lang, q;
        if (!e)
            e = p + strlen(p);
        if (parse_member(p, e, &lang, &q) == 0) {
            if (lang >= 0 && q > q_of[lang]) {
                q_of[lang] = q;
                pos_of[lang] = pos;
            } else if (lang == RANGE_STAR && q > star_q) {
                star_q = q;
                star_pos = pos;
            }
        }
        pos++;
        p = *e ? e + 1 : e;
    }
    for (l = 0; l < KD_N_LANGS; l++) {
        int q = q_of[l] >= 0 ? q_of[l] : star_q;
        size_t at = q_of[l] >= 0 ? pos_of[l] : star_pos;
        if (q > 0 && (best < 0 || q > best_q || (q == best_q && at < best_pos))) {
            best = l;
            best_q = q;
            best_pos = at;
        }
    }
    return best < 0 ? KD_LANG_EN : (enum kd_lang)best;
}

/* ---- the catalogue --------------------------------------------------------------------------- */

struct msg {
    char *title;
    char *detail;
};

struct kd_catalog {
    size_t n;                     /* messages (the keys of en.json) */
    char **keys;                  /* n, sorted by strcmp */
    struct msg *msgs[KD_N_LANGS]; /* n each, in the order of keys */
};

void kd_catalog_free(struct kd_catalog *c)
{
    size_t i;
    int l;

    if (!c)
        return;
    for (l = 0; l < KD_N_LANGS; l++) {
        if (!c->msgs[l])
            continue;
        for (i = 0; i < c->n; i++) {
            free(c->msgs[l][i].title);
            free(c->msgs[l][i].detail);
        }
        free(c->msgs[l]);
    }
    if (c->keys)
        for (i = 0; i < c->n; i++)
            free(c->keys[i]);
    free(c->keys);
    free(c);
}

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

/* Length of the placeholder name after a '{' at p[-1] ("path" in "{path}"), or 0 when no '}'
 * closes a name there. */
static size_t placeholder_len(const char *p)
{
    size_t n = 0;

    while (n <= PLACEHOLDER_MAX && is_name_char((unsigned char)p[n]))
        n++;
    return n > 0 && n <= PLACEHOLDER_MAX && p[n] == '}' ? n : 0;
}

/* The first placeholder of a that b does not have ("{lon}"), written into name; 0 if none. */
static int placeholder_missing(const char *a, const char *b, char name[PLACEHOLDER_MAX + 3])
{
    const char *p;

    for (p = strchr(a, '{'); p; p = strchr(p + 1, '{')) {
        size_t n = placeholder_len(p + 1);
        if (n == 0)
            continue;
        memcpy(name, p, n + 2);
        name[n + 2] = '\0';
        if (!strstr(b, name))
            return 1;
    }
    return 0;
}

static int key_valid(const char *k)
{
    size_t n = strlen(k), i;
    int dots = 0;

    if (n == 0 || n > KEY_MAX || k[0] == '.' || k[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        if (k[i] == '.') {
            if (k[i + 1] == '.')
                return 0;
            dots++;
        } else if (!is_name_char((unsigned char)k[i])) {
            return 0;
        }
    }
    return dots > 0;
}

/* errno's text without strerror (banned: it may share a static buffer between threads). */
static const char *errno_text(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        kd_snprintf(buf, size, "error %d", e);
    return buf;
}

/* Reads path whole. OUT *data (free), *len. */
static enum kd_code read_file(const char *path, char **data, size_t *len, struct kd_err *err)
{
    char ebuf[128], *buf = NULL;
    size_t n = 0, cap = 0, got;
    enum kd_code rc;
    FILE *f = fopen(path, "rb");

    if (!f)
        return kd_err_set(err, KD_EIO, "i18n.read", "cannot open: %s",
                          errno_text(errno, ebuf, sizeof ebuf));
    for (;;) {
        if (n == cap) {
            char *nb;
            if (cap >= CATALOG_MAX_BYTES) {
                rc =
                    kd_err_set(err, KD_EIO, "i18n.read", "larger than %u bytes", CATALOG_MAX_BYTES);
                goto fail;
            }
            cap = cap ? cap * 2 : 16384;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                rc =
                    kd_err_set(err, KD_ENOMEM, "i18n.nomem", "out of memory reading the catalogue");
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = kd_err_set(err, KD_EIO, "i18n.read", "read error: %s",
                        errno_text(errno, ebuf, sizeof ebuf));
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return KD_OK;
fail:
    fclose(f);
    free(buf);
    return rc;
}

/* Parses text (len bytes) as one JSON object with UTF-8 strings. OUT *obj (json_object_put). */
static enum kd_code parse_catalog(const char *text, size_t len, json_object **obj,
                                  struct kd_err *err)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;
    enum json_tokener_error jerr;
    size_t end;

    if (!tok)
        return kd_err_set(err, KD_ENOMEM, "i18n.nomem", "out of memory parsing the catalogue");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* json-c takes an int length; CATALOG_MAX_BYTES keeps len far below INT_MAX */
    o = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!o || jerr != json_tokener_success) {
        size_t line = 1, i;
        for (i = 0; i < end && i < len; i++)
            line += text[i] == '\n';
        kd_err_set(err, KD_EINVAL, "i18n.syntax", "line %zu: %s", line,
                   jerr == json_tokener_continue ? "unexpected end of file"
                                                 : json_tokener_error_desc(jerr));
        json_object_put(o);
        json_tokener_free(tok);
        return KD_EINVAL;
    }
    json_tokener_free(tok);
    while (end < len &&
           (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' || text[end] == '\r'))
        end++;
    if (end < len) {
        json_object_put(o);
        return kd_err_set(err, KD_EINVAL, "i18n.syntax", "text after the closing brace");
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return kd_err_set(err, KD_EINVAL, "i18n.syntax",
                          "the catalogue must be one JSON object of messages");
    }
    *obj = o;
    return KD_OK;
}

/* A message string: a non-empty JSON string, no NUL or other control character. */
static const char *message_str(json_object *entry, const char *member, struct kd_err *err)
{
    json_object *v;
    const char *s;
    size_t i, n;

    if (!json_object_object_get_ex(entry, member, &v) ||
        !json_object_is_type(v, json_type_string)) {
        kd_err_set(err, KD_EINVAL, "i18n.syntax", "the message has no string \"%s\"", member);
        return NULL;
    }
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n == 0 || strlen(s) != n) {
        kd_err_set(err, KD_EINVAL, "i18n.syntax", "\"%s\" is %s", member,
                   n == 0 ? "empty" : "cut by a NUL character");
        return NULL;
    }
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            kd_err_set(err, KD_EINVAL, "i18n.syntax",
                       "\"%s\" has a control character at byte %zu (messages are one line)", member,
                       i + 1);
            return NULL;
        }
    return s;
}

/* Checks the shape of every message of one catalogue file; the error's where is the key. */
static enum kd_code check_shape(json_object *obj, struct kd_err *err)
{
    json_object_object_foreach(obj, key, entry)
    {
        const char *title;
        if (!key_valid(key)) {
            kd_err_set(err, KD_EINVAL, "i18n.syntax",
                       "a key must be dotted lower case (letters, digits, '_'), at most %d "
                       "bytes, e.g. \"http.not_found\"",
                       KEY_MAX);
            kd_err_where(err, "%s", key);
            return KD_EINVAL;
        }
        if (!json_object_is_type(entry, json_type_object)) {
            kd_err_set(err, KD_EINVAL, "i18n.syntax",
                       "a message must be an object {\"title\": ..., \"detail\": ...}");
            kd_err_where(err, "%s", key);
            return KD_EINVAL;
        }
        json_object_object_foreach(entry, member, val)
        {
            (void)val;
            if (strcmp(member, "title") != 0 && strcmp(member, "detail") != 0) {
                kd_err_set(err, KD_EINVAL, "i18n.syntax",
                           "unknown member \"%s\" (a message has \"title\" and \"detail\")",
                           member);
                kd_err_where(err, "%s", key);
                return KD_EINVAL;
            }
        }
        title = message_str(entry, "title", err);
        if (!title || !message_str(entry, "detail", err)) {
            kd_err_where(err, "%s", key);
            return KD_EINVAL;
        }
        {
            const char *p;
            for (p = strchr(title, '{'); p; p = strchr(p + 1, '{'))
                if (placeholder_len(p + 1)) {
                    kd_err_set(err, KD_EINVAL, "i18n.syntax",
                               "the title has a placeholder: a title is the same for every "
                               "occurrence, the detail carries the values");
                    kd_err_where(err, "%s", key);
                    return KD_EINVAL;
                }
        }
    }
    return KD_OK;
}

struct span {
    size_t at, n;
};

/* json-c keeps the last of two equal keys without a word; a translator who copies a message
 * and forgets to rename the copy must hear of it. text (len bytes) is valid JSON here, so a
 * string at depth 1 followed by ':' is a key of the catalogue. */
static enum kd_code check_duplicates(const char *text, size_t len, struct kd_err *err)
{
    struct span *keys = NULL, *nk;
    size_t n = 0, cap = 0, i, j, start;
    int depth = 0;
    enum kd_code rc = KD_OK;

    for (i = 0; i < len; i++) {
        if (text[i] == '{' || text[i] == '[') {
            depth++;
        } else if (text[i] == '}' || text[i] == ']') {
            depth--;
        } else if (text[i] == '"') {
            for (start = ++i; i < len && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
            if (depth != 1)
                continue;
            for (j = i + 1; j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' ||
                                        text[j] == '\r');
                 j++)
                ;
            if (j == len || text[j] != ':')
                continue;
            for (j = 0; j < n; j++)
                if (keys[j].n == i - start &&
                    memcmp(text + keys[j].at, text + start, i - start) == 0)
                    break;
            if (j < n) {
                rc = kd_err_set(err, KD_EINVAL, "i18n.syntax",
                                "the key is there twice (the second copy would hide the first)");
                kd_err_where(err, "%.*s", (int)(i - start < 64 ? i - start : 64), text + start);
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                nk = realloc(keys, cap * sizeof *keys);
                if (!nk) {
                    rc = kd_err_set(err, KD_ENOMEM, "i18n.nomem", "out of memory");
                    break;
                }
                keys = nk;
            }
            keys[n].at = start;
            keys[n].n = i - start;
            n++;
        }
    }
    free(keys);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

enum kd_code kd_catalog_load(const char *dir, struct kd_catalog **c, struct kd_err *err)
{
    json_object *obj[KD_N_LANGS] = {NULL};
    char path[KD_N_LANGS][1024];
    struct kd_catalog *cat = NULL;
    enum kd_code rc = KD_OK;
    size_t i;
    int l;

    for (l = 0; l < KD_N_LANGS; l++) {
        char *text = NULL;
        size_t len = 0;
        if (kd_snprintf(path[l], sizeof path[l], "%s/%s.json", dir, lang_tags[l]) < 0) {
            rc = kd_err_set(err, KD_EIO, "i18n.read", "the catalogue directory's name is too long");
            kd_err_where(err, "%s", dir);
            goto out;
        }
        rc = read_file(path[l], &text, &len, err);
        if (rc == KD_OK)
            rc = parse_catalog(text, len, &obj[l], err);
        if (rc == KD_OK)
            rc = check_shape(obj[l], err);
        if (rc == KD_OK)
            rc = check_duplicates(text, len, err);
        free(text);
        if (rc != KD_OK) {
            kd_err_where(err, "%s", path[l]);
            goto out;
        }
    }

    cat = calloc(1, sizeof *cat);
    if (!cat)
        goto nomem;
    cat->n = (size_t)json_object_object_length(obj[KD_LANG_EN]);
    cat->keys = calloc(cat->n ? cat->n : 1, sizeof *cat->keys);
    if (!cat->keys)
        goto nomem;
    i = 0;
    {
        json_object_object_foreach(obj[KD_LANG_EN], key, entry)
        {
            (void)entry;
            if (!(cat->keys[i++] = dup_str(key)))
                goto nomem;
        }
    }
    qsort(cat->keys, cat->n, sizeof *cat->keys, cmp_key);

    for (l = 0; l < KD_N_LANGS; l++) {
        cat->msgs[l] = calloc(cat->n ? cat->n : 1, sizeof *cat->msgs[l]);
        if (!cat->msgs[l])
            goto nomem;
        for (i = 0; i < cat->n; i++) {
            json_object *entry, *en_entry, *v;
            const char *title, *detail, *en_detail;
            char name[PLACEHOLDER_MAX + 3];
            json_object_object_get_ex(obj[KD_LANG_EN], cat->keys[i], &en_entry);
            if (!json_object_object_get_ex(obj[l], cat->keys[i], &entry)) {
                rc = kd_err_set(err, KD_EINVAL, "i18n.missing",
                                "the message is missing (en.json has it)");
                kd_err_where(err, "%s: %s", path[l], cat->keys[i]);
                goto out;
            }
            json_object_object_get_ex(entry, "title", &v);
            title = json_object_get_string(v);
            json_object_object_get_ex(entry, "detail", &v);
            detail = json_object_get_string(v);
            json_object_object_get_ex(en_entry, "detail", &v);
            en_detail = json_object_get_string(v);
            if (placeholder_missing(en_detail, detail, name)) {
                rc = kd_err_set(err, KD_EINVAL, "i18n.missing",
                                "the detail has no %s (en.json's has)", name);
                kd_err_where(err, "%s: %s", path[l], cat->keys[i]);
                goto out;
            }
            if (placeholder_missing(detail, en_detail, name)) {
                rc = kd_err_set(err, KD_EINVAL, "i18n.missing",
                                "the detail has %s, which en.json's has not (no value would "
                                "fill it)",
                                name);
                kd_err_where(err, "%s: %s", path[l], cat->keys[i]);
                goto out;
            }
            cat->msgs[l][i].title = dup_str(title);
            cat->msgs[l][i].detail = dup_str(detail);
            if (!cat->msgs[l][i].title || !cat->msgs[l][i].detail)
                goto nomem;
        }
        {
            json_object_object_foreach(obj[l], key, entry)
            {
                (void)entry;
                if (!bsearch(&key, cat->keys, cat->n, sizeof *cat->keys, cmp_key)) {
                    rc = kd_err_set(err, KD_EINVAL, "i18n.unknown",
                                    "en.json has no such message (a typo, or a message "
                                    "removed from en.json)");
                    kd_err_where(err, "%s: %s", path[l], key);
                    goto out;
                }
            }
        }
    }
    *c = cat;
    cat = NULL;
    goto out;
nomem:
    rc = kd_err_set(err, KD_ENOMEM, "i18n.nomem", "out of memory loading the catalogue");
    kd_err_where(err, "%s", dir);
out:
    kd_catalog_free(cat);
    for (l = 0; l < KD_N_LANGS; l++)
        json_object_put(obj[l]);
    return rc;
}

/* The index of key in c, or -1. */
static long find(const struct kd_catalog *c, const char *key)
{
    char *const *k;

    if (!c || !key || c->n == 0)
        return -1;
    k = bsearch(&key, c->keys, c->n, sizeof *c->keys, cmp_key);
    return k ? (long)(k - c->keys) : -1;
}

int kd_catalog_has(const struct kd_catalog *c, const char *key)
{
    return find(c, key) >= 0;
}

/* The message of key in l (en when l is out of range), or NULL when the key is unknown.
 * Every language has every key of en (checked at load), so no other fallback is needed. */
static const struct msg *message(const struct kd_catalog *c, enum kd_lang l, const char *key)
{
    long i = find(c, key);

    if (i < 0)
        return NULL;
    if ((unsigned)l >= KD_N_LANGS)
        l = KD_LANG_EN;
    return &c->msgs[l][i];
}

const char *kd_catalog_title(const struct kd_catalog *c, enum kd_lang l, const char *key)
{
    const struct msg *m = message(c, l, key);

    return m ? m->title : key ? key : "";
}

/* The value of placeholder name (n bytes) in vars; NULL when there is none. The list ends
 * at the first NULL, name or value, so an odd list is never read past its end. */
static const char *var_value(const char *const *vars, const char *name, size_t n)
{
    size_t i;

    if (!vars)
        return NULL;
    for (i = 0; vars[i] && vars[i + 1]; i += 2)
        if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '\0')
            return vars[i + 1];
    return NULL;
}

void kd_catalog_detail(const struct kd_catalog *c, enum kd_lang l, const char *key,
                       const char *const *vars, struct kd_buf *out)
{
    const struct msg *m = message(c, l, key);
    const char *p, *run;

    if (!m) {
        kd_buf_adds(out, key ? key : "");
        return;
    }
    run = m->detail;
    for (p = strchr(run, '{'); p; p = strchr(p, '{')) {
        size_t n = placeholder_len(p + 1);
        const char *v = n ? var_value(vars, p + 1, n) : NULL;
        if (!v) {
            p++;
            continue;
        }
        kd_buf_add(out, run, (size_t)(p - run));
        kd_buf_adds(out, v);
        p += n + 2;
        run = p;
    }
    kd_buf_adds(out, run);
}

void kd_problem_json(struct kd_buf *out, const struct kd_catalog *c, enum kd_lang l, int status,
                     const char *type_base, const char *key, const char *instance,
                     const char *param, const char *const *vars)
{
    struct kd_buf tmp;
    size_t i;

    if (!key)
        key = "";
    kd_buf_init(&tmp);
    kd_buf_adds(&tmp, type_base ? type_base : "/problems/");
    for (i = 0; key[i]; i++)
        kd_buf_add(&tmp, key[i] == '.' ? "/" : key + i, 1);
    if (tmp.failed)
        out->failed = 1;
    kd_buf_adds(out, "{\"type\":");
    kd_buf_add_json_str(out, tmp.failed ? "about:blank" : tmp.data);
    kd_buf_adds(out, ",\"title\":");
    kd_buf_add_json_str(out, kd_catalog_title(c, l, key));
    kd_buf_addf(out, ",\"status\":%d,\"detail\":", status);
    kd_buf_reset(&tmp);
    kd_catalog_detail(c, l, key, vars, &tmp);
    if (tmp.failed)
        out->failed = 1;
    kd_buf_add_json_str(out, tmp.data ? tmp.data : "");
    if (instance) {
        kd_buf_adds(out, ",\"instance\":");
        kd_buf_add_json_str(out, instance);
    }
    if (param) {
        kd_buf_adds(out, ",\"parameter\":");
        kd_buf_add_json_str(out, param);
    }
    kd_buf_adds(out, "}");
    kd_buf_fini(&tmp);
}
