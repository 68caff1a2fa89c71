// The real PHP worker speaks the protocol the contract declares (plugin/contract/contract.json "protocol"): every
// reply to every request the sidecar sends has a declared op and its declared fields with their types.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { installSite, php, exited, dropPrefix, eventually, ROOT, DOCROOT } from '../helpers/stack';
import { checkReply } from '../../src-worker/protocol-check';
import { contract, WorkerRequest } from '../../src-worker/contract';

const PREFIX = `h5p${process.pid % 1000}_`;

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
});
afterAll(async () => {
  await dropPrefix(PREFIX);
});

test('each request gets the replies the contract declares, each field of its declared type', async () => {
  const ids: number[] = JSON.parse(
    php(
      PREFIX,
      `$ids = array(); for ($i = 0; $i < 3; $i++) { $ids[] = as_enqueue_async_action('sidecar_test_noop', array($i), 'h5contract'); } echo json_encode($ids);`,
    )
      .trim()
      .split('\n')
      .pop()!,
  );
  const worker = spawn('php', [join(ROOT, 'plugin/bin/worker.php'), `--path=${DOCROOT}`], {
    env: { ...process.env, WP_TABLE_PREFIX: PREFIX },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: unknown[] = [];
  createInterface({ input: worker.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  const send = (r: WorkerRequest) => worker.stdin!.write(JSON.stringify(r) + '\n');
  const until = (op: string) =>
    eventually(
      async () => lines.map((m) => (m as { op: string }).op),
      (ops) => ops.includes(op),
      60000,
      20,
    );
  try {
    await until('ready');
    send({ op: 'settings' });
    await until('settings');
    send({
      op: 'stream',
      ids,
      claim: 0,
      since: Date.now() / 1000,
      context: contract.contexts.SIDECAR,
      max: 100,
      max_mem: 0,
      window: 3,
    });
    await until('stream_end');
    send({ op: 'flush' });
    await until('flushed');
    send({ op: 'fail', id: 999999999, reason: 'timeout', seconds: 5 });
    await until('failed');
    send({ op: 'settle', claim: 0, context: contract.contexts.SIDECAR, finalise: [] });
    await until('settled');
    send({ op: 'clean' });
    await until('cleaned');
    send({ op: 'ping' });
    await until('pong');
  } finally {
    worker.stdin!.end();
    await exited(worker, 30000);
  }
  const ops = lines.map((m) => (m as { op: string }).op);
  expect(ops).toEqual([
    'ready',
    'settings',
    'window',
    'started',
    'running',
    'completed',
    'done',
    'started',
    'running',
    'completed',
    'done',
    'started',
    'running',
    'completed',
    'done',
    'stream_end',
    'flushed',
    'failed',
    'settled',
    'cleaned',
    'pong',
  ]);
  expect(lines.map((m) => checkReply(m)).filter((c) => 'problem' in c)).toEqual([]);
  const done = lines.filter((m) => (m as { op: string }).op === 'done').map((m) => (m as { status: string }).status);
  expect(done).toEqual([
    contract.protocol.outcomes.COMPLETE,
    contract.protocol.outcomes.COMPLETE,
    contract.protocol.outcomes.COMPLETE,
  ]);
});
