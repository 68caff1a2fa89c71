#!/usr/bin/env bash
# npm run lint:phpstan: PHPStan over plugin/ with the WordPress stubs (phpstan.neon.dist). PHPStan and the stubs are
# installed from Packagist into tools/phpstan/vendor (exact versions in tools/phpstan/composer.lock), never into plugin/.
# Extra arguments go to `phpstan analyse`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tools/phpstan/vendor/bin/phpstan ]; then
	COMPOSER_ALLOW_SUPERUSER=1 composer install --working-dir=tools/phpstan --no-interaction --no-progress --quiet
fi
exec php -d memory_limit=1G tools/phpstan/vendor/bin/phpstan analyse -c phpstan.neon.dist --no-progress "$@"
