// A claim whose COMMIT reached the server but whose answer was lost (the database went away at that moment, as in a
// restart under load): the claimer must not leave those rows under a claim nobody holds until the stale-claim reset.
// Real MariaDB; the only thing simulated is the lost answer to one COMMIT.
import mysql from 'mysql2/promise';
import { installSite, php, rows, dropPrefix, poolWithQueryHook, SOCKET, DB } from '../helpers/stack';
import { Claimer } from '../../src-worker/claim/claimer';
import { SiteTime } from '../../src-worker/db/site-time';
import { tableNames } from '../../src-worker/db/database';

const PREFIX = 'tclun_';
const t = tableNames(PREFIX);

beforeAll(async () => {
  await dropPrefix(PREFIX);
  installSite(PREFIX);
  php(PREFIX, `for ($i = 0; $i < 5; $i++) { as_enqueue_async_action('sidecar_test_noop', array($i), 'uncertain'); }`);
});

test('the claim is released before the next one, so its rows are claimed again at once', async () => {
  const real = mysql.createPool({
    socketPath: SOCKET,
    user: 'root',
    database: DB,
    dateStrings: true,
    connectionLimit: 2,
    multipleStatements: true,
  });
  try {
    let loseNextCommitAnswer = true;
    // The claim's COMMIT travels in one query with the statements before it (see Claimer.claimSkipLocked).
    const pool = poolWithQueryHook(real, async (sql) => {
      if (!loseNextCommitAnswer || !/\bCOMMIT\s*$/.test(sql)) return;
      loseNextCommitAnswer = false; // the server committed...
      throw Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
      }); // ...and the answer is lost
    });
    const claimer = new Claimer(pool, t, await SiteTime.load(real, t.options), true, {
      groupIds: [],
      excludeGroupIds: [],
    });
    await expect(claimer.claim(10)).rejects.toThrow(/Connection lost/);
    const ours = `FROM ${t.actions} WHERE hook = 'sidecar_test_noop'`;
    const [stranded] = await rows(`SELECT COUNT(DISTINCT claim_id) AS claims, SUM(claim_id <> 0) AS claimed ${ours}`);
    expect([Number(stranded.claims), Number(stranded.claimed)]).toEqual([1, 5]); // committed, but nobody holds it
    const again = await claimer.claim(10);
    expect(again?.actions.map((a) => a.id).sort()).toHaveLength(5); // released first, then claimed again
    const [after] = await rows(`SELECT COUNT(*) AS n FROM ${t.claims}`);
    expect(Number(after.n)).toBe(1); // only the new claim's row is left
    await claimer.release(again!.claimId);
    expect(Number((await rows(`SELECT SUM(claim_id <> 0) AS n ${ours}`))[0].n)).toBe(0);
  } finally {
    await real.end();
  }
});
