// Differential conformance: tests/php/conformance.php observes a site with only the real Action Scheduler (the
// reference) and a site with only ours, through the same API; every observation must be identical, or be a difference
// named below with its reason (and, for deliberate ones, listed in README's Compatibility table).
import { join } from 'node:path';
import { installSite, phpJson, dropPrefix, ROOT, rows, LIBRARY, OURS } from '../helpers/stack';
import { compareObservations, Allowance } from '../helpers/observations';

// A suffix per process: two runs of this file at once (two people's `npm test`) would otherwise share the sites.
const LIB = `tdc_lib${process.pid}_`;
const OUR = `tdc_our${process.pid}_`;
type Observations = Record<string, unknown>;
let library: Observations;
let ours: Observations;

/** Differences we keep on purpose (README, "Compatibility with Action Scheduler"). */
const DELIBERATE: Allowance[] = [
  {
    match: /^as_supports ensure hook \| outcome$/,
    reason:
      'as_supports() is Action Scheduler 3.9 API; 3.8.2 has no such function, we answer true for ensure_recurring_actions_hook',
  },
  {
    match: /^CronExpression 0 0 LW \* \* from .* \| outcome$/,
    reason: "the library's CronExpression dies with a TypeError on 'LW' (last weekday of the month); ours computes it",
  },
  {
    match: /^class ActionScheduler_(HybridStore|wpPostStore|wpCommentLogger|WPCommentCleaner) \| outcome$/,
    reason:
      'the post-type store, its comment logger and its migration cleaner: we only have the table store (a site that still needs the migration runs the library)',
  },
  {
    match: /^class ActionScheduler_wcSystemStatus \| outcome$/,
    reason: "WooCommerce's status-report section: we add nothing to WooCommerce's screens",
  },
  {
    // The same rows (checked by hand at 07a320c: the same IDs, in another order); the library's cleaner selects them
    // without ORDER BY, so their order is whichever index MariaDB reads.
    match: /^cleaner: (statuses filter \(failed too\)|retention filter) \| (outcome|events)$/,
    reason:
      "the cleaner's selection has no ORDER BY: with our (status, last_attempt_gmt) index (schema 6) MariaDB reads the same rows in last-attempt order, with the library's indexes in scheduled-date order",
  },
  {
    match: /^class ActionScheduler_(AdminView|ListTable|Abstract_ListTable) \| outcome$/,
    reason:
      "the library's WP_List_Table admin screen: ours is Tools › Scheduled Actions as a React app on the same slug and hook",
  },
];

/**
 * TEMPORARY, being fixed by the parity work (plugin/src/Compat) at the same time: remove an entry as its fix lands
 * (the stale-entry test below says when). Anything left at the end moves to DELIBERATE with its reason, or is a bug.
 */
const PARITY_PENDING: Allowance[] = [
  // Emptied as the parity work landed: UTC-offset sites, the class surface (QueueRunner's and Abstract_Schedule's
  // parents, ActionScheduler_Lock, the schema classes, …), the version registry, raise_time_limit( 0 ).
];

beforeAll(async () => {
  const script = `require ${JSON.stringify(join(ROOT, 'tests/php/conformance.php'))};`;
  await dropPrefix(LIB);
  await dropPrefix(OUR);
  installSite(LIB, [LIBRARY]);
  installSite(OUR, [OURS]);
  library = phpJson(LIB, script);
  ours = phpJson(OUR, script);
});

afterAll(async () => {
  await dropPrefix(LIB);
  await dropPrefix(OUR);
});

test('both sites answered every observation step', () => {
  expect(Object.keys(library).length).toBeGreaterThan(2000);
  expect(Object.keys(ours).sort()).toEqual(Object.keys(library).sort());
});

test('the reference site runs the real library, the other ours', () => {
  expect(library['store class | outcome']).toEqual({ return: 'string:ActionScheduler_DBStore' });
  expect(phpJson(LIB, `echo json_encode( ActionScheduler_Versions::instance()->latest_version() );`)).toBe('3.8.2');
  expect(
    phpJson(
      OUR,
      `echo json_encode( defined( 'SIDECAR_SCHEDULER_FILE' ) && ! defined( 'ACTION_SCHEDULER_VERSION' ) ? 'ours' : 'other' );`,
    ),
  ).toBe('ours');
});

test('every observation is identical to the library, or a listed difference', () => {
  const result = compareObservations(library, ours, [...DELIBERATE, ...PARITY_PENDING]);
  // For the record (README quotes it): how many were compared and which differ, by list.
  console.log(
    `differential conformance: ${result.compared} observations compared, ${result.allowed.length} differ as listed, ${result.unexplained.length} unexplained\n${result.allowed.map((a) => `  ${a.key}: ${a.reason}`).join('\n')}`,
  );
  expect(result.unexplained).toEqual([]);
});

test('no allow-list entry is stale (a fixed difference leaves the list)', () => {
  const result = compareObservations(library, ours, [...DELIBERATE, ...PARITY_PENDING]);
  expect(result.unusedAllowances.map((a) => a.reason)).toEqual([]);
});

test('tables have the library schema and the claim index', async () => {
  const cols = await rows(`SHOW COLUMNS FROM ${OUR}actionscheduler_actions`);
  const libCols = await rows(`SHOW COLUMNS FROM ${LIB}actionscheduler_actions`);
  expect(cols).toEqual(libCols);
  for (const t of ['groups', 'claims', 'logs']) {
    expect(await rows(`SHOW COLUMNS FROM ${OUR}actionscheduler_${t}`)).toEqual(
      await rows(`SHOW COLUMNS FROM ${LIB}actionscheduler_${t}`),
    );
  }
  const indexes = async (p: string) =>
    (await rows(`SHOW INDEX FROM ${p}actionscheduler_actions`)).map(
      (r: any) => `${r.Key_name}:${r.Seq_in_index}:${r.Column_name}:${r.Sub_part}`,
    );
  // Ours has the library's indexes plus the sidecar's (its claim, per-group health; README: a deliberate addition).
  expect((await indexes(OUR)).filter((k) => !k.startsWith('sidecar_'))).toEqual(await indexes(LIB));
  expect((await indexes(OUR)).some((k) => k.startsWith('sidecar_claim:'))).toBe(true);
  const opts = async (p: string) =>
    (
      await rows(
        `SELECT option_name, option_value FROM ${p}options WHERE option_name LIKE 'schema-ActionScheduler%' ORDER BY option_name`,
      )
    ).map((o: any) => `${o.option_name}=${o.option_value.replace(/\.\d+$/, '')}`);
  expect(await opts(OUR)).toEqual(await opts(LIB));
});
