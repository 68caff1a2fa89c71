#!/usr/bin/env bash
# npm run lint:php: PHP_CodeSniffer with the WordPress Coding Standards 3.1 (ruleset: phpcs.xml.dist), a reason on
# every phpcs suppression, and the PHP 7.4 syntax check (scripts/php-syntax.mjs). Exits non-zero on any violation.
# PHPCS and WPCS come from ../shared/vendor/plugin-check/vendor (the Packagist mirror here lacks WPCS 3.1);
# PHPCS_BIN_DIR overrides where phpcs lives. Extra arguments go to phpcs (e.g. a file list, or --report=summary).
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${PHPCS_BIN_DIR:-../shared/vendor/plugin-check/vendor/bin}
[ -x "$bin/phpcs" ] || { echo "[lint:php] no phpcs in $bin (set PHPCS_BIN_DIR)" >&2; exit 2; }
status=0

"$bin/phpcs" -q --no-colors "$@" || status=1

# Every phpcs:ignore / phpcs:disable names its sniffs and says why after " -- ".
bad=$(grep -rnE 'phpcs:(ignore|disable|ignoreFile)' plugin --include=*.php | grep -vE 'phpcs:(ignore|disable)( [A-Za-z][A-Za-z0-9_.]*(, ?[A-Za-z][A-Za-z0-9_.]*)*)? -- .|phpcs:ignoreFile -- .' || true)
if [ -n "$bad" ]; then
	echo "$bad"
	echo "[lint:php] the phpcs suppressions above lack sniff names or a reason: write 'phpcs:ignore Sniff.Name -- why'" >&2
	status=1
fi
bare=$(grep -rnE 'phpcs:(ignore|disable) --' plugin --include=*.php || true)
if [ -n "$bare" ]; then
	echo "$bare"
	echo "[lint:php] the phpcs suppressions above silence every sniff: name the ones meant" >&2
	status=1
fi

node scripts/php-syntax.mjs plugin || status=1
[ "$status" = 0 ] && echo "[lint:php] clean"
exit "$status"
