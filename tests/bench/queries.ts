// Queries counted by the processes themselves (tests/fixtures/bench-mu.php for PHP, count-queries.ts for the
// sidecar): "<pid> <n>" per PHP process at exit, "node <n>" for the sidecar. Not the server's global counters,
// which on this shared machine also count everyone else's queries.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsInFile } from '../helpers/stack';

export interface QueryCount {
  php: number;
  node: number;
  phpProcesses: number;
  nodeProcesses: number;
  total: number;
}

export function queriesFile(label: string): string {
  const file = join(tmpdir(), `tb-bench-queries-${process.pid}-${label}.txt`);
  rmSync(file, { force: true });
  return file;
}

export function readQueries(file: string): QueryCount {
  const c: QueryCount = { php: 0, node: 0, phpProcesses: 0, nodeProcesses: 0, total: 0 };
  for (const line of runsInFile(file)) {
    const [who, n] = line.split(' ');
    if (who === 'node') {
      c.node += Number(n);
      c.nodeProcesses++;
    } else {
      c.php += Number(n);
      c.phpProcesses++;
    }
  }
  c.total = c.php + c.node;
  return c;
}
