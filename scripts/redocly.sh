#!/usr/bin/env bash
# Runs @redocly/cli at a pinned 1.x version (2.x needs a newer Node.js than Debian 12's 18),
# installed with npm into a cache folder on first use and reused after:
#   bash scripts/redocly.sh lint --extends recommended data/openapi.json
# The cache is $KADASTR_TOOLS_CACHE (default ~/.cache/kadastr), outside the work tree; the
# install goes to a temporary folder renamed into place, so concurrent runs do not collide.
set -euo pipefail
REDOCLY_VERSION=1.34.20 # engines: node >= 18.17 (Debian 12: 18.20), npm >= 9.5 (warns only)
cache=${KADASTR_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kadastr}
dir=$cache/redocly-$REDOCLY_VERSION
cli=$dir/node_modules/@redocly/cli/bin/cli.js

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "redocly.sh: node and npm are needed (on Debian: apt-get install nodejs npm)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] ||
  { echo "redocly.sh: Node.js $(node --version) is too old: @redocly/cli 1.x needs 18.17 or later" >&2; exit 1; }
# npm trusts only Node.js's built-in certificate authorities; behind a proxy or mirror whose
# authority the system trusts (apt and curl use /etc/ssl/certs), trust the system's too
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ ! -f "$cli" ]; then
  [ -d "$dir" ] && rm -rf "$dir" # a copy left half-made
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.redocly-$REDOCLY_VERSION.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "redocly.sh: installing @redocly/cli@$REDOCLY_VERSION into $dir" >&2
  printf '{"private": true}\n' >"$tmp/package.json"
  # --ignore-scripts: the only install script of the tree is core-js's banner
  (cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --save-exact \
    --loglevel=error "@redocly/cli@$REDOCLY_VERSION" >&2)
  [ -f "$tmp/node_modules/@redocly/cli/bin/cli.js" ] ||
    { echo "redocly.sh: npm installed no @redocly/cli" >&2; exit 1; }
  # another run may have renamed its copy first: then keep that one
  chmod 755 "$tmp"
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
fi
# no usage data sent, no update check
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec node "$cli" "$@"
