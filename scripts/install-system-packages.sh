#!/usr/bin/env bash
# Installs the Debian packages the native stack and the tests need. Safe to run again.
set -euo pipefail
PKGS=(mariadb-server mariadb-client php8.2-cli php8.2-fpm php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml php8.2-intl nginx-light chromium curl unzip supervisor composer)
missing=()
# `dpkg -s` also succeeds for a package that was removed but left its config files, so ask for the real state.
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "[system] all packages present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "[system] need root to install: ${missing[*]}" >&2; exit 1; fi
echo "[system] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/sidecar-apt.log 2>&1 || { tail -20 /tmp/sidecar-apt.log >&2; exit 1; }
echo "[system] done"
