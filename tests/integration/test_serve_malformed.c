/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile input for `kadastr serve`: the real server on a free loopback port, and a table of
 * malformed requests sent over raw TCP sockets (every byte ours), in the manner of curl's
 * test cases: {name, raw bytes, the statuses allowed}. -1 (CLOSED) is "the connection was
 * closed without an answer", which HTTP allows for garbage. For every case: never a 5xx (but
 * the 505 a case expects), the server alive, and a normal GET /health on a new connection
 * answered 200 right after. Then a
 * slow client dribbling its request line while others are served, a flood of idle
 * connections, and SIGTERM with exit status 0 (under AddressSanitizer: no leak either).
 *
 * Where kadastr answers (problem+json, X-Request-Id) and where libmicrohttpd 0.9.75 answers by
 * itself (a short HTML page, no X-Request-Id) is printed per case; docs/operations.md
 * ("Malformed requests") sums it up.
 *
 * The cases of the table `known_bugs` are the bugs the first run of this battery found (each
 * says what went wrong then; docs/operations.md, "Fixed after the battery found them"). They
 * pass since the fixes and guard against their return; they run against a second server of
 * their own, so that what a regression would break (a leaked request record, a stop that waits
 * its whole grace period) does not hide anything in the battery. */
#include "harness.h"

#include "kadastr/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- the table ------------------------------------------------------------------------------ */

#define CLOSED (-1) /* no answer, the connection closed */
#define HUNG (-2)   /* no answer, the connection still open at the deadline */

enum {
    F_PROBLEM = 1 << 0,   /* a 4xx must be kadastr's application/problem+json */
    F_CLOSE = 1 << 1,     /* after the (first) answer the server must close the connection */
    F_SHUT_WR = 1 << 2,   /* half-close our side after sending (the request will not grow) */
    F_HEAD = 1 << 3,      /* answers carry no body */
    F_NO_COOKIE = 1 << 4, /* an injection attempt: no Set-Cookie header may come back */
    F_FRAMING = 1 << 5,   /* the answer's header block must come once (see known_bugs) */
};

/* A piece of the raw request: len bytes of s, repeated times times (0 counts as once). */
struct piece {
    const char *s;
    size_t len;
    size_t times;
};
#define P(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1, 1                                                                    \
    }
#define PN(lit, n)                                                                                 \
    {                                                                                              \
        lit, sizeof(lit) - 1, n                                                                    \
    }

struct mcase {
    const char *name;
    struct piece raw[6];
    int expect[6]; /* the first final answer's allowed statuses (or CLOSED); 0 ends */
    unsigned flags;
    const char *param; /* a 400 from kadastr names this parameter */
    const char *lang;  /* Content-Language of kadastr's answer */
    int seq[8];        /* pipelined: the statuses in order when the first answer is seq[0] */
    const char *bug;   /* known_bugs only: what goes wrong today */
};

#define REQ_HEALTH "GET /health HTTP/1.1\r\nHost: kadastr.test\r\n\r\n"
#define HOST "Host: kadastr.test\r\n"
#define LOOKUP "GET /api/v1/lookup?"
#define V11 " HTTP/1.1\r\n" HOST "\r\n"

/* The tables leave the trailing fields of most cases out (curl-style brevity). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct mcase battery[] = {
    /* -- request lines -- */
    {"garbage bytes", {P("\x01\x02garbage\xff\r\n\r\n")}, {CLOSED, 400}, F_CLOSE},
    {"missing version", {P("GET /health\r\n\r\n")}, {400, CLOSED}, F_CLOSE},
    {"lowercase method", {P("get /health" V11)}, {405, 400}, F_PROBLEM},
    {"unknown method", {P("FROB /health" V11)}, {405, 400}, F_PROBLEM},
    {"GET with no target", {P("GET HTTP/1.1\r\n" HOST "\r\n")}, {400, CLOSED}, F_CLOSE},
    {"GET, two spaces, no target", {P("GET  HTTP/1.1\r\n" HOST "\r\n")}, {400, CLOSED}, F_CLOSE},
    {"absolute-form target", {P("GET http://kadastr.test/health" V11)}, {200, 400, 404}, 0},
    {"10 KB method", {PN("G", 10000), P(" /health" V11)}, {405, 400, 414, 431}, 0},
    /* the per-connection memory (128 KB) holds a 70 KB request line: kadastr answers 405 */
    {"70 KB method", {PN("G", 70000), P(" /health" V11)}, {405, 414, 431, 400, CLOSED}, 0},
    {"NUL in the request line", {P("GET /he\0alth" V11)}, {400, 404}, 0},
    {"CR without LF", {P("GET /health HTTP/1.1\r" HOST "\r\n")}, {400, CLOSED}, F_CLOSE},
    {"bare LF line endings", {P("GET /health HTTP/1.1\nHost: kadastr.test\n\n")}, {200, 400}, 0},
    {"tabs as separators", {P("GET\t/health\tHTTP/1.1\r\n" HOST "\r\n")}, {400, CLOSED}, F_CLOSE},
    {"empty lines before the request", {P("\r\n\r\n" REQ_HEALTH)}, {200}, 0},
    /* After an incomplete request and the client's EOF, libmicrohttpd 0.9.75 closes at once or,
     * now and then (the EOF comes with the data in one epoll event), only at the idle timeout
     * (30 s): HUNG is allowed here, nowhere else. */
    {"only empty lines, then EOF", {P("\r\n\r\n\r\n")}, {CLOSED, 400, HUNG}, F_SHUT_WR},
    {"TLS ClientHello on the plain port",
     {P("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), PN("\x00", 200)},
     {CLOSED, 400, HUNG},
     F_SHUT_WR},
    {"half a request line, then EOF", {P("GET /hea")}, {CLOSED, 400, HUNG}, F_SHUT_WR},
    {"CONNECT", {P("CONNECT 127.0.0.1:22" V11)}, {405, 400}, F_PROBLEM},
    {"TRACE", {P("TRACE /health" V11)}, {405}, F_PROBLEM},
    {"OPTIONS *", {P("OPTIONS *" V11)}, {204, 400, 404}, F_HEAD},
    {"GET *", {P("GET *" V11)}, {400, 404}, F_PROBLEM},
    {"fragment in the target", {P("GET /health#frag" V11)}, {200, 400, 404}, 0},
    {"query without a path", {P("GET ?lon=1" V11)}, {400, 404}, 0},
    /* -- versions -- */
    {"HTTP/2.0", {P("GET /health HTTP/2.0\r\n" HOST "\r\n")}, {505}, F_CLOSE},
    {"HTTP/1.x", {P("GET /health HTTP/1.x\r\n" HOST "\r\n")}, {400, 505}, F_CLOSE},
    {"HTTP/0.9", {P("GET /health HTTP/0.9\r\n" HOST "\r\n")}, {505, 400}, F_CLOSE},
    {"HTTP/3", {P("GET /health HTTP/3\r\n" HOST "\r\n")}, {400, 505}, F_CLOSE},
    {"lowercase http/1.1", {P("GET /health http/1.1\r\n" HOST "\r\n")}, {400, 505}, F_CLOSE},
    {"junk after the version",
     {P("GET /health HTTP/1.1junk\r\n" HOST "\r\n")},
     {400, 505},
     F_CLOSE},
    {"HTTP/1.2 (a later 1.x)", {P("GET /health HTTP/1.2\r\n" HOST "\r\n")}, {200, 505}, 0},
    {"HTTP/2 prior-knowledge preface",
     {P("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")},
     {505, 400, CLOSED},
     F_CLOSE},
    {"HTTP/1.1 without Host", {P("GET /health HTTP/1.1\r\n\r\n")}, {200, 400}, 0},
    /* -- headers -- */
    /* beyond the default 64 KB per-connection memory: 431 from the library (with
     * --connection-memory 128 it fits, and an unknown header is ignored) */
    {"one 70 KB header",
     {P("GET /health HTTP/1.1\r\n" HOST "X-Big: "), PN("a", 70000), P("\r\n\r\n")},
     {200, 431, 414, 400, CLOSED},
     0},
    {"10,000 small headers",
     {P("GET /health HTTP/1.1\r\n" HOST), PN("X-Small: y\r\n", 10000), P("\r\n")},
     {431, 400, CLOSED},
     F_CLOSE},
    {"3,000 cookies",
     {P("GET /health HTTP/1.1\r\n" HOST "Cookie: c=1"), PN("; c=1", 3000), P("\r\n\r\n")},
     {431, 400, 200},
     0},
    {"header line without a colon",
     {P("GET /health HTTP/1.1\r\n" HOST "NoColonHere\r\n\r\n")},
     {400, CLOSED},
     F_CLOSE},
    {"space in a header name",
     {P("GET /health HTTP/1.1\r\n" HOST "Bad Name: x\r\n\r\n")},
     {200, 400},
     0},
    {"obsolete line folding",
     {P("GET /health HTTP/1.1\r\n" HOST "X-A: a\r\n  folded\r\n\r\n")},
     {200, 400},
     0},
    {"NUL in a header value",
     {P("GET /health HTTP/1.1\r\n" HOST "X-N: a\0b\r\n\r\n")},
     {200, 400},
     0},
    {"NUL in a header name",
     {P("GET /health HTTP/1.1\r\n" HOST "X\0N: ab\r\n\r\n")},
     {400, CLOSED},
     F_CLOSE},
    {"injection: CR in a header value",
     {P("GET /health HTTP/1.1\r\n" HOST "X-A: a\rSet-Cookie: x=1\r\n\r\n")},
     {200, 400},
     F_NO_COOKIE},
    {"injection: LF in a header value",
     {P("GET /health HTTP/1.1\r\n" HOST "X-A: a\nSet-Cookie: x=1\r\n\r\n")},
     {200, 400},
     F_NO_COOKIE},
    {"injection: CRLF in the path",
     {P("GET /health%0d%0aSet-Cookie:%20x=1" V11)},
     {404, 400},
     F_NO_COOKIE | F_PROBLEM},
    {"injection: CRLF in a query value",
     {P(LOOKUP "lon=1%0d%0aSet-Cookie:%20x=1&lat=1" V11)},
     {400},
     F_NO_COOKIE | F_PROBLEM,
     "lon"},
    {"Accept-Language junk",
     {P("GET /api/v1/parcels/x HTTP/1.1\r\n" HOST
        "Accept-Language: ;;;,q=zz,\xff\xfe,*;q=-1\r\n\r\n")},
     {400},
     F_PROBLEM,
     "number",
     "en"},
    {"Accept-Language of 30 KB",
     {P("GET /api/v1/parcels/x HTTP/1.1\r\n" HOST "Accept-Language: "), PN("xx-", 10000),
      P("\r\n\r\n")},
     {400},
     F_PROBLEM,
     "number",
     "en"},
    {"Accept-Language with NUL",
     {P("GET /api/v1/parcels/x HTTP/1.1\r\n" HOST "Accept-Language: \0ru\r\n\r\n")},
     {400},
     F_PROBLEM,
     "number",
     "en"},
    {"Accept-Language bad q-values",
     {P("GET /api/v1/parcels/x HTTP/1.1\r\n" HOST
        "Accept-Language: de;q=nan, fr;q=1e999, en;q=-5\r\n\r\n")},
     {400},
     F_PROBLEM,
     "number",
     "en"},
    {"Accept-Encoding junk",
     {P("GET /api/v1/parcels/x HTTP/1.1\r\n" HOST "Accept-Encoding: "), PN("gzip;q=abc,;q=,", 100),
      P("\r\n\r\n")},
     {400},
     F_PROBLEM,
     "number"},
    {"If-None-Match of 40 KB",
     {P("GET /health HTTP/1.1\r\n" HOST "If-None-Match: "), PN("\"a\",", 10000), P("\r\n\r\n")},
     {200},
     0},
    {"Origin of 30 KB, not UTF-8",
     {P("GET /health HTTP/1.1\r\n" HOST "Origin: \xff"), PN("o", 30000), P("\r\n\r\n")},
     {200},
     0},
    /* -- bodies and their framing -- */
    {"Content-Length not a number",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n")},
     {400},
     F_CLOSE},
    {"Content-Length negative",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n")},
     {400},
     F_CLOSE},
    {"Content-Length of 23 digits",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: 99999999999999999999999\r\n\r\n")},
     {413, 400},
     F_CLOSE},
    {"Content-Length as a list",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: 1, 2\r\n\r\nab" REQ_HEALTH)},
     {400},
     F_CLOSE},
    {"Content-Length with a plus sign",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: +2\r\n\r\nab" REQ_HEALTH)},
     {400},
     F_CLOSE},
    {"duplicate Content-Length, same value",
     {P("GET /health HTTP/1.1\r\n" HOST
        "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab" REQ_HEALTH)},
     {200, 400},
     0,
     NULL,
     NULL,
     {200, 200}},
    {"a body on GET, then a second request",
     {P("GET /health HTTP/1.1\r\n" HOST "Content-Length: 5\r\n\r\nhello" REQ_HEALTH)},
     {200, 400},
     0,
     NULL,
     NULL,
     {200, 200}},
    {"valid chunked body on GET, then a second request",
     {P("GET /health HTTP/1.1\r\n" HOST
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" REQ_HEALTH)},
     {200, 400},
     0,
     NULL,
     NULL,
     {200, 200}},
    {"chunked: size not hex (POST)",
     {P("POST /health HTTP/1.1\r\n" HOST
        "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")},
     {400, 405},
     F_CLOSE},
    {"chunked: size not hex (GET)",
     {P("GET /health HTTP/1.1\r\n" HOST
        "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")},
     {400},
     F_CLOSE},
    {"chunked: 20-digit size",
     {P("POST /health HTTP/1.1\r\n" HOST
        "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n0\r\n\r\n")},
     {413, 400, 405},
     F_CLOSE},
    {"chunked: shorter than its size",
     {P("POST /health HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n5\r\nab\r\n0\r\n\r\n")},
     {400, 405},
     F_CLOSE},
    {"chunked: a 70 KB trailer",
     {P("POST /health HTTP/1.1\r\n" HOST
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: "),
      PN("x", 70000), P("\r\n\r\n")},
     {431, 400, 405},
     F_CLOSE},
    {"POST of 10 MB",
     {P("POST /health HTTP/1.1\r\n" HOST "Content-Length: 10485760\r\n\r\n"), PN("a", 10485760)},
     {405, 413, CLOSED},
     F_PROBLEM},
    {"POST, Expect: 100-continue",
     {P("POST /health HTTP/1.1\r\n" HOST "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")},
     {405, 417},
     F_PROBLEM},
    {"PUT with an empty body",
     {P("PUT /health HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n")},
     {405},
     F_PROBLEM},
    /* -- targets -- */
    {"URL of 9 KB (query)", {P(LOOKUP "lon="), PN("1", 9000), P(V11)}, {414}, F_PROBLEM},
    {"URL of 9 KB (path)", {P("GET /api/v1/parcels/"), PN("a", 9000), P(V11)}, {414}, F_PROBLEM},
    /* the most arguments the default 64 KB of connection memory holds for kadastr to answer
     * (more, and the library drops the request: docs/operations.md) */
    {"900 empty query parameters", {P(LOOKUP "a"), PN("&a", 899), P(V11)}, {400}, F_PROBLEM},
    {"600 lon parameters (9 KB URL)",
     {P(LOOKUP "lon=1"), PN("&lon=1.0000000000", 599), P(V11)},
     {414},
     F_PROBLEM},
    /* kadastr answers 414 itself (the URL fits the connection's memory) and keeps the
     * connection, as HTTP allows */
    {"URL of 60 KB", {P(LOOKUP "lon="), PN("1", 60000), P(V11)}, {414}, F_PROBLEM},
    /* beyond the 64 KB of connection memory libmicrohttpd answers 431 itself */
    {"URL of 70 KB", {P(LOOKUP "lon="), PN("1", 70000), P(V11)}, {414, 431, CLOSED}, 0},
    {"invalid percent-encoding in the path",
     {P("GET /api/v1/parcels/%zz%4" V11)},
     {400, 404},
     F_PROBLEM},
    {"invalid percent-encoding in the query",
     {P(LOOKUP "lon=%zz&lat=1" V11)},
     {400},
     F_PROBLEM,
     "lon"},
    {"truncated percent-encoding in the query",
     {P(LOOKUP "lon=1%&lat=1" V11)},
     {400},
     F_PROBLEM,
     "lon"},
    {"invalid UTF-8 in the path (raw)",
     {P("GET /api/v1/parcels/\xff\xfe" V11)},
     {400},
     F_PROBLEM,
     "path"},
    {"invalid UTF-8 in the path (encoded)",
     {P("GET /api/v1/parcels/%ff%fe" V11)},
     {400},
     F_PROBLEM,
     "path"},
    {"overlong UTF-8 slash in the path",
     {P("GET /api/v1/parcels/%c0%af" V11)},
     {400},
     F_PROBLEM,
     "path"},
    {"UTF-16 surrogate in the path",
     {P("GET /api/v1/parcels/%ed%a0%80" V11)},
     {400},
     F_PROBLEM,
     "path"},
    {"invalid UTF-8 in the query (raw)", {P(LOOKUP "lon=\xff&lat=1" V11)}, {400}, F_PROBLEM, "lon"},
    {"invalid UTF-8 in the query (encoded)",
     {P(LOOKUP "lon=%ff&lat=1" V11)},
     {400},
     F_PROBLEM,
     "lon"},
    {"invalid UTF-8 in a parameter name", {P(LOOKUP "%ff=1" V11)}, {400}, F_PROBLEM, "query"},
    {"traversal /../", {P("GET /../../etc/passwd" V11)}, {404}, F_PROBLEM},
    {"traversal %2e%2e/", {P("GET /%2e%2e/%2e%2e/etc/passwd" V11)}, {404}, F_PROBLEM},
    {"traversal //etc/passwd", {P("GET //etc/passwd" V11)}, {404}, F_PROBLEM},
    {"traversal with backslashes", {P("GET /..\\..\\etc\\passwd" V11)}, {404}, F_PROBLEM},
    {"traversal through a route", {P("GET /api/v1/../../health" V11)}, {404}, F_PROBLEM},
    {"traversal encoded in a number",
     {P("GET /api/v1/parcels/..%2f..%2fetc%2fpasswd" V11)},
     {400, 404},
     F_PROBLEM},
    {"traversal double-encoded",
     {P("GET /%252e%252e/%252e%252e/etc/passwd" V11)},
     {404},
     F_PROBLEM},
    {"NUL in a parameter name", {P(LOOKUP "lon%00junk=1&lat=1" V11)}, {400}, F_PROBLEM},
    {"6 KB parameter name", {P(LOOKUP), PN("k", 6000), P("=1" V11)}, {400, 414}, F_PROBLEM},
    {"500 unknown parameters", {P(LOOKUP "a=1"), PN("&a=1", 499), P(V11)}, {400}, F_PROBLEM, "a"},
    {"unknown parameter", {P(LOOKUP "lon=69&lat=41&colour=red" V11)}, {400}, F_PROBLEM, "colour"},
    {"parameter on /health", {P("GET /health?verbose=1" V11)}, {400}, F_PROBLEM, "verbose"},
    {"lon=NaN", {P(LOOKUP "lon=NaN&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lat=nan", {P(LOOKUP "lon=69&lat=nan" V11)}, {400}, F_PROBLEM, "lat"},
    {"lon=inf", {P(LOOKUP "lon=inf&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon=-Infinity", {P(LOOKUP "lon=-Infinity&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon=1e999 (overflows)", {P(LOOKUP "lon=1e999&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon not a number", {P(LOOKUP "lon=abc&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon empty", {P(LOOKUP "lon=&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon with trailing junk", {P(LOOKUP "lon=69abc&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"lon outside the world", {P(LOOKUP "lon=500&lat=41" V11)}, {400}, F_PROBLEM, "lon"},
    {"x without y", {P(LOOKUP "x=1" V11)}, {400}, F_PROBLEM, "y"},
    {"crs not EPSG", {P(LOOKUP "x=1&y=1&crs=EPSG:abc" V11)}, {400}, F_PROBLEM, "crs"},
    {"crs of 14 digits",
     {P(LOOKUP "x=1&y=1&crs=EPSG:99999999999999" V11)},
     {400},
     F_PROBLEM,
     "crs"},
    {"300-byte cadastral number",
     {P("GET /api/v1/parcels/"), PN("1", 300), P("/history" V11)},
     {400, 404},
     F_PROBLEM},
    {"HEAD", {P("HEAD /health" V11)}, {200}, F_HEAD},
    /* -- pipelining -- */
    {"5 requests in one write",
     {PN(REQ_HEALTH, 5)},
     {200},
     0,
     NULL,
     NULL,
     {200, 200, 200, 200, 200}},
    {"mixed requests in one write",
     {P(REQ_HEALTH LOOKUP "lon=x&lat=1" V11 "GET /nowhere" V11 LOOKUP "lon=69&lat=41" V11
                          "OPTIONS /health" V11),
      P("GET /api/v1/parcels/%ff" V11)},
     {200},
     0,
     NULL,
     NULL,
     {200, 400, 404, 200, 204, 400}},
    {"requests, garbage, request in one write",
     {P(REQ_HEALTH "garbage\r\n\r\n" REQ_HEALTH)},
     {200},
     F_CLOSE,
     NULL,
     NULL,
     {200}},
    {"a request and half of another", {P(REQ_HEALTH "GET /hea")}, {200}, 0, NULL, NULL, {200}},
};

/* Former bugs: each asserts the right behaviour; `bug` says what went wrong before the fix. */
static const struct mcase known_bugs[] = {
    {"1,000 empty query parameters (2 KB URL)",
     {P(LOOKUP "a"), PN("&a", 999), P(V11)},
     {400, 414, 431},
     0,
     NULL,
     NULL,
     {0},
     "libmicrohttpd runs out of connection memory storing the arguments, logs a 431 it never "
     "sends, "
     "and holds the connection until the idle timeout; the access handler and the completion "
     "callback are never called, so the struct req made by uri_logger leaks and in_flight stays "
     "up"},
    {"1,500 lon parameters (9 KB URL)",
     {P(LOOKUP "lon=1"), PN("&lon=1", 1499), P(V11)},
     {414, 400, 431},
     0,
     NULL,
     NULL,
     {0},
     "as above: no answer, held until the idle timeout, struct req leaked"},
    {"duplicate Content-Length, different values",
     {P("GET /health HTTP/1.1\r\n" HOST
        "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab" REQ_HEALTH)},
     {400},
     F_CLOSE,
     NULL,
     NULL,
     {0},
     "libmicrohttpd takes the first value: the stray byte prefixes the next request (desync; "
     "answered 200 then 405 for method 'bGET')"},
    {"Content-Length and Transfer-Encoding together",
     {P("POST /health HTTP/1.1\r\n" HOST
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" REQ_HEALTH)},
     {400, 405},
     F_CLOSE,
     NULL,
     NULL,
     {0},
     "answered, but the connection is kept open (RFC 9112 6.1: the server MUST close it)"},
    {"Transfer-Encoding other than chunked",
     {P("POST /health HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\nabc")},
     {400, 405},
     F_CLOSE | F_SHUT_WR,
     NULL,
     NULL,
     {0},
     "no answer: the server waits for a body it cannot delimit until the idle timeout, even after "
     "the client's EOF (RFC 9112 6.3: 400 and close)"},
    {"chunk extension of 70 KB",
     {P("POST /health HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n3;"), PN("x", 70000),
      P("\r\nabc\r\n0\r\n\r\n")},
     {400, 405, 413, 431},
     F_CLOSE,
     NULL,
     NULL,
     {0},
     "libmicrohttpd answers 500 by itself (its buffer is full and the handler never consumes it)"},
    {"NUL in a query value",
     {P(LOOKUP "lon=1%00junk&lat=1" V11)},
     {400},
     F_PROBLEM,
     "lon",
     NULL,
     {0},
     "the value is cut at the NUL: lon=1 is looked up, 200"},
    {"NUL in the path",
     {P("GET /health%00junk" V11)},
     {400, 404},
     F_PROBLEM,
     NULL,
     NULL,
     {0},
     "the path is cut at the NUL: /health answers 200"},
};
#pragma GCC diagnostic pop

/* ---- the server ---------------------------------------------------------------------------- */

static struct harness_server main_srv = HARNESS_SERVER_INIT;

/* ---- raw HTTP over a socket ---------------------------------------------------------------- */

struct answer {
    int status;
    char ctype[80], clang[32], allow[80];
    int request_id; /* X-Request-Id: kadastr answered (libmicrohttpd's own answers have none) */
    int set_cookie;
    int close;             /* Connection: close */
    int doubled;           /* the header block came twice (libmicrohttpd's error answers) */
    size_t body, body_len; /* offsets in the exchange's input */
};

#define MAX_ANSWERS 16

struct exchange {
    struct kd_buf in;
    struct answer a[MAX_ANSWERS];
    int n;       /* final answers parsed */
    int interim; /* 1xx answers seen */
    int eof;     /* the server closed (FIN or RST) */
    int reset;
    size_t pos; /* parse position */
    size_t sent;
};

static const char *find_crlfcrlf(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i;
    return NULL;
}

/* The value of header name in the block [p, end), copied; 1 if present. */
static int header_value(const char *p, const char *end, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            size_t len;
            while (v < eol && *v == ' ')
                v++;
            len = (size_t)(eol - v);
            if (len && v[len - 1] == '\r')
                len--;
            if (out)
                kd_snprintf(out, size, "%.*s", (int)len, v);
            return 1;
        }
        p = eol + 1;
    }
    return 0;
}

/* Parses the complete answers in x->in from x->pos. Returns -1 on bytes that are not HTTP. */
static int parse_answers(struct exchange *x, int head)
{
    for (;;) {
        const char *p = x->in.data + x->pos, *hend, *hdrs;
        size_t avail = x->in.len - x->pos, hlen, blen = 0;
        char v[64];
        struct answer an;
        int status;

        if (!avail)
            return 0;
        if (avail >= 12 && strncmp(p, "HTTP/1.", 7) != 0)
            return -1;
        hend = find_crlfcrlf(p, avail);
        if (!hend)
            return 0;
        if (sscanf(p + 9, "%3d", &status) != 1 || status < 100 || status > 599)
            return -1;
        hdrs = memchr(p, '\n', (size_t)(hend - p));
        hdrs = hdrs ? hdrs + 1 : hend;
        hlen = (size_t)(hend + 4 - p);
        memset(&an, 0, sizeof an);
        an.status = status;
        header_value(hdrs, hend + 2, "Content-Type", an.ctype, sizeof an.ctype);
        header_value(hdrs, hend + 2, "Content-Language", an.clang, sizeof an.clang);
        header_value(hdrs, hend + 2, "Allow", an.allow, sizeof an.allow);
        an.request_id = header_value(hdrs, hend + 2, "X-Request-Id", NULL, 0);
        an.set_cookie = header_value(hdrs, hend + 2, "Set-Cookie", NULL, 0);
        an.close =
            header_value(hdrs, hend + 2, "Connection", v, sizeof v) && strcasecmp(v, "close") == 0;
        {
            /* the same status line again where the body of an answer that closes should
             * start: a doubled header block (libmicrohttpd's error answers) */
            size_t sl = (size_t)(hdrs - p);
            if (!an.close || avail == hlen)
                sl = 0;
            else if (avail - hlen < sl && !x->eof && memcmp(p + hlen, p, avail - hlen) == 0)
                return 0;
            if (sl && avail - hlen >= sl && memcmp(p + hlen, p, sl) == 0) {
                const char *h2 = find_crlfcrlf(p + hlen, avail - hlen);
                if (!h2)
                    return x->eof ? -1 : 0;
                an.doubled = 1;
                hlen = (size_t)(h2 + 4 - p);
            }
        }
        if (status >= 200 && status != 204 && status != 304 && !head) {
            if (header_value(hdrs, hend + 2, "Content-Length", v, sizeof v))
                blen = (size_t)strtoull(v, NULL, 10);
            else if (x->eof)
                blen = avail - hlen; /* delimited by the close */
            else
                return 0;
        }
        if (avail < hlen + blen)
            return 0;
        an.body = x->pos + hlen;
        an.body_len = blen;
        x->pos += hlen + blen;
        if (status < 200) {
            x->interim++;
            continue;
        }
        if (x->n < MAX_ANSWERS)
            x->a[x->n++] = an;
    }
}

static void raw_build(const struct piece *pc, struct kd_buf *out)
{
    int i;

    kd_buf_init(out);
    for (i = 0; i < 6 && pc[i].s; i++) {
        size_t t, times = pc[i].times ? pc[i].times : 1;
        for (t = 0; t < times; t++)
            kd_buf_add(out, pc[i].s, pc[i].len);
    }
    kd_buf_add(out, "", 0);
}

/* Sends raw on a new connection and reads until `want` final answers (and, with F_CLOSE,
 * the close after them), the server's close, or the deadline. */
static int exchange_raw(unsigned port, const char *raw, size_t len, unsigned flags, int want,
                        double deadline_s, struct exchange *x)
{
    double t0 = harness_now_s(), done_at = 0;
    int fd = harness_tcp_connect(port), shut = 0, bad = 0;

    memset(x, 0, sizeof *x);
    kd_buf_init(&x->in);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    while (harness_now_s() - t0 < deadline_s) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (x->sent < len)
            pf.events |= POLLOUT;
        if (poll(&pf, 1, 50) < 0 && errno != EINTR)
            break;
        if ((pf.revents & POLLOUT) && x->sent < len) {
            size_t chunk = len - x->sent > 65536 ? 65536 : len - x->sent;
            ssize_t n = send(fd, raw + x->sent, chunk, MSG_NOSIGNAL);
            if (n > 0)
                x->sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                len = x->sent; /* the server stopped reading: what it answered still counts */
        }
        if (x->sent >= len && (flags & F_SHUT_WR) && !shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            char b[65536];
            ssize_t n = recv(fd, b, sizeof b, 0);
            if (n > 0) {
                kd_buf_add(&x->in, b, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                x->eof = 1;
                x->reset = n < 0;
            }
        }
        if (parse_answers(x, (flags & F_HEAD) != 0) < 0) {
            bad = 1;
            break;
        }
        if (x->eof)
            break;
        if (x->n >= want && x->sent >= len) {
            if (!(flags & F_CLOSE))
                break;
            if (!done_at)
                done_at = harness_now_s();
            else if (harness_now_s() - done_at > 3.0)
                break; /* answered, but the connection was not closed */
        }
    }
    if (x->eof)
        parse_answers(x, (flags & F_HEAD) != 0);
    close(fd);
    kd_buf_add(&x->in, "", 0);
    return bad ? -2 : 0;
}

static int outcome(const struct exchange *x)
{
    if (x->n)
        return x->a[0].status;
    return x->eof ? CLOSED : HUNG;
}

/* GET /health on a new connection: the status, or -1. */
static int health(unsigned port)
{
    struct exchange x;
    int st;

    exchange_raw(port, REQ_HEALTH, sizeof REQ_HEALTH - 1, 0, 1, 10.0, &x);
    st = x.n ? x.a[0].status : -1;
    if (st == 200 && !strstr(x.in.data, "\"status\":\"ok\""))
        st = -1;
    kd_buf_fini(&x.in);
    return st;
}

/* ---- running a table ------------------------------------------------------------------------ */

static int in_set(const int *set, int v)
{
    int i;

    for (i = 0; i < 6 && set[i]; i++)
        if (set[i] == v)
            return 1;
    return 0;
}

static void set_str(const int *set, char *out, size_t size)
{
    size_t off = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < 8 && set[i] && off < size; i++)
        off += (size_t)kd_snprintf(out + off, size - off, "%s%d", i ? "," : "", set[i]);
}

/* Runs one case; appends why it failed to why (empty when it passed). */
static void run_case(const struct harness_server *s, const struct mcase *c, double deadline_s,
                     struct kd_buf *why)
{
    struct kd_buf raw;
    struct exchange x;
    int nseq = 0, want, i, got, bad;
    char exp[64], seen[160] = "";
    size_t off = 0;
    struct kd_buf w;

    kd_buf_init(&w);
    while (nseq < 8 && c->seq[nseq])
        nseq++;
    want = nseq ? nseq : 1;
    raw_build(c->raw, &raw);
    /* the cases that may be held open (HUNG) need not be waited for long */
    bad = exchange_raw(s->port, raw.data, raw.len, c->flags, want,
                       in_set(c->expect, HUNG) ? 2.0 : deadline_s, &x);
    got = outcome(&x);
    for (i = 0; i < x.n && off < sizeof seen; i++)
        off += (size_t)kd_snprintf(seen + off, sizeof seen - off, "%s%d%s%s", i ? "," : "",
                                   x.a[i].status, x.a[i].request_id ? "" : "(lib)",
                                   x.a[i].doubled ? "(header block twice)" : "");
    if (!x.n)
        kd_snprintf(seen, sizeof seen, "%s", got == CLOSED ? "closed" : "no answer");
    print_message("  %-48s -> %s%s%s\n", c->name, seen, x.n && x.eof ? ", closed" : "",
                  x.interim ? " (after 100 Continue)" : "");

    set_str(c->expect, exp, sizeof exp);
    if (bad)
        kd_buf_addf(&w, " answered with bytes that are not HTTP;");
    if (!in_set(c->expect, got))
        kd_buf_addf(&w, " got %s, expected one of {%s};", seen, exp);
    for (i = 0; i < x.n; i++) {
        if (x.a[i].status >= 500 && !in_set(c->expect, x.a[i].status))
            kd_buf_addf(&w, " a %d;", x.a[i].status);
        if ((c->flags & F_FRAMING) && x.a[i].doubled)
            kd_buf_addf(&w, " the %d answer's header block came twice;", x.a[i].status);
        if ((c->flags & F_NO_COOKIE) && x.a[i].set_cookie)
            kd_buf_addf(&w, " a Set-Cookie header came back (injection);");
    }
    if (x.n) {
        const struct answer *a = &x.a[0];
        const char *body = x.in.data + a->body;
        if ((c->flags & F_PROBLEM) && a->status >= 400 && a->status < 500 &&
            strcmp(a->ctype, "application/problem+json") != 0)
            kd_buf_addf(&w, " Content-Type '%s', expected application/problem+json;", a->ctype);
        if (a->status == 405 && a->request_id && strcmp(a->allow, "GET, HEAD, OPTIONS") != 0)
            kd_buf_addf(&w, " 405 without 'Allow: GET, HEAD, OPTIONS';");
        if (c->param && a->status == 400) {
            char p[200];
            kd_snprintf(p, sizeof p, "\"parameter\":\"%s\"", c->param);
            if (!a->body_len || !strstr(body, p))
                kd_buf_addf(&w, " the 400 does not name the parameter '%s';", c->param);
        }
        if (c->lang && strcmp(a->clang, c->lang) != 0)
            kd_buf_addf(&w, " Content-Language '%s', expected '%s';", a->clang, c->lang);
        if (nseq && a->status == c->seq[0]) {
            for (i = 0; i < nseq; i++)
                if (i >= x.n || x.a[i].status != c->seq[i])
                    break;
            if (i < nseq || x.n != nseq) {
                set_str(c->seq, exp, sizeof exp);
                kd_buf_addf(&w, " answers %s, expected {%s} in that order;", seen, exp);
            }
        } else if (nseq && x.n > 1) {
            kd_buf_addf(&w, " answers %s: after the error the connection must close;", seen);
        }
        if ((c->flags & F_CLOSE) && !x.eof)
            kd_buf_addf(&w, " the connection was left open after the answer;");
        if ((c->flags & F_CLOSE) && x.n > (nseq ? nseq : 1))
            kd_buf_addf(
                &w, " %d answers: requests after it were served on a connection that had to close;",
                x.n);
    }
    if (!harness_server_alive(s))
        kd_buf_addf(&w, " THE SERVER DIED;");
    else if ((i = health(s->port)) != 200)
        kd_buf_addf(&w, " GET /health afterwards: %d;", i);
    if (w.len) {
        kd_buf_addf(why, "\n  [%s]%s", c->name, w.data);
        if (c->bug)
            kd_buf_addf(why, "\n      KNOWN BUG: %s", c->bug);
    }
    kd_buf_fini(&w);
    kd_buf_fini(&raw);
    kd_buf_fini(&x.in);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (harness_init("db.sqlite", 200, 0))
        return -1;
    signal(SIGPIPE, SIG_IGN);
    harness_server_start(&main_srv, "main", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    double took;

    (void)state;
    if (main_srv.pid > 0)
        harness_server_stop(&main_srv, 15.0, &took);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_malformed_battery(void **state)
{
    struct kd_buf why;
    size_t i, n = sizeof battery / sizeof battery[0];

    (void)state;
    assert_true(n >= 50);
    assert_int_equal(health(main_srv.port), 200);
    kd_buf_init(&why);
    print_message("%zu malformed requests (\"(lib)\": answered by libmicrohttpd itself)\n", n);
    for (i = 0; i < n; i++)
        run_case(&main_srv, &battery[i], 6.0, &why);
    if (why.len)
        fprintf(stderr, "malformed requests answered wrongly:%s\n", why.data);
    n = why.len;
    kd_buf_fini(&why);
    if (n)
        fail_msg("malformed requests answered wrongly (listed above)");
}

/* One byte of the request line per second: meanwhile the others are served at once. */
static void test_malformed_slow_client(void **state)
{
    static const char line[] = "GET /health HTTP/1.1\r\n";
    int fd = harness_tcp_connect(main_srv.port), i;
    char b[64];

    (void)state;
    assert_true(fd >= 0);
    for (i = 0; i < 6; i++) {
        double t0;
        assert_int_equal(send(fd, line + i, 1, MSG_NOSIGNAL), 1);
        t0 = harness_now_s();
        assert_int_equal(health(main_srv.port), 200);
        assert_true(harness_now_s() - t0 < 1.0);
        sleep(1);
    }
    /* nothing was answered on the dribbling connection, and it was not cut off */
    assert_int_equal(recv(fd, b, sizeof b, MSG_DONTWAIT), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd); /* the idle timeout (30 s) is not waited for: we close it ourselves */

    /* a slow but complete request (10 bytes a second) is answered */
    {
        static const char req[] = REQ_HEALTH;
        struct exchange x;
        size_t k;
        fd = harness_tcp_connect(main_srv.port);
        assert_true(fd >= 0);
        for (k = 0; k < sizeof req - 1; k++) {
            assert_int_equal(send(fd, req + k, 1, MSG_NOSIGNAL), 1);
            usleep(100000);
        }
        memset(&x, 0, sizeof x);
        kd_buf_init(&x.in);
        for (i = 0; i < 100 && x.n == 0 && !x.eof; i++) {
            ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
            if (n > 0)
                kd_buf_add(&x.in, b, (size_t)n);
            else if (n == 0)
                x.eof = 1;
            else
                usleep(20000);
            assert_true(parse_answers(&x, 0) == 0);
        }
        close(fd);
        assert_int_equal(x.n, 1);
        assert_int_equal(x.a[0].status, 200);
        kd_buf_fini(&x.in);
    }
}

/* ~100 idle connections and 100 with half a request line: a normal request is still answered. */
static void test_malformed_connection_flood(void **state)
{
    enum { N = 100 };
    int idle[N], half[N], i;
    double t0;

    (void)state;
    for (i = 0; i < N; i++) {
        idle[i] = harness_tcp_connect(main_srv.port);
        assert_true(idle[i] >= 0);
    }
    t0 = harness_now_s();
    assert_int_equal(health(main_srv.port), 200);
    assert_true(harness_now_s() - t0 < 2.0);
    for (i = 0; i < N; i++) {
        half[i] = harness_tcp_connect(main_srv.port);
        assert_true(half[i] >= 0);
        assert_int_equal(send(half[i], "GET /health HT", 14, MSG_NOSIGNAL), 14);
    }
    t0 = harness_now_s();
    assert_int_equal(health(main_srv.port), 200);
    assert_true(harness_now_s() - t0 < 2.0);
    for (i = 0; i < N; i++) {
        close(idle[i]);
        close(half[i]);
    }
    assert_true(harness_server_alive(&main_srv));
    assert_int_equal(health(main_srv.port), 200);
}

static void test_malformed_sigterm_exits_zero(void **state)
{
    double took = 0;
    int rc;

    (void)state;
    rc = harness_server_stop(&main_srv, 15.0, &took);
    print_message("  SIGTERM: exit status %d after %.2f s\n", rc, took);
    assert_int_equal(rc, 0);
    /* nothing was left "in flight" by the battery: the stop did not wait its 5 s grace */
    assert_true(took < 4.5);
}

/* The known bugs, on a server of their own: each asserts the right behaviour. */
static void test_malformed_known_bugs(void **state)
{
    struct harness_server s = HARNESS_SERVER_INIT;
    struct kd_buf why;
    size_t i, n = sizeof known_bugs / sizeof known_bugs[0];
    double took = 0;
    int rc;

    (void)state;
    /* the first two cases need more arguments than the default 64 KB of connection memory
     * holds: the fix for them is raising it, as an operator would (--connection-memory) */
    harness_server_start(&s, "bugs", NULL,
                         (const char *const[]){"--connection-memory", "128", NULL});
    kd_buf_init(&why);
    print_message("%zu known bugs (asserting the right behaviour)\n", n);
    for (i = 0; i < n; i++)
        run_case(&s, &known_bugs[i], 4.0, &why);
    rc = harness_server_stop(&s, 15.0, &took);
    print_message("  SIGTERM: exit status %d after %.2f s\n", rc, took);
    if (rc != 0 || took >= 4.5)
        kd_buf_addf(&why,
                    "\n  [SIGTERM after the cases] exit status %d after %.2f s (expected 0, well "
                    "under the 5 s grace: a request record leaked keeps in_flight above 0; under "
                    "AddressSanitizer LeakSanitizer reports it from uri_logger)",
                    rc, took);
    if (why.len)
        fprintf(stderr, "KNOWN BUGS (docs/operations.md, \"Malformed requests\"):%s\n", why.data);
    n = why.len;
    kd_buf_fini(&why);
    if (n)
        fail_msg("known bugs still present (listed above)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_battery),
        cmocka_unit_test(test_malformed_slow_client),
        cmocka_unit_test(test_malformed_connection_flood),
        cmocka_unit_test(test_malformed_sigterm_exits_zero),
        cmocka_unit_test(test_malformed_known_bugs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
