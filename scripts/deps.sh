#!/usr/bin/env bash
# Installs the Debian 12 packages kadastr needs to build, test and run, when missing.
# Says what it installs; uses sudo when not root. Idempotent and quiet when all is present.
set -eu
pkgs=(
  build-essential cmake pkg-config git ca-certificates bzip2 tar
  libgdal-dev gdal-bin libproj-dev proj-bin proj-data libgeos-dev
  libsqlite3-dev sqlite3 libspatialite-dev libsqlite3-mod-spatialite
  libmicrohttpd-dev libjson-c-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev
  python3 curl
  # QGIS 3.22 as an OGC API - Features client in tests/integration/test_qgis.sh (offscreen;
  # without recommends: about 165 MB to download, 646 MB on disk)
  python3-qgis
)
missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
# Node.js and npm run @redocly/cli (scripts/redocly.sh), which lints data/openapi.json. Checked
# as commands, not packages: a Node.js from elsewhere (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package) is used as it is.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "kadastr: installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "kadastr: not root and no sudo: install them by hand" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "kadastr: installed ${#missing[@]} packages"
