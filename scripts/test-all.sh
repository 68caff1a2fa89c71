#!/usr/bin/env bash
# Runs every test suite. Brings up the native stack (without the long-running sidecar) if it is not running.
set -uo pipefail
cd "$(dirname "$0")/.."
node scripts/generate-contract.mjs --check || exit 1
npx tsc -p tsconfig.json || exit 1
SIDECAR_START_SIDECAR=0 bash scripts/stack.sh up >/tmp/sidecar-stack-up.log 2>&1 || { cat /tmp/sidecar-stack-up.log; exit 1; }
ln -sf "$PWD/tests/fixtures/sidecar-test-hooks.php" .stack/wordpress/wp-content/mu-plugins/sidecar-test-hooks.php
npx jest --selectProjects unit php integration 2>&1 | tee /tmp/sidecar-jest.log
status=${PIPESTATUS[0]}
passed=$(grep -Eo 'Tests:.*' /tmp/sidecar-jest.log | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo 'Tests:.*' /tmp/sidecar-jest.log | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
