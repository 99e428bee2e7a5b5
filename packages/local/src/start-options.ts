// `npm start`'s options, all checked before anything starts: an unknown option or a count the demo cannot plant
// its reconciliation differences in is one line naming the option, not a crash after the callbacks phase.
import { parseArgs } from 'node:util';

export interface StartOptions {
  exit: boolean;
  /** Start the stack only: no demo burst, nothing seeded (serve.ts). */
  serve: boolean;
  payments: number;
  wechatpayPayments: number;
  seed: number | undefined;
}

/**
 * The fewest payments per provider with which the demo finds, for all but a rare seed, the two untouched payments
 * its deliberate differences need (45 % of payments are refunded; WeChat Pay's are split over two merchants). Below
 * this it fails for most seeds; a rare seed still ends in one DEMO_SCENARIO_UNSUITABLE line.
 */
export const MIN_STRIPE_PAYMENTS = 10;
export const MIN_WECHATPAY_PAYMENTS = 12;
const MAX_PAYMENTS = 5000;

export type ParsedStartOptions = { ok: true; options: StartOptions } | { ok: false; problems: string[] };

function count(name: string, text: string, min: number, max: number, problems: string[]): number {
  if (!/^\d+$/.test(text)) {
    problems.push(`--${name} must be a whole number, got "${text}"`);
    return 0;
  }
  const value = Number(text);
  if (value < min || value > max) problems.push(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseStartOptions(argv: readonly string[]): ParsedStartOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        exit: { type: 'boolean', default: false },
        serve: { type: 'boolean', default: false },
        payments: { type: 'string', default: '40' },
        'wechatpay-payments': { type: 'string', default: '24' },
        seed: { type: 'string' },
      },
    }));
  } catch (error) {
    return {
      ok: false,
      problems: [
        `${(error as Error).message.split('\n')[0]} (options: --serve, --exit, --seed <n>, --payments <n>, --wechatpay-payments <n>)`,
      ],
    };
  }
  const problems: string[] = [];
  const payments = count('payments', String(values.payments), MIN_STRIPE_PAYMENTS, MAX_PAYMENTS, problems);
  const wechatpayPayments = count(
    'wechatpay-payments',
    String(values['wechatpay-payments']),
    MIN_WECHATPAY_PAYMENTS,
    MAX_PAYMENTS,
    problems,
  );
  const seed =
    values.seed === undefined
      ? undefined
      : count('seed', String(values.seed), 0, Number.MAX_SAFE_INTEGER, problems);
  if (values.serve === true && values.exit === true)
    problems.push(
      '--serve keeps the stack running until Ctrl-C; --exit stops after the demo: pass one of them',
    );
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    options: { exit: values.exit === true, serve: values.serve === true, payments, wechatpayPayments, seed },
  };
}
