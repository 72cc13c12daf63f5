/* SPDX-License-Identifier: Apache-2.0 */
/* A batch of points (`kadastr lookup --points`, docs/cli.md): one x,y per input line, exactly
 * one answer line per input line, answered through the in-memory index. The input is read
 * with read(2) into one buffer and each line parsed in place; the answers go through one
 * growing buffer handed to the caller's sink in blocks, and before every read that may block
 * (and before a failure stops the batch), so that the batch neither allocates per point nor
 * stalls a program that feeds it line by line. */
#include "cadastre_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CAP (1u << 20)
/* answers are handed to the sink once this much is waiting */
#define WRITE_BLOCK (1u << 16)
/* JSON answers echo at most this much of a failed line, and of a header */
#define ECHO_MAX_INPUT 200
#define ECHO_MAX_HEADER 100

struct kd_points {
    char *name; /* the input's name in errors ("-" for standard input) */
    int fd;
    char *buf; /* READ_CAP + 1 bytes: a line can always be NUL-terminated in place */
    size_t start, end;
    int eof, skipping; /* skipping: the rest of a line longer than READ_CAP */
    struct kd_buf out; /* answers not yet handed to the sink */
    const struct kd_points_opts *o;
    int sink_failed;
};

int kd_points_parse_numbers(const char *s, double *v, int n)
{
    const char *p = s;
    char *end;
    int i;

    for (i = 0; i < n; i++) {
        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(v[i]))
            return -1;
        while (*end == ' ' || *end == '\t')
            end++;
        if (i < n - 1) {
            if (*end != ',')
                return -1;
            p = end + 1;
        } else if (*end) {
            return -1;
        }
    }
    return 0;
}

/* errno's text without strerror (banned: it may share a static buffer between threads). */
static const char *errno_text(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        kd_snprintf(buf, size, "error %d", e);
    return buf;
}

/* Hands what is waiting to the sink (flush: it must reach its reader now). */
static void hand_out(struct kd_points *pts, int flush)
{
    const struct kd_points_opts *o = pts->o;

    if ((pts->out.len || flush) && !pts->sink_failed &&
        o->write(o->write_ud, pts->out.data ? pts->out.data : "", pts->out.len, flush) != 0)
        pts->sink_failed = 1;
    kd_buf_reset(&pts->out);
}

/* ---- input -------------------------------------------------------------------------------- */

enum kd_code kd_points_open(const char *path, struct kd_points **out, struct kd_err *err)
{
    struct kd_points *pts = NULL;
    char why[128];
    struct stat sb;
    int fd;

    /* refuse what cannot be a file of lines (a directory, an unreadable file) with the
     * reason, before the caller builds an index for nothing */
    fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        kd_err_set(err, KD_EIO, "lookup.points_open", "cannot open it: %s",
                   errno_text(e, why, sizeof why));
        if (e == EACCES)
            kd_err_hint(err, "the file is not readable by this user");
        else
            kd_err_hint(err, "give a file of x,y lines, or - for standard input");
        kd_err_where(err, "%s", path);
        return err->code;
    }
    if (fstat(fd, &sb) != 0) {
        kd_err_set(err, KD_EIO, "lookup.points_open", "cannot inspect it: %s",
                   errno_text(errno, why, sizeof why));
        kd_err_where(err, "%s", path);
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        kd_err_set(err, KD_EIO, "lookup.points_open", "is a directory, not a file of lines");
        kd_err_hint(err, "give a file of x,y lines, or - for standard input");
        kd_err_where(err, "%s", path);
        goto fail;
    }
    pts = calloc(1, sizeof *pts);
    if (!pts || !(pts->name = strdup(path)) || !(pts->buf = malloc(READ_CAP + 1))) {
        kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
        goto fail;
    }
    pts->fd = fd;
    kd_buf_init(&pts->out);
    *out = pts;
    return KD_OK;
fail:
    if (fd > 2)
        close(fd);
    if (pts) {
        free(pts->name);
        free(pts);
    }
    return err->code;
}

void kd_points_close(struct kd_points *pts)
{
    if (!pts)
        return;
    if (pts->fd > 2)
        close(pts->fd);
    free(pts->buf);
    free(pts->name);
    kd_buf_fini(&pts->out);
    free(pts);
}

/* The next line (without its end) in line and len; 0 at the end of input, -1 on a read
 * error (errno set). Before blocking in read(2), hands what is waiting to the sink. */
static int next_line(struct kd_points *r, char **line, size_t *len, int *too_long)
{
    for (;;) {
        char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        ssize_t got;
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            *line = r->buf + r->start;
            r->start += n + 1;
            if (r->skipping) {
                r->skipping = 0;
                continue;
            }
            *len = n;
            *too_long = 0;
            return 1;
        }
        if (r->eof) {
            if (r->end > r->start && !r->skipping) {
                *line = r->buf + r->start;
                *len = r->end - r->start;
                *too_long = 0;
                r->start = r->end;
                return 1;
            }
            return 0;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end == READ_CAP) {
            /* a line longer than the buffer: answer it once, as malformed, and skip it */
            r->start = r->end = 0;
            if (!r->skipping) {
                r->skipping = 1;
                *line = r->buf;
                *len = 0;
                *too_long = 1;
                return 1;
            }
            continue;
        }
        hand_out(r, 1);
        got = read(r->fd, r->buf + r->end, READ_CAP - r->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
    }
}

/* ---- answers ------------------------------------------------------------------------------ */

/* Is s (n bytes) a JSON number? Echoing the input is only right when it is. */
static int is_json_number(const char *s, size_t n)
{
    size_t i = 0;

    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

/* Must s (n bytes) be quoted as a CSV field (RFC 4180)? */
static int csv_needs_quotes(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            return 1;
    return 0;
}

/* Appends s with its quotes doubled (the inside of a quoted CSV field). */
static void csv_add_quoted(struct kd_buf *b, const char *s, size_t n)
{
    const char *q;

    while ((q = memchr(s, '"', n)) != NULL) {
        kd_buf_add(b, s, (size_t)(q - s) + 1);
        kd_buf_add(b, "\"", 1);
        n -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    kd_buf_add(b, s, n);
}

/* Appends s as a CSV field, quoted when it must be. */
static void csv_field(struct kd_buf *b, const char *s, size_t n)
{
    if (!csv_needs_quotes(s, n)) {
        kd_buf_add(b, s, n);
        return;
    }
    kd_buf_add(b, "\"", 1);
    csv_add_quoted(b, s, n);
    kd_buf_add(b, "\"", 1);
}

static void json_number_or_text(struct kd_buf *b, const char *s, size_t n, double v)
{
    char tmp[64];
    size_t a = 0, z = n;

    while (a < z && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t'))
        z--;
    if (is_json_number(s + a, z - a)) {
        kd_buf_add(b, s + a, z - a);
        return;
    }
    /* "+5", ".5", "1." are numbers to strtod but not to JSON: the shortest exact form */
    kd_snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        kd_snprintf(tmp, sizeof tmp, "%.17g", v);
    kd_buf_adds(b, tmp);
}

/* The length of the longest prefix of s (n bytes) of at most max bytes that does not end
 * inside a UTF-8 character: a cut there would leave a broken character (which the JSON
 * writer would show as U+FFFD). Invalid input is cut at most 3 bytes short. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    size_t k = max;

    if (n <= max)
        return n;
    /* s[k] is the first byte left out: while it continues a character, leave that one out */
    while (k > 0 && max - k < 3 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Appends the first bytes of s (n bytes, may hold anything) as a JSON string, cut at a
 * character boundary at most max bytes in. */
static void json_text_prefix(struct kd_buf *b, const char *s, size_t n, size_t max)
{
    char text[ECHO_MAX_INPUT + 1];
    size_t k = utf8_prefix(s, n, max < ECHO_MAX_INPUT ? max : ECHO_MAX_INPUT);

    memcpy(text, s, k);
    text[k] = '\0'; /* a NUL inside cuts it shorter: JSON strings hold no NUL from us */
    kd_buf_add_json_str(b, text);
}

static void answer_error(struct kd_buf *out, int json, const char *line, size_t len,
                         const char *why)
{
    const char *comma = memchr(line, ',', len);
    size_t nx = comma ? (size_t)(comma - line) : len;

    if (json) {
        kd_buf_adds(out, "{\"x\":null,\"y\":null,\"input\":");
        json_text_prefix(out, line, len, ECHO_MAX_INPUT);
        kd_buf_adds(out, ",\"error\":");
        kd_buf_add_json_str(out, why);
        kd_buf_adds(out, "}\n");
        return;
    }
    csv_field(out, line, nx);
    kd_buf_add(out, ",", 1);
    if (comma)
        csv_field(out, comma + 1, len - nx - 1);
    kd_buf_adds(out, ",,");
    csv_field(out, why, strlen(why));
    kd_buf_add(out, "\n", 1);
}

static void answer_hits(struct kd_buf *out, int json, const char *line, size_t len, double x,
                        double y, const struct kd_hits *h)
{
    const char *comma = memchr(line, ',', len);
    size_t nx = (size_t)(comma - line), i;
    int boundary = 0, quote = 0;

    if (json) {
        kd_buf_adds(out, "{\"x\":");
        json_number_or_text(out, line, nx, x);
        kd_buf_adds(out, ",\"y\":");
        json_number_or_text(out, comma + 1, len - nx - 1, y);
        kd_buf_adds(out, ",\"parcels\":[");
        for (i = 0; i < h->n; i++) {
            if (i)
                kd_buf_add(out, ",", 1);
            kd_buf_add_json_str(out, h->v[i].number);
            boundary |= h->v[i].on_boundary;
        }
        kd_buf_adds(out, boundary ? "],\"on_boundary\":true}\n" : "],\"on_boundary\":false}\n");
        return;
    }
    /* the input's x,y as given (it parsed as two numbers: no quote or comma inside), then
     * every number joined by ';' as one CSV field, straight into the output (no length
     * limit: a point where many parcels meet loses none) */
    kd_buf_add(out, line, len);
    kd_buf_add(out, ",", 1);
    for (i = 0; i < h->n && !quote; i++)
        quote = csv_needs_quotes(h->v[i].number, strlen(h->v[i].number));
    if (quote)
        kd_buf_add(out, "\"", 1);
    for (i = 0; i < h->n; i++) {
        if (i)
            kd_buf_add(out, ";", 1);
        if (quote)
            csv_add_quoted(out, h->v[i].number, strlen(h->v[i].number));
        else
            kd_buf_adds(out, h->v[i].number);
    }
    kd_buf_adds(out, quote ? "\"\n" : "\n");
}

static void answer_header(struct kd_buf *out, int json, const char *line, size_t len)
{
    if (json) {
        kd_buf_adds(out, "{\"header\":");
        json_text_prefix(out, line, len, ECHO_MAX_HEADER);
        kd_buf_adds(out, "}\n");
    } else {
        kd_buf_add(out, line, len);
        kd_buf_adds(out, ",cadastral_number\n");
    }
}

/* A first line such as "x,y" or "lon,lat" (no digit in it) is a header. */
static int is_header(const char *line, size_t len)
{
    size_t i;

    if (!memchr(line, ',', len))
        return 0;
    for (i = 0; i < len; i++)
        if (line[i] >= '0' && line[i] <= '9')
            return 0;
    return 1;
}

/* ---- the batch ---------------------------------------------------------------------------- */

/* Stops the batch: what was answered so far goes out first, then the error (where: the
 * input and its line). */
static enum kd_code stop(struct kd_points *pts, long n_line, struct kd_err *err)
{
    hand_out(pts, 1);
    if (n_line > 0)
        kd_err_where(err, "%s: line %ld", pts->name, n_line);
    else
        kd_err_where(err, "%s", pts->name);
    return err->code;
}

/* The sink refused: nothing more is handed to it (where: the last line read). */
static enum kd_code write_failed(struct kd_points *pts, long n_line, struct kd_err *err)
{
    kd_err_set(err, KD_EIO, "lookup.points_write", "writing the answers failed");
    if (n_line > 0)
        kd_err_where(err, "%s: line %ld", pts->name, n_line);
    else
        kd_err_where(err, "%s", pts->name);
    return err->code;
}

enum kd_code kd_points_run(struct kd_points *pts, struct kd_parcel_index *idx,
                           const struct kd_points_opts *o, struct kd_points_stats *stats,
                           struct kd_err *err)
{
    struct kd_hits h;
    struct kd_err scratch; /* transformation failures answered in the line; cleared after one */
    struct timespec t0, t1;
    char *line;
    size_t len;
    long n_lines = 0, n_bad = 0;
    int got, too_long;
    enum kd_code rc = KD_OK;

    kd_hits_init(&h);
    kd_err_init(&scratch);
    pts->o = o;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((got = next_line(pts, &line, &len, &too_long)) == 1) {
        double xy[2], x, y;
        if (pts->sink_failed) {
            rc = write_failed(pts, n_lines, err);
            goto out;
        }
        n_lines++;
        if (len && line[len - 1] == '\r')
            len--;
        if (too_long) {
            answer_error(&pts->out, o->json, "", 0, "line too long");
            n_bad++;
            continue;
        }
        /* in place: the byte after the line is its '\r' or '\n', or spare room at the end of
         * the buffer, and is not read again */
        line[len] = '\0';
        if (n_lines == 1 && is_header(line, len)) {
            answer_header(&pts->out, o->json, line, len);
            continue;
        }
        if (memchr(line, '\0', len) || kd_points_parse_numbers(line, xy, 2)) {
            answer_error(&pts->out, o->json, line, len, len ? "not x,y" : "empty line");
            n_bad++;
            continue;
        }
        x = xy[0], y = xy[1];
        if (o->to_office && kd_xform_points(o->to_office, 0, &x, &y, 1, &scratch)) {
            kd_err_init(&scratch);
            answer_error(&pts->out, o->json, line, len, "cannot transform to the office CRS");
            n_bad++;
            continue;
        }
        if (kd_parcel_index_point(idx, x, y, &h, err)) {
            rc = stop(pts, n_lines, err);
            goto out;
        }
        answer_hits(&pts->out, o->json, line, len, xy[0], xy[1], &h);
        if (pts->out.len >= WRITE_BLOCK) {
            if (pts->out.failed) {
                rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
                goto out;
            }
            hand_out(pts, 0);
        }
    }
    if (got < 0) {
        char why[128];
        kd_err_set(err, KD_EIO, "lookup.points_read", "reading failed: %s",
                   errno_text(errno, why, sizeof why));
        rc = stop(pts, n_lines + 1, err);
        goto out;
    }
    hand_out(pts, 1);
    if (pts->sink_failed) {
        rc = write_failed(pts, n_lines, err);
        goto out;
    }
    if (pts->out.failed) {
        rc = kd_err_set(err, KD_ENOMEM, "lookup.nomem", "out of memory");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (stats) {
        stats->n_lines = n_lines;
        stats->n_bad = n_bad;
        stats->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    }
out:
    kd_hits_fini(&h);
    return rc;
}
