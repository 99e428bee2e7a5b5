// Structured JSON logs behind the Logger port: one JSON line per call, written synchronously (stdout by
// default). Hand-written instead of pino (docs/decisions.md "Ingress hot path and cold start, session 5"): the
// line is the same (level, time, pid, hostname, name, the fields, message), the callback's one line costs a
// third of pino's, and pino's 59 KiB left every Lambda's cold start. Known secret-bearing fields are censored
// by name, and values that look like secrets are masked wherever they appear in the line, so a careless field
// cannot leak them.
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from './errors.ts';
import { isoNow } from './iso-time.ts';
import type { LogFields, Logger } from './ports.ts';

// Field names whose values are censored, at the top level of a line's fields and one level down (the reach of
// the former pino `redact` paths `key` and `*.key`): a key scan of the one small object per line.
const SECRET_KEYS = new Set([
  'secret',
  'secrets',
  'apiKey',
  'apiv3Key',
  'privateKey',
  'password',
  'authorization',
]);
const CENSOR = '[REDACTED]';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function censorSecretKeys(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const key in fields) {
    const value = fields[key];
    if (SECRET_KEYS.has(key)) {
      if (out === fields) out = { ...fields };
      out[key] = CENSOR;
    } else if (isPlainObject(value)) {
      let inner: Record<string, unknown> | undefined;
      for (const innerKey in value) {
        if (!SECRET_KEYS.has(innerKey)) continue;
        inner ??= { ...value };
        inner[innerKey] = CENSOR;
      }
      if (inner) {
        if (out === fields) out = { ...fields };
        out[key] = inner;
      }
    }
  }
  return out;
}

// whsec_…, sk_test_…/sk_live_…/rk_…, PEM blocks.
const SECRET_PATTERN =
  /(whsec_[A-Za-z0-9+/=_-]+|\b[sr]k_(?:test|live)_[A-Za-z0-9]+|-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----)/g;

export function maskSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, '[REDACTED]');
}

/** Where lines go: anything with a synchronous-enough `write` (a pino/sonic-boom destination, a Writable). */
export interface LogDestination {
  write(line: string): unknown;
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

function threshold(level: string): number {
  const value = LEVELS[level as keyof typeof LEVELS];
  if (value === undefined)
    throw new ConfigError(
      'CONFIG_INVALID',
      `LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')}, got "${level}"`,
    );
  return value;
}

/**
 * Writes each line with one write(2) on the descriptor, as pino's sync destination did: the line is on its way
 * when the call returns (Lambda may freeze the process right after the handler answers). A pipe that is full
 * for a moment (EAGAIN) is retried; a partial write continues where it stopped.
 */
export function syncFileDescriptor(fd: number): LogDestination {
  const writeAll = (bytes: Buffer) => {
    while (bytes.length > 0) {
      try {
        bytes = bytes.subarray(writeSync(fd, bytes));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  };
  return {
    write(line: string) {
      let written = 0;
      try {
        // The common case: the whole line in one call, without a Buffer copy of it.
        written = writeSync(fd, line);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      const total = Buffer.byteLength(line);
      if (written < total) writeAll(Buffer.from(line, 'utf8').subarray(written));
    },
  };
}

// JSON.stringify throws on a cycle or a BigInt; such a field is written as pino wrote it instead of losing the line.
function stringifyLeniently(value: unknown): string {
  const ancestors: object[] = [];
  return JSON.stringify(value, function (this: unknown, _key, current: unknown) {
    if (typeof current === 'bigint') return Number(current);
    if (typeof current !== 'object' || current === null) return current;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(current)) return '[Circular]';
    ancestors.push(current);
    return current;
  });
}

function fieldsJson(fields: LogFields): string {
  const censored = censorSecretKeys(fields);
  let text: string;
  try {
    text = JSON.stringify(censored);
  } catch {
    text = stringifyLeniently(censored);
  }
  // `{}` → nothing; `{"a":1}` → `,"a":1`, spliced between the fixed prefix and the message.
  return text.length > 2 ? `,${text.slice(1, -1)}` : '';
}

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: LogDestination;
}): Logger {
  const minimum = threshold(options.level || process.env.LOG_LEVEL || 'info');
  const destination = options.destination ?? syncFileDescriptor(1);
  // What follows the time on every line of this logger; computed once.
  const bindings = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"name":${JSON.stringify(options.name)}`;
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => {
    const head = `{"level":"${level}","time":"`;
    const enabled = LEVELS[level] >= minimum;
    return (message: string, fields?: LogFields) => {
      if (!enabled) return;
      const line = `${head}${isoNow()}"${bindings}${fields ? fieldsJson(fields) : ''},"message":${JSON.stringify(message)}}\n`;
      destination.write(maskSecrets(line));
    };
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Serialises an error for a log line: class, code and message, never enumerable payload properties. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      errorName: error.name,
      errorCode: typeof code === 'string' ? code : undefined,
      errorMessage: maskSecrets(error.message),
    };
  }
  return { errorMessage: maskSecrets(String(error)) };
}

// What may be shown of a provider body (the operations console): personal data masked, see personal-data.ts.
export { MASK, maskPersonalData, maskRawBody } from './personal-data.ts';
