#!/usr/bin/env bash
# kadastr lookup and export, driven through the real executable against the cadastre unit
# tests' fixture register (written by `test_lookup --write-fixture`): exit statuses 0/1/2/4,
# --points answering exactly one line per input line, JSON that parses (python3, ogrinfo),
# and exports that GDAL reads and `kadastr load` loads back.
set -e
. "$(dirname "$0")/lib.sh"

WRITER="$(dirname "$KADASTR")/tests/test_lookup"
n_features() { python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["features"]))' "$1"; }
DB=fx.sqlite
"$WRITER" --write-fixture "$DB" 20 20
N1=10:26:01:02:03:0001
A=10:27:01:02:04:0002
B=10:27:01:02:04:0003
C=10:27:01:02:04:0004

# ---- --number ------------------------------------------------------------------------------
run "$KADASTR" lookup "$DB" --number "$N1"
expect_eq "number exit" 0 "$rc"
expect_contains "number detail" "ownership 1/2" "$out"
expect_contains "number zones" "R1 (base)" "$out"
run "$KADASTR" lookup "$DB" --number 10-26-01-02-03-0001 --json
expect_eq "number json exit" 0 "$rc"
echo "$out" | python3 -m json.tool >/dev/null && ok || fail "number --json does not parse"
expect_eq "feature id" "$N1" "$(jget "$out" id)"
expect_eq "feature type" Feature "$(jget "$out" type)"
expect_eq "declared area null" null "$(jget "$out" properties.declared_area_m2)"
expect_eq "party name" "Aliyev Anvar" "$(jget "$out" properties.rights.0.party_name)"
run "$KADASTR" lookup "$DB" --number 10:26:01:02:03:001
expect_eq "malformed number exit" 1 "$rc"
expect_contains "malformed number message" "group 6 has 3 digits" "$err"
expect_contains "malformed number hint" "hint:" "$err"
run "$KADASTR" lookup "$DB" --number 10:26:01:02:03:0999
expect_eq "unknown number exit" 4 "$rc"
expect_contains "unknown number message" "10:26:01:02:03:0999" "$err"
run "$KADASTR" lookup "$DB" --number "$N1" --as-of 2019-01-01
expect_eq "number before it existed" 4 "$rc"
run "$KADASTR" lookup "$DB" --number "$N1" --as-of yesterday
expect_eq "bad --as-of" 1 "$rc"

# ---- usage errors --------------------------------------------------------------------------
run "$KADASTR" lookup "$DB"
expect_eq "no mode" 2 "$rc"
run "$KADASTR" lookup "$DB" --number "$N1" --point 1,2
expect_eq "two modes" 2 "$rc"
run "$KADASTR" lookup "$DB" --point 69.2
expect_eq "bad point" 2 "$rc"
run "$KADASTR" lookup "$DB" --bbox 1,2,0,3
expect_eq "inverted bbox" 2 "$rc"
run "$KADASTR" lookup "$DB" --frobnicate
expect_eq "unknown option" 2 "$rc"
run "$KADASTR" lookup --number "$N1"
expect_eq "no database" 2 "$rc"
run "$KADASTR" lookup "$DB" --history "$N1" --as-of 2020-01-01
expect_eq "history with as-of" 2 "$rc"
run "$KADASTR" lookup missing.sqlite --number "$N1"
expect_eq "missing database" 1 "$rc"
run "$KADASTR" lookup --help
expect_eq "help" 0 "$rc"
expect_contains "help text" "--points FILE" "$out"

# ---- --point and --bbox --------------------------------------------------------------------
run "$KADASTR" lookup "$DB" --point 523020,4573010 --crs EPSG:32642 --json
expect_eq "boundary point exit" 0 "$rc"
expect_eq "boundary point finds two" 2 "$(n_features "$out")"
expect_eq "first on boundary" True "$(jget "$out" features.0.properties.on_boundary)"
run "$KADASTR" lookup "$DB" --point 69.27488,41.30822
expect_eq "lon/lat point exit" 0 "$rc"
expect_contains "lon/lat point parcel" "$N1" "$out"
run "$KADASTR" lookup "$DB" --point 10,10
expect_eq "point outside exit" 4 "$rc"
expect_contains "point outside hint" "area of use" "$err"
run "$KADASTR" lookup "$DB" --bbox 524014,4573014,524019,4573019 --crs EPSG:32642
expect_eq "bbox in the triangle's box but not the triangle" 4 "$rc"
run "$KADASTR" lookup "$DB" --bbox 69.2747,41.3081,69.2752,41.3084 --json
expect_eq "bbox exit" 0 "$rc"
echo "$out" >bbox.geojson
expect_eq "ogrinfo reads the bbox answer" 4 \
    "$(ogrinfo -ro -so -al -oo DATE_AS_STRING=YES bbox.geojson | sed -n 's/^Feature Count: //p')"
run "$KADASTR" lookup "$DB" --bbox 10,10,11,11
expect_eq "bbox outside the area of use" 4 "$rc"
# a huge but finite box in the office CRS is clipped to its area of use, not made NaN
run "$KADASTR" lookup "$DB" --crs EPSG:32642 --bbox -1e308,-1e308,1e308,1e308 --json
expect_eq "huge office-CRS bbox exit" 0 "$rc"
expect_eq "huge office-CRS bbox finds every parcel" 406 \
    "$(echo "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["features"]))')"
# lon/lat out of range: where and the area-of-use hint
run "$KADASTR" lookup "$DB" --point 500,500
expect_eq "point out of range exit" 1 "$rc"
expect_contains "point out of range where" "kadastr lookup: --point 500,500:" "$err"
expect_contains "point out of range hint" "area of use" "$err"
# an unknown CRS: a hint about --crs, not load's --s-srs
run "$KADASTR" lookup "$DB" --point 1,2 --crs EPSG:99999
expect_eq "unknown --crs exit" 1 "$rc"
expect_contains "unknown --crs hint" "hint: --crs EPSG:NNNN names the coordinates' CRS" "$err"
case "$err" in *s-srs*) fail "lookup's hint names load's --s-srs: $err" ;; *) ok ;; esac

# ---- --neighbours and --history ------------------------------------------------------------
run "$KADASTR" lookup "$DB" --neighbours "$A"
expect_eq "neighbours exit" 0 "$rc"
expect_contains "0.03 m gap is a neighbour" "$B" "$out"
case "$out" in *"$C"*) fail "0.1 m gap counted as a neighbour" ;; *) ok ;; esac
run "$KADASTR" lookup "$DB" --neighbours 10:26:01:02:03:0106 --json
expect_eq "grid neighbours" 8 "$(n_features "$out")"
run "$KADASTR" lookup "$DB" --neighbours 10:29:01:02:03:0001
expect_eq "neighbours of nothing" 4 "$rc"
run "$KADASTR" lookup "$DB" --history 10:27:01:02:05:0002
expect_eq "history exit" 0 "$rc"
expect_contains "history lineage" "split-of 10:27:01:02:05:0001" "$out"
expect_eq "history versions" 3 "$(echo "$out" | wc -l)"
run "$KADASTR" lookup "$DB" --history 10:27:01:02:05:0002 --json
expect_eq "history json parent" split-of "$(jget "$out" features.0.properties.parents.0.kind)"
run "$KADASTR" lookup "$DB" --history 10:29:01:02:03:0001
expect_eq "history of nothing" 4 "$rc"

# ---- --points ------------------------------------------------------------------------------
printf '%s\n' 'x,y' '69.27488,41.30822' ' 69.27488 , 41.30822' 'not a point' '' '1,2,3' \
    '10,10' '69.2747624,41.3081324' >pts.txt
printf '69.27488,41.30822' >>pts.txt # the last line without its newline
run "$KADASTR" lookup "$DB" --points pts.txt
expect_eq "points with malformed lines exit" 1 "$rc"
expect_eq "one output line per input line" "$(awk 'END {print NR}' pts.txt)" "$(echo "$out" | wc -l)"
expect_eq "header echoed" "x,y,cadastral_number" "$(echo "$out" | sed -n 1p)"
expect_eq "point answered" "69.27488,41.30822,$N1" "$(echo "$out" | sed -n 2p)"
expect_eq "spaces kept as given" " 69.27488 , 41.30822,$N1" "$(echo "$out" | sed -n 3p)"
expect_contains "malformed line has an error column" ',,' "$(echo "$out" | sed -n 4p)"
expect_eq "no parcel: empty column" "10,10," "$(echo "$out" | sed -n 7p)"
run "$KADASTR" lookup "$DB" --points - --json <pts.txt
expect_eq "json lines count" "$(awk 'END {print NR}' pts.txt)" "$(echo "$out" | wc -l)"
echo "$out" | python3 -c 'import json,sys
for line in sys.stdin: json.loads(line)' && ok || fail "--points --json lines do not parse"
printf '523020,4573010\n523010,4573010\n523410,4573010\n' >utm.txt
run "$KADASTR" lookup "$DB" --points utm.txt --crs EPSG:32642 --verbose
expect_eq "clean points exit" 0 "$rc"
expect_eq "shared boundary joined" "523020,4573010,$N1;10:26:01:02:03:0002" "$(echo "$out" | sed -n 1p)"
expect_eq "outside: empty" "523410,4573010," "$(echo "$out" | sed -n 3p)"
expect_contains "verbose index stats" "index of 406 parcels built" "$err"
# a bigger batch: still one line per line
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%.3f,%.3f\n", 523000 + (i * 7.31) % 400, 4573000 + (i * 3.17) % 400 }' >many.txt
run "$KADASTR" lookup "$DB" --points many.txt --crs EPSG:32642
expect_eq "many points exit" 0 "$rc"
expect_eq "many points count" 20000 "$(echo "$out" | wc -l)"
run "$KADASTR" lookup "$DB" --points nosuchfile
expect_eq "points file missing" 1 "$rc"
expect_contains "points file missing reason" "No such file or directory" "$err"
# a directory is refused before the index is built, with the reason and a hint
mkdir -p adir
run "$KADASTR" lookup "$DB" --points adir --verbose
expect_eq "points directory exit" 1 "$rc"
expect_contains "points directory reason" "adir: is a directory" "$err"
expect_contains "points directory hint" "hint:" "$err"
case "$err" in *"index of"*) fail "index built before refusing a directory" ;; *) ok ;; esac
if [ "$(id -u)" != 0 ]; then
    printf '1,2\n' >unreadable.txt
    chmod 000 unreadable.txt
    run "$KADASTR" lookup "$DB" --points unreadable.txt
    expect_contains "points unreadable reason" "Permission denied" "$err"
fi
# a valid line of 128 bytes or more is answered, not called "not x,y"
long_x="69.27488$(printf '0%.0s' $(seq 1 150))"
printf '%s,41.30822\n' "$long_x" >long.txt
run "$KADASTR" lookup "$DB" --points long.txt
expect_eq "long numeric line exit" 0 "$rc"
expect_eq "long numeric line answered" "$long_x,41.30822,$N1" "$out"
# --json cuts long text at a character boundary: no U+FFFD from a cut character
python3 -c 'import sys; sys.stdout.write("x,y" + "\u00e9" * 60 + "\n" + "a" + "\u00e9" * 150 + "\n")' >utf8.txt
run "$KADASTR" lookup "$DB" --points utf8.txt --json
expect_eq "utf8 lines exit" 1 "$rc"
jfield() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
expect_eq "utf8 header cut at a character" "x,y$(python3 -c 'print("\u00e9" * 48)')" \
    "$(echo "$out" | sed -n 1p | jfield header)"
expect_eq "utf8 input cut at a character" "a$(python3 -c 'print("\u00e9" * 99)')" \
    "$(echo "$out" | sed -n 2p | jfield input)"
# many parcels at one point: every number joined, however long the line
"$WRITER" --write-stack stack.sqlite 60
printf '523010,4573010\n' >stack.txt
run "$KADASTR" lookup stack.sqlite --points stack.txt --crs EPSG:32642
expect_eq "stacked point exit" 0 "$rc"
expect_eq "every stacked number joined" 60 "$(echo "$out" | cut -d, -f3 | tr ';' '\n' | grep -c .)"
# an index failure half-way (a GEOS fault injected for one point) keeps the lines answered
if command -v cc >/dev/null && pkg-config --exists geos; then
    cat >fault.c <<'EOF'
/* GEOSPreparedContains_r fails (2, GEOS's exception value) for a point whose x is $KD_FAULT_X */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <geos_c.h>
#include <stdlib.h>
typedef char (*contains_fn)(GEOSContextHandle_t, const GEOSPreparedGeometry *,
                            const GEOSGeometry *);
char GEOSPreparedContains_r(GEOSContextHandle_t h, const GEOSPreparedGeometry *pg,
                            const GEOSGeometry *g)
{
    static contains_fn real;
    const char *fx = getenv("KD_FAULT_X");
    double x;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "GEOSPreparedContains_r");
    if (fx && GEOSGeomGetX_r(h, g, &x) == 1 && x == strtod(fx, NULL))
        return 2;
    return real(h, pg, g);
}
EOF
    cc -shared -fPIC -o fault.so fault.c $(pkg-config --cflags geos) -ldl
    printf '523010,4573010\n523030,4573010\n523050,4573010\n' >fault.txt
    run env LD_PRELOAD="$PWD/fault.so" ASAN_OPTIONS=verify_asan_link_order=0 KD_FAULT_X=523030 \
        "$KADASTR" lookup "$DB" --points fault.txt --crs EPSG:32642
    expect_eq "index failure exit" 1 "$rc"
    expect_eq "lines answered before the failure are printed" "523010,4573010,$N1" "$out"
    expect_contains "index failure where" "fault.txt: line 2" "$err"
else
    echo "skipped: fault injection needs cc and the GEOS headers"
fi

# ---- export --------------------------------------------------------------------------------
run "$KADASTR" export "$DB" out.gpkg
expect_eq "export exit" 0 "$rc"
expect_eq "export count" 406 "$(ogrinfo -ro -so out.gpkg parcels | sed -n 's/^Feature Count: //p')"
run "$KADASTR" export "$DB" out.gpkg
expect_eq "export refuses an existing file" 1 "$rc"
expect_contains "export exists message" "already exists" "$err"
run "$KADASTR" export "$DB" out.shp
expect_eq "export unknown format" 1 "$rc"
run "$KADASTR" export "$DB" out2.gpkg --layer parties
expect_eq "export of parties refused" 2 "$rc"
run "$KADASTR" export "$DB" nodir/out.gpkg
expect_eq "export into a missing directory" 1 "$rc"
expect_contains "export missing directory: where is the path" "kadastr export: nodir/out.gpkg: creating" "$err"
case "$err" in *"nodir/out.gpkg: nodir/out.gpkg"*) fail "export names the path twice: $err" ;; *) ok ;; esac
expect_contains "export missing directory hint" "hint:" "$err"
run "$KADASTR" export "$DB" out99999.gpkg --crs EPSG:99999
expect_eq "export unknown CRS" 1 "$rc"
expect_contains "export unknown CRS hint" "hint: --crs EPSG:NNNN names the output CRS" "$err"
case "$err" in *s-srs*) fail "export's hint names load's --s-srs: $err" ;; *) ok ;; esac
run "$KADASTR" export "$DB" out.geojson --crs EPSG:4326
expect_eq "geojson export" 0 "$rc"
expect_eq "geojson readable" 406 \
    "$(ogrinfo -ro -so -al -oo DATE_AS_STRING=YES out.geojson | sed -n 's/^Feature Count: //p')"
if grep -q 'party\|Aliyev' out.geojson; then fail "personal data in open data"; else ok; fi
# plain GDAL (no DATE_AS_STRING): no field holds a number cut to a time; the ids are the numbers
info=$(ogrinfo -ro -al out.geojson)
case "$info" in *"(Time)"*) fail "a GeoJSON export field is read as a time" ;; *) ok ;; esac
if echo "$info" | grep -Eq '= [0-9]{2}:[0-9]{2}:[0-9]{2}$'; then fail "a cut number in the GeoJSON export"; else ok; fi
expect_eq "geojson export ids are the live numbers" \
    "$(sqlite3 "$DB" 'SELECT number FROM parcels WHERE valid_to IS NULL' | LC_ALL=C sort)" \
    "$(echo "$info" | sed -n 's/^  id (String) = //p' | LC_ALL=C sort)"
run "$KADASTR" export "$DB" old.fgb --as-of 2021-01-01
expect_eq "as-of export" 0 "$rc"
expect_eq "as-of count" 405 "$(ogrinfo -ro -so old.fgb parcels | sed -n 's/^Feature Count: //p')"
for layer in zones restrictions admin_units; do
    run "$KADASTR" export "$DB" "$layer.csv" --layer "$layer"
    expect_eq "export $layer" 0 "$rc"
done
# what export writes, load reads back without a mapping
run "$KADASTR" init back.sqlite
run "$KADASTR" load back.sqlite out.gpkg --as parcels --json
expect_eq "load of the export" 406 "$(jget "$out" loaded)"
run "$KADASTR" lookup back.sqlite --number "$N1"
expect_eq "loaded back" 0 "$rc"
# the GeoJSON export loads back too: its ids are the numbers
run "$KADASTR" init back2.sqlite
run "$KADASTR" load back2.sqlite out.geojson --as parcels --json
expect_eq "load of the GeoJSON export" 406 "$(jget "$out" loaded)"
run "$KADASTR" lookup back2.sqlite --number "$N1" --json
expect_eq "GeoJSON export loaded back" "$N1" "$(jget "$out" id)"

done_testing
