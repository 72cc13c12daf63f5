#!/usr/bin/env bash
# QGIS as a client of OGC API - Features: Debian's python3-qgis (QGIS 3.22), offscreen, runs
# qgis_oapif.py against the real `kadastr serve` on a sample register of 1,500 parcels (two
# of QGIS's 1,000-feature pages): the four collections listed by QGIS's browser, each a valid
# OAPIF layer with the register's count (kadastr info --json), every number whole, every
# geometry within 1e-7 degrees of `kadastr export`. python3-qgis comes with scripts/deps.sh;
# without it this test fails (it never skips).
set -e
. "$(dirname "$0")/lib.sh"

# Debian's python, whatever python3 comes first in PATH (a pyenv one has no qgis module)
PY=/usr/bin/python3
if ! "$PY" -c 'import qgis.core' 2>/dev/null; then
  fail "python3-qgis is not installed (bash scripts/deps.sh installs it)"
  done_testing
  exit 1
fi

"$KADASTR" sample db --parcels 1500 >/dev/null
"$KADASTR" info db --json >info.json
"$KADASTR" export db exp.gpkg --crs EPSG:4326 >/dev/null
start_server db

# QGIS keeps its profile, settings and network cache under HOME: the work folder's, not the
# user's
mkdir -p home run
chmod 700 run
run env HOME="$KD_TEST_WORK/home" XDG_RUNTIME_DIR="$KD_TEST_WORK/run" QT_QPA_PLATFORM=offscreen \
  timeout 300 "$PY" "$KD_SOURCE_DIR/tests/integration/qgis_oapif.py" "$BASE" info.json exp.gpkg
echo "$out"
expect_eq "qgis_oapif.py exit status (stderr: $err)" 0 "$rc"
expect_contains "qgis_oapif.py ran its checks" " checks, 0 failures" "$out"
# QGIS paged the parcels through the next links, and asked for the OpenAPI document
expect_contains "QGIS read a second page" "GET /collections/parcels/items?limit=1000&offset=1000" \
  "$(grep -o 'GET /collections/parcels/items?[^ ]*' access.log | sort -u | tr '\n' ' ')"
expect_contains "QGIS read /api" "GET /api 200" "$(cat access.log)"

stop_server "$SERVER"
done_testing
