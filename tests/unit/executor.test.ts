// Reading a PHP fatal error out of a dead worker's stderr, and the REST signature format.
import { parsePhpFatal } from '../../src-worker/execute/executor';
import { signRequest } from '../../src-worker/execute/rest-executor';
import { contract } from '../../src-worker/contract';
import { createHmac } from 'node:crypto';

test('fatal with "on line"', () => {
  expect(parsePhpFatal('noise\nPHP Fatal error:  Allowed memory size exhausted in /a/b.php on line 12\n')).toEqual({
    message: 'Allowed memory size exhausted',
    file: '/a/b.php',
    line: 12,
  });
});
test('uncaught error with file:line', () => {
  expect(parsePhpFatal('PHP Fatal error:  Uncaught Error: Call to undefined function f() in /x.php:7')).toEqual({
    message: 'Uncaught Error: Call to undefined function f()',
    file: '/x.php',
    line: 7,
  });
});
test('no fatal', () => {
  expect(parsePhpFatal('PHP Warning: x')).toBeUndefined();
});
test("signature is hmac-sha256 over the contract's fields, one per line, host lowercased", () => {
  expect(contract.rest.SIGNED_FIELDS).toBe('timestamp\nhost\nblog_id\nroute\nbody');
  const expected = createHmac('sha256', 's')
    .update('10\nshop.example:8080\n3\n/sidecar-scheduler/v1/runner/execute\n{}')
    .digest('hex');
  expect(signRequest('s', 10, 'Shop.Example:8080', 3, '/sidecar-scheduler/v1/runner/execute', '{}')).toBe(expected);
  // Each field is bound: changing any one of them changes the signature.
  for (const other of [
    signRequest('s', 11, 'shop.example:8080', 3, '/sidecar-scheduler/v1/runner/execute', '{}'),
    signRequest('s', 10, 'other.example', 3, '/sidecar-scheduler/v1/runner/execute', '{}'),
    signRequest('s', 10, 'shop.example:8080', 4, '/sidecar-scheduler/v1/runner/execute', '{}'),
    signRequest('s', 10, 'shop.example:8080', 3, '/x', '{}'),
    signRequest('s', 10, 'shop.example:8080', 3, '/sidecar-scheduler/v1/runner/execute', '[]'),
  ]) {
    expect(other).not.toBe(expected);
  }
});
