#!/usr/bin/env bash
# Bad input gets a clear message, the documented exit status, and leaves the database
# exactly as it was; kill -9 and SIGINT in the middle of a load change nothing.
set -e
. "$(dirname "$0")/lib.sh"
CAM="$REAL/cambridge-ma/Assessing/FY2014/FY2014_Parcels/ASSESSING_ParcelsFY2014.topojson"

run "$KADASTR" init uz.sqlite
expect_eq "init default" 0 "$rc"
expect_contains "init says CRS" "EPSG:32642" "$out"
base=$(dbsum uz.sqlite)

# usage errors: exit 2
run "$KADASTR" load uz.sqlite
expect_eq "load without source" 2 "$rc"
run "$KADASTR" load uz.sqlite x.geojson
expect_eq "load without --as" 2 "$rc"
expect_contains "--as hint" "--as" "$err"
run "$KADASTR" load uz.sqlite x.geojson --as buildings
expect_eq "unknown --as" 2 "$rc"
run "$KADASTR" nonsense
expect_eq "unknown command" 2 "$rc"

# init refuses a geographic or unknown office CRS, and an existing file
run "$KADASTR" init geo.sqlite --crs EPSG:4326
expect_eq "geographic office CRS" 1 "$rc"
expect_contains "geographic message" "is geographic" "$err"
expect_contains "geographic hint" "hint: choose the office's projected CRS" "$err"
[ ! -e geo.sqlite ] && ok || fail "a refused init left a file"
run "$KADASTR" init geo.sqlite --crs EPSG:999999
expect_eq "unknown CRS" 1 "$rc"
run "$KADASTR" init uz.sqlite
expect_eq "existing db" 1 "$rc"
expect_contains "existing db message" "already exists" "$err"

# a missing file, a file GDAL cannot read
run "$KADASTR" load uz.sqlite no-such.gpkg --as parcels
expect_eq "missing file" 1 "$rc"
expect_contains "missing file message" "no-such.gpkg: no such file" "$err"
echo "hello, not a map" > junk.gpkg
run "$KADASTR" load uz.sqlite junk.gpkg --as parcels
expect_eq "unreadable file" 1 "$rc"
expect_contains "unreadable message" "GDAL cannot read it" "$err"
expect_eq "db unchanged after errors" "$base" "$(dbsum uz.sqlite)"

# data without a CRS needs --s-srs
run "$KADASTR" load uz.sqlite "$CAM" --as parcels
expect_eq "no CRS" 1 "$rc"
expect_contains "no CRS message" "does not say its CRS" "$err"
expect_contains "no CRS hint" "--s-srs" "$err"

# GeoJSON keeps "10:26:01:02:03:0045" intact (DATE_AS_STRING); malformed numbers are rejected
cat > uz.geojson <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0045","declared_area_m2":400,"land_category":"settlements","land_use":"individual_housing","address":"Navoiy ko'chasi 12"},
 "geometry":{"type":"Polygon","coordinates":[[[69.2790,41.3110],[69.2792,41.3110],[69.2792,41.3112],[69.2790,41.3112],[69.2790,41.3110]]]}},
{"type":"Feature","properties":{"cadastral_number":"10:26:1:02:03:0046","declared_area_m2":400},
 "geometry":{"type":"Polygon","coordinates":[[[69.2800,41.3110],[69.2802,41.3110],[69.2802,41.3112],[69.2800,41.3112],[69.2800,41.3110]]]}},
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0047","declared_area_m2":-5},
 "geometry":{"type":"Polygon","coordinates":[[[69.2810,41.3110],[69.2812,41.3110],[69.2812,41.3112],[69.2810,41.3112],[69.2810,41.3110]]]}},
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0048"},
 "geometry":{"type":"Point","coordinates":[69.2820,41.3110]}}
]}
JSON
run "$KADASTR" load uz.sqlite uz.geojson --as parcels --rejects uz-rejects.geojson --json
expect_eq "uz load exit" 3 "$rc"
expect_eq "uz loaded" 1 "$(jget "$out" loaded)"
expect_eq "uz bad_number" 1 "$(jget "$out" rejected_by_reason.bad_number)"
expect_eq "uz bad_declared_area" 1 "$(jget "$out" rejected_by_reason.bad_declared_area)"
expect_eq "uz wrong_type" 1 "$(jget "$out" rejected_by_reason.wrong_type)"
expect_eq "number intact" "10:26:01:02:03:0045" "$(sqlite3 uz.sqlite 'SELECT number FROM parcels')"
# a numeric field read between text fields does not clobber them (GDAL reuses its buffer)
expect_eq "attributes" "400.0|settlements|individual_housing|Navoiy ko'chasi 12" "$(sqlite3 uz.sqlite 'SELECT declared_area_m2, land_category, land_use, address FROM parcels')"
expect_eq "rejects geojson" 3 "$(ogrinfo -ro -so uz-rejects.geojson rejects | sed -n 's/^Feature Count: //p')"
expect_eq "datum transformation" "" "$(jget "$out" transformation.datum_transformation)"

# the same number with other content: a duplicate, unless --replace (then a new version)
sed 's/69.2790,41.3110\],\[69.2792/69.2790,41.3110],[69.2793/' uz.geojson > uz2.geojson
run "$KADASTR" load uz.sqlite uz2.geojson --as parcels --rejects uz2-rejects.gpkg --json
expect_eq "changed without --replace" 3 "$rc"
expect_eq "changed is duplicate" 1 "$(jget "$out" rejected_by_reason.duplicate_number)"
run "$KADASTR" load uz.sqlite uz2.geojson --as parcels --rejects uz3-rejects.gpkg --replace --json
expect_eq "replaced" 1 "$(jget "$out" replaced)"
expect_eq "versions kept" 2 "$(sqlite3 uz.sqlite "SELECT count(*) FROM parcels WHERE number='10:26:01:02:03:0045'")"
expect_eq "one live version" 1 "$(sqlite3 uz.sqlite "SELECT count(*) FROM parcels WHERE number='10:26:01:02:03:0045' AND valid_to IS NULL")"
expect_eq "lineage" "replaces" "$(sqlite3 uz.sqlite "SELECT kind FROM parcel_lineage")"

# a text longer than the register keeps is rejected, never cut; a GeoJSON whose features
# carry the number as their id (as kadastr export writes it) loads without a mapping
long=$(printf 'x%.0s' $(seq 1 300))
cat > long.geojson <<JSON
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0070","address":"$long"},
 "geometry":{"type":"Polygon","coordinates":[[[69.2850,41.3110],[69.2852,41.3110],[69.2852,41.3112],[69.2850,41.3112],[69.2850,41.3110]]]}},
{"type":"Feature","id":"10:26:01:02:03:0071","properties":{"land_use":"park"},
 "geometry":{"type":"Polygon","coordinates":[[[69.2860,41.3110],[69.2862,41.3110],[69.2862,41.3112],[69.2860,41.3112],[69.2860,41.3110]]]}}
]}
JSON
run "$KADASTR" load uz.sqlite long.geojson --as parcels --rejects long-rejects.gpkg --json
expect_eq "long field rejected" 1 "$(jget "$out" rejected_by_reason.field_too_long)"
expect_eq "number from id" 1 "$(sqlite3 uz.sqlite "SELECT count(*) FROM parcels WHERE number = '10:26:01:02:03:0071' AND land_use = 'park'")"
expect_contains "long field message" "address has 300 bytes" "$(ogrinfo -ro -al -q long-rejects.gpkg | grep message)"

# a cut number: TopoJSON has no DATE_AS_STRING and types such strings as times: refused
cat > cut.topojson <<'JSON'
{"type":"Topology","objects":{"parcels":{"type":"GeometryCollection","geometries":[
{"type":"Polygon","arcs":[[0]],"properties":{"cadastral_number":"10:26:01:02:03:0049"}},
{"type":"Polygon","arcs":[[1]],"properties":{"cadastral_number":"10:26:01:02:03:0050"}}]}},
"arcs":[[[69.283,41.311],[69.2832,41.311],[69.2832,41.3112],[69.283,41.3112],[69.283,41.311]],
[[69.284,41.311],[69.2842,41.311],[69.2842,41.3112],[69.284,41.3112],[69.284,41.311]]]}
JSON
before=$(dbsum uz.sqlite)
run "$KADASTR" load uz.sqlite cut.topojson --as parcels --s-srs EPSG:4326
expect_eq "cut number exit" 1 "$rc"
expect_contains "cut number message" "already cut" "$err"
expect_contains "cut number hint" "hint:" "$err"
expect_eq "db unchanged after cut number" "$before" "$(dbsum uz.sqlite)"

# a mapping that names a field the source lacks
echo '{"fields":{"cadastral_number":"NOPE"}}' > bad-map.json
run "$KADASTR" load uz.sqlite uz.geojson --as parcels --mapping bad-map.json
expect_eq "bad mapping exit" 1 "$rc"
expect_contains "bad mapping lists fields" "cadastral_number" "$err"
echo '{"fields": [' > broken-map.json
run "$KADASTR" load uz.sqlite uz.geojson --as parcels --mapping broken-map.json
expect_eq "broken mapping exit" 1 "$rc"

# kill -9 and SIGINT at any moment of a load leave the database as it was, or (when the
# signal came after the commit) completely loaded: never anything in between
run "$KADASTR" init kill.sqlite --crs EPSG:26986 --number-format any --area -71.17,42.35,-71.06,42.41
cp kill.sqlite kill-base.sqlite
before=$(dbsum kill.sqlite)
loadcmd() { "$KADASTR" load "$1" "$CAM" --as parcels --s-srs EPSG:4326 \
    --mapping "$MAPS/cambridge-parcels.json" --rejects "$2" >/dev/null 2>kill.err; }
t0=$(date +%s%N); loadcmd kill.sqlite full-rejects.gpkg || true; t1=$(date +%s%N)
full_ms=$(( (t1 - t0) / 1000000 ))
untouched=0
for sig in KILL INT; do
  # moments as shares of one measured load: most early, so that most strikes land before the
  # commit even when the machine's load changes between runs (a busy machine measured slow
  # once sent the late strikes after the commit); one late
  for pct in 5 20 35 50 80; do
    rm -f kill.sqlite kill.sqlite-wal kill.sqlite-shm "kill-$sig-$pct.gpkg"
    cp kill-base.sqlite kill.sqlite
    loadcmd kill.sqlite "kill-$sig-$pct.gpkg" &
    pid=$!
    sleep "$(awk -v ms="$full_ms" -v p="$pct" 'BEGIN { printf "%.3f", ms * p / 100000 }')"
    kill -$sig $pid 2>/dev/null || true
    set +e; wait $pid; krc=$?; set -e
    state=$(dbsum kill.sqlite)
    live=$(sqlite3 kill.sqlite 'SELECT count(*) FROM parcels')
    expect_eq "integrity after $sig at $pct%" ok "$(sqlite3 kill.sqlite 'PRAGMA integrity_check')"
    if [ "$state" = "$before" ]; then
      untouched=$((untouched + 1)); ok
      if [ $sig = INT ] && [ $krc = 130 ]; then
        expect_contains "SIGINT message" "interrupted" "$(cat kill.err)"
      fi
    elif [ "$live" = 12994 ]; then ok
    else fail "after $sig at $pct% the database holds $live parcels: neither before nor after"
    fi
  done
done
# most strikes land before the commit (the load takes ${full_ms} ms)
[ $untouched -ge 4 ] && ok || fail "only $untouched of 10 strikes landed before the commit"
done_testing
