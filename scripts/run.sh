#!/usr/bin/env bash
# The main job until the HTTP service exists (issue 10): the sample register's summary and
# example lookups, through the real executable.
set -euo pipefail
kadastr=$1
db=$2
"$kadastr" info "$db"
echo
echo "\$ kadastr lookup $db --point 69.2797,41.3111     # what is at the centre of Tashkent?"
"$kadastr" lookup "$db" --point 69.2797,41.3111 || true
number=$("$kadastr" lookup "$db" --points - <<<"69.2797,41.3111" | cut -d, -f3 | cut -d';' -f1)
if [ -n "$number" ]; then
  echo
  echo "\$ kadastr lookup $db --number $number"
  "$kadastr" lookup "$db" --number "$number"
  echo
  echo "\$ kadastr lookup $db --neighbours $number"
  "$kadastr" lookup "$db" --neighbours "$number"
fi
