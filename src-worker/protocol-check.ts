// Checks a line a PHP worker sent against the contract's protocol (plugin/contract/contract.json "protocol"), so
// the sidecar handles typed replies, never `any`: the op must be one the contract names, and every field it declares
// present (unless optional) with its type. Fields the contract does not name are let through (a newer plugin may add
// one before the sidecar knows it).
import { contract, protocolTypes, replyFields, WorkerReply } from './contract';

type Spec = string;

function fits(v: unknown, t: Spec): boolean {
  if (t.endsWith('[]')) return Array.isArray(v) && v.every((x) => fits(x, t.slice(0, -2)));
  if (t.startsWith('{') && t.endsWith('}')) {
    // PHP's json_encode() writes an empty map as [] (to PHP an empty array is a list).
    if (Array.isArray(v) && v.length === 0) return true;
    return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => fits(x, t.slice(1, -1)));
  }
  if (t.startsWith('[') && t.endsWith(']')) {
    const parts = t
      .slice(1, -1)
      .split(',')
      .map((x) => x.trim());
    return Array.isArray(v) && v.length === parts.length && parts.every((p, i) => fits(v[i], p));
  }
  switch (t) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'outcome':
      return (Object.values(contract.protocol.outcomes) as unknown[]).includes(v);
    case 'streamEnd':
      return (Object.values(contract.protocol.streamEnds) as unknown[]).includes(v);
    case 'failReason':
      return (Object.values(contract.protocol.failReasons) as unknown[]).includes(v);
    case 'class':
      return (Object.values(contract.protocol.classes) as unknown[]).includes(v);
  }
  const named = (protocolTypes as Record<string, Record<string, Spec>>)[t];
  if (named) return !!v && typeof v === 'object' && fieldProblem(v as Record<string, unknown>, named) === undefined;
  return false;
}

/** The first declared field that is missing or of another type, said in words; undefined when all fit. */
function fieldProblem(m: Record<string, unknown>, fields: Record<string, Spec>): string | undefined {
  for (const [declared, t] of Object.entries(fields)) {
    const optional = declared.endsWith('?');
    const name = optional ? declared.slice(0, -1) : declared;
    if (m[name] === undefined || m[name] === null) {
      if (optional) continue;
      return `"${name}" is missing`;
    }
    if (!fits(m[name], t)) return `"${name}" is not ${t}: ${JSON.stringify(m[name]).slice(0, 80)}`;
  }
  return undefined;
}

export type Checked = { reply: WorkerReply } | { problem: string };

/** A parsed line as the reply the contract describes, or what is wrong with it. */
export function checkReply(m: unknown): Checked {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return { problem: 'not a JSON object' };
  const op = (m as { op?: unknown }).op;
  const fields = typeof op === 'string' ? (replyFields as Record<string, Record<string, Spec>>)[op] : undefined;
  if (!fields) return { problem: `unknown op ${JSON.stringify(op)}` };
  const problem = fieldProblem(m as Record<string, unknown>, fields);
  return problem ? { problem: `'${op}': ${problem}` } : { reply: m as WorkerReply };
}
