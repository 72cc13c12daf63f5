#!/usr/bin/env bash
# The same parcels through the formats and containers GDAL reads: GeoJSON, GeoPackage,
# Shapefile, GML, KML, FlatGeobuf, CSV with WKT, inside .zip, .tar.gz and .tar.bz2; every
# load gives the same parcels, and numbers that look like times stay intact.
set -e
. "$(dirname "$0")/lib.sh"

cat > src.geojson <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0045","declared_area_m2":400,"land_use":"individual_housing"},
 "geometry":{"type":"Polygon","coordinates":[[[69.2790,41.3110],[69.2792,41.3110],[69.2792,41.3112],[69.2790,41.3112],[69.2790,41.3110]]]}},
{"type":"Feature","properties":{"cadastral_number":"10:26:01:02:03:0046","declared_area_m2":410,"land_use":"commercial"},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[69.2800,41.3110],[69.2802,41.3110],[69.2802,41.3112],[69.2800,41.3112],[69.2800,41.3110]]]]}}
]}
JSON
mkdir -p shp
ogr2ogr -f GPKG src.gpkg src.geojson -nln parcels -oo DATE_AS_STRING=YES
ogr2ogr -f "ESRI Shapefile" shp/parcels.shp src.geojson -oo DATE_AS_STRING=YES
ogr2ogr -f GML src.gml src.geojson -oo DATE_AS_STRING=YES
ogr2ogr -f KML src.kml src.geojson -oo DATE_AS_STRING=YES
ogr2ogr -f FlatGeobuf src.fgb src.geojson -oo DATE_AS_STRING=YES
ogr2ogr -f CSV src.csv src.geojson -oo DATE_AS_STRING=YES -lco GEOMETRY=AS_WKT
(cd shp && python3 -m zipfile -c ../shp.zip parcels.*)
(cd shp && tar -czf ../shp.tar.gz parcels.*)
(cd shp && tar -cjf ../shp.tar.bz2 parcels.*)
chmod a-w src.gml  # a read-only input: no .gfs may be written next to it
i=0
for src in src.geojson src.gpkg shp/parcels.shp src.gml src.kml src.fgb src.csv shp.zip shp.tar.gz shp.tar.bz2; do
  i=$((i + 1))
  run "$KADASTR" init "f$i.sqlite"
  extra=""
  case $src in *.csv) extra="--s-srs EPSG:4326" ;; esac
  run "$KADASTR" load "f$i.sqlite" "$src" --as parcels --json $extra
  expect_eq "$src exit" 0 "$rc"
  expect_eq "$src loaded" 2 "$(jget "$out" loaded)"
  expect_eq "$src numbers" "10:26:01:02:03:0045 10:26:01:02:03:0046" "$(sqlite3 "f$i.sqlite" 'SELECT number FROM parcels ORDER BY number' | tr '\n' ' ' | sed 's/ $//')"
  expect_eq "$src area" 1 "$(sqlite3 "f$i.sqlite" "SELECT count(*) FROM parcels WHERE number = '10:26:01:02:03:0045' AND abs(area_m2 - 369.1) < 15")"
done
[ ! -e src.gfs ] && ok || fail "a .gfs file was written next to the GML input"
# several sources in one command are one transaction: a bad one leaves nothing
run "$KADASTR" init multi.sqlite
before=$(dbsum multi.sqlite)
run "$KADASTR" load multi.sqlite src.gpkg no-such.fgb --as parcels
expect_eq "multi with a missing source" 1 "$rc"
expect_eq "multi left the db" "$before" "$(dbsum multi.sqlite)"
done_testing
