// wp-config.php variants the sidecar must read with php-parser, and the clear errors where it cannot.
import { parseWpConfig, parseDbHost } from '../../src-worker/config/wp-config-reader';

const cfg = (body: string, env: Record<string, string> = {}) => parseWpConfig(`<?php\n${body}`, env, '/srv/site');

test('literal constants and table prefix', () => {
  const v = cfg(`define('DB_NAME', 'shop'); define( "DB_USER", 'u' ); $table_prefix = 'wp2_';`);
  expect(v.constants).toMatchObject({ DB_NAME: 'shop', DB_USER: 'u' });
  expect(v.tablePrefix).toBe('wp2_');
});

test('getenv with fallback, concatenation and constants', () => {
  const v = cfg(
    `define('DB_HOST', getenv('DBH') ?: 'localhost'); define('P', 'x_'); $table_prefix = P . 'y_'; define('DB_NAME', getenv('NOPE') ?: 'def');`,
    { DBH: 'db:3307' },
  );
  expect(v.constants.DB_HOST).toBe('db:3307');
  expect(v.constants.DB_NAME).toBe('def');
  expect(v.tablePrefix).toBe('x_y_');
});

test('guarded defines inside if blocks', () => {
  const v = cfg(`if ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }`);
  expect(v.constants.ABSPATH).toBe('/srv/site/');
});

test('an if on getenv() follows the branch PHP would take; else branches too', () => {
  const src = `if ( getenv('WP_MULTISITE') ) { define('MULTISITE', true); } else { define('MULTISITE', false); }`;
  expect(cfg(src, { WP_MULTISITE: '1' }).constants.MULTISITE).toBe(true);
  expect(cfg(src, {}).constants.MULTISITE).toBe(false);
  expect(cfg(`define('A', 1); if ( defined('A') ) { define('B', 2); }`).constants.B).toBe(2);
  expect(cfg(`if ( ! defined('C') ) { define('C', 3); }`).constants.C).toBe(3);
});

test('a value php-parser cannot evaluate is reported, not guessed', () => {
  const v = cfg(`define('DB_PASSWORD', file_get_contents('/run/secret'));`);
  expect(v.unresolved.DB_PASSWORD).toMatch(/function file_get_contents/);
  expect(v.constants.DB_PASSWORD).toBeUndefined();
});

test('a file that does not parse gives a clear error', () => {
  expect(() => cfg(`define('A', ;`)).toThrow(/does not parse/);
});

test.each([
  ['localhost', { host: 'localhost', port: 3306 }],
  ['db.example:3307', { host: 'db.example', port: 3307 }],
  ['localhost:/run/mysqld/mysqld.sock', { host: 'localhost', socketPath: '/run/mysqld/mysqld.sock' }],
  [':/tmp/my.sock', { host: 'localhost', socketPath: '/tmp/my.sock' }],
  ['[::1]:3308', { host: '::1', port: 3308 }],
])('DB_HOST %s', (input, expected) => {
  expect(parseDbHost(input)).toEqual(expected);
});
