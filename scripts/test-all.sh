#!/usr/bin/env bash
# Runs the linters, then every test suite: unit + PHP + integration in parallel, then the browser tests on their own
# (they read counts from the shared main site). Brings up the native stack (without the long-running sidecar) if needed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -d)
node scripts/generate-contract.mjs --check || exit 1
# The linters (ESLint with Prettier, then TypeScript over the sidecar, the admin app and the tests) run first and need
# no stack; a violation fails the run at the end, after the tests have still run. `npm run lint:fix` fixes most.
lint=0
npm run -s lint || lint=1
npm run -s lint:types || lint=1
# PHP: PHP_CodeSniffer with the WordPress Coding Standards and the PHP 7.4 syntax check, then PHPStan.
npm run -s lint:php || lint=1
npm run -s lint:phpstan || lint=1
[ "$lint" = 0 ] || echo "[test-all] lint failed (npm run lint / lint:types / lint:php / lint:phpstan above); running the tests anyway"
bash scripts/build-if-stale.sh || exit 1
# A dev sidecar from `npm start` would run the tests' due actions on the main site: pause it, restart it afterwards.
dev_sidecar=0
if [ -f .stack/run/sidecar.pid ] && kill -0 "$(cat .stack/run/sidecar.pid)" 2>/dev/null; then
  dev_sidecar=1
  bash scripts/stack.sh sidecar-stop
fi
# Stop afterwards only what this run started: a stack that was already up (npm start) stays up.
stack_was_up=0
[ -f .stack/run/mariadb.pid ] && kill -0 "$(cat .stack/run/mariadb.pid)" 2>/dev/null && stack_was_up=1
SIDECAR_STACK_START_SIDECAR=0 bash scripts/stack.sh up >"$log/stack.log" 2>&1 || { cat "$log/stack.log"; exit 1; }
for f in sidecar-test-hooks.php as-standin.php as-library-mu.php; do ln -sfn "$PWD/tests/fixtures/$f" ".stack/wordpress/wp-content/mu-plugins/$f"; done
# The differential tests' observer (inert unless SIDECAR_TEST_OBSERVE_FILE is set; its sidecar_test_obs_* callbacks always).
ln -sfn "$PWD/tests/fixtures/observer.php" ".stack/wordpress/wp-content/mu-plugins/sidecar-test-observer.php"
ln -sfn "$PWD/tests/fixtures/themes/td-as-theme" ".stack/wordpress/wp-content/themes/td-as-theme"
for p in aa-as-bundler zz-as-bundler; do ln -sfn "$PWD/tests/fixtures/plugins/$p" ".stack/wordpress/wp-content/plugins/$p"; done
# The feature and policy tests' fixtures (inert on sites without their tables or prefixes); linked here once, so test
# files running in parallel do not race to link them (they link them themselves when run alone).
ln -sfn "$PWD/tests/fixtures/feature-tests-mu.php" ".stack/wordpress/wp-content/mu-plugins/sidecar-test-features.php"
ln -sfn "$PWD/tests/fixtures/policy-tests-mu.php" ".stack/wordpress/wp-content/mu-plugins/sidecar-test-policies.php"
# Plugin Check, WordPress.org's review tool, on a throwaway docroot and table prefix of its own (it needs MariaDB).
bash scripts/plugin-check.sh || { lint=1; echo "[test-all] Plugin Check found errors (bash scripts/plugin-check.sh above)"; }

npx jest --selectProjects unit php integration 2>&1 | tee "$log/main.log"
s1=${PIPESTATUS[0]}
npx jest --selectProjects e2e --runInBand 2>&1 | tee "$log/e2e.log"
s2=${PIPESTATUS[0]}

count() { grep -Eo '^Tests:.*' "$1" | grep -Eo "[0-9]+ $2" | grep -Eo '[0-9]+' || echo 0; }
passed=$(( $(count "$log/main.log" passed) + $(count "$log/e2e.log" passed) ))
failed=$(( $(count "$log/main.log" failed) + $(count "$log/e2e.log" failed) ))
[ "$dev_sidecar" = 1 ] && bash scripts/stack.sh sidecar-start >/dev/null
[ "$stack_was_up" = 0 ] && bash scripts/stack.sh down >/dev/null
echo "${passed} passed, ${failed} failed"
[ "$lint" = 0 ] || echo "lint failed"
[ "$s1" = 0 ] && [ "$s2" = 0 ] && [ "$lint" = 0 ]
