// Living beside another copy of Action Scheduler, part 2: a stand-in copy (tests/fixtures/as-standin.php). Everything
// companion mode promises is proven against the REAL library in tests/integration/companion-library.test.ts (load
// orders mu-plugin, bundled before ours, bundled after ours, the library's own plugin, a theme). The stand-in stays
// for the one thing the real library on the stack cannot be: another version. It registers as 3.9.3 through the
// version registry (the real copy is 3.8.2), so detection and companion mode do not hang on 3.8.2's specifics.
import { execFileSync } from 'node:child_process';
import { installSite, php, dropPrefix, DOCROOT } from '../helpers/stack';

const PREFIX = 'tcomp_';
const run = (mode: string, code: string) => php(PREFIX, code, { SIDECAR_TEST_STANDIN: mode });

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});

test.each([['mu'], ['late']])(
  "a newer copy (3.9.3) loaded %s: companion mode, no fatal, the API is the other copy's",
  (mode) => {
    const out = run(
      mode,
      `echo json_encode(array(SidecarScheduler\\Plugin::mode(), defined('SIDECAR_STANDIN_INITIALIZED'), function_exists('as_enqueue_async_action'), ActionScheduler::is_initialized()));`,
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual(['companion', true, true, true]);
  },
);

test('every load order of the stand-in finishes without a PHP fatal', () => {
  for (const mode of ['mu', 'late', 'theme', '']) {
    const out = execFileSync(
      'php',
      [
        '-d',
        'display_errors=stderr',
        '-r',
        `$_SERVER['HTTP_HOST']='127.0.0.1'; require ${JSON.stringify(DOCROOT + '/wp-load.php')}; echo 'ok';`,
      ],
      {
        env: { ...process.env, WP_TABLE_PREFIX: PREFIX, SIDECAR_TEST_STANDIN: mode },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(out.trim().endsWith('ok')).toBe(true);
  }
});
