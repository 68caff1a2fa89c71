#!/usr/bin/env bash
# Plugin Check (the WordPress.org plugin team's review tool) on plugin/, as a CI gate: fails on any ERROR.
#
# Plugin Check's runtime checks install a wp-content/object-cache.php drop-in while they run, which every site of a
# docroot would load, so this builds a throwaway docroot of its own: the stack's WordPress core files (copied, not
# linked), a fresh wp-content with copies of plugin/ and of Plugin Check, and its own table prefix on the stack's
# running MariaDB. It removes only what it created: the temp dir and the tables of its prefix.
#
# Needs the stack's MariaDB up (scripts/stack.sh up, as scripts/test-all.sh does) and Plugin Check in
# ../shared/vendor/plugin-check (PLUGIN_CHECK_DIR overrides it).
# Env: PLUGIN_CHECK_PREFIX (table prefix; default pcheck<pid>_), PLUGIN_CHECK_KEEP=1 keeps the JSON report.
# Usage: bash scripts/plugin-check.sh [--warnings]   (--warnings also prints every warning; they never fail the gate)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stack=${SIDECAR_STACK_DIR:-$root/.stack}
pc_src=${PLUGIN_CHECK_DIR:-$root/../shared/vendor/plugin-check}
prefix=${PLUGIN_CHECK_PREFIX:-pcheck$$_}
show_warnings=0
[ "${1:-}" = "--warnings" ] && show_warnings=1

[[ "$prefix" =~ ^[A-Za-z0-9_]+_$ ]] || { echo "[plugin-check] bad table prefix: $prefix" >&2; exit 2; }
[ -f "$pc_src/plugin.php" ] || { echo "[plugin-check] Plugin Check not found in $pc_src" >&2; exit 2; }
[ -f "$stack/wordpress/wp-includes/version.php" ] || { echo "[plugin-check] no WordPress in $stack/wordpress (run scripts/stack.sh up)" >&2; exit 2; }
socket=$stack/run/mysqld.sock
[ -S "$socket" ] || { echo "[plugin-check] MariaDB is not running ($socket missing; run scripts/stack.sh up)" >&2; exit 2; }
db_name=${SIDECAR_STACK_DB_NAME:-sidecar_wp}
mysql_cmd=(mysql --socket="$socket" -uroot "$db_name")
"${mysql_cmd[@]}" -e 'SELECT 1' >/dev/null || { echo "[plugin-check] cannot reach MariaDB on $socket" >&2; exit 2; }

# Refuse a prefix that already has tables: they are someone else's, and cleanup drops every table of the prefix.
like_prefix=${prefix//_/\\_}
existing=$("${mysql_cmd[@]}" -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE '${like_prefix}%'")
[ "$existing" = 0 ] || { echo "[plugin-check] prefix $prefix already has $existing tables; pick another PLUGIN_CHECK_PREFIX" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sidecar-plugin-check.XXXXXX")
cleanup() {
	local tables
	tables=$("${mysql_cmd[@]}" -N -e "SELECT GROUP_CONCAT(CONCAT('\`', table_name, '\`')) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE '${like_prefix}%'" 2>/dev/null || true)
	if [ -n "$tables" ] && [ "$tables" != NULL ]; then "${mysql_cmd[@]}" -e "DROP TABLE IF EXISTS $tables" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

docroot=$tmp/wordpress
mkdir -p "$docroot"
# Core files only: the stack's wp-content holds other tests' links and plugins.
for f in "$stack"/wordpress/*; do
	case "$(basename "$f")" in wp-content | wp-config.php) ;; *) cp -a "$f" "$docroot/" ;; esac
done
mkdir -p "$docroot/wp-content/plugins" "$docroot/wp-content/mu-plugins" "$docroot/wp-content/themes"
cp -a "$stack/wordpress/wp-content/themes/twentytwentyfour" "$docroot/wp-content/themes/"
# No outside network here: the dev stack's mu-plugin keeps WordPress from reaching for it.
cp "$root/scripts/dev-stack-mu-plugin.php" "$docroot/wp-content/mu-plugins/"
cp -a "$root/plugin" "$docroot/wp-content/plugins/sidecar-scheduler"
cp -a "$pc_src" "$docroot/wp-content/plugins/plugin-check"

salt=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$docroot/wp-config.php" <<PHP
<?php
// Written by scripts/plugin-check.sh for one throwaway Plugin Check run.
define( 'DB_NAME', '$db_name' );
define( 'DB_USER', 'sidecar' );
define( 'DB_PASSWORD', 'sidecar' );
define( 'DB_HOST', 'localhost:$socket' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as \$k ) {
	define( \$k, '$salt-' . \$k );
}
define( 'WP_DEBUG', false );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
\$table_prefix = '$prefix';
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
PHP
# "plugin check" must be the first two words of the command line or the runtime checks are skipped silently, so the
# docroot comes from a wp-cli.yml rather than --path.
printf 'path: %s\n' "$docroot" >"$tmp/wp-cli.yml"

WP_TABLE_PREFIX=$prefix SIDECAR_INSTALL_PLUGINS=sidecar-scheduler/sidecar-scheduler.php,plugin-check/plugin.php \
	php "$root/scripts/wp-install.php" "$docroot" "http://127.0.0.1:8889" admin "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; echo "[plugin-check] could not install the throwaway site" >&2; exit 1; }

wp_boot=$stack/wp-cli/vendor/wp-cli/wp-cli/php/boot-fs.php
[ "$(id -u)" = 0 ] && export WP_CLI_ALLOW_ROOT=1
set +e
(cd "$tmp" && WP_CLI_CONFIG_PATH="$tmp/wp-cli.yml" php -d auto_prepend_file="$root/scripts/wp-cli/quiet-mustache.php" "$wp_boot" \
	plugin check sidecar-scheduler --require="$docroot/wp-content/plugins/plugin-check/cli.php" \
	--categories=general,plugin_repo,security,performance,accessibility --format=json) >"$tmp/report.txt" 2>"$tmp/stderr.txt"
rc=$?
set -e
[ "${PLUGIN_CHECK_KEEP:-0}" = 1 ] && cp "$tmp/report.txt" "$root/.stack/logs/plugin-check-report.txt" 2>/dev/null || true
if [ "$rc" != 0 ]; then
	cat "$tmp/stderr.txt" "$tmp/report.txt" >&2
	echo "[plugin-check] wp plugin check exited with $rc" >&2
	exit 1
fi
grep -q 'Setting up runtime environment' "$tmp/report.txt" || { echo "[plugin-check] the runtime checks did not run" >&2; exit 1; }

# The JSON format prints "FILE: <name>" and then one JSON array of that file's results.
php -r '
	$file = null; $errors = 0; $warnings = 0; $show = (bool) $argv[2];
	foreach ( file( $argv[1], FILE_IGNORE_NEW_LINES ) as $line ) {
		if ( 0 === strpos( $line, "FILE: " ) ) { $file = substr( $line, 6 ); continue; }
		if ( "[" !== substr( ltrim( $line ), 0, 1 ) ) { continue; }
		foreach ( json_decode( $line, true ) ?: array() as $r ) {
			$is_error = "ERROR" === $r["type"];
			$is_error ? $errors++ : $warnings++;
			if ( $is_error || $show ) { printf( "%s %s:%d %s %s\n", $r["type"], $file, $r["line"], $r["code"], $r["message"] ); }
		}
	}
	printf( "[plugin-check] %d errors, %d warnings\n", $errors, $warnings );
	exit( $errors > 0 ? 1 : 0 );
' "$tmp/report.txt" "$show_warnings"
