// Structured JSON logs (pino) behind the Logger port. Known secret-bearing fields are censored by path,
// and values that look like secrets are masked wherever they appear, so a careless field cannot leak them.
import pino, { type DestinationStream } from 'pino';
import type { LogFields, Logger } from './ports.ts';

const REDACT_PATHS = [
  '*.secret',
  '*.secrets',
  '*.apiKey',
  '*.apiv3Key',
  '*.privateKey',
  '*.password',
  '*.authorization',
  'secret',
  'secrets',
  'apiKey',
  'apiv3Key',
  'privateKey',
  'password',
  'authorization',
];

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
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
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
