#!/usr/bin/env bash
# /api/v1/lookup from the shared lookup index against the same server without it
# (--no-lookup-index: the store's R*Tree and GEOS): the same bytes for every vertex of 400
# parcels (exactly on boundaries, most shared), every edge midpoint (within ulps of an edge:
# the points the index hands to GEOS), points a metre off each vertex, every vertex of the
# zones and restrictions, and 2,000 random points of the register's extent, in the office
# CRS and in lon/lat.
set -e
. "$(dirname "$0")/lib.sh"

spatial() { sqlite3 -batch -noheader -cmd "SELECT load_extension('mod_spatialite');" "$@" | tail -n +2; }

"$KADASTR" sample db --parcels 1200 >/dev/null
# the shapes as WKB in hex: their vertices exactly, not rounded as text would round them
spatial db "SELECT hex(AsBinary(geom_cad)) FROM parcels WHERE valid_to IS NULL ORDER BY id LIMIT 400;
            SELECT hex(AsBinary(geom_cad)) FROM zones;
            SELECT hex(AsBinary(geom_cad)) FROM restrictions;" >shapes.hex
run spatial db "SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e)
                FROM (SELECT Extent(geom_cad) AS e FROM parcels WHERE valid_to IS NULL)"
extent=$out

start_server db
indexed=$BASE
indexed_pid=$SERVER
start_server db plain --no-lookup-index
plain=$BASE
plain_pid=$SERVER
expect_contains "the second server says it has no index" "no lookup index" "$(cat plain.err)"

run python3 - "$indexed" "$plain" "$extent" shapes.hex <<'EOF'
import http.client, json, random, struct, sys, urllib.parse
indexed, plain, extent, hexes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
x0, y0, x1, y1 = map(float, extent.split("|"))

def rings(w):
    """The rings of a 2D (Multi)Polygon WKB, as lists of (x, y)."""
    def u32(o, le): return struct.unpack_from("<I" if le else ">I", w, o)[0]
    def poly(o):
        le = w[o] == 1; n = u32(o + 5, le); o += 9; out = []
        for _ in range(n):
            k = u32(o, le); o += 4
            out.append([struct.unpack_from("<2d" if le else ">2d", w, o + 16 * i) for i in range(k)])
            o += 16 * k
        return out, o
    le = w[0] == 1; t = u32(1, le)
    if t == 3:
        return poly(0)[0]
    out, o = [], 9
    for _ in range(u32(5, le)):
        r, o = poly(o); out += r
    return out

pts = []
for line in open(hexes):
    for v in rings(bytes.fromhex(line.strip())):
        for (ax, ay), (bx, by) in zip(v, v[1:]):
            pts += [(ax, ay), ((ax + bx) / 2, (ay + by) / 2), (ax + 1.0, ay), (ax, ay - 1.0)]
rnd = random.Random(11)
pts += [(x0 + rnd.random() * (x1 - x0), y0 + rnd.random() * (y1 - y0)) for _ in range(2000)]
conns = {}
def get(base, path):
    u = urllib.parse.urlparse(base)
    c = conns.get(base) or conns.setdefault(base, http.client.HTTPConnection(u.hostname, u.port))
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()
diffs = hits = boundary = 0
for i, (x, y) in enumerate(pts):
    path = "/api/v1/lookup?x=%.17g&y=%.17g" % (x, y)
    if i % 7 == 0:  # some in lon/lat: the register's box mapped onto a box near Tashkent
        path = "/api/v1/lookup?lon=%.9f&lat=%.9f" % (69.2 + (x - x0) / (x1 - x0) * 0.2,
                                                     41.25 + (y - y0) / (y1 - y0) * 0.15)
    a, b = get(indexed, path), get(plain, path)
    if a != b:
        diffs += 1
        if diffs <= 3:
            print("DIFF %s\n  index: %s %.300s\n  store: %s %.300s" % (path, a[0], a[1], b[0], b[1]))
    d = json.loads(a[1])
    hits += d["numberReturned"] > 0
    boundary += any(f["properties"].get("on_boundary") for f in d["features"])
print("%d points, %d with parcels, %d on a boundary, %d differences" % (len(pts), hits, boundary, diffs))
sys.exit(1 if diffs or hits < len(pts) // 3 or boundary < 500 else 0)
EOF
echo "$out"; [ "$rc" = 0 ] || echo "$err"
expect_eq "the index answers as the store does" 0 "$rc"

stop_server "$indexed_pid" "the indexed server"
stop_server "$plain_pid" "the plain server"
done_testing
