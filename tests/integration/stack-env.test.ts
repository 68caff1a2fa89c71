// A bad environment gets a one-line message from `npm start` (scripts/stack.sh up), and nothing half-started.
import { spawnSync } from 'node:child_process';
import { createServer, Server } from 'node:net';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/stack';

const dir = mkdtempSync(join(tmpdir(), 'sidecar-env-'));
const stub = (name: string, body: string) => {
  const f = join(dir, 'bin', name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
};
mkdirSync(join(dir, 'bin'));

function up(env: Record<string, string>) {
  const r = spawnSync('bash', [join(ROOT, 'scripts/stack.sh'), 'up'], {
    env: {
      ...process.env,
      SIDECAR_STACK_DIR: join(dir, 'stack'),
      SIDECAR_STACK_HTTP_PORT: '18889',
      SIDECAR_STACK_DB_PORT: '18306',
      ...env,
    },
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a port taken by another program stops start-up with a message naming the port and the variable', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(18889, '127.0.0.1', resolve));
  try {
    const r = up({});
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/port 18889 \(nginx\) is taken by another process; set SIDECAR_STACK_HTTP_PORT/);
    expect(existsSync(join(dir, 'stack', 'mysql'))).toBe(false); // nothing was started or initialised
  } finally {
    server.close();
  }
});

test('a missing PHP extension is named, with the command that installs it', () => {
  stub('php', `if [ "$1" = "-m" ]; then printf 'Core\\nmbstring\\nxml\\ncurl\\n'; else exec /usr/bin/php "$@"; fi`);
  const r = up({ PATH: `${join(dir, 'bin')}:${process.env.PATH}` });
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/PHP extension 'mysqli' is missing\. Run: sudo bash scripts\/install-system-packages\.sh/);
});

test('a PHP that writes its module list slowly passes the extension check (no SIGPIPE race with grep -q)', () => {
  // One module per write, with pauses: with `php -m | grep -q` under pipefail, grep would leave early and PHP's
  // next write would die of SIGPIPE, which read as "extension missing" (it broke a CI run once).
  stub(
    'php',
    `if [ "$1" = "-m" ]; then /usr/bin/php -m | while read -r l; do echo "$l"; sleep 0.01; done; else exec /usr/bin/php "$@"; fi`,
  );
  stub('mariadb-install-db', 'echo "stopped here on purpose" >&2; exit 1');
  const r = up({ PATH: `${join(dir, 'bin')}:${process.env.PATH}` });
  expect(r.out).not.toMatch(/PHP extension/);
  expect(r.out).toMatch(/mariadb-install-db failed/);
  expect(r.code).toBe(1);
});

test('MariaDB that apt cannot install: a clear message, not a stack trace', () => {
  stub('php', 'exec /usr/bin/php "$@"');
  stub('dpkg-query', 'exit 1'); // every package looks missing
  stub(
    'apt-get',
    'if [ "$1" = "update" ]; then exit 0; fi; echo "E: Unable to locate package mariadb-server" >&2; exit 100',
  );
  const r = up({ PATH: `${join(dir, 'bin')}:${process.env.PATH}`, SIDECAR_STACK_SBIN: join(dir, 'no-sbin') });
  expect(r.code).toBe(1);
  if (process.getuid && process.getuid() === 0) {
    expect(r.out).toMatch(/installing missing system packages: mariadb-server php8\.2-fpm nginx-light/);
    expect(r.out).toMatch(/E: Unable to locate package mariadb-server/);
    expect(r.out).toMatch(/could not install mariadb-server php8\.2-fpm nginx-light with apt-get/);
  } else {
    expect(r.out).toMatch(
      /missing system packages: mariadb-server php8\.2-fpm nginx-light\. Run: sudo bash scripts\/install-system-packages\.sh/,
    );
  }
  expect(r.out).not.toMatch(/at .*\.js:\d+/);
});
