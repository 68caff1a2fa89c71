// Reads DB settings, $table_prefix and our constants from wp-config.php with php-parser: never by regex, never by running PHP.
import { readFileSync } from 'node:fs';
// php-parser ships CommonJS without types.
const PhpParser = require('php-parser');

export interface WpConfigValues {
  constants: Record<string, string | number | boolean | null>;
  tablePrefix?: string;
  /** Names whose value could not be evaluated statically, with the reason. */
  unresolved: Record<string, string>;
}

export class WpConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Evaluates the small subset of PHP that wp-config files use for values: literals, concatenation, getenv(), ?:, ??, casts. */
function evaluate(node: any, env: Env, constants: WpConfigValues['constants'], dir: string): any {
  switch (node?.kind) {
    case 'string':
      return node.value;
    case 'number':
      return Number(node.value);
    case 'boolean':
      return node.value;
    case 'nullkeyword':
      return null;
    case 'encapsed':
      return node.value
        .map((part: any) => evaluate(part.kind === 'encapsedpart' ? part.expression : part, env, constants, dir))
        .join('');
    case 'bin': {
      const l = evaluate(node.left, env, constants, dir);
      if (node.type === '.') return String(l ?? '') + String(evaluate(node.right, env, constants, dir) ?? '');
      if (node.type === '??') return l ?? evaluate(node.right, env, constants, dir);
      if (node.type === '||' || node.type === 'or') {
        return Boolean(l) || Boolean(evaluate(node.right, env, constants, dir));
      }
      if (node.type === '+') return Number(l) + Number(evaluate(node.right, env, constants, dir));
      throw new WpConfigError(`operator ${node.type}`);
    }
    case 'unary': {
      const v = evaluate(node.what, env, constants, dir);
      if (node.type === '!') return !v;
      if (node.type === '-') return -Number(v);
      if (node.type === '+') return Number(v);
      throw new WpConfigError(`unary ${node.type}`);
    }
    case 'retif': {
      const test = evaluate(node.test, env, constants, dir);
      if (node.trueExpr === null) return test ? test : evaluate(node.falseExpr, env, constants, dir);
      return test ? evaluate(node.trueExpr, env, constants, dir) : evaluate(node.falseExpr, env, constants, dir);
    }
    case 'cast': {
      const v = evaluate(node.expr, env, constants, dir);
      if (node.type === 'int') return parseInt(String(v), 10) || 0;
      if (node.type === 'bool') return Boolean(v) && v !== '0';
      if (node.type === 'string') return String(v ?? '');
      return v;
    }
    case 'magic':
      if (node.value.toUpperCase() === '__DIR__') return dir;
      throw new WpConfigError(`magic constant ${node.value}`);
    case 'name':
    case 'constref': {
      const name = typeof node.name === 'string' ? node.name : node.name?.name;
      if (name && Object.prototype.hasOwnProperty.call(constants, name)) return constants[name];
      if (name && ['true', 'false', 'null'].includes(name.toLowerCase())) {
        return name.toLowerCase() === 'true' ? true : name.toLowerCase() === 'false' ? false : null;
      }
      throw new WpConfigError(`undefined constant ${name}`);
    }
    case 'call': {
      const fn = (node.what?.name ?? '').toLowerCase();
      const args = node.arguments.map((a: any) => evaluate(a, env, constants, dir));
      if (fn === 'getenv') {
        const v = env[String(args[0])];
        return v === undefined ? false : v;
      }
      if (fn === 'dirname') return String(args[0]).replace(/\/[^/]*\/?$/, '') || '/';
      if (fn === 'defined') return Object.prototype.hasOwnProperty.call(constants, String(args[0]));
      if (fn === 'constant') return constants[String(args[0])];
      throw new WpConfigError(`function ${fn}()`);
    }
    case 'offsetlookup':
      if (node.what?.kind === 'variable' && ['_ENV', '_SERVER'].includes(node.what.name)) {
        const v = env[String(evaluate(node.offset, env, constants, dir))];
        return v === undefined ? null : v;
      }
      throw new WpConfigError('array lookup');
    default:
      throw new WpConfigError(`expression of kind ${node?.kind ?? 'unknown'}`);
  }
}

/** Walks top-level statements (and simple if-blocks) collecting define() calls and the $table_prefix assignment. */
export function parseWpConfig(source: string, env: Env = process.env, dir = '.'): WpConfigValues {
  const parser = new PhpParser({ parser: { php8: true, suppressErrors: false }, ast: { withPositions: false } });
  let ast: any;
  try {
    ast = parser.parseCode(source, 'wp-config.php');
  } catch (e) {
    throw new WpConfigError(`wp-config.php does not parse: ${(e as Error).message}`);
  }
  const out: WpConfigValues = { constants: {}, unresolved: {} };
  const visit = (stmts: any[]) => {
    for (const stmt of stmts) {
      if (stmt.kind === 'if' && stmt.body) {
        // Follow the branch PHP would take when the condition can be evaluated (getenv(), defined(), constants);
        // otherwise read the body: `if ( ! defined( 'X' ) ) define( 'X', ... )` guards are the common case.
        let branch: any = stmt.body;
        try {
          branch = evaluate(stmt.test, env, out.constants, dir) ? stmt.body : stmt.alternate;
        } catch {
          /* not evaluable: read the body */
        }
        if (branch) visit(branch.kind === 'if' ? [branch] : (branch.children ?? [branch]));
        continue;
      }
      if (stmt.kind !== 'expressionstatement') continue;
      const e = stmt.expression;
      if (e.kind === 'call' && (e.what?.name ?? '').toLowerCase() === 'define' && e.arguments.length >= 2) {
        let name: string;
        try {
          name = String(evaluate(e.arguments[0], env, out.constants, dir));
        } catch {
          continue;
        }
        if (Object.prototype.hasOwnProperty.call(out.constants, name)) continue;
        try {
          out.constants[name] = evaluate(e.arguments[1], env, out.constants, dir);
          delete out.unresolved[name];
        } catch (err) {
          out.unresolved[name] = (err as Error).message;
        }
      } else if (e.kind === 'assign' && e.left?.kind === 'variable' && e.left.name === 'table_prefix') {
        try {
          out.tablePrefix = String(evaluate(e.right, env, out.constants, dir));
          delete out.unresolved.table_prefix;
        } catch (err) {
          out.unresolved.table_prefix = (err as Error).message;
        }
      }
    }
  };
  visit(ast.children);
  return out;
}

export function readWpConfigFile(path: string, env: Env = process.env): WpConfigValues {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (e) {
    throw new WpConfigError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseWpConfig(source, env, path.replace(/\/[^/]*$/, ''));
}

/** DB_HOST forms WordPress accepts: host, host:port, host:/path/to/socket, :/socket, [v6]:port. */
export function parseDbHost(dbHost: string): { host?: string; port?: number; socketPath?: string } {
  const h = dbHost.trim();
  const sock = h.indexOf(':/');
  if (sock >= 0) return { socketPath: h.slice(sock + 1), host: h.slice(0, sock) || 'localhost' };
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : 3306 };
  const m = /^([^:]*)(?::(\d+))?$/.exec(h);
  if (!m) throw new WpConfigError(`DB_HOST "${dbHost}" is not a host, host:port or host:/socket`);
  return { host: m[1] || 'localhost', port: m[2] ? Number(m[2]) : 3306 };
}
