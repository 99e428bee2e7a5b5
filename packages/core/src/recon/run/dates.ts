// Business dates: WeChat Pay bills cover Asia/Shanghai calendar days (UTC+8, no daylight saving), Stripe
// reports UTC days unless a run asks for another zone. A window is [start, end) in UTC instants.
import { ConfigError } from '../../errors.ts';
import type { Provider } from '../../ledger/changes.ts';
import type { RunWindow } from './types.ts';

/** Minutes east of UTC of each provider's business day. */
export const BUSINESS_DAY_OFFSET_MINUTES: Record<Provider, number> = { wechatpay: 8 * 60, stripe: 0 };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function checkBusinessDate(date: string): string {
  const match = DATE.exec(date);
  if (!match) throw new ConfigError('RECON_INVALID_DATE', `business date must be YYYY-MM-DD, got "${date}"`);
  const time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (new Date(time).toISOString().slice(0, 10) !== date)
    throw new ConfigError('RECON_INVALID_DATE', `no such date: ${date}`);
  return date;
}

export function addDays(date: string, days: number): string {
  const time = Date.parse(`${checkBusinessDate(date)}T00:00:00Z`) + days * 86_400_000;
  return new Date(time).toISOString().slice(0, 10);
}

export function businessWindow(provider: Provider, date: string): RunWindow {
  const offset = BUSINESS_DAY_OFFSET_MINUTES[provider] * 60_000;
  const start = Date.parse(`${checkBusinessDate(date)}T00:00:00Z`) - offset;
  return { businessDate: date, start: new Date(start), end: new Date(start + 86_400_000) };
}

/** The calendar date of `now` in the provider's business zone. */
export function businessDateOf(provider: Provider, now: Date): string {
  return new Date(now.getTime() + BUSINESS_DAY_OFFSET_MINUTES[provider] * 60_000).toISOString().slice(0, 10);
}

/** Yesterday in the provider's zone: what a nightly run reconciles. */
export function previousBusinessDate(provider: Provider, now: Date): string {
  return addDays(businessDateOf(provider, now), -1);
}

/**
 * Refuses a business date after today in the provider's zone: no provider has a bill or report for it, and an
 * "empty" answer must never become a clean report that is the current one. Today itself is left to the provider,
 * which answers "not ready" for a day that has not ended.
 */
export function refuseFutureBusinessDate(provider: Provider, date: string, now: Date): string {
  const today = businessDateOf(provider, now);
  if (checkBusinessDate(date) > today)
    throw new ConfigError(
      'RECON_FUTURE_DATE',
      `business date ${date} is in the future (today is ${today} in ${provider === 'wechatpay' ? 'Asia/Shanghai' : 'UTC'}): reconcile a day that has ended`,
    );
  return date;
}
