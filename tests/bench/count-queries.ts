// Preloaded into the benchmark's sidecar (`node -r`): counts the SQL statements the sidecar sends through mysql2 and
// appends "node <statements>" to SIDECAR_BENCH_QUERIES_FILE at exit. The database server's own counters are global
// and the machine is shared, so they would count other people's queries too.
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const file = process.env.SIDECAR_BENCH_QUERIES_FILE;
if (file) {
  // The sidecar's pools and connections all end in this class's query() (pool.query and the promise wrapper call it).
  // By absolute path: the package's "exports" does not list its lib files.
  const Base = require(
    join(dirname(require.resolve('mysql2/package.json', { paths: [__dirname] })), 'lib/base/connection.js'),
  );
  const BaseConnection = (Base.default ?? Base) as {
    prototype: { query: (...a: unknown[]) => unknown; execute: (...a: unknown[]) => unknown };
  };
  let statements = 0;
  // A multi-statement round trip counts as the statements it holds (its SQL has no ';' inside literals).
  const count = (sql: unknown) => {
    const text = typeof sql === 'string' ? sql : ((sql as { sql?: string })?.sql ?? '');
    statements += Math.max(1, text.split(';').filter((s) => s.trim()).length);
  };
  for (const name of ['query', 'execute'] as const) {
    const original = BaseConnection.prototype[name];
    BaseConnection.prototype[name] = function (this: unknown, sql: unknown, ...rest: unknown[]) {
      count(sql);
      return original.call(this, sql, ...rest);
    };
  }
  process.on('exit', () => appendFileSync(file, `node ${statements}\n`));
}
