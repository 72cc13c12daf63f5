/* SPDX-License-Identifier: Apache-2.0 */
/* i18n: the languages kadastr answers in, the choice of one from an Accept-Language header,
 * the message catalogues of data/i18n/ and RFC 9457 problem+json bodies built from them.
 * A catalogue is loaded once, checked whole (every language has every message with the same
 * placeholders) and immutable after: one copy serves every thread. docs/i18n.md. */
#ifndef KADASTR_I18N_H
#define KADASTR_I18N_H

#include "kadastr/core.h"

enum kd_lang { KD_LANG_EN = 0, KD_LANG_UZ, KD_LANG_UZ_CYRL, KD_LANG_RU, KD_N_LANGS };

/* The language's tag for Content-Language: "en", "uz" (Latin script), "uz-Cyrl", "ru".
 * A value out of range gives "en". Static strings. */
const char *kd_lang_tag(enum kd_lang l);

/* The best supported language for an Accept-Language header (RFC 9110 §12.5.4): q-values,
 * "*" (any language the header does not name), case-insensitive tags, prefix matching
 * (ru-RU -> ru; uz-Cyrl, uz-Cyrl-UZ -> uz-Cyrl; uz, uz-Latn, uz-UZ -> uz; en-GB -> en).
 * A language takes the highest q of the ranges that match it; q=0 excludes it. The highest
 * q wins; ties go to the range met first in the header. Malformed list members are skipped.
 * NULL, empty, unparsable or nothing acceptable -> KD_LANG_EN. Never fails, never
 * allocates, reads the header once (linear in its length). */
enum kd_lang kd_lang_negotiate(const char *accept_language);

/* Parses a tag as kd_lang_tag writes it (case-insensitive, exact: no prefix matching), e.g.
 * for a ?lang= override. Returns 0 and sets *out, or -1 for anything else. */
int kd_lang_parse(const char *tag, enum kd_lang *out);

struct kd_catalog;

/* Loads en.json, uz.json, uz-Cyrl.json and ru.json from dir (the directory holding them,
 * normally KD_DATA_DIR "/i18n"). OUT c: the catalogue (kd_catalog_free), set on success only.
 * Errors, with where = the file and, when one is at fault, the key:
 *   KD_EIO    "i18n.read"    a file cannot be read (or is larger than 4 MiB);
 *   KD_EINVAL "i18n.syntax"  not JSON, not UTF-8, a key that is not dotted lower case, an
 *                            entry without a non-empty string title and detail, a member
 *                            other than those, a control character, a title with a
 *                            placeholder;
 *   KD_EINVAL "i18n.missing" a key of en.json missing in another language, or a detail whose
 *                            set of {placeholders} differs from en's;
 *   KD_EINVAL "i18n.unknown" a key of another language that en.json does not have (a typo
 *                            or a stale message);
 *   KD_ENOMEM "i18n.nomem". */
enum kd_code kd_catalog_load(const char *dir, struct kd_catalog **c, struct kd_err *err) KD_WUR;
void kd_catalog_free(struct kd_catalog *c);

/* Immutable after load: safe to share between threads without locks. */

/* Does the catalogue have a message for key? (The server's test before it turns a kd_err key
 * into a problem type; an unknown key would give a title that is the key itself.) */
int kd_catalog_has(const struct kd_catalog *c, const char *key);

/* The title of key in l. Lookups fall back to en, then to the key itself (also when c is
 * NULL). Borrowed: valid while c lives (or while key does, for the fallback). */
const char *kd_catalog_title(const struct kd_catalog *c, enum kd_lang l, const char *key);

/* Appends to out the detail of key in l, with {name} placeholders filled from vars: a
 * NULL-terminated list of name, value pairs ({"path", "/x", NULL}); vars may be NULL.
 * Values are inserted as given, never expanded again; placeholders without a value (or
 * with a NULL value) are left as they are. An unknown key appends the key itself. */
void kd_catalog_detail(const struct kd_catalog *c, enum kd_lang l, const char *key,
                       const char *const *vars, struct kd_buf *out);

/* Appends an RFC 9457 problem+json body to out:
 *   {"type": "<type_base><key with '.' -> '/'>", "title": ..., "status": <number>,
 *    "detail": ..., "instance": ..., "parameter": ...}
 * type_base e.g. "https://kadastr.example/problems/" (the server's base URL + "/problems/");
 * NULL gives the relative reference "/problems/". instance and param are left out when
 * NULL. Every string goes through kd_buf_add_json_str, so hostile values (quotes, control
 * characters, invalid UTF-8) still give valid JSON. Errors: out->failed. */
void kd_problem_json(struct kd_buf *out, const struct kd_catalog *c, enum kd_lang l, int status,
                     const char *type_base, const char *key, const char *instance,
                     const char *param, const char *const *vars);

#endif
