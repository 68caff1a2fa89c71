// RestExecutor.fail() (src-worker/execute/rest-executor.ts) counts a fail as written only when PHP's "failed" reply
// says so: an answer without it, or with the database's refusal, throws, so CrashRecovery sends it again. A local
// HTTP server stands in for the runner route (what it answers is the point, not WordPress).
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RestExecutor } from '../../src-worker/execute/rest-executor';

let server: Server;
let answer = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise((r) => server.close(r)));

const executor = () =>
  new RestExecutor({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wp-json/sidecar-scheduler/v1/run`,
    secret: { value: () => 'secret', reload: async () => 'secret' },
    timeoutSec: () => 30,
  });
const FAIL = { id: 7, claim: 42, reason: 'timeout' as const, seconds: 300 };

test('a 200 without the "failed" reply is not a fail written', async () => {
  answer = JSON.stringify({ messages: [] });
  await expect(executor().fail(FAIL)).rejects.toThrow(
    'could not fail action 7: the runner route answered without a reply',
  );
});

test('a "failed" reply that carries the database error is not a fail written', async () => {
  answer = JSON.stringify({ messages: [{ op: 'failed', id: 7, changed: false, error: 'Deadlock found' }] });
  await expect(executor().fail(FAIL)).rejects.toThrow('could not fail action 7: Deadlock found');
});

test('a "failed" reply without an error is written, changed or not (a row that was no longer in progress)', async () => {
  answer = JSON.stringify({ messages: [{ op: 'failed', id: 7, changed: false }] });
  await expect(executor().fail(FAIL)).resolves.toBeUndefined();
  answer = JSON.stringify({ messages: [{ op: 'failed', id: 7, changed: true }] });
  await expect(executor().fail(FAIL)).resolves.toBeUndefined();
});
