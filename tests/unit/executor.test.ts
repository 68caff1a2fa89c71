// Reading a PHP fatal error out of a dead worker's stderr, and the REST signature format.
import { parsePhpFatal } from '../../src-worker/execute/executor';
import { signBody } from '../../src-worker/execute/rest-executor';
import { createHmac } from 'node:crypto';

test('fatal with "on line"', () => {
  expect(parsePhpFatal('noise\nPHP Fatal error:  Allowed memory size exhausted in /a/b.php on line 12\n')).toEqual({ message: 'Allowed memory size exhausted', file: '/a/b.php', line: 12 });
});
test('uncaught error with file:line', () => {
  expect(parsePhpFatal('PHP Fatal error:  Uncaught Error: Call to undefined function f() in /x.php:7')).toEqual({ message: 'Uncaught Error: Call to undefined function f()', file: '/x.php', line: 7 });
});
test('no fatal', () => { expect(parsePhpFatal('PHP Warning: x')).toBeUndefined(); });
test('signature is hmac-sha256 over timestamp newline body', () => {
  expect(signBody('s', 10, '{}')).toBe(createHmac('sha256', 's').update('10\n{}').digest('hex'));
});
