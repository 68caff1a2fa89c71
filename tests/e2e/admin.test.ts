// The admin screen in headless Chromium (Debian's) against the native stack: log in, check counts against the
// database, cancel / run / retry from the list, save screenshots for a person to look at, and no console errors.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { php, rows, SITE, ROOT, eventually } from '../helpers/stack';
import { MAIN } from '../helpers/http';

const ARTIFACTS = join(ROOT, 'tests/e2e/artifacts');
const TAG = `e2e_${Date.now()}`;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  php(
    MAIN,
    `
    as_schedule_single_action(time() + 7200, '${TAG}_cancel', array('who' => 'cancel me'), 'e2e');
    as_schedule_single_action(time() + 7200, 'sidecar_test_noop', array('${TAG}_run'), 'e2e');
    $f = as_enqueue_async_action('sidecar_test_throw', array('${TAG}'), 'e2e');
    ActionScheduler::runner()->process_action($f, 'E2E setup');`,
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // An aborted request (the page navigated on) is not a failure; anything else is.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  await page.goto(`${SITE}/wp-login.php`);
  await page.fill('#user_login', 'admin');
  await page.fill('#user_pass', process.env.SIDECAR_STACK_ADMIN_PASSWORD ?? 'admin');
  await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);
});

afterAll(async () => {
  await browser?.close();
  php(
    MAIN,
    `global $wpdb; foreach ($wpdb->get_col("SELECT a.action_id FROM {$wpdb->actionscheduler_actions} a JOIN {$wpdb->actionscheduler_groups} g ON g.group_id = a.group_id WHERE g.slug = 'e2e'") as $id) { ActionScheduler::store()->delete_action($id); }`,
  );
});

const statValue = async (label: string) =>
  Number((await page.locator(`[data-testid="stat-${label}"] .sidecar-stat__value`).innerText()).trim());

test('overview counts match the database', async () => {
  await page.goto(`${SITE}/wp-admin/tools.php?page=action-scheduler`);
  await page.waitForSelector('[data-testid="stat-Pending"]');
  await page.waitForSelector('.dataviews-view-table tbody tr');
  const check = async () => {
    const db = Object.fromEntries(
      (await rows(`SELECT status, COUNT(*) AS n FROM ${MAIN}actionscheduler_actions GROUP BY status`)).map((r: any) => [
        r.status,
        Number(r.n),
      ]),
    );
    return {
      ui: {
        pending: await statValue('Pending'),
        failed: await statValue('Failed'),
        complete: await statValue('Complete'),
      },
      db: { pending: db.pending ?? 0, failed: db.failed ?? 0, complete: db.complete ?? 0 },
    };
  };
  let r = await check();
  if (JSON.stringify(r.ui) !== JSON.stringify(r.db)) {
    await page.waitForTimeout(5500);
    r = await check();
  } // one refresh cycle, if a runner moved something
  expect(r.ui).toEqual(r.db);
  await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: false });
});

async function searchFor(text: string) {
  const search = page.getByRole('searchbox').first();
  await search.fill(text);
  await page.waitForFunction(
    (t) =>
      [...document.querySelectorAll('.dataviews-view-table tbody tr')].length > 0 &&
      [...document.querySelectorAll('.dataviews-view-table tbody tr')].every((tr) => tr.textContent?.includes(t)),
    text,
    { timeout: 15000 },
  );
}

test('cancel a pending action from the list', async () => {
  await searchFor(`${TAG}_cancel`);
  const row = page.locator('.dataviews-view-table tbody tr', { hasText: `${TAG}_cancel` });
  await row.getByRole('button', { name: 'Actions' }).click();
  await page.getByRole('menuitem', { name: 'Cancel' }).click();
  expect(
    await eventually(
      async () =>
        (await rows(`SELECT status FROM ${MAIN}actionscheduler_actions WHERE hook = ?`, [`${TAG}_cancel`]))[0].status,
      (v) => v === 'canceled',
    ),
  ).toBe('canceled');
  expect(
    await eventually(
      () => row.innerText(),
      (t) => t.includes('Canceled'),
    ),
  ).toContain('Canceled');
});

test('run a pending action now from the list', async () => {
  await searchFor(`${TAG}_run`);
  const row = page.locator('.dataviews-view-table tbody tr', { hasText: `${TAG}_run` });
  await row.getByRole('button', { name: 'Run now' }).click();
  const args = JSON.stringify([`${TAG}_run`]);
  // "Run now" queues: the action becomes due now for a runner to claim (here WP-Cron's fallback, no sidecar runs);
  // no callback runs inside the web request, so there is never an "Admin List Table" start.
  const logsOf = () =>
    rows(
      `SELECT l.message FROM ${MAIN}actionscheduler_logs l JOIN ${MAIN}actionscheduler_actions a USING (action_id) WHERE a.args = ? ORDER BY l.log_id`,
      [args],
    ).then((r) => r.map((l: any) => l.message));
  expect(await eventually(logsOf, (m) => m.includes('action queued to run now from the admin screen'))).toContain(
    'action queued to run now from the admin screen',
  );
  const [due] = await rows(
    `SELECT scheduled_date_gmt <= UTC_TIMESTAMP() AS due FROM ${MAIN}actionscheduler_actions WHERE args = ?`,
    [args],
  );
  expect(Number(due.due)).toBe(1);
  expect((await logsOf()).filter((m: string) => m.includes('Admin List Table'))).toEqual([]);
});

test('retry a failed action: a fresh pending copy, the failed row kept', async () => {
  await searchFor(TAG);
  const failedFilterRows = page.locator('.dataviews-view-table tbody tr', { hasText: 'sidecar_test_throw' });
  await failedFilterRows.first().getByRole('button', { name: 'Retry' }).click();
  const statuses = () =>
    rows(
      `SELECT status FROM ${MAIN}actionscheduler_actions WHERE hook = 'sidecar_test_throw' AND args = ? ORDER BY action_id`,
      [JSON.stringify([TAG])],
    ).then((r) => r.map((x: any) => x.status));
  expect(await eventually(statuses, (v) => v.length === 2)).toEqual(['failed', 'pending']);
  await page.screenshot({ path: join(ARTIFACTS, 'list.png'), fullPage: true });
});

test('the detail view shows the full log', async () => {
  // The failed action, not the canceled one: a canceled action that never ran is deleted at the library's next
  // cleaner pass (facts §3), and the WP-Cron / async fallback runner may run one at any moment of this test.
  await searchFor(TAG);
  const failed = page
    .locator('.dataviews-view-table tbody tr', { hasText: 'Failed' })
    .filter({ hasText: 'sidecar_test_throw' });
  await failed.locator('.sidecar-hook').first().click();
  const dialog = page.getByRole('dialog');
  const text = await eventually(
    () => dialog.innerText(),
    (t) => t.includes('retried as action'),
  );
  expect(text).toContain('action created');
  expect(text).toMatch(/action failed via E2E setup: /);
  expect(text).toContain('retried as action');
  await page.screenshot({ path: join(ARTIFACTS, 'detail.png') });
  await page.keyboard.press('Escape');
});

test('no console errors, failed requests or page errors', () => {
  expect(problems).toEqual([]);
});
