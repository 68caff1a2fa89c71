#!/usr/bin/env bash
# The native development stack: MariaDB, php-fpm behind nginx, WordPress with the plugin, and the sidecar.
# Usage: scripts/stack.sh up|down|status|env|sidecar-stop|sidecar-start. Idempotent; stops only what it started (PID files in .stack/run).
# Over 300 lines because each service's start, readiness wait and PID-file stop sit together, in the order `up` needs them;
# split into files, one `up` would source five scripts for one linear bring-up.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK=${SIDECAR_STACK_DIR:-$ROOT/.stack}
RUN=$STACK/run
LOGS=$STACK/logs
DOCROOT=$STACK/wordpress
HTTP_PORT=${SIDECAR_STACK_HTTP_PORT:-8889}
PREFIX_PORT=$((HTTP_PORT + 3))
DB_PORT=${SIDECAR_STACK_DB_PORT:-33306}
DB_SOCKET=$RUN/mysqld.sock
DB_NAME=${SIDECAR_STACK_DB_NAME:-sidecar_wp}
DB_USER=${SIDECAR_STACK_DB_USER:-sidecar}
DB_PASSWORD=${SIDECAR_STACK_DB_PASSWORD:-sidecar}
ADMIN_USER=admin
ADMIN_PASSWORD=${SIDECAR_STACK_ADMIN_PASSWORD:-admin}
SITE_URL="http://127.0.0.1:$HTTP_PORT"
WP_BUILDS_PKG="@wp-playground/wordpress-builds@0.9.19"
WP_BUILD_NAME=wp-6.5
START_SIDECAR=${SIDECAR_STACK_START_SIDECAR:-1}
SBIN=${SIDECAR_STACK_SBIN:-/usr/sbin}
WP_CLI_DIR=$STACK/wp-cli
WP_BIN=$STACK/bin/wp

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_taken_by_other() {
  # True when something we did not start listens on the port.
  local port=$1 pidfile=$2
  pid_alive "$pidfile" && return 1
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  die "$what did not come up; see $LOGS"
}

require_tools() {
  local missing=()
  [ -x "$SBIN/mariadbd" ] || missing+=(mariadb-server)
  [ -x "$SBIN/php-fpm8.2" ] || missing+=(php8.2-fpm)
  [ -x "$SBIN/nginx" ] || missing+=(nginx-light)
  command -v php >/dev/null 2>&1 || missing+=(php8.2-cli)
  command -v composer >/dev/null 2>&1 || missing+=(composer)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      say "installing missing system packages: ${missing[*]}"
      bash "$ROOT/scripts/install-system-packages.sh" || die "could not install ${missing[*]} with apt-get; see /tmp/sidecar-apt.log"
    else
      die "missing system packages: ${missing[*]}. Run: sudo bash scripts/install-system-packages.sh"
    fi
  fi
  # Read the module list once into a variable: `php -m | grep -q` under pipefail fails at random, because grep -q
  # exits at the first match while PHP is still writing one module per write() and PHP then dies of SIGPIPE.
  local modules
  modules=$(php -m 2>/dev/null) || die "php -m failed; is PHP 8.2 installed correctly?"
  for ext in mysqli mbstring xml curl; do
    grep -qix "$ext" <<<"$modules" || die "PHP extension '$ext' is missing. Run: sudo bash scripts/install-system-packages.sh"
  done
}

mysql_root() { mariadb --no-defaults --socket="$DB_SOCKET" -uroot "$@"; }

start_mariadb() {
  mkdir -p "$STACK/mysql" "$RUN" "$LOGS"
  if pid_alive "$RUN/mariadb.pid"; then say "MariaDB already running (pid $(cat "$RUN/mariadb.pid"))"; return; fi
  port_taken_by_other "$DB_PORT" "$RUN/mariadb.pid" && die "port $DB_PORT is taken by another process; set SIDECAR_STACK_DB_PORT"
  if [ ! -d "$STACK/mysql/mysql" ]; then
    say "initialising MariaDB data directory"
    mariadb-install-db --no-defaults --datadir="$STACK/mysql" --user="$(id -un)" --auth-root-authentication-method=socket >"$LOGS/mariadb-install.log" 2>&1 \
      || die "mariadb-install-db failed; see $LOGS/mariadb-install.log"
  fi
  # Own datadir, socket and port: never touches a system MariaDB. Loopback only.
  nohup "$SBIN/mariadbd" --no-defaults --datadir="$STACK/mysql" --socket="$DB_SOCKET" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$RUN/mariadbd.pid" \
    --log-error="$LOGS/mariadb.err" --innodb-buffer-pool-size=512M --max-connections=500 \
    --innodb-flush-log-at-trx-commit=1 --skip-name-resolve >/dev/null 2>&1 &
  echo $! >"$RUN/mariadb.pid"
  wait_for MariaDB 120 mysql_root -e 'SELECT 1'
  say "MariaDB up on 127.0.0.1:$DB_PORT and $DB_SOCKET"
}

ensure_database() {
  mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

fetch_wordpress() {
  [ -f "$DOCROOT/wp-includes/version.php" ] && return
  mkdir -p "$STACK/cache"
  local tgz
  tgz=$(ls "$STACK"/cache/wp-playground-wordpress-builds-*.tgz 2>/dev/null | head -1 || true)
  if [ -z "$tgz" ]; then
    say "fetching WordPress core from the npm registry ($WP_BUILDS_PKG)"
    (cd "$STACK/cache" && npm pack --silent "$WP_BUILDS_PKG" >/dev/null 2>"$LOGS/npm-pack.log") \
      || die "could not fetch $WP_BUILDS_PKG from the npm registry; see $LOGS/npm-pack.log"
    tgz=$(ls "$STACK"/cache/wp-playground-wordpress-builds-*.tgz | head -1)
  fi
  local tmp="$STACK/cache/extract"
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -xzf "$tgz" -C "$tmp" "package/src/wordpress/$WP_BUILD_NAME.zip" "package/public/$WP_BUILD_NAME"
  rm -rf "$DOCROOT.tmp" && mkdir -p "$DOCROOT.tmp"
  # The package splits core in two: PHP in a zip, static assets beside it. Together they are the whole release.
  (cd "$DOCROOT.tmp" && unzip -q "$tmp/package/src/wordpress/$WP_BUILD_NAME.zip")
  cp -r "$tmp/package/public/$WP_BUILD_NAME/." "$DOCROOT.tmp/"
  rm -rf "$DOCROOT.tmp/wp-content/database" "$DOCROOT.tmp/wp-content/plugins/sqlite-database-integration" \
         "$DOCROOT.tmp/wp-content/db.php" "$DOCROOT.tmp/wp-config.php" "$DOCROOT.tmp/wordpress-remote-asset-paths"
  rm -rf "$tmp"
  mv "$DOCROOT.tmp" "$DOCROOT"
  say "WordPress $(php -r "include '$DOCROOT/wp-includes/version.php'; echo \$wp_version;") unpacked in $DOCROOT"
}

write_wp_config() {
  mkdir -p "$DOCROOT/wp-content/plugins" "$DOCROOT/wp-content/mu-plugins" "$DOCROOT/wp-content/uploads"
  ln -sfn "$ROOT/plugin" "$DOCROOT/wp-content/plugins/sidecar-scheduler"
  ln -sfn "$ROOT/scripts/dev-stack-mu-plugin.php" "$DOCROOT/wp-content/mu-plugins/sidecar-dev-stack.php"
  # Regenerated on every start (so a newer stack script's settings apply); the salts are kept in .stack/salt.
  [ -f "$STACK/salt" ] || php -r 'echo bin2hex(random_bytes(24));' >"$STACK/salt"
  local salt
  salt=$(cat "$STACK/salt")
  cat >"$DOCROOT/wp-config.php" <<PHP
<?php
// Written by scripts/stack.sh for the native development stack.
define( 'DB_NAME', getenv( 'WP_DB_NAME' ) ?: '$DB_NAME' );
define( 'DB_USER', '$DB_USER' );
define( 'DB_PASSWORD', '$DB_PASSWORD' );
define( 'DB_HOST', getenv( 'WP_DB_HOST' ) ?: 'localhost:$DB_SOCKET' ); // Tests may point a site at another server.
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
define( 'AUTH_KEY', '$salt-a' );
define( 'SECURE_AUTH_KEY', '$salt-b' );
define( 'LOGGED_IN_KEY', '$salt-c' );
define( 'NONCE_KEY', '$salt-d' );
define( 'AUTH_SALT', '$salt-e' );
define( 'SECURE_AUTH_SALT', '$salt-f' );
define( 'LOGGED_IN_SALT', '$salt-g' );
define( 'NONCE_SALT', '$salt-h' );
define( 'WP_DEBUG', true );
define( 'WP_ENVIRONMENT_TYPE', 'local' ); // Application passwords over plain http, for the REST tests.
define( 'WP_DEBUG_LOG', '$LOGS/wp-debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'DISABLE_WP_CRON', (bool) getenv( 'WP_DISABLE_CRON' ) );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'SIDECAR_SCHEDULER_NUDGE', getenv( 'SIDECAR_NUDGE' ) ?: 'udp://127.0.0.1:$((HTTP_PORT + 1))' );
// Multisite tests turn this copy into a network (subdirectory sites) for their own table prefix.
if ( getenv( 'WP_MULTISITE' ) ) {
	define( 'MULTISITE', true );
	define( 'SUBDOMAIN_INSTALL', false );
	define( 'DOMAIN_CURRENT_SITE', '127.0.0.1' ); // WordPress cannot keep a port in a network's domain; the CLI tests need no HTTP.
	define( 'PATH_CURRENT_SITE', '/' );
	define( 'SITE_ID_CURRENT_SITE', 1 );
	define( 'BLOG_ID_CURRENT_SITE', 1 );
}
// Tests give every file its own table prefix, so that files can run in parallel on one database.
\$table_prefix = getenv( 'WP_TABLE_PREFIX' ) ?: 'wp_';
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
PHP
}

# WP-CLI from Packagist (the framework; no registry here serves the bundle or the phar), pinned in
# scripts/wp-cli/composer.json, so the sidecar's default wp-cli channel and our `wp` commands run for real.
install_wp_cli() {
  mkdir -p "$WP_CLI_DIR" "$(dirname "$WP_BIN")"
  if ! cmp -s "$ROOT/scripts/wp-cli/composer.json" "$WP_CLI_DIR/composer.json" || [ ! -f "$WP_CLI_DIR/vendor/wp-cli/wp-cli/php/boot-fs.php" ]; then
    say "installing WP-CLI with Composer (scripts/wp-cli/composer.json)"
    cp "$ROOT/scripts/wp-cli/composer.json" "$WP_CLI_DIR/composer.json"
    (cd "$WP_CLI_DIR" && COMPOSER_ALLOW_SUPERUSER=1 composer update --no-interaction --no-dev --no-progress --prefer-dist >"$LOGS/composer.log" 2>&1) \
      || { rm -f "$WP_CLI_DIR/composer.json"; die "could not install WP-CLI with Composer; see $LOGS/composer.log"; }
  fi
  printf 'path: %s\n' "$DOCROOT" >"$WP_CLI_DIR/config.yml"
  cat >"$WP_BIN.tmp" <<SH
#!/bin/sh
# WP-CLI of the native stack (written by scripts/stack.sh). Finds the stack's WordPress by itself; as root (CI,
# containers) it allows root the way an operator passes --allow-root.
[ "\$(id -u)" = 0 ] && export WP_CLI_ALLOW_ROOT=1
export WP_CLI_CONFIG_PATH="\${WP_CLI_CONFIG_PATH:-$WP_CLI_DIR/config.yml}"
exec php -d auto_prepend_file="$ROOT/scripts/wp-cli/quiet-mustache.php" "$WP_CLI_DIR/vendor/wp-cli/wp-cli/php/boot-fs.php" "\$@"
SH
  chmod +x "$WP_BIN.tmp" && mv "$WP_BIN.tmp" "$WP_BIN"
  "$WP_BIN" --version >/dev/null 2>"$LOGS/wp-cli.err" || die "WP-CLI does not start; see $LOGS/wp-cli.err"
}

# The real Action Scheduler, for the tests' reference and companion sites and the benchmark: copied (not linked: the
# library derives its URLs from its own path) from ../shared/vendor/action-scheduler into wp-content/plugins, where it
# is a plugin like any other; no site runs it unless the site activates it. Recopied only when the source changes.
install_action_scheduler_library() {
  local src=${SIDECAR_AS_LIBRARY:-$ROOT/../shared/vendor/action-scheduler} dest=$DOCROOT/wp-content/plugins/action-scheduler
  if [ ! -f "$src/action-scheduler.php" ]; then
    say "note: the real Action Scheduler is not at $src; tests that compare against it will fail (set SIDECAR_AS_LIBRARY)"
    return 0
  fi
  local stamp
  stamp=$(cd "$src" && find . -type f -printf '%P %s %T@\n' | sort | md5sum | cut -d' ' -f1)
  [ -f "$dest/.stack-stamp" ] && [ "$(cat "$dest/.stack-stamp")" = "$stamp" ] && return 0
  rm -rf "$dest.tmp" && cp -r "$src" "$dest.tmp" && chmod -R u+w "$dest.tmp" && echo "$stamp" >"$dest.tmp/.stack-stamp"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  say "Action Scheduler $(sed -n 's/^ \* Version: *//p' "$dest/action-scheduler.php") copied to $dest"
}

install_wordpress() {
  WP_TABLE_PREFIX=wp_ php "$ROOT/scripts/wp-install.php" "$DOCROOT" "$SITE_URL" "$ADMIN_USER" "$ADMIN_PASSWORD" \
    || die "WordPress install failed"
}

start_php_fpm() {
  if pid_alive "$RUN/php-fpm.pid"; then say "php-fpm already running"; return; fi
  cat >"$RUN/php-fpm.conf" <<CONF
[global]
pid = $RUN/php-fpm.pid
error_log = $LOGS/php-fpm.log
daemonize = no
[www]
listen = $RUN/php-fpm.sock
listen.mode = 0660
pm = static
pm.max_children = ${SIDECAR_STACK_FPM_CHILDREN:-6}
clear_env = no
php_admin_value[error_log] = $LOGS/php-error.log
php_admin_flag[log_errors] = on
CONF
  nohup "$SBIN/php-fpm8.2" --nodaemonize --fpm-config "$RUN/php-fpm.conf" -R >"$LOGS/php-fpm.out" 2>&1 &
  echo $! >"$RUN/php-fpm.pid"
  wait_for php-fpm 40 test -S "$RUN/php-fpm.sock"
}

# One nginx server block for WordPress on 127.0.0.1:$1; $2 is an extra fastcgi_param line (or empty).
server_block() {
  cat <<BLOCK
  server {
    listen 127.0.0.1:$1;
    root $DOCROOT;
    index index.php;
    client_max_body_size 16m;
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location ~ \.php\$ {
      try_files \$uri =404;
      include /etc/nginx/fastcgi_params;
      # Debian's fastcgi_params sends \$host (no port) as HTTP_HOST; WordPress builds admin URLs from it.
      fastcgi_param HTTP_HOST \$http_host;
      $2
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$RUN/php-fpm.sock;
      fastcgi_read_timeout 600;
    }
  }
BLOCK
}

start_nginx() {
  if pid_alive "$RUN/nginx.pid"; then say "nginx already running"; return; fi
  port_taken_by_other "$HTTP_PORT" "$RUN/nginx.pid" && die "port $HTTP_PORT is taken by another process; set SIDECAR_STACK_HTTP_PORT"
  port_taken_by_other "$PREFIX_PORT" "$RUN/nginx.pid" && die "port $PREFIX_PORT is taken by another process; set SIDECAR_STACK_HTTP_PORT"
  mkdir -p "$RUN/nginx-tmp"
  cat >"$RUN/nginx.conf" <<CONF
daemon off;
worker_processes 1;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
pid $RUN/nginx.master.pid;
error_log $LOGS/nginx-error.log;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $RUN/nginx-tmp/body;
  fastcgi_temp_path $RUN/nginx-tmp/fastcgi;
  proxy_temp_path $RUN/nginx-tmp/proxy;
  uwsgi_temp_path $RUN/nginx-tmp/uwsgi;
  scgi_temp_path $RUN/nginx-tmp/scgi;
  keepalive_timeout 65;
$(server_block "$HTTP_PORT" "")
  # Test/bench server (loopback only, dev stack only): the X-WP-Table-Prefix header picks the site, so test files and
  # the benchmark reach their own table prefix over HTTP. wp-config.php reads it with getenv('WP_TABLE_PREFIX').
$(server_block "$PREFIX_PORT" 'fastcgi_param WP_TABLE_PREFIX $http_x_wp_table_prefix;')
}
CONF
  nohup "$SBIN/nginx" -c "$RUN/nginx.conf" -e "$LOGS/nginx-error.log" >"$LOGS/nginx.out" 2>&1 &
  echo $! >"$RUN/nginx.pid"
  wait_for nginx 40 curl -fsS -o /dev/null "$SITE_URL/wp-login.php"
}

start_sidecar() {
  [ "$START_SIDECAR" = 1 ] || return 0
  if pid_alive "$RUN/sidecar.pid"; then say "sidecar already running (pid $(cat "$RUN/sidecar.pid"))"; return; fi
  nohup node --max-semi-space-size=2 --optimize-for-size "$ROOT/dist/src-worker/bin.js" --path="$DOCROOT" --channel=wp-cli --wp-binary="$WP_BIN" --http-port=$((HTTP_PORT + 2)) \
    --nudge-port=$((HTTP_PORT + 1)) >>"$LOGS/sidecar.log" 2>&1 &
  echo $! >"$RUN/sidecar.pid"
  wait_for sidecar 80 curl -fsS "http://127.0.0.1:$((HTTP_PORT + 2))/healthz"
  say "sidecar running (pid $(cat "$RUN/sidecar.pid")), health at http://127.0.0.1:$((HTTP_PORT + 2))/healthz"
}

stop_pidfile() {
  local name=$1 file=$2
  if pid_alive "$file"; then
    local pid; pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

case "${1:-up}" in
  up)
    # Ports first: a taken port should stop us before anything is installed, built or started.
    port_taken_by_other "$DB_PORT" "$RUN/mariadb.pid" && die "port $DB_PORT (MariaDB) is taken by another process; set SIDECAR_STACK_DB_PORT"
    port_taken_by_other "$HTTP_PORT" "$RUN/nginx.pid" && die "port $HTTP_PORT (nginx) is taken by another process; set SIDECAR_STACK_HTTP_PORT"
    port_taken_by_other "$PREFIX_PORT" "$RUN/nginx.pid" && die "port $PREFIX_PORT (nginx, test server) is taken by another process; set SIDECAR_STACK_HTTP_PORT"
    require_tools
    bash "$ROOT/scripts/build-if-stale.sh" || die "the build failed (did you run npm install?)"
    start_mariadb
    ensure_database
    fetch_wordpress
    write_wp_config
    install_action_scheduler_library
    install_wordpress
    install_wp_cli
    start_php_fpm
    start_nginx
    start_sidecar
    cat <<MSG

  Sidecar Scheduler is up.
  Site:        $SITE_URL/
  Admin:       $SITE_URL/wp-admin/tools.php?page=action-scheduler  (user: $ADMIN_USER, password: $ADMIN_PASSWORD)
  Sidecar:     http://127.0.0.1:$((HTTP_PORT + 2))/healthz and /metrics
  WP-CLI:      $WP_BIN sidecar-scheduler status   (the sidecar runs actions through \`wp sidecar-scheduler work\`)
  Logs:        $LOGS
  Stop with:   npm run stop
MSG
    ;;
  down)
    stop_pidfile sidecar "$RUN/sidecar.pid"
    stop_pidfile nginx "$RUN/nginx.pid"
    stop_pidfile php-fpm "$RUN/php-fpm.pid"
    stop_pidfile MariaDB "$RUN/mariadb.pid"
    ;;
  sidecar-stop)
    stop_pidfile sidecar "$RUN/sidecar.pid"
    ;;
  sidecar-start)
    START_SIDECAR=1
    start_sidecar
    ;;
  status)
    for s in mariadb php-fpm nginx sidecar; do
      if pid_alive "$RUN/$s.pid"; then echo "$s: running (pid $(cat "$RUN/$s.pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  env)
    echo "SIDECAR_STACK_DOCROOT=$DOCROOT"; echo "SIDECAR_STACK_DB_SOCKET=$DB_SOCKET"; echo "SIDECAR_STACK_DB_PORT=$DB_PORT"
    echo "SIDECAR_STACK_SITE_URL=$SITE_URL"; echo "SIDECAR_STACK_DB_NAME=$DB_NAME"; echo "SIDECAR_STACK_WP_BIN=$WP_BIN"
    ;;
  *) die "usage: scripts/stack.sh up|down|status|env|sidecar-stop|sidecar-start" ;;
esac
