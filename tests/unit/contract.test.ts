// The generated contract files must match plugin/contract/: a stale file means PHP and TS disagree.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

test('generated PHP and TS contract files are up to date', () => {
  expect(() =>
    execFileSync('node', [join(__dirname, '../../scripts/generate-contract.mjs'), '--check'], { stdio: 'pipe' }),
  ).not.toThrow();
});
