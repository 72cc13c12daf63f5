#!/usr/bin/env bash
# The main job until the HTTP service exists (issue 10): the sample register's summary and
# example lookups, through the real executable.
set -euo pipefail
kadastr=$1
db=$2
"$kadastr" info "$db"
echo
box=69.2785,41.3100,69.2810,41.3120
echo "\$ kadastr lookup $db --bbox $box     # parcels near the centre of Tashkent"
near=$("$kadastr" lookup "$db" --bbox "$box")
printf '%s\n' "$near" | sed -n '1,8p'
number=$(printf '%s\n' "$near" | awk 'NR == 2 { print $1 }')
if [ -n "$number" ]; then
  echo
  echo "\$ kadastr lookup $db --number $number"
  "$kadastr" lookup "$db" --number "$number"
  echo
  echo "\$ kadastr lookup $db --neighbours $number"
  "$kadastr" lookup "$db" --neighbours "$number"
fi
