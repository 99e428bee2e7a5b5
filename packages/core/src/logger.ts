// Structured JSON logs (pino, chosen over Powertools Logger by bench case 1: see docs/decisions.md "Lean
// ingress") behind the Logger port. Known secret-bearing fields are censored by name, and values that look like
// secrets are masked wherever they appear in the line, so a careless field cannot leak them.
import pino, { type DestinationStream } from 'pino';
import type { LogFields, Logger } from './ports.ts';

// Field names whose values are censored, at the top level of a line's fields and one level down (pino's
// `redact` paths `key` and `*.key`). Done in a log formatter instead of pino's path-based redaction: for the
// one small object per callback it costs a key scan instead of a compiled path walk (bench case 1).
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

function censorSecretKeys(fields: Record<string, unknown>): Record<string, unknown> {
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

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: DestinationStream;
}): Logger {
  const base = pino(
    {
      name: options.name,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: censorSecretKeys },
      hooks: {
        streamWrite: (line) => maskSecrets(line),
      },
    },
    options.destination ?? pino.destination({ sync: true }),
  );
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) =>
    fields ? base[level](fields, message) : base[level](message);
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
