#!/usr/bin/env bash
# HTTP figures of `kadastr serve` (not run by CI): wrk -t2 -c64 against the libmicrohttpd
# hello-world ceiling, kadastr's routes and PostGIS SQL (pgbench, 2 clients, the peers'
# scripts), in one run, on the same two cores.
#   tests/bench/bench_http.sh DB DATADIR [SECONDS]
#   tests/bench/bench_http.sh --rss DB DATADIR [MINUTES]
# DB: a register holding the parcels of DATADIR (../shared/peers/gen_cadastre.py output, with
# ids.csv and points.csv from make_workload.py), e.g. the one bench_foundation.py loads.
# PostGIS: start it first (../shared/peers/pg.sh start; bench_postgis.py load DATADIR once),
# with CADBENCH_WORK set as for the peers; without it the PostGIS rows are skipped, said so.
# --rss: the parcel, lookup and bbox routes in turn for MINUTES (default 5), the server's
# RSS (and its anonymous and file-backed parts) every 30 s.
set -euo pipefail
rss_mode=0
if [ "${1:-}" = --rss ]; then rss_mode=1; shift; fi
db=$1 data=$2 secs=${3:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
work=${CADBENCH_WORK:-/tmp/kadastr-bench}
peers=${KD_PEERS:-$root/../shared/peers}
mkdir -p "$work"
cc -O2 -o "$build/hello_mhd" "$root/tests/bench/hello_mhd.c" $(pkg-config --cflags --libs libmicrohttpd)

# request paths: random existing numbers, random points (EPSG:32642, the office CRS), and
# random 250 m boxes drawn as the PostGIS script draws them (uniform over the data's box)
awk -F, 'NR > 1 { gsub(/\r/, ""); print "/api/v1/parcels/" $2 }' "$data/ids.csv" > "$work/paths-parcels.txt"
awk -F, 'NR > 1 { gsub(/\r/, ""); printf "/api/v1/lookup?x=%s&y=%s\n", $1, $2 }' "$data/points.csv" > "$work/paths-lookup.txt"
python3 - "$data/meta.json" > "$work/paths-bbox.txt" <<'EOF'
import json, random, sys
x0, y0, x1, y1 = json.load(open(sys.argv[1]))["bbox_utm"]
random.seed(7)
for _ in range(20000):
    x = x0 + random.randint(0, int((x1 - x0) * 100)) / 100.0
    y = y0 + random.randint(0, int((y1 - y0) * 100)) / 100.0
    print("/collections/parcels/items?bbox=%.2f,%.2f,%.2f,%.2f"
          "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/32642&limit=1000" % (x, y, x + 250, y + 250))
EOF

declare -A rate
measure() { # name url [paths]
  local out
  if [ -n "${3:-}" ]; then
    out=$(KD_PATHS=$3 wrk -t2 -c64 -d"${secs}s" --latency -s "$root/tests/bench/paths.lua" "$2")
  else
    out=$(wrk -t2 -c64 -d"${secs}s" --latency "$2")
  fi
  rate[$1]=$(printf '%s\n' "$out" | awk '/Requests\/sec/ { print $2 }')
  printf '%-28s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$1" "${rate[$1]}" \
    "$(printf '%s\n' "$out" | awk '$1 == "50%" { print $2 }')" \
    "$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')" \
    "$(printf '%s\n' "$out" | awk '/Non-2xx/ { print $5 }')"
}
start_kadastr() {
  "$build/kadastr" serve "$db" --listen 127.0.0.1:18091 --threads 2 --access-log /dev/null &
  srv=$!
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18091/health && return; sleep 0.2; done
  echo "bench_http: the server did not start" >&2
  exit 1
}
rss_line() { # label
  awk -v l="$1" '/^VmRSS/ { t = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 }
    END { printf "%-10s RSS %6.0f MB (anonymous %6.0f MB, file-backed %6.0f MB)\n", l, t / 1024, a / 1024, f / 1024 }' \
    "/proc/$srv/status"
}

if [ $rss_mode = 1 ]; then
  minutes=${3:-5}
  start_kadastr
  rss_line "start"
  secs=10
  end=$(( $(date +%s) + minutes * 60 )) next=30 t0=$(date +%s)
  while [ "$(date +%s)" -lt $end ]; do
    for p in parcels lookup bbox; do
      KD_PATHS=$work/paths-$p.txt wrk -t2 -c64 -d"${secs}s" -s "$root/tests/bench/paths.lua" http://127.0.0.1:18091 >/dev/null
    done
    if [ $(( $(date +%s) - t0 )) -ge $next ]; then rss_line "$(( $(date +%s) - t0 )) s"; next=$(( next + 30 )); fi
  done
  rss_line "end"
  kill -TERM $srv; wait $srv
  exit 0
fi

"$build/hello_mhd" 18090 & hello=$!
sleep 0.5
measure hello_world http://127.0.0.1:18090/
kill $hello; wait $hello 2>/dev/null || true
start_kadastr
measure health http://127.0.0.1:18091/health
measure parcels_by_number http://127.0.0.1:18091 "$work/paths-parcels.txt"
measure lookup_point http://127.0.0.1:18091 "$work/paths-lookup.txt"
measure items_bbox_250m http://127.0.0.1:18091 "$work/paths-bbox.txt"
rss_line "after"
kill -TERM $srv; wait $srv

# PostGIS SQL on the same data and cores, right after (pgbench -M prepared, 2 clients)
if [ -S "$work/pgsock/.s.PGSQL.${PGPORT:-55432}" ]; then
  pg=$(CADBENCH_WORK=$work /usr/bin/python3 "$peers/bench_postgis.py" lookup "$data" --runs 1 \
        --seconds "$secs" --seconds-extra "$secs")
  printf '%s\n' "$pg"
  pgrate() { printf '%s\n' "$pg" | awk -v n="lookup.postgis_pgbench.$1" '$1 == n { print $3 }'; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
  echo
  printf '%-22s %12s %12s %8s %10s\n' route kadastr PostGIS ratio "of hello"
  for pair in parcels_by_number:cad_num_geojson lookup_point:point items_bbox_250m:bbox_geojson; do
    k=${pair%%:*} p=${pair##*:}
    printf '%-22s %12s %12s %8s %9s%%\n' "$k" "${rate[$k]}" "$(pgrate "$p")" \
      "$(ratio "${rate[$k]}" "$(pgrate "$p")")" \
      "$(awk -v a="${rate[$k]}" -v b="${rate[hello_world]}" 'BEGIN { printf "%.1f", 100 * a / b }')"
  done
else
  echo "PostGIS is not running at $work/pgsock: no PostGIS rows (../shared/peers/pg.sh start)"
fi
