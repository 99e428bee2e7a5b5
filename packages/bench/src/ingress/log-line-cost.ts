// Cost of one ingress log line with each logger the project could use: the shipped hand-written logger
// (createLogger: name-based censoring + secret masking, pino's line format), pino configured as it was shipped
// until session 5 (the same censoring as a formatter, the same masking as a streamWrite hook), pino with
// path-based `redact` (the configuration before that), and Powertools Logger (measured while it is installed). Every side writes synchronously to
// /dev/null, so the figure is formatting and the write call, not a terminal.
import { Console } from 'node:console';
import { openSync } from 'node:fs';
import { censorSecretKeys, createLogger, maskSecrets, syncFileDescriptor } from '@payhooks/core/logger';
import pino from 'pino';
import { median, now } from '../stats.ts';

type LogLine = (message: string, fields: Record<string, unknown>) => void;

const devNull = () => pino.destination({ dest: '/dev/null', sync: true });

// The shipped logger through the destination it ships with (one write(2) per line); the pino sides through pino's.
function shipped(): LogLine {
  const logger = createLogger({
    name: 'bench-log',
    level: 'info',
    destination: syncFileDescriptor(openSync('/dev/null', 'w')),
  });
  return (message, fields) => logger.info(message, fields);
}

function pinoAsShippedBefore(): LogLine {
  const logger = pino(
    {
      name: 'bench-log',
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: censorSecretKeys },
      hooks: { streamWrite: (line) => maskSecrets(line) },
    },
    devNull(),
  );
  return (message, fields) => logger.info(fields, message);
}

function pinoWithPathRedact(): LogLine {
  const keys = ['secret', 'secrets', 'apiKey', 'apiv3Key', 'privateKey', 'password', 'authorization'];
  const logger = pino(
    {
      name: 'bench-log',
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...keys.map((k) => `*.${k}`), ...keys], censor: '[REDACTED]' },
      hooks: { streamWrite: (line) => maskSecrets(line) },
    },
    devNull(),
  );
  return (message, fields) => logger.info(fields, message);
}

// A variable specifier: the bench still type-checks and runs once the package is removed.
const POWERTOOLS_LOGGER = '@aws-lambda-powertools/logger';

async function powertools(): Promise<LogLine | undefined> {
  let module: { Logger: new (options: object) => Record<string, unknown> };
  try {
    module = await import(POWERTOOLS_LOGGER);
  } catch {
    return undefined;
  }
  const logger = new module.Logger({ serviceName: 'bench-log', logLevel: 'INFO' });
  const dest = devNull();
  // Its own Console over stdout, swapped for one over the same /dev/null destination as pino's.
  logger.console = new Console({
    stdout: dest as unknown as NodeJS.WritableStream,
    stderr: dest as unknown as NodeJS.WritableStream,
  });
  const info = logger.info as (message: string, fields: Record<string, unknown>) => void;
  return (message, fields) => info.call(logger, message, fields);
}

/** µs per log line (median of `reps` passes of `count` lines) for each logger. */
export async function measureLogLineCost(options: { count: number; reps: number }) {
  const fields = (i: number) => ({
    provider: 'stripe',
    eventId: `evt_${i.toString(36).padStart(24, '0')}`,
    eventType: 'payment_intent.succeeded',
    account: '',
    requestId: `req-${i}`,
    messageId: `m-${i}`,
    secretIndex: 0,
  });
  const sides: Record<string, LogLine | undefined> = {
    shipped: shipped(),
    pinoFormatterCensor: pinoAsShippedBefore(),
    pinoPathRedact: pinoWithPathRedact(),
    powertoolsLogger: await powertools(),
  };
  const out: Record<string, number | 'not installed'> = {};
  const pass = (line: LogLine) => {
    const start = now();
    for (let i = 0; i < options.count; i++) line('stripe callback enqueued', fields(i));
    return ((now() - start) * 1000) / options.count;
  };
  const passes: Record<string, number[]> = {};
  for (const [name, line] of Object.entries(sides)) {
    if (line) {
      pass(line); // warm-up
      passes[name] = [];
    } else out[name] = 'not installed';
  }
  // Interleaved repetitions, so a slow phase of the shared machine hits every logger alike.
  for (let r = 0; r < options.reps; r++) {
    for (const [name, line] of Object.entries(sides)) if (line) passes[name]!.push(pass(line));
  }
  for (const [name, values] of Object.entries(passes)) out[name] = median(values);
  return { unit: 'µs per log line (median of passes)', ...out };
}
