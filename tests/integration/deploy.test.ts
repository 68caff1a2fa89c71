// The shipped Supervisor program and systemd unit really start the sidecar and stop it cleanly.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, DOCROOT, installSite, dropPrefix, exited, eventually } from '../helpers/stack';

const PREFIX = 'tdeploy_';
const dir = mkdtempSync(join(tmpdir(), 'sidecar-deploy-'));
const health = async (port: number) => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
  } catch {
    return 0;
  }
};

/** The shipped file with only what differs on this machine replaced: install paths, port, the test site's prefix. */
function localise(text: string, port: number) {
  return text
    .replaceAll('/opt/sidecar-scheduler', ROOT)
    .replaceAll('/var/www/html', DOCROOT)
    .replaceAll('--http-port=9464', `--http-port=${port} --nudge-port=0`);
}

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

test('Supervisor: the program starts the sidecar and `supervisorctl stop` ends it cleanly', async () => {
  if (!existsSync('/usr/bin/supervisord')) {
    throw new Error('supervisor is not installed (scripts/install-system-packages.sh installs it)');
  }
  const port = 19464;
  const program = localise(readFileSync(join(ROOT, 'scripts/deploy/supervisor-sidecar-scheduler.conf'), 'utf8'), port)
    .replace(/^user=.*$/m, '') // tests run as the invoking user
    .replace(/^stdout_logfile=.*$/m, `stdout_logfile=${dir}/sidecar.log`)
    .replace(/^environment=.*$/m, `environment=NODE_ENV="production",WP_TABLE_PREFIX="${PREFIX}"`);
  const conf = join(dir, 'supervisord.conf');
  writeFileSync(
    conf,
    `[unix_http_server]\nfile=${dir}/supervisor.sock\n[supervisord]\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\nnodaemon=true\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[supervisorctl]\nserverurl=unix://${dir}/supervisor.sock\n${program}\n`,
  );
  const supervisord = spawn('/usr/bin/supervisord', ['-c', conf], { stdio: 'ignore' });
  try {
    expect(
      await eventually(
        () => health(port),
        (s) => s === 200,
        30000,
      ),
    ).toBe(200);
    execFileSync('/usr/bin/supervisorctl', ['-c', conf, 'stop', 'sidecar-scheduler'], { timeout: 40000 });
    const log = readFileSync(join(dir, 'sidecar.log'), 'utf8');
    expect(log).toMatch(/"msg":"stopped"/);
    expect(log).toMatch(/"clean":true/);
    expect(await health(port)).toBe(0);
  } finally {
    supervisord.kill('SIGTERM'); // supervisord was started by this test; stop it by its own handle.
    await exited(supervisord, 20000);
  }
});

test('systemd: the unit verifies, and its ExecStart runs the sidecar, which stops on SIGTERM within TimeoutStopSec', async () => {
  const port = 19465;
  const unit = localise(readFileSync(join(ROOT, 'scripts/deploy/sidecar-scheduler.service'), 'utf8'), port);
  const unitFile = join(dir, 'sidecar-scheduler.service');
  writeFileSync(unitFile, unit);
  if (existsSync('/usr/bin/systemd-analyze')) {
    execFileSync('/usr/bin/systemd-analyze', ['verify', unitFile], { stdio: 'pipe' });
  }
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1].split(/\s+/);
  const stopSeconds = Number(/^TimeoutStopSec=(\d+)/m.exec(unit)![1]);
  const child = spawn(execStart[0], execStart.slice(1), {
    cwd: ROOT,
    env: { ...process.env, WP_TABLE_PREFIX: PREFIX },
    stdio: 'ignore',
  });
  expect(
    await eventually(
      () => health(port),
      (s) => s === 200,
      30000,
    ),
  ).toBe(200);
  const t0 = Date.now();
  child.kill('SIGTERM');
  expect(await exited(child, stopSeconds * 1000)).toBe(0);
  expect(Date.now() - t0).toBeLessThan(stopSeconds * 1000);
});
