// A few structural checks for the merchants documents, by hand instead of zod: zod's ≈ 94 KiB sat on the WeChat Pay
// webhook's cold-start path for five string fields (docs/decisions.md "Merchant documents checked by hand").
// Each check collects issues by path; messages name the expectation, never the value (the values are secrets).

export type Path = (string | number)[];
export interface Issue {
  path: Path;
  message: string;
}
/** Checks `value` at `path`, pushing what is wrong to `issues`; answers the (trimmed) value. */
export type Check = (value: unknown, path: Path, issues: Issue[]) => unknown;

function kind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function expected(what: string, value: unknown, path: Path, issues: Issue[]): undefined {
  issues.push({ path, message: `expected ${what}, received ${kind(value)}` });
  return undefined;
}

/** A string; `pattern` (with its message) when given; `nonEmpty` trims and refuses an empty string. */
export function text(options: { pattern?: RegExp; message?: string; nonEmpty?: boolean } = {}): Check {
  return (value, path, issues) => {
    if (typeof value !== 'string') return expected('string', value, path, issues);
    const v = options.nonEmpty ? value.trim() : value;
    if (options.nonEmpty && v === '') issues.push({ path, message: 'must not be empty' });
    else if (options.pattern && !options.pattern.test(v))
      issues.push({ path, message: options.message ?? 'has the wrong form' });
    return v;
  };
}

export const optionalFlag: Check = (value, path, issues) =>
  value === undefined || typeof value === 'boolean' ? value : expected('boolean', value, path, issues);

/** An object whose keys match `key` and whose values are strings; at least one entry. */
export function stringMap(key: { pattern: RegExp; message: string }, emptyMessage: string): Check {
  return (value, path, issues) => {
    if (kind(value) !== 'object') return expected('object', value, path, issues);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) issues.push({ path, message: emptyMessage });
    for (const [k, v] of entries) {
      if (!key.pattern.test(k)) issues.push({ path: [...path, k], message: key.message });
      if (typeof v !== 'string') expected('string', v, [...path, k], issues);
    }
    return value;
  };
}

/** An array of `item`; `minMessage` when it must not be empty. */
export function list(item: Check, minMessage?: string): Check {
  return (value, path, issues) => {
    if (!Array.isArray(value)) return expected('array', value, path, issues);
    if (minMessage && value.length === 0) issues.push({ path, message: minMessage });
    return value.map((entry, i) => item(entry, [...path, i], issues));
  };
}

/**
 * An object with exactly these fields: a missing one is reported (unless `optional`), an unknown one too — a part
 * carrying another purpose's field (a privateKey in a verify part) is refused, not ignored.
 */
export function strictObject(shape: Record<string, Check>, optional: readonly string[] = []): Check {
  return (value, path, issues) => {
    if (kind(value) !== 'object') return expected('object', value, path, issues);
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [field, check] of Object.entries(shape)) {
      if (input[field] === undefined && optional.includes(field)) continue;
      out[field] = check(input[field], [...path, field], issues);
    }
    const unknown = Object.keys(input).filter((k) => !(k in shape));
    if (unknown.length)
      issues.push({
        path,
        message: `unrecognized key(s): ${unknown.map((k) => JSON.stringify(k)).join(', ')}`,
      });
    return out;
  };
}

/** Runs `check`; answers the value, or the first five issues as one line ("a.0.b: message; …"). */
export function checked<T>(
  check: Check,
  value: unknown,
): { ok: true; value: T } | { ok: false; issues: string } {
  const issues: Issue[] = [];
  const out = check(value, [], issues);
  if (issues.length === 0) return { ok: true, value: out as T };
  return {
    ok: false,
    issues: issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(document)'}: ${issue.message}`)
      .join('; '),
  };
}
