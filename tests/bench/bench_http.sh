#!/usr/bin/env bash
# HTTP figures of `kadastr serve` (not run by CI): wrk -t2 -c64 against the libmicrohttpd
# hello-world ceiling and against kadastr's routes, in one run, on the same two cores.
#   tests/bench/bench_http.sh DB DATADIR [SECONDS]
# DB: a register holding the parcels of DATADIR (../shared/peers/gen_cadastre.py output, with
# ids.csv and points.csv from make_workload.py), e.g. the one bench_foundation.py loads.
set -euo pipefail
db=$1 data=$2 secs=${3:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
work=${CADBENCH_WORK:-/tmp/kadastr-bench}
mkdir -p "$work"
cc -O2 -o "$build/hello_mhd" "$root/tests/bench/hello_mhd.c" $(pkg-config --cflags --libs libmicrohttpd)
# request paths: random existing numbers, random points (EPSG:32642, the office CRS)
awk -F, 'NR > 1 { gsub(/\r/, ""); print "/api/v1/parcels/" $2 }' "$data/ids.csv" > "$work/paths-parcels.txt"
awk -F, 'NR > 1 { gsub(/\r/, ""); printf "/api/v1/lookup?x=%s&y=%s\n", $1, $2 }' "$data/points.csv" > "$work/paths-lookup.txt"
measure() { # name url [paths]
  local out
  if [ -n "${3:-}" ]; then
    out=$(KD_PATHS=$3 wrk -t2 -c64 -d"${secs}s" --latency -s "$root/tests/bench/paths.lua" "$2")
  else
    out=$(wrk -t2 -c64 -d"${secs}s" --latency "$2")
  fi
  printf '%-28s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$1" \
    "$(printf '%s\n' "$out" | awk '/Requests\/sec/ { print $2 }')" \
    "$(printf '%s\n' "$out" | awk '$1 == "50%" { print $2 }')" \
    "$(printf '%s\n' "$out" | awk '$1 == "99%" { print $2 }')" \
    "$(printf '%s\n' "$out" | awk '/Non-2xx/ { print $5 }')"
}
"$build/hello_mhd" 18090 & hello=$!
sleep 0.5
measure hello_world http://127.0.0.1:18090/
kill $hello; wait $hello 2>/dev/null || true
"$build/kadastr" serve "$db" --listen 127.0.0.1:18091 --threads 2 --access-log /dev/null & srv=$!
sleep 1
curl -sf http://127.0.0.1:18091/health >/dev/null
measure health http://127.0.0.1:18091/health
measure parcels_by_number http://127.0.0.1:18091 "$work/paths-parcels.txt"
measure lookup_point http://127.0.0.1:18091 "$work/paths-lookup.txt"
ps -o rss= -p $srv | awk '{ printf "server RSS after the run: %.0f MB\n", $1 / 1024 }'
kill -TERM $srv; wait $srv
