#!/usr/bin/env bash
# The real fixtures of ../shared/fixtures/real load with exactly the counts the issue states.
set -e
. "$(dirname "$0")/lib.sh"
CAM="$REAL/cambridge-ma/Assessing/FY2014/FY2014_Parcels/ASSESSING_ParcelsFY2014.topojson"
ZB="$REAL/cambridge-ma/CDD/Zoning_Districts/CDD_ZoningDistricts.geojson"
ZO="$REAL/cambridge-ma/CDD/Zoning_Overlay_Districts/CDD_ZoningOverlayDistricts.geojson"

# Cambridge parcels, without repair
run "$KADASTR" init cam.sqlite --crs EPSG:26986 --number-format any --area -71.17,42.35,-71.06,42.41
expect_eq "init exit" 0 "$rc"
run "$KADASTR" load cam.sqlite "$CAM" --as parcels --s-srs EPSG:4326 \
    --mapping "$MAPS/cambridge-parcels.json" --rejects cam-rejects.gpkg --json
expect_eq "cambridge load exit (rejects)" 3 "$rc"
j=$out
expect_eq "read" 13116 "$(jget "$j" read)"
expect_eq "loaded" 12994 "$(jget "$j" loaded)"
expect_eq "null_geometry" 1 "$(jget "$j" rejected_by_reason.null_geometry)"
expect_eq "invalid_geometry" 34 "$(jget "$j" rejected_by_reason.invalid_geometry)"
expect_eq "missing_number" 1 "$(jget "$j" rejected_by_reason.missing_number)"
expect_eq "duplicate_number" 86 "$(jget "$j" rejected_by_reason.duplicate_number)"
expect_eq "rejected" 122 "$(jget "$j" rejected)"
expect_eq "per-source read" 13116 "$(jget "$j" sources.0.read)"
expect_eq "transformation" "NAD83 to WGS 84 (1) (EPSG:1188)" "$(jget "$j" transformation.datum_transformation)"
expect_eq "accuracy" "4.0" "$(jget "$j" transformation.accuracy_m)"
expect_contains "accuracy warning" "worse than 1 m" "$err"
# the rejects file holds every rejected feature with its reason, read back by GDAL
expect_eq "rejects file features" 122 "$(ogrinfo -ro -so cam-rejects.gpkg rejects | sed -n 's/^Feature Count: //p')"
expect_eq "rejects by reason" 34 "$(ogrinfo -ro -q cam-rejects.gpkg -sql "SELECT count(*) AS n FROM rejects WHERE reason='invalid_geometry'" | sed -n 's/.*n (Integer) = //p')"
expect_eq "live parcels in db" 12994 "$(sqlite3 cam.sqlite 'SELECT count(*) FROM parcels WHERE valid_to IS NULL')"
# 13 duplicate groups with 93 members; 7 of them invalid
expect_eq "duplicate groups" 13 "$(ogrinfo -ro -q cam-rejects.gpkg -sql "SELECT count(DISTINCT number) AS n FROM rejects WHERE reason='duplicate_number'" | sed -n 's/.*n (Integer) = //p')"

# loading the same source again changes nothing and says so
before=$(dbsum cam.sqlite)
run "$KADASTR" load cam.sqlite "$CAM" --as parcels --s-srs EPSG:4326 \
    --mapping "$MAPS/cambridge-parcels.json" --rejects cam-rejects2.gpkg --json
expect_eq "reload unchanged" 12994 "$(jget "$out" unchanged)"
expect_eq "reload loaded" 0 "$(jget "$out" loaded)"
# read = loaded + unchanged + rejected, always
expect_eq "reload sum" 13116 "$(( $(jget "$out" loaded) + $(jget "$out" unchanged) + $(jget "$out" rejected) ))"
expect_eq "reload leaves db as it was" "$before" "$(dbsum cam.sqlite)"

# with --repair: 34 repaired, 93 duplicates, 13,021 loaded
run "$KADASTR" init camr.sqlite --crs EPSG:26986 --number-format any --area -71.17,42.35,-71.06,42.41
run "$KADASTR" load camr.sqlite "$CAM" --as parcels --s-srs EPSG:4326 \
    --mapping "$MAPS/cambridge-parcels.json" --repair --rejects camr-rejects.gpkg --json
expect_eq "repair exit" 3 "$rc"
expect_eq "repaired" 34 "$(jget "$out" repaired)"
expect_eq "repair duplicates" 93 "$(jget "$out" rejected_by_reason.duplicate_number)"
expect_eq "repair loaded" 13021 "$(jget "$out" loaded)"
expect_eq "repair invalid left" null "$(jget "$out" rejected_by_reason.invalid_geometry)"
# every stored geometry is valid per SpatiaLite (GEOS) too
expect_eq "all valid in store" 0 "$(sqlite3 camr.sqlite "SELECT load_extension('mod_spatialite'); SELECT count(*) FROM parcels WHERE ST_IsValid(geom_cad) != 1" | tail -1)"

# Cambridge zoning: 261 base + 53 overlay districts, all loaded as zones
run "$KADASTR" load cam.sqlite "$ZB" --as zones --mapping "$MAPS/cambridge-zoning-base.json" --json
expect_eq "base zones exit" 0 "$rc"
expect_eq "base zones loaded" 261 "$(jget "$out" loaded)"
run "$KADASTR" load cam.sqlite "$ZO" --as zones --mapping "$MAPS/cambridge-zoning-overlay.json" --json
expect_eq "overlay zones loaded" 53 "$(jget "$out" loaded)"
expect_eq "zones in db" 314 "$(sqlite3 cam.sqlite 'SELECT count(*) FROM zones')"
expect_eq "OS base districts" 56 "$(sqlite3 cam.sqlite "SELECT count(*) FROM zones WHERE code='OS' AND kind='base'")"
run "$KADASTR" load cam.sqlite "$ZO" --as zones --mapping "$MAPS/cambridge-zoning-overlay.json" --json
expect_eq "overlay reload unchanged" 53 "$(jget "$out" unchanged)"
# every live parcel lies on at least one base zone, with an area kept in the store
expect_eq "parcels without a base zone" 0 "$(sqlite3 cam.sqlite "SELECT count(*) FROM parcels p WHERE p.valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM parcel_overlays o JOIN zones z ON z.id=o.area_id AND o.layer='zones' WHERE o.parcel_id=p.id AND z.kind='base')")"
# the overlay areas of a parcel's base zones sum to its area (the base zones tile the city)
bad=$(sqlite3 cam.sqlite "SELECT count(*) FROM (SELECT p.id, p.area_m2 a, sum(o.area_m2) s FROM parcels p JOIN parcel_overlays o ON o.parcel_id=p.id AND o.layer='zones' JOIN zones z ON z.id=o.area_id AND z.kind='base' WHERE p.valid_to IS NULL GROUP BY p.id) WHERE abs(a - s) > 0.01 * a + 1")
[ "$bad" -lt 200 ] && ok || fail "base zone areas do not add up for $bad parcels"

# Luxiol EDIGEO: the 8 .tar.bz2 sheets in one command
run "$KADASTR" init fr.sqlite --crs EPSG:2154 --number-format any
run "$KADASTR" load fr.sqlite "$REAL"/fr-pci-edigeo-25354/edigeo-*.tar.bz2 --as parcels \
    --mapping "$MAPS/fr-edigeo-parcelles.json" --json
expect_eq "edigeo exit" 0 "$rc"
expect_eq "edigeo loaded" 511 "$(jget "$out" loaded)"
expect_eq "edigeo sources" 8 "$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["sources"]))' "$out")"
expect_eq "edigeo number" "1" "$(sqlite3 fr.sqlite "SELECT count(*) FROM parcels WHERE number='354000AB0254'")"
expect_eq "SUPF as declared area" "1" "$(sqlite3 fr.sqlite "SELECT count(*) FROM parcels WHERE declared_area_m2 IS NULL OR declared_area_m2 <= 0" | awk '{print ($1==0)}')"
expect_eq "no temporary directories left" "" "$(ls -d kadastr-load-* 2>/dev/null)"
done_testing
