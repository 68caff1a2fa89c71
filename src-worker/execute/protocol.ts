// The PHP worker's channels: the protocol on a file descriptor of its own, plugin output on stdout/stderr.
import type { Logger } from 'pino';
import { contract } from '../contract';

/** The worker writes protocol lines to this descriptor (plugin/src/Runner/ProtocolChannel.php reads the variable). */
export const PROTOCOL_FD = 3;
export const PROTOCOL_FD_ENV = contract.protocol.fdEnv;
/** stdin: requests; stdout/stderr: whatever PHP and plugin code print; fd 3: the worker's protocol lines. */
export const WORKER_STDIO: ['pipe', 'pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe', 'pipe'];

/** Raised when the worker reports on an action other than the one running: it is retired (killed and replaced). */
export class ProtocolError extends Error {}

const MAX_LINE = 2000;
const WINDOW_MS = 10_000;
const LINES_PER_WINDOW = 100;

/**
 * What a worker's plugin code prints, to the sidecar's log as JSON lines labelled with the worker, bounded: each
 * line cut at 2,000 characters and at most 100 lines per stream per 10 s (then one line says how many were left out),
 * so a callback that prints in a loop cannot flood the log or slow the lane.
 */
export class WorkerOutputLog {
  private windowStart = 0;
  private count = 0;
  private dropped = 0;

  constructor(
    private log: Logger,
    private worker: string,
    private stream: 'stdout' | 'stderr',
    private pid: () => number | undefined,
  ) {}

  line(text: string) {
    if (!text.trim()) return;
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      if (this.dropped) {
        this.log.warn(
          { worker: this.worker, pid: this.pid(), stream: this.stream, dropped: this.dropped },
          'php worker output left out of the log (more than 100 lines in 10 s)',
        );
      }
      this.windowStart = now;
      this.count = 0;
      this.dropped = 0;
    }
    if (++this.count > LINES_PER_WINDOW) {
      this.dropped++;
      return;
    }
    const cut = text.length > MAX_LINE;
    this.log.info(
      {
        worker: this.worker,
        pid: this.pid(),
        stream: this.stream,
        output: cut ? text.slice(0, MAX_LINE) : text,
        ...(cut ? { truncated: text.length } : {}),
      },
      'php worker output',
    );
  }
}

/**
 * Results are matched by action ID, not by position: during a stream every 'done' must name the action running (the
 * next of the stream without a 'done'), and a start window only actions still to run; otherwise ProtocolError.
 * 'started', 'running' and 'completed' come from the library's hooks, which also fire for an action a callback processes itself
 * (a nested process_action()): one for another action is not this stream's, and returns false (ignore it).
 */
export function checkStreamMessage(
  m: { op: string; id?: unknown; ids?: unknown },
  running: number | undefined,
  toRun: number[],
): boolean {
  if (m.op === 'window') {
    const ids = Array.isArray(m.ids) ? m.ids.map(Number) : [];
    const bad = ids.filter((x) => !toRun.includes(x));
    if (!ids.length || bad.length) {
      throw new ProtocolError(`start window for actions not in the stream: ${JSON.stringify(m.ids)}`);
    }
    return true;
  }
  if (m.op !== 'started' && m.op !== 'running' && m.op !== 'completed' && m.op !== 'done') return true;
  const id = Number(m.id);
  if (running !== undefined && id === running) return true;
  if (m.op !== 'done') return false;
  throw new ProtocolError(
    `'${m.op}' for action ${String(m.id)} while action ${running ?? '(none)'} is the one running`,
  );
}
