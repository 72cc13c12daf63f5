#!/usr/bin/env bash
# /api/v1/parcels/{number} from the answers prepared when the register changes against the same server
# making every answer from the register (--no-prepared-answers): the same bytes for every
# number of the sample region after each load that changes what a parcel shows (its zones,
# restrictions, rights; a parcel replaced), with both servers running while the register is
# written: the server's preparer makes the answers a write cleared within moments, and
# until then the register answers. Then that the route really reads the prepared answers,
# that answers made by another build or PROJ are not served but made again, and that
# `kadastr migrate` makes them with no server running.
set -e
. "$(dirname "$0")/lib.sh"

src="$KD_SOURCE_DIR/data/sample-region.gpkg"
sq() { sqlite3 -batch -noheader db "$@"; }

run "$KADASTR" init db
expect_eq "init" 0 "$rc"
run "$KADASTR" load db "$src" --as parcels --layer parcels
expect_eq "parcels load" 0 "$rc"
expect_eq "a load prepares no answer itself" 0 "$(sq "SELECT count(*) FROM parcel_answers")"

start_server db
prepared=$BASE
prepared_pid=$SERVER
start_server db plain --no-prepared-answers
plain=$BASE
plain_pid=$SERVER
expect_contains "the second server says it prepares nothing" "no prepared answers" "$(cat plain.err)"

# compare WHAT: every number ever registered (live and retired) and a few that never were,
# asked of both servers on kept-alive connections; prints a summary, fails on any difference
missing() {
  sq "SELECT count(*) FROM parcels p WHERE p.valid_to IS NULL AND NOT EXISTS
      (SELECT 1 FROM parcel_answers a WHERE a.parcel_id = p.id AND a.body IS NOT NULL)"
}
compare() {
  sq "SELECT DISTINCT number FROM parcels ORDER BY number" >numbers.txt
  run python3 - "$prepared" "$plain" numbers.txt <<'EOF'
import http.client, json, sys, urllib.parse
a_base, b_base, path = sys.argv[1:4]
conns = {}
def get(base, p):
    u = urllib.parse.urlparse(base)
    c = conns.get(base) or conns.setdefault(base, http.client.HTTPConnection(u.hostname, u.port))
    c.request("GET", p)
    r = c.getresponse()
    # problem types name the server's own URL: the two listen on different ports
    return r.status, r.getheader("ETag"), r.read().replace(base.encode(), b"BASE")
numbers = [l.strip() for l in open(path) if l.strip()]
numbers += ["10:26:01:02:03:9999", "99:99:99:99:99:9999"]
diffs = ok = zones = restrictions = rights = 0
for n in numbers:
    p = "/api/v1/parcels/" + urllib.parse.quote(n)
    a, b = get(a_base, p), get(b_base, p)
    if a != b:
        diffs += 1
        if diffs <= 3:
            print("DIFF %s\n  prepared: %s %.400s\n  register: %s %.400s" % (p, a[0], a[2], b[0], b[2]))
        continue
    if a[0] == 200:
        ok += 1
        pr = json.loads(a[2])["properties"]
        zones += len(pr["zones"]) > 0
        restrictions += len(pr["restrictions"]) > 0
        rights += len(pr["rights"]) > 0
print("%d numbers, %d answered 200, with zones %d, restrictions %d, rights %d, %d differences"
      % (len(numbers), ok, zones, restrictions, rights, diffs))
sys.exit(1 if diffs else 0)
EOF
  echo "$1: $out"
  [ "$rc" = 0 ] || echo "$err"
  expect_eq "$1: the prepared answers are the register's" 0 "$rc"
  # the server's preparer makes what the write cleared within moments
  for _ in $(seq 1 200); do
    [ "$(missing)" = 0 ] && break
    sleep 0.05
  done
  expect_eq "$1: every live parcel has its answer" 0 "$(missing)"
  expect_eq "$1: no answer of a retired version is kept" 0 \
    "$(sq "SELECT count(*) FROM parcel_answers a JOIN parcels p ON p.id = a.parcel_id
           WHERE p.valid_to IS NOT NULL")"
}

compare "parcels only"
expect_contains "the server says it prepared them" "prepared 5000 parcel answers" "$(cat access.log)"
for kind in zones restrictions parties rights; do
  run "$KADASTR" load db "$src" --as "$kind" --layer "$kind"
  expect_eq "$kind load" 0 "$rc"
  compare "after $kind"
done
expect_contains "the overlays and rights reach the answers" "with zones 5000" "$out"
case "$out" in *"restrictions 0,"* | *"rights 0,"*) fail "no answer shows restrictions or rights: $out" ;; esac

# forty parcels replaced (another land use): their new versions' answers, the old ones' 404s
ogr2ogr -f GPKG changed.gpkg "$src" parcels -where "fid % 125 = 0" >/dev/null
ogrinfo changed.gpkg -dialect SQLite -sql "UPDATE parcels SET land_use = 'replaced in the test'" >/dev/null
run "$KADASTR" load db changed.gpkg --as parcels --replace
expect_eq "replace load" 0 "$rc"
expect_eq "forty versions retired" 40 "$(sq "SELECT count(*) FROM parcels WHERE valid_to IS NOT NULL")"
compare "after a replace"
expect_contains "the replaced parcels answer their new version" "replaced in the test" \
  "$(curl -sf "$prepared/api/v1/parcels/$(sq "SELECT number FROM parcels WHERE valid_to IS NOT NULL LIMIT 1")")"

# every parcel replaced while zones, restrictions and rights are in the register
ogr2ogr -f GPKG all.gpkg "$src" parcels >/dev/null
ogrinfo all.gpkg -dialect SQLite -sql "UPDATE parcels SET land_use = 'all replaced'" >/dev/null
run "$KADASTR" load db all.gpkg --as parcels --replace
expect_eq "full replace load" 0 "$rc"
compare "after replacing every parcel"

# the route reads the prepared answer: one altered in place (no trigger watches the
# answers themselves) is what the prepared server sends, and not the other
victim=$(sq "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id LIMIT 1")
sq "UPDATE parcel_answers SET body = CAST('{\"altered\":true}' AS BLOB) WHERE parcel_id =
    (SELECT id FROM parcels WHERE number = '$victim' AND valid_to IS NULL)"
expect_eq "the prepared server sends the prepared bytes" '{"altered":true}' \
  "$(curl -sf "$prepared/api/v1/parcels/$victim")"
expect_contains "the other makes the answer" '"type":"Feature"' "$(curl -sf "$plain/api/v1/parcels/$victim")"

# answers whose fingerprint is not this build's (another kadastr, or a PROJ upgrade) are
# not served, and the preparer makes them all again
sq "UPDATE kd_meta SET value = '0123456789abcdef' WHERE key = 'answers_fingerprint'"
for _ in $(seq 1 200); do
  body=$(curl -sf "$prepared/api/v1/parcels/$victim")
  case "$body" in *'"type":"Feature"'*) break ;; esac
  sleep 0.05
done
expect_contains "answers of another fingerprint are not served" '"type":"Feature"' "$body"
compare "after a new fingerprint"
expect_eq "the preparer wrote its own fingerprint" 1 \
  "$(sq "SELECT count(*) FROM kd_meta WHERE key = 'answers_fingerprint' AND value <> '0123456789abcdef'")"

stop_server "$prepared_pid" "the prepared server"
stop_server "$plain_pid" "the plain server"

# with no server running, `kadastr migrate` makes them
sq "UPDATE kd_meta SET value = '0123456789abcdef' WHERE key = 'answers_fingerprint'"
run "$KADASTR" migrate db
expect_eq "migrate" 0 "$rc"
expect_contains "migrate prepares every answer again" "5000 parcel answers prepared" "$out"
expect_eq "none missing after migrate" 0 "$(missing)"
run "$KADASTR" migrate db
expect_contains "a second migrate has nothing to do" "nothing to do" "$out"
done_testing
