// Differential tests against the real Action Scheduler (issue 11, items 3 and 4, the PHP API): each observation runs
// on a site with only the library (the reference) and on a site with only Sidecar Scheduler (standalone), and the
// answers must be identical. The observations are in library-parity.php (one scenario each), the class surface in
// library-parity-surface.php, a plugin's own runner and test helpers in library-parity-runner.php.
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { installSite, dropPrefix, php, wp, rows, LIBRARY, OURS, ROOT, WP_BIN, PREFIX_SITE } from '../helpers/stack';

const LIB = 'tpl_';
const OUR = 'tpo_';
const SITES = [LIB, OUR] as const;

beforeAll(async () => {
  for (const prefix of SITES) await dropPrefix(prefix);
  installSite(LIB, [LIBRARY]);
  installSite(OUR, [OURS]);
});

/** Runs one scenario of library-parity.php on a site and returns what it printed (its last line, JSON). */
function observe(prefix: string, scenario: string, file = 'library-parity.php'): any {
  const out = php(prefix, `require ${JSON.stringify(join(ROOT, 'tests/php', file))};`, {
    LIBRARY_PARITY_SCENARIO: scenario,
  });
  const last = out.trim().split('\n').pop() as string;
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${prefix} ${scenario}: not JSON: ${out.slice(-2000)}`);
  }
}

/** The same observation on both sites: the library's answer and ours. */
function both(scenario: string, file?: string) {
  return { library: observe(LIB, scenario, file), ours: observe(OUR, scenario, file) };
}

describe('the as_* API answers as the library does', () => {
  test('a site on a manual UTC offset (UTC+5:30, no city): schedules, *_local columns, next dates and successors', () => {
    const { library, ours } = both('manual-offset');
    // The instant is kept whatever the site's offset: 2030-01-01 00:00 UTC is 1893456000 in every `schedule`.
    expect(library.rows.single.schedule).toContain('scheduled_timestamp";i:1893456000;');
    expect(library.next_cron).toEqual(['integer', 1893490200]);
    expect(ours).toEqual(library);
  });

  test('action_scheduler_canceled_action gets the ID as an int from every way of cancelling', () => {
    const { library, ours } = both('cancel-ids');
    expect(library.seen.filter((s: any[]) => s[0] === 'canceled')).toEqual(
      Array(4).fill(['canceled', 'integer', true]),
    );
    expect(ours).toEqual(library);
  });

  test('args over 8,000 bytes: the same return values, exception and error-log text (8000, not 191)', () => {
    const { library, ours } = both('long-args');
    expect(library.save_action[1]).toContain('should not be more than 8000 characters');
    expect(ours).toEqual(library);
  });

  test("every pre_as_* filter gets the library's arguments, with their types, and its answer is used the same way", () => {
    const { library, ours } = both('pre-filters');
    // $unique goes to the async filter only.
    expect(library.seen.pre_as_enqueue_async_action[0]).toHaveLength(6);
    expect(library.seen.pre_as_schedule_single_action[0]).toHaveLength(6);
    expect(ours).toEqual(library);
  });

  test('group IDs are looked up each time: after a ROLLBACK (as WP_UnitTestCase does) or a deleted group row, new actions find their group', () => {
    const { library, ours } = both('groups');
    expect(library.group_rows_after_rollback).toBe(0);
    expect(library.points_at_its_group).toBe('parity-rolled-back');
    expect(ours).toEqual(library);
  });

  test('ActionScheduler_Compatibility::raise_time_limit(): 0 is unlimited, a lower limit never lowers it', () => {
    const { library, ours } = both('time-limit');
    expect(library[0]).toEqual([[30, 0], 0]);
    expect(ours).toEqual(library);
  });

  test('ActionScheduler_Versions lists a version (latest_version() is a string, strict_types callers work)', () => {
    const { library, ours } = both('versions');
    expect(library.latest).toEqual(['string', '3.8.2']);
    expect(ours).toEqual(library);
  });
});

describe('the class surface plugins and their tests call and extend', () => {
  // Left out on purpose (README, Compatibility): the library's own class loader and its list-table admin screen.
  const ABSENT_ON_PURPOSE: Record<string, string[]> = {
    ActionScheduler: ['admin_view', 'autoload', 'is_class_abstract', 'is_class_cli', 'is_class_migration'],
  };
  // The library's default is its posts-table store, which its data controller swaps for the table store on every
  // migrated site; ours has only the table store.
  const CONSTANTS_ON_PURPOSE: Record<string, string[]> = {
    ActionScheduler_Store: ['DEFAULT_CLASS'],
    ActionScheduler_DBStore: ['DEFAULT_CLASS'],
  };
  let library: Record<string, any>;
  let ours: Record<string, any>;

  beforeAll(() => {
    library = observe(LIB, '', 'library-parity-surface.php');
    ours = observe(OUR, '', 'library-parity-surface.php');
  });

  test('the reflection dump covers the classes asked for', () => {
    expect(Object.keys(library).length).toBeGreaterThanOrEqual(40);
    expect(Object.values(library).filter((c) => c === 'missing')).toEqual([]);
  });

  test.each([
    'ActionScheduler',
    'ActionScheduler_Abstract_QueueRunner',
    'ActionScheduler_Abstract_QueueRunner_Deprecated',
    'ActionScheduler_Lock',
    'ActionScheduler_Logger',
    'ActionScheduler_Store',
    'ActionScheduler_Store_Deprecated',
    'ActionScheduler_TimezoneHelper',
    'ActionScheduler_Action',
    'ActionScheduler_FinishedAction',
    'ActionScheduler_CanceledAction',
    'ActionScheduler_NullAction',
    'ActionScheduler_Schedule',
    'ActionScheduler_Schedule_Deprecated',
    'ActionScheduler_Abstract_Schedule',
    'ActionScheduler_Abstract_RecurringSchedule',
    'ActionScheduler_SimpleSchedule',
    'ActionScheduler_NullSchedule',
    'ActionScheduler_CanceledSchedule',
    'ActionScheduler_IntervalSchedule',
    'ActionScheduler_CronSchedule',
    'CronExpression',
    'ActionScheduler_DBStore',
    'ActionScheduler_DBLogger',
    'ActionScheduler_ActionClaim',
    'ActionScheduler_ActionFactory',
    'ActionScheduler_QueueRunner',
    'ActionScheduler_AsyncRequest_QueueRunner',
    'WP_Async_Request',
    'ActionScheduler_QueueCleaner',
    'ActionScheduler_FatalErrorMonitor',
    'ActionScheduler_OptionLock',
    'ActionScheduler_Compatibility',
    'ActionScheduler_DataController',
    'ActionScheduler_DateTime',
    'ActionScheduler_Versions',
    'ActionScheduler_LogEntry',
    'ActionScheduler_NullLogEntry',
    'ActionScheduler_Exception',
    'ActionScheduler_InvalidActionException',
    'ActionScheduler_Abstract_Schema',
    'ActionScheduler_StoreSchema',
    'ActionScheduler_LoggerSchema',
  ])('%s: same kind, parents, interfaces, constants, and every method of the library with its signature', (name) => {
    const lib = library[name];
    const our = ours[name];
    expect(our).not.toBe('missing');
    expect([our.kind, our.parents, our.interfaces]).toEqual([lib.kind, lib.parents, lib.interfaces]);
    const constants = (c: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(c).filter(([k]) => !(CONSTANTS_ON_PURPOSE[name] ?? []).includes(k)));
    expect(constants(our.constants)).toEqual(constants(lib.constants));
    // Every method of the library, as plugins call or override it; methods of our own may come on top.
    const expected = Object.fromEntries(
      Object.entries(lib.methods).filter(([m]) => !(ABSENT_ON_PURPOSE[name] ?? []).includes(m)),
    );
    const actual = Object.fromEntries(Object.keys(expected).map((m) => [m, our.methods[m] ?? 'missing']));
    expect(actual).toEqual(expected);
  });

  test('the table makers: tables_exist(), and register_tables( true ) recreating dropped tables with the same DDL and hooks', () => {
    const { library: lib, ours: our } = both('schema');
    expect([lib.after_drop, lib.forced]).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(our).toEqual(lib);
  });

  test("a plugin's own runner, store, factory, lock and async helper built on these classes load and behave the same", () => {
    const { library: lib, ours: our } = both('custom-runner');
    expect(lib.processed).toBe(3);
    expect(lib.statuses).toEqual({ ok: 'complete', throw: 'failed', recurring: 'complete' });
    expect(our).toEqual(lib);
  });
});

describe("wp action-scheduler run prints and hooks what the library's WP-CLI runner does", () => {
  const REQUIRE = `--require=${join(ROOT, 'tests/php/library-parity-cli.php')}`;
  /** Action IDs differ between the sites; everything else must not. */
  const normalise = (text: string) => text.replace(/action \d+/g, 'action N').replace(/\d+:\d\d \/ \d+:\d\d/g, 'T / T');
  const enqueue = (prefix: string, code: string) =>
    php(prefix, `global $wpdb; $wpdb->query("DELETE FROM {$wpdb->actionscheduler_actions}"); ${code}`);
  const run = (prefix: string, args: string[]) => {
    const r = wp(prefix, ['action-scheduler', 'run', REQUIRE, ...args]);
    return { code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr) };
  };

  test('batches, their hooks, "Found N scheduled tasks", "N batches executed." and the final count; nothing claimed: no hooks', () => {
    const code = `as_enqueue_async_action('parity_cli_ok'); as_enqueue_async_action('parity_cli_throw'); as_enqueue_async_action('parity_cli_ok');`;
    const results = SITES.map((prefix) => {
      enqueue(prefix, code);
      return { batches: run(prefix, ['--batch-size=2']), nothing: run(prefix, []) };
    });
    expect(results[0].batches.stdout).toContain(
      'Found 2 scheduled tasks\nhook: action_scheduler_before_process_queue\n',
    );
    expect(results[0].nothing.stdout).toBe('0 batches executed.\nSuccess: 0 scheduled tasks completed.\n');
    expect(results[1]).toEqual(results[0]);
  });

  test('on purpose: the last, empty claim of a run is deleted (the library leaves its row in the claims table)', async () => {
    const claimRows = async (prefix: string) =>
      Number((await rows(`SELECT COUNT(*) AS n FROM ${prefix}actionscheduler_claims`))[0].n);
    const left = [];
    for (const prefix of SITES) {
      enqueue(
        prefix,
        `global $wpdb; $wpdb->query("DELETE FROM {$wpdb->actionscheduler_claims}"); as_enqueue_async_action('parity_cli_ok');`,
      );
      run(prefix, []);
      left.push(await claimRows(prefix));
    }
    expect(left).toEqual([1, 0]);
  });

  test('in a terminal (where WP-CLI shows the progress bar and counts it) the output is the same too', () => {
    const inTerminal = (prefix: string) => {
      enqueue(
        prefix,
        `as_enqueue_async_action('parity_cli_ok'); as_enqueue_async_action('parity_cli_ok'); as_enqueue_async_action('parity_cli_ok');`,
      );
      const r = spawnSync('script', ['-qec', `${WP_BIN} action-scheduler run ${REQUIRE} --batch-size=2`, '/dev/null'], {
        env: { ...process.env, WP_TABLE_PREFIX: prefix },
        encoding: 'utf8',
        timeout: 120000,
      });
      // How often WP-CLI redraws the bar depends on timing (at most every 100 ms, and once at the end): compare
      // which bars were drawn, not how often.
      const parts = normalise(r.stdout).split(/[\r\n]+/);
      const bar = /^\s*(Running \d+ actions?)\s+\d+\s*%/;
      const bars = [...new Set(parts.map((p) => p.match(bar)?.[1]).filter(Boolean))];
      const text = parts
        .map((p) => p.replace(/\s*Running \d+ actions?\s+\d+\s*%\s*\[[=> ]*\]\s*T \/ T\s*/g, ''))
        .filter((p) => p.trim() !== '');
      return { code: r.status, bars, text };
    };
    const [lib, our] = SITES.map(inTerminal);
    expect(lib.text).toContain('\u001b[32;1mSuccess:\u001b[0m 3 scheduled tasks completed.');
    expect(lib.bars).toEqual(['Running 2 actions', 'Running 1 action']);
    expect(our).toEqual(lib);
  });

  test('wp action-scheduler clean: per-batch and total lines, --status, --before, --batches, as the library prints them', () => {
    const code = `for ($i = 0; $i < 5; $i++) { as_enqueue_async_action('parity_cli_ok', array($i)); } as_enqueue_async_action('parity_cli_throw'); as_schedule_single_action(time() + 3600, 'parity_cli_ok');`;
    const clean = (prefix: string, args: string[]) => {
      const r = wp(prefix, ['action-scheduler', 'clean', ...args]);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    };
    const results = SITES.map((prefix) => {
      enqueue(prefix, code);
      run(prefix, []);
      php(prefix, `as_unschedule_action('parity_cli_ok');`);
      return [
        clean(prefix, ['--before=1 day ago']),
        clean(prefix, ['--batch-size=2', '--batches=1']),
        clean(prefix, ['--batch-size=2']),
        clean(prefix, ['--status=failed']),
        clean(prefix, []),
      ];
    });
    // 6 finished: the first run took 2 complete + the canceled one; this one 2, then 1.
    expect(results[0][2].stdout).toBe(
      'Success: 2 actions deleted.\nSuccess: 1 action deleted.\n2 batches processed.\nSuccess: 3 actions deleted.\n',
    );
    expect(results[1]).toEqual(results[0]);
  });

  test("a CLI plugin's own command on ActionScheduler_WPCLI_QueueRunner (setup()/run(), progress ticks) works the same", () => {
    const results = SITES.map((prefix) => {
      enqueue(
        prefix,
        `as_enqueue_async_action('parity_cli_ok'); as_enqueue_async_action('parity_cli_throw'); as_enqueue_async_action('parity_cli_ok'); as_enqueue_async_action('parity_cli_other');`,
      );
      const r = wp(prefix, [`--require=${join(ROOT, 'tests/php/library-parity-wpcli.php')}`, 'parity-runner']);
      return { code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr) };
    });
    expect(results[0].stdout).toContain('counts [[2,null],[1,null]]'); // Piped: WP-CLI's no-op bar counts nothing.
    expect(results[1]).toEqual(results[0]);
    // Its surface and its progress bar's (run under WP-CLI; both classes also load elsewhere, on both sites).
    const surface = (prefix: string) =>
      JSON.parse(
        wp(prefix, [`--require=${join(ROOT, 'tests/php/library-parity-wpcli.php')}`, 'parity-surface'])
          .stdout.trim()
          .split('\n')
          .pop() as string,
      );
    const [libSurface, ourSurface] = SITES.map(surface);
    for (const name of ['ActionScheduler_WPCLI_QueueRunner', 'Action_Scheduler\\WP_CLI\\ProgressBar']) {
      expect(libSurface[name]).toHaveProperty('methods');
      expect(ourSurface[name]).toEqual(libSurface[name]);
    }
    expect(
      SITES.map((prefix) =>
        php(
          prefix,
          `var_export(array(class_exists('ActionScheduler_WPCLI_QueueRunner'), class_exists('Action_Scheduler\\\\WP_CLI\\\\ProgressBar')));`,
        ).replace(/\s+/g, ''),
      ),
    ).toEqual(Array(2).fill('array(0=>true,1=>true,)'));
  });

  test('options: --batches, --hooks, --group (also one that does not exist) and --exclude-groups', () => {
    const code = `foreach (array('a', 'b') as $g) { for ($i = 0; $i < 2; $i++) { as_enqueue_async_action('parity_cli_ok', array($g, $i), $g); } } as_enqueue_async_action('parity_cli_throw');`;
    const results = SITES.map((prefix) => {
      enqueue(prefix, code);
      return [
        run(prefix, ['--batch-size=1', '--batches=2', '--hooks=parity_cli_ok']),
        run(prefix, ['--group=no-such-group']),
        run(prefix, ['--group=b']),
        run(prefix, ['--exclude-groups=a']),
        run(prefix, []),
      ];
    });
    expect(results[0][1].stderr).toContain(
      'Error: There was an error running the action scheduler: The group "no-such-group" does not exist.',
    );
    expect(results[1]).toEqual(results[0]);
  });
});

describe('the admin screen', () => {
  /** Logs in as the site's admin through wp-login.php and returns the cookies. */
  async function logIn(prefix: string): Promise<string> {
    const res = await fetch(`${PREFIX_SITE}/wp-login.php`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'X-WP-Table-Prefix': prefix,
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'wordpress_test_cookie=WP%20Cookie%20check',
      },
      body: new URLSearchParams({ log: 'admin', pwd: 'admin', testcookie: '1', 'wp-submit': 'Log In' }).toString(),
    });
    expect(res.status).toBe(302);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  /** What plugins that extend Tools › Scheduled Actions with standard screen markup find there. */
  async function screenParts(prefix: string) {
    const cookie = await logIn(prefix);
    const res = await fetch(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`, {
      headers: { 'X-WP-Table-Prefix': prefix, cookie },
    });
    const html = await res.text();
    return {
      status: res.status,
      // WordPress puts the page's hook name in the body class: plugins hook load-tools_page_action-scheduler.
      hookInBodyClass: /<body class="[^"]*\btools_page_action-scheduler\b/.test(html),
      screenMeta: html.includes('id="screen-meta"'),
      screenMetaLinks: html.includes('id="screen-meta-links"'),
      helpLink: html.includes('id="contextual-help-link"'),
      helpTabs: (html.match(/<li id="tab-link-[^"]+"/g) ?? []).length > 0,
    };
  }

  test("Tools › Scheduled Actions has the standard screen parts (Help tab, #screen-meta-links) and the library's hook name", async () => {
    const library = await screenParts(LIB);
    const ours = await screenParts(OUR);
    expect(library).toEqual({
      status: 200,
      hookInBodyClass: true,
      screenMeta: true,
      screenMetaLinks: true,
      helpLink: true,
      helpTabs: true,
    });
    expect(ours).toEqual(library);
  });
});
