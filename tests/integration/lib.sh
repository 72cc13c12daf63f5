# Helpers for integration tests: each test script sources this, works in $KD_TEST_WORK
# (wiped at start) and drives the real executable $KADASTR.
set -u
: "${KADASTR:?}" "${KD_TEST_WORK:?}" "${KD_FIXTURES:?}" "${KD_SOURCE_DIR:?}"
rm -rf "$KD_TEST_WORK"
mkdir -p "$KD_TEST_WORK"
cd "$KD_TEST_WORK"
export TMPDIR="$KD_TEST_WORK"
REAL="$KD_FIXTURES/real"
MAPS="$KD_SOURCE_DIR/data/mappings"
failures=0
checks=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { checks=$((checks + 1)); }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { if [ "$2" = "$3" ]; then ok; else fail "$1: expected '$2', got '$3'"; fi; }
# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() { case "$3" in *"$2"*) ok ;; *) fail "$1: '$2' not in: $3" ;; esac; }
# run CMD...: sets $out, $err and $rc
run() {
  set +e
  "$@" >"$KD_TEST_WORK/.out" 2>"$KD_TEST_WORK/.err"
  rc=$?
  set -e
  out=$(cat "$KD_TEST_WORK/.out")
  err=$(cat "$KD_TEST_WORK/.err")
}
# jget JSON PATH: a value from a JSON document (python3 is in Debian's base with gdal-bin)
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); p=sys.argv[2].split(".")
for k in p:
    d = d[int(k)] if isinstance(d, list) else d.get(k)
print("null" if d is None else d)' "$1" "$2"; }
# dbsum DB: a fingerprint of every table's content, to prove "unchanged"
dbsum() { sqlite3 "$1" ".dump" | grep -v '^INSERT INTO "\?sqlite_stat' | sha256sum | cut -c1-16; }
done_testing() {
  echo "$checks checks, $failures failures"
  [ "$failures" -eq 0 ]
}
# Servers still running when the test exits (a failed check under set -e) are stopped, so
# that none keeps the test's output open and ctest waiting.
SERVERS=()
trap '[ ${#SERVERS[@]} -eq 0 ] || kill -TERM "${SERVERS[@]}" 2>/dev/null' EXIT
# start_server DB [NAME OPTION...]: kadastr serve DB on a free loopback port (2 threads)
# in the background, with the options given; sets SERVER (its pid) and BASE (its URL). The
# access log goes to access.log, or with a NAME to NAME.log and the server's stderr to
# NAME.err. Exits the test when no port comes.
start_server() {
  local db=$1 name=${2:-}
  [ $# -gt 1 ] && shift 2 || shift
  rm -f port
  if [ -n "$name" ]; then
    "$KADASTR" serve "$db" --listen 127.0.0.1:0 --threads 2 --port-file port \
      --access-log "$name.log" "$@" 2>"$name.err" &
  else
    "$KADASTR" serve "$db" --listen 127.0.0.1:0 --threads 2 --port-file port \
      --access-log access.log "$@" &
  fi
  SERVER=$!
  SERVERS+=("$SERVER")
  for _ in $(seq 1 250); do
    [ -s port ] && break
    sleep 0.02
  done
  [ -s port ] || { fail "the server wrote no port file"; kill -TERM "$SERVER"; exit 1; }
  BASE="http://127.0.0.1:$(cat port)"
}
# stop_server PID [WHAT]: SIGTERM; the server must exit 0 (requests in flight finish).
stop_server() {
  local status
  kill -TERM "$1"
  set +e
  wait "$1"
  status=$?
  set -e
  expect_eq "${2:-server} exit status after SIGTERM" 0 "$status"
  local keep=() pid
  for pid in "${SERVERS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  SERVERS=("${keep[@]}")
}
