// The sidecar's worker saves statements and commits (one SELECT for the status check and the row, the "started" and
// "complete" lines written together, completions committed with the next start, start windows). Nobody may be able
// to tell: the same scenario run through the worker with the library's own classes and with the worker's must leave
// the same rows, log lines in the same order, and show hooks the same things. In both modes: standalone (our
// Compat classes underneath) and companion (the real library underneath, loaded by a plugin after ours).
import { installSite, php, dropPrefix, OURS, BUNDLER_AFTER } from '../helpers/stack';

const SITES = { standalone: 'tsws_', companion: 'tswc_' } as const;

beforeAll(async () => {
  for (const p of Object.values(SITES)) await dropPrefix(p);
  installSite(SITES.standalone, [OURS]);
  installSite(SITES.companion, [OURS, BUNDLER_AFTER]);
});

// Each run is a PHP process of its own, driving the real worker (Worker::run) with one 'stream' request. 'library':
// not a worker process, so the store, logger and runner are the library's own; 'pipeline' and 'window': a worker
// process (its classes installed before WordPress loads), without and with start windows.
const scenario = (prefix: string, mode: 'library' | 'pipeline' | 'window'): any =>
  lastJson(
    php(
      prefix,
      `
  global $wpdb;
  $seen = array();
  add_action('tsws_plain', function () {});
  add_action('tsws_fail', function () { throw new Exception('boom'); });
  add_action('tsws_args', function ($v) use (&$seen) { $seen[] = 'callback got ' . $v; });
  add_action('tsws_rec', function () {});
  $ids = array(
    as_enqueue_async_action('tsws_plain', array(1)),
    as_enqueue_async_action('tsws_fail'),
    as_enqueue_async_action('tsws_args', array('original')),
    as_schedule_recurring_action(time() - 5, 3600, 'tsws_rec'),
    as_enqueue_async_action('tsws_plain', array('cancel-me')),
    as_enqueue_async_action('tsws_plain', array(2)),
  );
  $first = min($ids);
  // A plugin that writes to the action between the status check and the fetch: the callback must see its write.
  add_action('action_scheduler_begin_execute', function ($id) use ($ids) {
    global $wpdb;
    if ((int) $id === (int) $ids[2]) { $wpdb->query($wpdb->prepare("UPDATE {$wpdb->actionscheduler_actions} SET args = %s WHERE action_id = %d", '["changed"]', $id)); }
  }, 20);
  // A plugin that cancels an action just before it runs: it must be ignored.
  add_action('action_scheduler_before_execute', function ($id) use ($ids) { if ((int) $id === (int) $ids[4]) { as_unschedule_action('tsws_plain', array('cancel-me')); } });
  // A plugin that reads the logs when an action completes: it must see the "complete" line, as with the library.
  add_action('action_scheduler_completed_action', function ($id) use (&$seen, $first) {
    $seen[] = 'at completion of #' . ($id - $first) . ': ' . implode(' | ', array_map(function ($e) { return $e->get_message(); }, ActionScheduler::logger()->get_logs($id)));
    $seen[] = 'status at completion of #' . ($id - $first) . ': ' . ActionScheduler::store()->get_status($id);
  }, 20);
  // A plugin that looks at the previous action's row with its own SQL before the next one starts.
  $last = 0;
  add_action('action_scheduler_before_execute', function ($id) use (&$seen, &$last, $first) {
    global $wpdb;
    if ($last) { $seen[] = 'before #' . ($id - $first) . ', #' . ($last - $first) . ' is ' . $wpdb->get_var($wpdb->prepare("SELECT status FROM {$wpdb->actionscheduler_actions} WHERE action_id = %d", $last)); }
    $last = $id;
  }, 5);
  // Around the batch, as the library's runners do.
  add_action('action_scheduler_before_process_queue', function () use (&$seen) { $seen[] = 'before queue'; });
  add_action('action_scheduler_after_process_queue', function () use (&$seen, $ids) { $seen[] = 'after queue: #5 is ' . ActionScheduler::store()->get_status($ids[5]); });
  $before = $wpdb->num_queries;
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => $ids, 'claim' => 0, 'context' => 'Test', 'window' => ${mode === 'window' ? 25 : 1})) . "\\n");
  // Lines after the request keep the stream from reading as closed (a closed request stream means the sidecar is gone).
  fwrite($in, str_repeat(json_encode(array('op' => 'ping')) . "\\n", 20));
  rewind($in);
  $out = fopen('php://temp', 'w+');
  SidecarScheduler\\Runner\\Worker::run($in, $out);
  $queries = $wpdb->num_queries - $before;
  rewind($out);
  $messages = array();
  while (($line = fgets($out)) !== false) { $messages[] = json_decode($line, true); }
  $logs = $wpdb->get_results($wpdb->prepare("SELECT action_id, message FROM {$wpdb->actionscheduler_logs} WHERE action_id >= %d ORDER BY log_id", $first));
  $rows = $wpdb->get_results($wpdb->prepare("SELECT action_id, hook, status, args, attempts FROM {$wpdb->actionscheduler_actions} WHERE action_id >= %d ORDER BY action_id", $first));
  while (ob_get_level() > 0) { ob_end_clean(); }
  echo json_encode(array(
    'logs' => array_map(function ($l) use ($first) { return '#' . ($l->action_id - $first) . ' ' . $l->message; }, $logs),
    'rows' => array_map(function ($r) use ($first) { return '#' . ($r->action_id - $first) . " {$r->hook} {$r->status} {$r->args} {$r->attempts}"; }, $rows),
    'seen' => $seen,
    'queries' => $queries,
    'ready' => $messages[0],
    'ops' => array_values(array_filter(array_map(function ($m) use ($first) { return isset($m['id']) ? $m['op'] . ' #' . ($m['id'] - $first) . (isset($m['status']) ? ' ' . $m['status'] : '') : null; }, $messages))),
    'window' => array_values(array_filter($messages, function ($m) { return 'window' === $m['op']; })),
  ));`,
      {},
      mode === 'library' ? '' : "define('SIDECAR_SCHEDULER_WORKER', true);",
    ),
  );

function lastJson(out: string) {
  try {
    return JSON.parse(out.trim().split('\n').pop() as string);
  } catch {
    throw new Error(`not JSON: ${out.slice(0, 3000)}`);
  }
}

// Each action's own log lines, in order (a start window writes the "started" lines of a whole window together, so
// their log IDs come before the previous actions' "complete" lines: across actions the order differs by design).
const perAction = (logs: string[]) =>
  logs.reduce<Record<string, string[]>>((by, l) => {
    const [id, ...rest] = l.split(' ');
    (by[id] ??= []).push(rest.join(' '));
    return by;
  }, {});

// 20 no-op actions and nothing else: the statements that reach the server (counted after the worker's own filter,
// which takes held-back INSERTs out of the stream), per action.
const plainDrain = (prefix: string, mode: 'library' | 'pipeline' | 'window'): Record<string, number> =>
  lastJson(
    php(
      prefix,
      `
  add_action('tsws_noop', function () {});
  $ids = array();
  for ($i = 0; $i < 20; $i++) { $ids[] = as_enqueue_async_action('tsws_noop', array($i)); }
  $sent = array();
  add_action('action_scheduler_before_process_queue', function () use (&$sent) {
    add_filter('query', function ($q) use (&$sent) { if ('' !== $q) { $w = strtoupper(strtok(trim($q), ' ')); $sent[$w] = (isset($sent[$w]) ? $sent[$w] : 0) + 1; } return $q; }, PHP_INT_MAX);
  });
  $in = fopen('php://temp', 'w+');
  fwrite($in, json_encode(array('op' => 'stream', 'ids' => $ids, 'claim' => 0, 'context' => 'Test', 'window' => ${mode === 'window' ? 25 : 1})) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 30));
  rewind($in);
  SidecarScheduler\\Runner\\Worker::run($in, fopen('php://memory', 'w+'));
  while (ob_get_level() > 0) { ob_end_clean(); }
  $sent['per_action'] = array_sum($sent) / 20;
  echo json_encode($sent);`,
      {},
      mode === 'library' ? '' : "define('SIDECAR_SCHEDULER_WORKER', true);",
    ),
  );

describe.each(Object.entries(SITES))('%s mode', (mode, prefix) => {
  let library: any;
  beforeAll(() => {
    library = scenario(prefix, 'library');
  });

  test("the library's own classes when the process is no worker; the sidecar's in the worker", () => {
    expect(library.ready).toMatchObject({
      op: 'ready',
      mode,
      classes: 'library',
      fallback: 'not a sidecar worker process',
    });
    expect(scenario(prefix, 'pipeline').ready).toMatchObject({ op: 'ready', mode, classes: 'sidecar', fallback: '' });
  });

  test("with and without the worker's savings: same rows, same log lines in the same order, same things seen by hooks", () => {
    const worker = scenario(prefix, 'pipeline');
    expect(worker.logs).toEqual(library.logs);
    expect(worker.rows).toEqual(library.rows);
    expect(worker.seen).toEqual(library.seen);
    // And what both saw is what the library does.
    expect(worker.seen[0]).toBe('before queue');
    expect(worker.seen).toContain('callback got changed');
    expect(worker.seen[1]).toBe(
      'at completion of #0: action created | action started via Test | action complete via Test',
    );
    expect(worker.seen[2]).toBe('status at completion of #0: complete');
    expect(worker.seen).toContain('before #1, #0 is complete');
    expect(worker.seen[worker.seen.length - 1]).toBe('after queue: #5 is complete');
    expect(worker.logs).toEqual(
      expect.arrayContaining(['#1 action failed via Test: boom', '#4 action canceled', '#4 action ignored via Test']),
    );
    expect(worker.logs.filter((l: string) => l.startsWith('#1 '))).toEqual([
      '#1 action created',
      '#1 action started via Test',
      '#1 action failed via Test: boom',
    ]);
    expect(worker.rows[6]).toMatch(/^#6 tsws_rec pending \[\] 0$/); // the recurring successor
    // What the sidecar hears: "started" before each start is committed, "running" once it is committed (right before
    // the callback: a death between the two is a start that may not have happened), "completed" before the
    // completion hook.
    expect(worker.ops).toEqual([
      'started #0',
      'running #0',
      'completed #0',
      'done #0 complete',
      'started #1',
      'running #1',
      'done #1 failed',
      'started #2',
      'running #2',
      'completed #2',
      'done #2 complete',
      'started #3',
      'running #3',
      'completed #3',
      'done #3 complete',
      'done #4 ignored',
      'started #5',
      'running #5',
      'completed #5',
      'done #5 complete',
    ]);
  });

  test("in a start window: the same rows, each action's log lines, and what hooks saw, as the library; a cancel just before an action's turn undoes its mark", () => {
    const windowed = scenario(prefix, 'window');
    expect(windowed.window).toHaveLength(1);
    expect(windowed.window[0].ids).toHaveLength(6); // the whole scenario was one window
    expect(windowed.rows).toEqual(library.rows); // incl. attempts 0 for the cancelled #4, the successor, the changed args
    expect(perAction(windowed.logs)).toEqual(perAction(library.logs));
    expect(perAction(windowed.logs)['#4']).toEqual(['action created', 'action canceled', 'action ignored via Test']); // its mark's "started" line is gone
    expect(windowed.seen).toEqual(library.seen); // as_unschedule_action in before_execute found #4: this worker's marks are pending to it
  });

  test("the reflection check: the loaded store and logger fit; a changed signature or a return type is reported, and a plugin's own store class leaves the worker on the library's classes", () => {
    const out = lastJson(
      php(
        prefix,
        `
      eval('class Ts_Changed_Store extends ActionScheduler_DBStore { public function log_execution($action_id, $attempt = 1) {} }');
      eval('class Ts_Typed_Logger extends ActionScheduler_DBLogger { public function log_started_action($action_id, $context = \\'\\'): void {} }');
      $w = 'SidecarScheduler\\\\Runner\\\\WorkerClasses';
      $in = fopen('php://temp', 'w+'); fwrite($in, "{\\"op\\":\\"ping\\"}\\n"); rewind($in); $out = fopen('php://temp', 'w+');
      SidecarScheduler\\Runner\\Worker::run($in, $out); rewind($out); $ready = json_decode(fgets($out), true);
      while (ob_get_level() > 0) { ob_end_clean(); }
      echo json_encode(array(
        'store' => $w::incompatibility('ActionScheduler_DBStore', $w::STORE_METHODS),
        'logger' => $w::incompatibility('ActionScheduler_DBLogger', $w::LOGGER_METHODS),
        'changed' => $w::incompatibility('Ts_Changed_Store', $w::STORE_METHODS),
        'typed' => $w::incompatibility('Ts_Typed_Logger', $w::LOGGER_METHODS),
        'ready' => $ready,
        'class' => get_class(ActionScheduler::store()),
      ));`,
        {},
        `define('SIDECAR_SCHEDULER_WORKER', true);
      // A plugin with a store class of its own, filtered after the library's own choice (priority 100), declared when asked.
      $GLOBALS['wp_filter']['action_scheduler_store_class'][200][] = array('accepted_args' => 1, 'function' => function ($class) {
        if (!class_exists('Ts_Own_Store', false)) { eval('class Ts_Own_Store extends ActionScheduler_DBStore {}'); }
        return 'Ts_Own_Store';
      });`,
      ),
    );
    expect(out).toMatchObject({ store: '', logger: '', class: 'Ts_Own_Store' });
    expect(out.changed).toBe(
      'Ts_Changed_Store::log_execution() takes (action_id, attempt?) where (action_id) was expected',
    );
    expect(out.typed).toBe('Ts_Typed_Logger::log_started_action() is final, private, static or declares a return type');
    expect(out.ready).toMatchObject({
      op: 'ready',
      classes: 'library',
      fallback: 'the store class is Ts_Own_Store, not ActionScheduler_DBStore',
    });
  });

  test("statements per action of a plain drain: the library's 6 (4 of them autocommitted writes), the worker's 5 with one commit, about 2 in a window", () => {
    const lib = plainDrain(prefix, 'library');
    const one = plainDrain(prefix, 'pipeline');
    const win = plainDrain(prefix, 'window');
    expect(lib).toMatchObject({ SELECT: 40, INSERT: 40, UPDATE: 40 });
    expect(one).toMatchObject({ SELECT: 20, START: 21, INSERT: 21, UPDATE: 21, COMMIT: 21 }); // one more: the last completion, at the stream's end
    expect(win.per_action).toBeLessThan(2.5);
    expect(win.COMMIT).toBeLessThanOrEqual(2);
  });
});
