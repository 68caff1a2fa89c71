#!/usr/bin/env bash
# Builds the sidecar (tsc) and the admin app (wp-scripts) when their outputs are missing or older than the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
stale() { [ ! -f "$1" ] || [ -n "$(find "${@:2}" -newer "$1" -print -quit 2>/dev/null)" ]; }
if stale dist/src-worker/bin.js src-worker tests/bench tests/helpers tsconfig.json; then
  echo "[build] sidecar (tsc)"
  npx tsc -p tsconfig.json
fi
if stale plugin/build/index.asset.php src-admin webpack.config.js; then
  echo "[build] admin app (wp-scripts, ~30 s)"
  npx wp-scripts build --webpack-src-dir=src-admin --output-path=plugin/build >/tmp/sidecar-admin-build.log 2>&1 || { tail -40 /tmp/sidecar-admin-build.log; exit 1; }
fi
