// An action a callback processes itself (a nested process_action()) is written at once, as the library writes it:
// the sidecar settles only the stream's own actions after a worker dies, so a completion held back for the nested
// one was lost when the worker was killed later in the outer callback (left in progress, for the cleaner to fail,
// though it had completed). Both modes (issue 13).
import { php, rows } from '../helpers/stack';
import { bothModeSites } from '../helpers/sites';

const base = (k: string) => `h1${k}_${process.pid % 1000}_`;
const SITES = { standalone: base('g'), companion: base('h') } as const;

bothModeSites(SITES);

test.each(Object.entries(SITES))(
  '%s: the nested action stays complete when the worker dies in the outer callback',
  async (_mode, prefix) => {
    const [outer, inner] = JSON.parse(
      php(
        prefix,
        `echo json_encode(array(as_enqueue_async_action('h1_outer'), as_enqueue_async_action('h1_inner')));`,
      ).trim(),
    ) as number[];
    let signal: string | null = null;
    try {
      php(
        prefix,
        `
      add_action('h1_inner', function () {});
      add_action('h1_outer', function () { ActionScheduler::runner()->process_action(${inner}, 'Nested'); posix_kill(getmypid(), 9); });
      $in = fopen('php://temp', 'w+');
      fwrite($in, json_encode(array('op' => 'stream', 'ids' => array(${outer}), 'claim' => 0, 'context' => 'Test', 'window' => 1)) . "\\n" . str_repeat(json_encode(array('op' => 'ping')) . "\\n", 5));
      rewind($in);
      SidecarScheduler\\Runner\\Worker::run($in, fopen('php://temp', 'w+'));`,
        {},
        "define('SIDECAR_SCHEDULER_WORKER', true);",
      );
    } catch (e) {
      signal = (e as { signal: string | null }).signal;
    }
    expect(signal).toBe('SIGKILL');
    const states = await rows(
      `SELECT action_id, status, attempts FROM ${prefix}actionscheduler_actions WHERE action_id IN (?, ?) ORDER BY action_id`,
      [outer, inner],
    );
    // The outer one was killed inside its callback: in progress, as the library leaves it (the sidecar then fails it).
    expect(states.map((r) => `${r.action_id === outer ? 'outer' : 'inner'} ${r.status} ${r.attempts}`)).toEqual([
      'outer in-progress 1',
      'inner complete 1',
    ]);
    const logs = await rows(`SELECT message FROM ${prefix}actionscheduler_logs WHERE action_id = ? ORDER BY log_id`, [
      inner,
    ]);
    expect(logs.map((l) => l.message)).toEqual([
      'action created',
      'action started via Nested',
      'action complete via Nested',
    ]);
  },
);
