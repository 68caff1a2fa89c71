// The insight parts of the admin screen in headless Chromium, on a site of their own (the loopback prefix server):
// failing hooks (the hour and day views, "Show failed" filtering the list, "Retry N failed"). Screenshots are saved
// in tests/e2e/artifacts/ for a person to look at; no console errors.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { php, rows, installSite, dropPrefix, ROOT, PREFIX_SITE, eventually } from '../helpers/stack';
import { linkFeatureFixture } from '../helpers/feature-site';

const ARTIFACTS = join(ROOT, 'tests/e2e/artifacts');
const PREFIX = `h6e${process.pid % 1000}_`;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  linkFeatureFixture();
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  // The site's own URL is the prefix server's, so every link and REST call of the screen stays on this site.
  php(
    PREFIX,
    `update_option('siteurl', '${PREFIX_SITE}'); update_option('home', '${PREFIX_SITE}');
    add_action('h6_charge', function ($m = null) { if (null !== $m) { throw new RuntimeException($m); } });
    for ($n = 0; $n < 40; $n++) { $id = as_enqueue_async_action('h6_charge', $n % 4 ? array() : array($n % 8 && 36 !== $n ? 'gateway timeout after 30 s' : 'card declined (code 51)'), 'payments'); ActionScheduler::runner()->process_action($id, 'H6 e2e'); }
    for ($n = 0; $n < 12; $n++) { $id = as_enqueue_async_action('h6_ok', array($n), 'emails'); ActionScheduler::runner()->process_action($id, 'H6 e2e'); }
    $id = as_enqueue_async_action('h6_fail', array('export file not writable: /tmp/x.csv'), 'exports'); ActionScheduler::runner()->process_action($id, 'H6 e2e');`,
  );
  await rows(
    `UPDATE ${PREFIX}actionscheduler_logs l JOIN ${PREFIX}actionscheduler_actions a USING (action_id) SET l.log_date_gmt = l.log_date_gmt - INTERVAL 5 HOUR WHERE a.hook = 'h6_fail'`,
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
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    extraHTTPHeaders: { 'X-WP-Table-Prefix': PREFIX },
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    }
  });
  await page.goto(`${PREFIX_SITE}/wp-login.php`);
  await page.fill('#user_login', 'admin');
  await page.fill('#user_pass', 'admin');
  await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);
});

afterAll(async () => {
  await browser?.close();
  await dropPrefix(PREFIX);
});

test('failing hooks: the hour view names the hook, its rate and its errors with counts', async () => {
  await page.goto(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`);
  const card = page.locator('[data-testid="failing-hooks"]');
  const row = card.locator('tr[data-hook="h6_charge"]');
  await row.waitFor({ timeout: 60000 });
  const text = await row.innerText();
  expect(text).toContain('payments');
  expect(text).toMatch(/\b40\b/);
  expect(text).toContain('25.0%');
  expect(text).toContain('6×');
  expect(text).toContain('4×');
  expect(text).toContain('card declined (code 51)');
  expect(text).toContain('gateway timeout after 30 s');
  expect(text).toContain('Retry 10 failed');
  expect(await card.locator('tr[data-hook="h6_fail"]').count()).toBe(0);
  await card.screenshot({ path: join(ARTIFACTS, 'failing-hooks-hour.png') });
  await card.getByRole('button', { name: 'Last day' }).click();
  await card.locator('tr[data-hook="h6_fail"]').waitFor();
  expect(await card.locator('tr[data-hook="h6_fail"]').innerText()).toContain('export file not writable');
  await card.screenshot({ path: join(ARTIFACTS, 'failing-hooks-day.png') });
  await card.getByRole('button', { name: 'Last hour' }).click();
});

test('"Show failed" filters the list to that hook\'s failed actions', async () => {
  await page.locator('tr[data-hook="h6_charge"]').getByRole('button', { name: 'Show failed' }).click();
  const listRows = page.locator('.dataviews-view-table tbody tr');
  await page.waitForFunction(
    () => {
      const trs = [...document.querySelectorAll('.dataviews-view-table tbody tr')];
      return (
        trs.length === 10 &&
        trs.every((tr) => tr.textContent?.includes('h6_charge') && tr.textContent?.includes('Failed'))
      );
    },
    undefined,
    { timeout: 20000 },
  );
  expect(await listRows.count()).toBe(10);
});

test('"Retry 10 failed" queues a fresh copy of each failed action, after a confirmation', async () => {
  page.once('dialog', (d) => {
    expect(d.message()).toContain('Retry all 10 failed actions of h6_charge');
    void d.accept();
  });
  await page.locator('tr[data-hook="h6_charge"]').getByRole('button', { name: 'Retry 10 failed' }).click();
  const pending = await eventually(
    async () =>
      Number(
        (
          await rows(
            `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_charge' AND status = 'pending'`,
          )
        )[0].n,
      ),
    (n) => n === 10,
  );
  expect(pending).toBe(10);
  expect(
    Number(
      (
        await rows(
          `SELECT COUNT(*) AS n FROM ${PREFIX}actionscheduler_actions WHERE hook = 'h6_charge' AND status = 'failed'`,
        )
      )[0].n,
    ),
  ).toBe(10);
  await page
    .locator('[data-testid="failing-hooks"]')
    .getByText('10 failed actions of h6_charge queued again.')
    .waitFor();
  await page
    .locator('[data-testid="failing-hooks"]')
    .screenshot({ path: join(ARTIFACTS, 'failing-hooks-retried.png') });
});

test('Site Health: the failing hook and the missing sidecar as recommended improvements, the sidecar section in Info', async () => {
  await page.goto(`${PREFIX_SITE}/wp-admin/site-health.php`);
  const failing = page.locator('.health-check-accordion-trigger', { hasText: '1 hook fails often' });
  await failing.waitFor({ timeout: 60000 });
  await failing.click();
  const panel = page.locator('.health-check-accordion-panel:visible', {
    hasText: 'h6_charge [payments] failed 10 of 40 runs (25%)',
  });
  await panel.waitFor();
  expect(await panel.innerText()).toContain('most often: "card declined (code 51)" (6×)');
  await page
    .locator('.health-check-accordion-trigger', { hasText: 'No sidecar is running the scheduled actions' })
    .click();
  await page.locator('.health-check-body').screenshot({ path: join(ARTIFACTS, 'site-health-status.png') });
  await page.goto(`${PREFIX_SITE}/wp-admin/site-health.php?tab=debug`);
  const section = page.locator('.health-check-accordion-trigger', { hasText: 'Sidecar Scheduler' });
  await section.click();
  const table = page.locator('#health-check-accordion-block-sidecar-scheduler');
  await table.waitFor();
  const text = await table.innerText();
  expect(text).toContain('active (no sidecar runs)');
  expect(text).toContain('standalone (this plugin provides Action Scheduler)');
  await table.screenshot({ path: join(ARTIFACTS, 'site-health-info.png') });
});

test('batches: a running batch with its bar, counts and ETA; Cancel ends it as canceled', async () => {
  const id = Number(
    php(
      PREFIX,
      `update_option('h6_hold_runners', 1);
    $items = array(); for ($n = 1; $n <= 30; $n++) { $items[] = array('n' => $n, 'fail' => 0 === $n % 4 && $n <= 10); }
    $id = sidecar_scheduler_batch('Import customers.csv', 'h6_item', $items);
    $done = sidecar_scheduler_batch(
      'Resize images', 'h6_item', array_map(function ($n) { return array('n' => 100 + $n, 'fail' => 7 === $n); }, range(1, 10)));
    global $wpdb;
    foreach (array(array($id, 10), array($done, 10)) as $b) {
      $group = 'sidecar-batch-' . $b[0];
      $ids = $wpdb->get_col($wpdb->prepare("SELECT a.action_id FROM {$wpdb->actionscheduler_actions} a JOIN {$wpdb->actionscheduler_groups} g USING (group_id) WHERE g.slug = %s ORDER BY a.action_id LIMIT %d", $group, $b[1]));
      foreach ($ids as $aid) { ActionScheduler::runner()->process_action($aid, 'H6 e2e'); }
    }
    sidecar_scheduler_batch_progress($done);
    echo $id;`,
    )
      .trim()
      .split('\n')
      .pop(),
  );
  try {
    await page.goto(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`);
    const card = page.locator('[data-testid="batches"]');
    const item = card.locator(`li[data-batch="${id}"]`);
    await item.waitFor({ timeout: 60000 });
    expect(await item.innerText()).toMatch(/8 done · 2 failed · 0 canceled · 20 to go, of 30 · about \d+ (s|min)/);
    expect(await item.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('33');
    expect(await card.locator('li', { hasText: 'Resize images' }).innerText()).toMatch(
      /9 done · 1 failed · 0 canceled · 0 to go, of 10 · finished/,
    );
    await card.screenshot({ path: join(ARTIFACTS, 'batches-running.png') });
    await item.getByRole('button', { name: 'Cancel' }).click();
    await eventually(
      () => item.innerText(),
      (t) => t.includes('Canceled'),
      20000,
    );
    expect(await item.innerText()).toMatch(/8 done · 2 failed · 20 canceled · 0 to go, of 30/);
    const [row] = await rows(`SELECT status FROM ${PREFIX}sidecar_batches WHERE batch_id = ?`, [id]);
    expect(row.status).toBe('canceled');
    await card.screenshot({ path: join(ARTIFACTS, 'batches-canceled.png') });
  } finally {
    php(PREFIX, `delete_option('h6_hold_runners');`);
  }
});

test('alerts: the conditions now, and the settings form (a bad address refused, a good one saved)', async () => {
  await page.goto(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`);
  const card = page.locator('[data-testid="alerts"]');
  await card.waitFor({ timeout: 60000 });
  expect(await card.locator('li[data-condition="failure_rate"]').innerText()).toContain(
    'h6_charge failed 10 of 40 runs; most often: card declined (code 51)',
  );
  expect(await card.locator('li[data-condition="cleanup"]').innerText()).toContain('fine');
  // Every condition has its label (a code without one would show as the bare code).
  expect(await card.locator('li[data-condition="backlog"]').innerText()).toContain(
    'Past-due backlog too large or growing',
  );
  expect(await card.locator('li[data-condition="group_failure"]').innerText()).toContain(
    'A group fails at a high rate',
  );
  expect(await card.locator('li[data-condition="dead_letters"]').innerText()).toContain('New dead letters');
  expect(await card.innerText()).toContain('Alerts are off: add a recipient or a webhook.');
  await card.getByLabel('Email recipients (comma-separated)').fill('ops@example.test, nope');
  await card.getByRole('button', { name: 'Save alert settings' }).click();
  await card.getByText('"nope" is not an email address.').waitFor();
  // The browser logs the refused save (a 400, as intended) as a console error: that one is expected, nothing else.
  const refused = problems.findIndex((p) => p.includes('status of 400'));
  expect(refused).toBeGreaterThanOrEqual(0);
  problems.splice(refused, 1);
  await card.getByLabel('Email recipients (comma-separated)').fill('ops@example.test, oncall@example.test');
  await card.getByLabel('Cool-down (minutes)').fill('30');
  // The backlog and group thresholds: shown with their defaults, saved like the others.
  expect(await card.getByLabel('Past-due backlog over (actions)').inputValue()).toBe('1000');
  await card.getByLabel('Past-due backlog over (actions)').fill('5000');
  await card.getByLabel('Backlog growing for (minutes)').fill('15');
  await card.getByLabel('Group failure rate (%)').fill('25');
  await card.getByLabel('Group minimum failures').fill('20');
  await card.getByRole('button', { name: 'Save alert settings' }).click();
  await card.getByText('Alert settings saved.').waitFor();
  const saved = JSON.parse(
    php(PREFIX, `echo json_encode(get_option('sidecar_scheduler_alerts'));`).trim().split('\n').pop()!,
  );
  expect(saved.emails).toEqual(['ops@example.test', 'oncall@example.test']);
  expect(saved.cooldown_seconds).toBe(1800);
  expect([
    saved.backlog_count,
    saved.backlog_growing_minutes,
    saved.group_failure_rate,
    saved.group_failure_min_count,
  ]).toEqual([5000, 15, 0.25, 20]);
  await eventually(
    () => card.innerText(),
    (t) => !t.includes('Alerts are off'),
    40000,
    500,
  );
  await card.screenshot({ path: join(ARTIFACTS, 'alerts.png') });
});

test('WP-Cron events: who runs them, the next ones, a late one marked', async () => {
  php(PREFIX, `wp_schedule_single_event(time() - 600, 'h6_cron_tick', array(600));`);
  await page.goto(`${PREFIX_SITE}/wp-admin/tools.php?page=action-scheduler`);
  const card = page.locator('[data-testid="wp-cron"]');
  await card.waitFor({ timeout: 60000 });
  expect(await card.innerText()).toContain('WordPress runs these events itself, on page views (WP-Cron is on).');
  const late = card.locator('tr[data-hook="h6_cron_tick"]');
  expect(await late.innerText()).toMatch(/late by 1\d min/);
  expect(await card.locator('tr[data-hook="wp_version_check"]').count()).toBe(1);
  await card.screenshot({ path: join(ARTIFACTS, 'wp-cron.png') });
});

test('no console errors, failed requests or page errors', () => {
  expect(problems).toEqual([]);
});
