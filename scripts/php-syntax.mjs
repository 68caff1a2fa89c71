// The plugin's PHP version check (part of `npm run lint:php`). The plugin header claims "Requires PHP: 7.4", but
// the machines here run only PHP 8.2 (Debian 12 packages no other), so no PHP 7.4 can lint it. Instead every file
// under plugin/ is parsed with php-parser set to PHP 7.4, which refuses PHP 8 syntax (match, nullsafe ->, named
// arguments, enums, readonly, …), plus the checks it leaves out: union types, constructor promotion, PHP 8 type
// names (mixed, static, never, …), and calls to
// functions PHP added after 7.4 that WordPress 6.2 (our "Requires at least") does not polyfill.
// Usage: node scripts/php-syntax.mjs [dir …]   (default: plugin)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Engine } = require('php-parser');
const OLDEST = '7.4';
const engine = new Engine({ parser: { version: OLDEST, suppressErrors: false }, ast: { withPositions: true } });

// Functions new in PHP 8.0-8.4. WordPress 6.2 polyfills str_contains, str_starts_with and str_ends_with (5.9), so
// those are allowed; array_is_list is polyfilled only from WordPress 6.5, so it is not.
const NEWER = new Set([
  'get_debug_type',
  'get_resource_id',
  'fdiv',
  'preg_last_error_msg',
  'array_is_list',
  'enum_exists',
  'fsync',
  'fdatasync',
  'ini_parse_quantity',
  'memory_reset_peak_usage',
  'mysqli_execute_query',
  'openssl_cipher_key_length',
  'json_validate',
  'mb_str_pad',
  'str_increment',
  'str_decrement',
  'stream_context_set_options',
  'array_find',
  'array_find_key',
  'array_any',
  'array_all',
  'mb_trim',
  'mb_ltrim',
  'mb_rtrim',
  'mb_ucfirst',
  'mb_lcfirst',
]);

// Type names PHP 7.4 does not know (mixed and a static return type: 8.0; never: 8.1; null, false, true alone: 8.2).
const NEWER_TYPES = new Set(['mixed', 'never', 'static', 'null', 'false', 'true']);

function phpFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'build' && name !== 'vendor' && name !== 'node_modules') out.push(...phpFiles(p));
    } else if (name.endsWith('.php')) out.push(p);
  }
  return out;
}

/** Union types and promoted constructor parameters, which php-parser accepts whatever the version. */
function walk(node, visit) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
    return;
  }
  if (node.kind) visit(node);
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'loc' && value && typeof value === 'object') walk(value, visit);
  }
}

function check(file) {
  const code = readFileSync(file, 'utf8');
  const problems = [];
  let ast;
  try {
    ast = engine.parseCode(code, file);
  } catch (err) {
    return [`${err.message}`];
  }
  const at = (n) => (n.loc ? `line ${n.loc.start.line}` : 'somewhere');
  walk(ast, (n) => {
    if (
      (n.kind === 'parameter' ||
        n.kind === 'function' ||
        n.kind === 'method' ||
        n.kind === 'closure' ||
        n.kind === 'arrowfunc') &&
      n.type &&
      (n.type.kind === 'uniontype' || n.type.kind === 'intersectiontype')
    ) {
      problems.push(`${at(n)}: ${n.type.kind === 'uniontype' ? 'union' : 'intersection'} types need PHP 8`);
    }
    if (n.kind === 'parameter' && (n.flags || n.readonly)) problems.push(`${at(n)}: constructor promotion needs PHP 8`);
    if (n.kind === 'typereference' && NEWER_TYPES.has(String(n.raw || n.name).toLowerCase())) {
      problems.push(`${at(n)}: the type ${String(n.raw || n.name)} needs PHP 8`);
    }
  });
  // Calls by name: a T_STRING followed by "(", not a method (->, ?->, ::), a declaration or a namespaced other name.
  const tokens = engine
    .tokenGetAll(code)
    .filter(
      (t) => !(Array.isArray(t) && (t[0] === 'T_WHITESPACE' || t[0] === 'T_COMMENT' || t[0] === 'T_DOC_COMMENT')),
    );
  tokens.forEach((t, i) => {
    if (!Array.isArray(t) || (t[0] !== 'T_STRING' && t[0] !== 'T_NAME_FULLY_QUALIFIED')) return;
    const name = t[1].replace(/^\\/, '').toLowerCase();
    if (!NEWER.has(name) || tokens[i + 1] !== '(') return;
    const prev = tokens[i - 1];
    if (
      Array.isArray(prev) &&
      [
        'T_OBJECT_OPERATOR',
        'T_NULLSAFE_OBJECT_OPERATOR',
        'T_DOUBLE_COLON',
        'T_PAAMAYIM_NEKUDOTAYIM',
        'T_FUNCTION',
        'T_NEW',
      ].includes(prev[0])
    ) {
      return;
    }
    problems.push(`line ${t[2]}: ${name}() needs PHP 8 (not polyfilled by WordPress 6.2)`);
  });
  return problems;
}

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['plugin'];
let failed = 0;
let files = 0;
for (const dir of dirs) {
  for (const file of phpFiles(dir)) {
    files++;
    for (const p of check(file)) {
      failed++;
      console.log(`${relative(process.cwd(), file)}: ${p} (the plugin claims PHP ${OLDEST})`);
    }
  }
}
console.log(`[php-syntax] ${files} files parsed as PHP ${OLDEST}: ${failed ? `${failed} problems` : 'no problems'}`);
process.exit(failed ? 1 : 0);
