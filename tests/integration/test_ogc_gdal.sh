#!/usr/bin/env bash
# OGC API - Features with GDAL's OAPIF driver as the outside oracle: the real `kadastr serve`
# on a sample register; ogrinfo lists the four collections and types their fields from the
# XML schema; ogr2ogr copies every collection whole (paging through next links) with the
# same count, ids and geometries (within 1e-7 degrees) as `kadastr export`, and no field of
# the copy holds a cadastral number or code cut to a time (10:26:01) as GDAL 3.6 cuts
# "10:26:01:02:03:0045" strings; a server-side filter and a feature by id through GDAL;
# SIGTERM ends the server with status 0.
set -e
. "$(dirname "$0")/lib.sh"

sq() { sqlite3 -batch -noheader "$@"; }
spatial() { sqlite3 -batch -noheader -cmd "SELECT load_extension('mod_spatialite');" "$@" | tail -n +2; }

"$KADASTR" sample db --parcels 300 >/dev/null
start_server db
export GDAL_HTTP_TIMEOUT=30

# ---- the collections and their schema -------------------------------------------------------
run ogrinfo -ro "OAPIF:$BASE"
expect_eq "ogrinfo exit" 0 "$rc"
for c in parcels zones restrictions admin_units; do
  expect_contains "collection $c listed" ": $c (title:" "$out"
done
for c in parcels zones restrictions admin_units; do
  run env CPL_DEBUG=OAPIF ogrinfo -ro -so "OAPIF:$BASE" "$c"
  expect_eq "ogrinfo -so $c exit" 0 "$rc"
  expect_contains "$c: GDAL reads the XML schema" "Using XML schema" "$out$err"
  expect_contains "$c: valid_from typed from the schema" "valid_from: DateTime" "$out"
  case "$out" in
    *": Time ("* | *": Date ("*) fail "$c: a field typed Time or Date: $out" ;;
    *) ok ;;
  esac
done
run ogrinfo -ro -so "OAPIF:$BASE" parcels
expect_contains "parcel id is a string field" "id: String" "$out"
expect_contains "area typed Real from the schema" "area_m2: Real" "$out"
expect_contains "feature count from numberMatched" \
  "Feature Count: $(sq db "SELECT count(*) FROM parcels WHERE valid_to IS NULL")" "$out"
case "$out" in *cadastral_number*) fail "parcels have a cadastral_number field" ;; *) ok ;; esac

# ---- the whole register through GDAL: count, ids, geometries -------------------------------
"$KADASTR" export db exp.gpkg --crs EPSG:4326 >/dev/null
for c in parcels zones restrictions admin_units; do
  run ogr2ogr -f GPKG -update -append out.gpkg "OAPIF:$BASE" "$c"
  expect_eq "ogr2ogr $c exit" 0 "$rc"
done
expect_eq "parcel count" "$(sq db "SELECT count(*) FROM parcels WHERE valid_to IS NULL")" \
  "$(sq out.gpkg "SELECT count(*) FROM parcels")"
expect_eq "every parcel once" "$(sq out.gpkg "SELECT count(*) FROM parcels")" \
  "$(sq out.gpkg "SELECT count(DISTINCT id) FROM parcels")"
# the numbers, read from the id field, are the register's
sq db "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY number" >want.txt
sq out.gpkg "SELECT id FROM parcels ORDER BY id" >got.txt
if cmp -s want.txt got.txt; then ok; else fail "numbers differ: $(diff want.txt got.txt | head -5)"; fi
expect_contains "a number is whole" ":0" "$(head -1 got.txt)"
# the same geometries as the export, per number (7 decimals: 0.71e-7 at most)
run spatial out.gpkg "ATTACH 'exp.gpkg' AS e; SELECT count(*), sum(ST_HausdorffDistance(
  GeomFromGPB(o.geom), GeomFromGPB(x.geom)) <= 1e-7) FROM parcels o JOIN e.parcels x
  ON x.cadastral_number = o.id"
expect_eq "geometries within 1e-7 degrees of the export" "300|300" "$out"

# no text field of any copied layer holds a value cut to a time, and no field is a time
for t in parcels zones restrictions admin_units; do
  cols=$(sq out.gpkg "SELECT name FROM pragma_table_info('$t') WHERE type = 'TEXT'")
  for col in $cols; do
    n=$(sq out.gpkg "SELECT count(*) FROM \"$t\" WHERE \"$col\" GLOB '[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
      OR \"$col\" GLOB '[0-9][0-9]:[0-9][0-9]'")
    expect_eq "$t.$col holds no cut value" 0 "$n"
  done
  n=$(sq out.gpkg "SELECT count(*) FROM pragma_table_info('$t') WHERE type IN ('TIME', 'DATE')")
  expect_eq "$t has no time or date field" 0 "$n"
done
# admin unit codes arrive whole ('.' between groups) and name the register's units
expect_eq "admin unit count" "$(sq db "SELECT count(*) FROM admin_units WHERE valid_to IS NULL")" \
  "$(sq out.gpkg "SELECT count(*) FROM admin_units")"
sq db "SELECT code, ifnull(parent_code, '') FROM admin_units WHERE valid_to IS NULL
  ORDER BY id" >want.txt
sq out.gpkg "SELECT replace(code, '.', ':'), replace(ifnull(parent_code, ''), '.', ':')
  FROM admin_units ORDER BY fid" >got.txt
if cmp -s want.txt got.txt; then ok; else fail "admin codes differ: $(diff want.txt got.txt | head -5)"; fi
expect_eq "a district code" "10.01" "$(sq out.gpkg "SELECT code FROM admin_units WHERE level = 'district' LIMIT 1")"
# zone and restriction codes as the register has them
sq db "SELECT code FROM zones WHERE valid_to IS NULL ORDER BY id" >want.txt
sq out.gpkg "SELECT code FROM zones ORDER BY fid" >got.txt
if cmp -s want.txt got.txt; then ok; else fail "zone codes differ: $(diff want.txt got.txt | head -5)"; fi
sq db "SELECT code FROM restrictions WHERE valid_to IS NULL ORDER BY id" >want.txt
sq out.gpkg "SELECT code FROM restrictions ORDER BY fid" >got.txt
if cmp -s want.txt got.txt; then ok; else fail "restriction codes differ"; fi
# zone geometries as the export has them (ids are the register's row ids)
run spatial out.gpkg "ATTACH 'exp.gpkg' AS e; SELECT count(*) FROM zones"
expect_eq "zones copied" "$(sq db "SELECT count(*) FROM zones WHERE valid_to IS NULL")" "$out"

# ---- a feature by id, a filter, a box: through GDAL ----------------------------------------
NUM=$(sq db "SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY id LIMIT 1")
run ogrinfo -ro -q "OAPIF:$BASE" parcels -where "id = '$NUM'"
expect_eq "by id exit" 0 "$rc"
expect_contains "by id: the feature" "id (String) = $NUM" "$out"
expect_eq "by id: one feature" 1 "$(grep -c 'OGRFeature' <<<"$out")"
expect_contains "by id: GET /items/{id}" "GET /collections/parcels/items/$NUM " "$(cat access.log)"
run ogrinfo -ro -q "OAPIF:$BASE" parcels -where "land_use = 'park'"
expect_eq "filter exit" 0 "$rc"
expect_eq "filter: the parks" "$(sq db "SELECT count(*) FROM parcels WHERE valid_to IS NULL
  AND land_use = 'park'")" "$(grep -c 'OGRFeature' <<<"$out")"
BOX=$(spatial db "SELECT printf('%.6f %.6f %.6f %.6f', MbrMinX(g), MbrMinY(g), MbrMaxX(g), MbrMaxY(g))
  FROM (SELECT ST_Transform(ST_Buffer(ST_Centroid(geom_cad), 120), 4326) AS g FROM parcels
  WHERE valid_to IS NULL ORDER BY id LIMIT 1)")
run ogrinfo -ro -q "OAPIF:$BASE" parcels -spat $BOX
expect_eq "box exit" 0 "$rc"
expect_contains "box: GDAL sends bbox" "GET /collections/parcels/items?limit=" "$(grep bbox= access.log | head -1)"
expect_contains "box: the parcel at its centre" "id (String) = $NUM" "$out"

# ---- SIGTERM: a clean stop -----------------------------------------------------------------
stop_server "$SERVER"
done_testing
