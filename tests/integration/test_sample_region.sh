#!/usr/bin/env bash
# The sample region end to end: generated into a register and into an SK-42 GeoPackage,
# loaded back through the real datum transformation, looked up, exported and reloaded; and
# 10,000 random points answered by `kadastr lookup --points` exactly as SpatiaLite SQL
# (ST_Contains with the spatial index) answers them on the same database.
set -e
. "$(dirname "$0")/lib.sh"

# 50,000 parcels into a new register (default office CRS, UTM 42N)
run "$KADASTR" sample s.sqlite --parcels 50000 --seed 7 --export s28412.gpkg --export-crs EPSG:28412
expect_eq "sample exit" 0 "$rc"
expect_contains "sample summary" "50000 live parcels" "$out"
expect_eq "live parcels" 50000 "$(sqlite3 s.sqlite 'SELECT count(*) FROM parcels WHERE valid_to IS NULL')"
expect_eq "history kept" 1 "$(sqlite3 s.sqlite "SELECT count(*) > 0 FROM parcels WHERE valid_to IS NOT NULL")"
expect_eq "lineage kept" 1 "$(sqlite3 s.sqlite "SELECT count(DISTINCT kind) >= 2 FROM parcel_lineage")"
expect_eq "8 land categories" 8 "$(sqlite3 s.sqlite "SELECT count(DISTINCT land_category) FROM parcels WHERE valid_to IS NULL")"
expect_eq "every live parcel has a zone" 0 "$(sqlite3 s.sqlite "SELECT count(*) FROM parcels p WHERE valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM parcel_overlays o WHERE o.parcel_id = p.id AND o.layer = 'zones')")"
expect_eq "export parcels" 50000 "$(ogrinfo -ro -so s28412.gpkg parcels | sed -n 's/^Feature Count: //p')"
expect_contains "export in SK-42" "Pulkovo 1942" "$(ogrinfo -ro -so s28412.gpkg parcels)"

# the oracle: 10,000 random points over the live extent (EPSG:32642)
read -r minx miny maxx maxy <<<"$(sqlite3 -separator ' ' s.sqlite "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_parcels_geom_cad")"
awk -v a="$minx" -v b="$miny" -v c="$maxx" -v d="$maxy" 'BEGIN { srand(20261125);
  for (i = 0; i < 10000; i++) printf "%.3f,%.3f\n", a + rand() * (c - a), b + rand() * (d - b) }' > points.csv
run "$KADASTR" lookup s.sqlite --points points.csv --crs EPSG:32642
expect_eq "points exit" 0 "$rc"
expect_eq "one line per point" 10000 "$(printf '%s\n' "$out" | wc -l)"
printf '%s\n' "$out" | awk -F, '{ n = split($3, a, ";");
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? ";" : "") a[i]; print $1 "," $2 "," s }' > kadastr.csv
{
  echo "SELECT load_extension('mod_spatialite');"
  awk -F, '{ printf "SELECT %s || %s || (SELECT coalesce(group_concat(number, %s), %s) FROM (SELECT number FROM parcels WHERE valid_to IS NULL AND ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = %s AND f_geometry_column = %s AND search_frame = MakePoint(%s, %s, 32642)) AND ST_Contains(geom_cad, MakePoint(%s, %s, 32642)) ORDER BY number));\n", "\x27" $1 "," $2 ",\x27", "\x27\x27", "\x27;\x27", "\x27\x27", "\x27parcels\x27", "\x27geom_cad\x27", $1, $2, $1, $2 }' points.csv
} > oracle.sql
sqlite3 s.sqlite < oracle.sql | tail -n +2 > spatialite.csv
expect_eq "spatialite answered every point" 10000 "$(wc -l < spatialite.csv)"
if cmp -s kadastr.csv spatialite.csv; then ok; else fail "kadastr and SpatiaLite differ: $(diff kadastr.csv spatialite.csv | head -5)"; fi
found=$(awk -F, '$3 != ""' kadastr.csv | wc -l)
[ "$found" -gt 3000 ] && ok || fail "only $found of 10000 points fell in a parcel"

# the SK-42 export loads through Pulkovo 1942 to WGS 84 (16) into a new register
run "$KADASTR" init r.sqlite
for kind in admin_units zones restrictions parcels parties rights; do
  run "$KADASTR" load r.sqlite s28412.gpkg --as $kind --layer $kind --json
  expect_eq "load $kind exit" 0 "$rc"
  expect_eq "load $kind rejected" 0 "$(jget "$out" rejected)"
done
expect_eq "datum step" "Pulkovo 1942 to WGS 84 (16) (EPSG:15865)" "$(sqlite3 r.sqlite "SELECT transformation FROM transformations WHERE source_crs = 'EPSG:28412'")"
expect_eq "reloaded parcels" 50000 "$(sqlite3 r.sqlite 'SELECT count(*) FROM parcels')"
expect_eq "same numbers" "$(sqlite3 s.sqlite 'SELECT number FROM parcels WHERE valid_to IS NULL ORDER BY number' | sha256sum)" "$(sqlite3 r.sqlite 'SELECT number FROM parcels ORDER BY number' | sha256sum)"
# the round trip UTM -> SK-42 -> UTM through the same operation both ways moves nothing
expect_eq "same areas" 0 "$(sqlite3 r.sqlite "ATTACH 's.sqlite' AS s; SELECT count(*) FROM parcels r JOIN s.parcels o ON o.number = r.number AND o.valid_to IS NULL WHERE abs(o.area_m2 - r.area_m2) > 0.01")"
expect_eq "rights reloaded" "$(sqlite3 s.sqlite 'SELECT count(*) FROM rights')" "$(sqlite3 r.sqlite 'SELECT count(*) FROM rights')"

# export the register, load the export into a new register: same parcels and numbers
run "$KADASTR" export s.sqlite open.gpkg
expect_eq "export exit" 0 "$rc"
run "$KADASTR" init e.sqlite
run "$KADASTR" load e.sqlite open.gpkg --as parcels --json
expect_eq "export reload exit" 0 "$rc"
expect_eq "export reload loaded" 50000 "$(jget "$out" loaded)"
expect_eq "export has no party names" "" "$(ogrinfo -ro -al -q open.gpkg parcels | grep -iE 'pinfl|party|name \(' | head -1)"
expect_eq "export geometry identical" 0 "$(sqlite3 e.sqlite "ATTACH 's.sqlite' AS s; SELECT count(*) FROM parcels e JOIN s.parcels o ON o.number = e.number AND o.valid_to IS NULL WHERE o.geom_cad != e.geom_cad")"

# a register in SK-42 itself: the sample is reprojected from UTM 42N on the way in
run "$KADASTR" init gk.sqlite --crs EPSG:28412
run "$KADASTR" sample gk.sqlite --parcels 500
expect_eq "sample into SK-42 office" 0 "$rc"
expect_eq "sample parcels in SK-42" 500 "$(sqlite3 gk.sqlite 'SELECT count(*) FROM parcels WHERE valid_to IS NULL')"
expect_eq "SK-42 coordinates" 1 "$(sqlite3 gk.sqlite 'SELECT min(xmin) > 12000000 FROM idx_parcels_geom_cad')"
# a sample over a register that holds its numbers already fails and changes nothing
before=$(dbsum gk.sqlite)
run "$KADASTR" sample gk.sqlite --parcels 500
expect_eq "second sample refused" 1 "$rc"
expect_eq "second sample left the db" "$before" "$(dbsum gk.sqlite)"
run "$KADASTR" sample gk.sqlite
expect_eq "sample without --parcels" 2 "$rc"
done_testing
