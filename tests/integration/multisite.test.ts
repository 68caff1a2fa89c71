// A multisite network: the sidecar finds every site and runs each site's actions in its own tables, with workers
// bound to that site (so its plugins and options are the site's own).
import { rows, startSidecar, exited } from '../helpers/stack';
import { countingNetwork, MULTISITE, onNetworkSite } from '../helpers/sites';

const BASE = 'tms_';

beforeAll(async () => {
  await countingNetwork(BASE, { path: '/site2/', title: 'Site 2' });
  for (const path of ['/', '/site2/']) {
    onNetworkSite(
      BASE,
      path,
      `for ($i = 0; $i < 30; $i++) { as_enqueue_async_action('sidecar_test_count', array($i), 'ms'); }`,
    );
  }
}, 120000);

test('each site has its own queue tables', async () => {
  const t = await rows(`SHOW TABLES LIKE 'tms\\_2\\_actionscheduler\\_actions'`);
  expect(t.length).toBe(1);
});

test('one sidecar serves every site of the network, each in its own tables', async () => {
  const s = startSidecar(BASE, ['--once', '--workers=1'], MULTISITE);
  expect(await exited(s)).toBe(0);
  expect(s.output.join('')).toMatch(/"sites":2/);
  for (const prefix of [BASE, `${BASE}2_`]) {
    const [c] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM ${prefix}sidecar_test_runs`);
    expect([prefix, Number(c.n), Number(c.d)]).toEqual([prefix, 30, 30]);
    const [l] = await rows(
      `SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_logs WHERE message = 'action complete via Sidecar'`,
    );
    expect(Number(l.n)).toBe(30);
  }
});
