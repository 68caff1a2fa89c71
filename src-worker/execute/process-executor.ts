// A long-lived PHP worker process (php plugin/bin/worker.php, or `wp sidecar-scheduler work`) spoken to in JSON lines.
// Over 300 lines on purpose: one process's protocol (its start, the stream's state machine, the requests between
// streams) shares the process's pipes, its death and its protocol error; cut apart, the pieces would hand most of this
// class's state back and forth. Waiting for replies (reply-waiters.ts), the reply check (protocol-check.ts) and the
// output log (protocol.ts) are already their own files.
import { spawn, ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { contract, ReplyOf, WorkerReply, WorkerRequest } from '../contract';
import { checkReply } from '../protocol-check';
import {
  Executor,
  FailRequest,
  PhpSettings,
  RunResult,
  SettleRequest,
  StartUndo,
  StreamEnd,
  StreamLimits,
  WindowMarks,
  parsePhpFatal,
  throwIfRefused,
} from './executor';
import {
  PROTOCOL_FD,
  PROTOCOL_FD_ENV,
  ProtocolError,
  WORKER_STDIO,
  WorkerOutputLog,
  checkStreamMessage,
} from './protocol';
import { ReplyWaiters } from './reply-waiters';
import type { Readable } from 'node:stream';

export { TimeoutError } from './reply-waiters';
export class WorkerDiedError extends Error {}

/** Replies that belong to the stream running (the others answer a request: ReplyWaiters). */
const STREAM_OPS: ReadonlySet<string> = new Set([
  'done',
  'stream_end',
  'window',
  'unreleased',
  'started',
  'running',
  'completed',
]);

export interface ProcessSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  label: string;
}

export class ProcessExecutor implements Executor {
  private child?: ChildProcess;
  private replies = new ReplyWaiters();
  private stderrTail = '';
  /** Text a worker printed outside the protocol (WordPress's "Error establishing a database connection" page at boot): shown when it dies. */
  private outputTail = '';
  /** While a stream runs: where its 'done' / 'stream_end' lines and the worker's death go. */
  private stream?: { onMessage: (m: WorkerReply) => void; onExit: (e: Error) => void };
  private exited = false;
  /** Set when the worker broke the protocol (a result for another action): it is killed, and this says why. */
  private protocolError = '';
  /** An older plugin writes the protocol to stdout (its 'ready' came there): stdout is then read as the protocol. */
  private protocolOnStdout = false;
  private ready = false;
  /** The worker runs our store's commit pipeline (classes 'sidecar'): it says "running" after each start's commit. */
  private sendsRunning = false;
  jobs = 0;
  lastMem = 0;
  /** Set when the worker reports that PHP code it loaded changed on disk. */
  codeChanged = false;

  constructor(
    private spec: ProcessSpec,
    private log: Logger,
    private timeoutSec: () => number,
  ) {}

  get label() {
    return this.spec.label;
  }
  get pid() {
    return this.child?.pid;
  }
  get alive() {
    return !!this.child && !this.exited;
  }

  async start(): Promise<void> {
    this.exited = false;
    this.stderrTail = '';
    this.outputTail = '';
    this.protocolError = '';
    this.protocolOnStdout = false;
    this.ready = false;
    // The protocol has a pipe of its own (fd 3, protocol.ts); stdout and stderr carry only what PHP and plugins print.
    const child = spawn(this.spec.command, this.spec.args, {
      env: { ...this.spec.env, [PROTOCOL_FD_ENV]: String(PROTOCOL_FD) },
      stdio: WORKER_STDIO,
    });
    this.child = child;
    const ready = this.replies.expect('ready', 60_000);
    createInterface({ input: child.stdio[PROTOCOL_FD] as Readable }).on('line', (line) => this.onLine(line));
    const pid = () => child.pid;
    const stdoutLog = new WorkerOutputLog(this.log, this.label, 'stdout', pid);
    const stderrLog = new WorkerOutputLog(this.log, this.label, 'stderr', pid);
    createInterface({ input: child.stdout! }).on('line', (line) => this.onStdout(line, stdoutLog));
    createInterface({ input: child.stderr! }).on('line', (line) => stderrLog.line(line));
    child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-8192);
    });
    child.on('error', (e) => this.onExit(`could not start ${this.spec.command}: ${e.message}`));
    child.on('exit', (code, signal) => {
      // What it printed to stderr last (why it could not start, a fatal error) may still be in the pipe: wait for its
      // end, briefly (a process it started may hold the pipe open), so the error it dies with carries it.
      const died = () => this.onExit(`worker exited (code ${code}, signal ${signal})`);
      if (child.stderr!.readableEnded) {
        died();
        return;
      }
      const t = setTimeout(died, 250);
      child.stderr!.once('end', () => {
        clearTimeout(t);
        died();
      });
    });
    child.stdin!.on('error', () => undefined); // EPIPE after a crash is reported through 'exit'.
    const hello = await ready;
    this.sendsRunning = hello.classes === 'sidecar';
    this.log.debug({ pid: child.pid, label: this.label, classes: hello.classes }, 'php worker ready');
    if (hello.classes === 'library' && hello.fallback) {
      // Still correct, only slower: one autocommit per write, no start windows. Said once per worker start.
      this.log.warn(
        { label: this.label, reason: hello.fallback },
        "php worker runs actions with the library's own store and logger classes",
      );
    }
  }

  /** Plugin output, logged; a worker's page printed at boot is also kept for the error it dies with. */
  private onStdout(line: string, out: WorkerOutputLog) {
    if (!this.ready && !this.protocolOnStdout && /^\{"op":"ready"/.test(line)) {
      this.protocolOnStdout = true;
      this.log.warn(
        { label: this.label },
        'php worker writes the protocol to stdout (an older plugin): plugin output can disturb it; update the plugin',
      );
    }
    if (this.protocolOnStdout) {
      this.onLine(line);
      return;
    }
    // Before 'ready' it is WordPress's own page (say, "Error establishing a database connection"): kept for the error
    // the worker dies with, not logged line by line.
    if (this.ready) {
      out.line(line);
      return;
    }
    {
      const text = line
        .replace(/<style[^>]*>.*?<\/style>|<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      if (text && !/[{};,]\s*$/.test(text)) this.outputTail = `${this.outputTail} ${text}`.slice(-500);
    }
  }

  /** The worker broke the protocol: retire it (killed; the lane treats it as a death and starts a fresh worker). */
  private onProtocolError(e: ProtocolError, m: unknown) {
    this.protocolError = e.message;
    this.log.error(
      { label: this.label, pid: this.child?.pid, message: m, err: e.message },
      'php worker protocol error; retiring the worker',
    );
    this.kill();
  }

  private onLine(line: string) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.log.warn({ line: line.slice(0, 300) }, 'non-protocol output from php worker');
      const text = line
        .replace(/<style[^>]*>.*?<\/style>|<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      if (text && !/[{};,]\s*$/.test(text)) this.outputTail = `${this.outputTail} ${text}`.slice(-500);
      return;
    }
    // Only replies the contract describes are handled (protocol-check.ts). An op it does not name is not for this
    // sidecar (a newer plugin's) and is let pass, as before; a known op with a missing or mistyped field is a protocol
    // error during a stream (the worker is retired, as for a result of another action), and dropped otherwise.
    const checked = checkReply(parsed);
    if ('problem' in checked) {
      const op = (parsed as { op?: unknown } | null)?.op;
      if (typeof op === 'string' && !checked.problem.startsWith('unknown op')) {
        if (this.stream && STREAM_OPS.has(op)) {
          this.onProtocolError(new ProtocolError(`a reply the contract does not describe: ${checked.problem}`), parsed);
        } else {
          this.log.warn(
            { label: this.label, problem: checked.problem },
            'php worker sent a reply the contract does not describe; ignored',
          );
        }
      }
      return;
    }
    const msg = checked.reply;
    if (msg.op === 'ready') this.ready = true;
    if (msg.op === 'error') this.log.error({ message: msg.message }, 'php worker reported an error');
    if (this.stream && STREAM_OPS.has(msg.op)) {
      this.stream.onMessage(msg);
      return;
    }
    this.replies.offer(msg);
  }

  private onExit(reason: string) {
    if (this.exited) return;
    this.exited = true;
    const err = new WorkerDiedError(
      `${this.protocolError ? `protocol error: ${this.protocolError}; ` : ''}${reason}${this.stderrTail ? `; stderr: ${this.stderrTail.trim().slice(-500)}` : ''}${this.outputTail ? `; output: ${this.outputTail.trim().slice(-300)}` : ''}`,
    );
    this.replies.rejectAll(err);
    this.stream?.onExit(err);
  }

  private send(msg: WorkerRequest) {
    if (!this.alive) throw new WorkerDiedError('worker is not running');
    this.child!.stdin!.write(JSON.stringify(msg) + '\n');
  }

  /**
   * The batch goes to PHP in one request and results stream back, so PHP never waits for us between actions. The
   * time limit still applies per action: its clock restarts at every 'done'. If the worker is killed or dies, the
   * action that was running is the first without a 'done' (PHP runs them strictly in order); the rest never started.
   */
  runStream(
    ids: number[],
    claimId: number,
    claimedAt: number,
    limits: StreamLimits,
    onDone: (r: RunResult) => void,
  ): Promise<StreamEnd> {
    return new Promise<StreamEnd>((resolve) => {
      let reported = 0; // actions that sent 'done'; the next one in `ids` is the one running
      let marks: WindowMarks | undefined; // the latest start window
      // Marks of it the worker could not undo ("unreleased" messages; all from that window: it opens none after them).
      let unreleased: WindowMarks | undefined;
      // The worker says "started" right before an action's start is committed and "completed" (with its time) before
      // the library's completion hook runs: if it dies in between, these decide what the running action's outcome is.
      let started: number | undefined;
      // "running" comes after the start is committed, right before the callback: a worker that dies between "started"
      // and "running" (waiting for the start's COMMIT, say) never ran the callback, so its start is undone, not
      // failed (`start` tells how; a window's start is undone with its marks). Workers with the library's own
      // classes send no "running" (their start autocommits inside the library): for them "started" decides alone.
      let running: number | undefined;
      let start: StartUndo | undefined;
      const sendsRunning = this.sendsRunning;
      const completed = new Map<number, [string, string]>();
      let startedAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const end = (e: StreamEnd) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.stream = undefined;
        resolve(unreleased ? { ...e, unreleased } : e);
      };
      const failedEnd = (status: 'timeout' | 'crashed', error: string, fatal = false) => {
        const id = ids[reported] as number | undefined;
        const at = id === undefined ? undefined : completed.get(id);
        if (id !== undefined && at) {
          // Its completion was made (a later hook was running): it is complete, as the library's committed
          // completion would stand; the sidecar writes it if the worker had not committed it yet.
          reported++;
          onDone({ id, status: 'complete', ms: Date.now() - startedAt, at });
          end({ reason: status, notStarted: ids.slice(reported), marks });
          return;
        }
        if (id !== undefined && !fatal && (started !== id || (sendsRunning && running !== id))) {
          // Killed before its start was committed (in a hook before it, say): it never ran, so it is not failed. Its
          // start mark, if a window made one, is undone; it stays pending under the claim and runs after the release.
          end({
            reason: status,
            failed: { id, status: 'unstarted', ms: Date.now() - startedAt, error },
            notStarted: ids.slice(reported + 1),
            marks,
            ...(started === id && start?.id === id ? { start } : {}),
          });
          return;
        }
        end({
          reason: status,
          failed: id === undefined ? undefined : { id, status, ms: Date.now() - startedAt, error },
          notStarted: ids.slice(reported + 1),
          marks,
        });
      };
      const arm = () => {
        if (timer) clearTimeout(timer);
        startedAt = Date.now();
        timer = setTimeout(() => {
          this.kill();
          failedEnd('timeout', `no result after ${this.timeoutSec()} s; worker killed`);
        }, this.timeoutSec() * 1000);
      };
      this.stream = {
        onMessage: (m) => {
          if (this.protocolError) return; // killed for it; lines still buffered are not believed
          try {
            if (!checkStreamMessage(m, ids[reported], ids.slice(reported))) {
              this.log.debug(
                { label: this.label, op: m.op, action: 'id' in m ? m.id : undefined, running: ids[reported] },
                "php worker reported on an action a callback processed itself; not this stream's",
              );
              return;
            }
          } catch (e) {
            if (e instanceof ProtocolError) {
              this.onProtocolError(e, m);
              return;
            }
            throw e;
          }
          if (m.op === 'window') {
            marks = { ids: m.ids, gmt: m.gmt, message: m.message, prev: m.prev };
            this.log.debug({ label: this.label, actions: marks.ids.length }, 'start window');
          } else if (m.op === 'unreleased') {
            // PHP sends an empty prev as [] (a list to PHP); never empty here, but merged as a map either way.
            unreleased = {
              ids: [...(unreleased?.ids ?? []), ...m.ids],
              gmt: m.gmt,
              message: m.message,
              prev: { ...(unreleased?.prev ?? {}), ...(Array.isArray(m.prev) ? {} : m.prev) },
            };
            this.log.debug({ label: this.label, actions: m.ids }, 'the worker could not undo start marks');
          } else if (m.op === 'started') {
            started = m.id;
            start = m.start;
          } else if (m.op === 'running') {
            running = m.id;
          } else if (m.op === 'completed') {
            completed.set(m.id, m.at);
          } else if (m.op === 'done') {
            const r: RunResult = {
              id: m.id,
              status: m.status,
              ms: m.ms ?? Date.now() - startedAt,
              error: m.error,
              mem: m.mem,
              at: m.at,
            };
            reported++;
            this.jobs++;
            this.lastMem = m.mem ?? this.lastMem;
            arm();
            onDone(r);
          } else if (m.op === 'stream_end') {
            this.lastMem = m.mem;
            // 'stale' / 'handback': the worker is out of date or lacks the next action's callback (Freshness.php); it
            // started nothing more, and the lane runs the rest on a fresh worker.
            const why = m.reason === 'stale' || m.reason === 'handback' ? m.why : undefined;
            // The window's marks go with it (as with a death): the worker put back those it did not run, and the lane
            // can see which they were.
            end({
              reason: m.reason,
              notStarted: ids.slice(reported),
              marks,
              ...(why !== undefined ? { why } : {}),
            });
          }
        },
        onExit: (e) => {
          if (settled) return;
          // Give stderr a moment to deliver the fatal error PHP printed before it died.
          void this.waitExit().then(() => {
            const fatal = parsePhpFatal(this.stderrTail);
            failedEnd('crashed', fatal ? JSON.stringify(fatal) : e.message, !!fatal);
          });
        },
      };
      arm();
      try {
        this.send({
          op: 'stream',
          ids,
          claim: claimId,
          since: claimedAt / 1000,
          context: contract.contexts.SIDECAR,
          max: limits.max,
          max_mem: limits.maxMemBytes,
          window: limits.window ?? 1,
          ...(limits.hooks ? { hooks: limits.hooks } : {}),
        });
      } catch (e) {
        this.stream.onExit(e as Error);
      }
    });
  }

  requestStop() {
    if (this.stream && this.alive) this.child!.stdin!.write('{"op":"stop"}\n');
  }

  async flush(): Promise<void> {
    const done = this.replies.expect('flushed', 30_000);
    this.send({ op: 'flush' });
    const m = await done;
    this.lastMem = m.mem;
    if (m.stale) this.codeChanged = true;
  }

  async fail(req: FailRequest): Promise<void> {
    const done = this.replies.expect('failed', 60_000, (m) => m.id === req.id);
    this.send({ op: 'fail', ...req });
    throwIfRefused(await done, `could not fail action ${req.id}`);
  }

  async settle(req: SettleRequest): Promise<void> {
    const done = this.replies.expect('settled', 60_000);
    this.send({
      op: 'settle',
      claim: req.claim,
      context: contract.contexts.SIDECAR,
      finalise: req.finalise,
      unstart: req.unstart,
      ...(req.start ? { start: req.start } : {}),
    });
    throwIfRefused(await done, 'could not settle');
  }

  async clean(): Promise<ReplyOf<'cleaned'>> {
    const done = this.replies.expect('cleaned', 300_000);
    this.send({ op: 'clean' });
    return done;
  }

  async settings(): Promise<PhpSettings> {
    const done = this.replies.expect('settings', 30_000);
    this.send({ op: 'settings' });
    return done;
  }

  kill() {
    if (this.child && !this.exited) this.child.kill('SIGKILL');
  }

  private waitExit(): Promise<void> {
    if (!this.child || (this.exited && this.child.exitCode !== null)) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.child!.exitCode !== null || this.child!.signalCode !== null) return resolve();
      this.child!.once('exit', () => resolve());
      setTimeout(resolve, 2000);
    });
  }

  /** Closing stdin ends the worker's read loop: it exits 0 after the current request. */
  async stop(): Promise<void> {
    if (!this.child || this.exited) return;
    const child = this.child;
    child.stdin!.end();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
