#!/usr/bin/env bash
# Builds the sample register from the shipped region (data/sample-region.gpkg, surveyed in
# SK-42 / Gauss-Kruger zone 12) with `kadastr load`, when it does not exist yet. The database
# appears only when every layer loaded: it is built under a temporary name and renamed.
set -euo pipefail
kadastr=$1
db=$2
src=${3:-data/sample-region.gpkg}
[ -f "$db" ] && exit 0
tmp="$db.building"
rm -f "$tmp" "$tmp-wal" "$tmp-shm"
echo "kadastr: building the sample register $db from $src"
"$kadastr" init "$tmp"
for kind in admin_units zones restrictions parcels parties rights; do
  "$kadastr" load "$tmp" "$src" --as "$kind" --layer "$kind"
done
mv "$tmp" "$db"
