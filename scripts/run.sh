#!/usr/bin/env bash
# The main job: the sample register served over HTTP, with its summary, its URL and three
# example requests printed first. Ctrl-C stops the server (requests in flight finish).
set -euo pipefail
kadastr=$1
db=$2
listen=${KADASTR_LISTEN:-127.0.0.1:8080}
"$kadastr" info "$db"
box=69.2785,41.3100,69.2810,41.3120
number=$("$kadastr" lookup "$db" --bbox "$box" | awk 'NR == 2 { print $1 }')
# a point inside that parcel (the mean of its corners: the sample's parcels are convex), so
# that the "what is here" example finds it
point=$("$kadastr" lookup "$db" --number "$number" --json | python3 -c '
import json, sys
ring = json.load(sys.stdin)["geometry"]["coordinates"][0][0][:-1]
print("lon=%.7f&lat=%.7f" % (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)))')
url="http://$listen"
cat <<TXT

kadastr serves $db at $url (Ctrl-C stops it). Try:
  curl $url/api/v1/parcels/$number
  curl '$url/api/v1/lookup?$point'
  curl -H 'Accept-Language: uz' $url/api/v1/parcels/$number/history

TXT
exec "$kadastr" serve "$db" --listen "$listen"
