// Exact conversions of the scalar values found in provider files: decimal amounts and wall-clock times.
import { MoneyError } from '../errors.ts';
import { decimalToMinor } from '../money.ts';

const PLAIN_DECIMAL = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * Strict front door to `decimalToMinor`: accepts only `[+-]digits[.digits]` (after trimming spaces), with `.` or the
 * given decimal separator. `decimalToMinor` alone strips every comma anywhere in the text, so "0.1,5" or a
 * European "10,00" would be read as 0.15 and 1000.00 — provider files are never allowed to reach it unchecked.
 * Throws MoneyError (MONEY_FORMAT or MONEY_PRECISION).
 */
export function parseAmount(text: string, exponent: number, decimalSeparator: '.' | ',' = '.'): bigint {
  const trimmed = text.trim();
  const normalized = decimalSeparator === ',' ? trimmed.replace(',', '.') : trimmed;
  if (!PLAIN_DECIMAL.test(normalized))
    throw new MoneyError('MONEY_FORMAT', `not a decimal amount: "${text}"`);
  return decimalToMinor(normalized, exponent);
}

const WALL_TIME = /^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

function wallTimeToUtcMs(text: string): number | null {
  const m = WALL_TIME.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Date.UTC rolls 2025-02-30 over to March: a round trip rejects impossible calendar values.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return null;
  }
  return ms;
}

/** "2025-03-01 00:30:00" in Asia/Shanghai (UTC+8 all year, no DST) → the UTC instant; null when malformed. */
export function parseBeijingTime(text: string): Date | null {
  const ms = wallTimeToUtcMs(text);
  return ms === null ? null : new Date(ms - BEIJING_OFFSET_MS);
}

/**
 * "2025-03-01 12:00:00" read as UTC → Date; also accepts a `T` separator, fractional seconds and a `Z` / `+00:00`
 * suffix. Null when malformed.
 */
export function parseUtcTime(text: string): Date | null {
  const m = /^(.*?)(?:\.\d{1,9})?(?:Z|[+-]00:?00)?$/.exec(text.trim());
  if (!m) return null;
  const ms = wallTimeToUtcMs(m[1] ?? '');
  return ms === null ? null : new Date(ms);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function formatWall(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid date');
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** The instant as Beijing wall-clock time "YYYY-MM-DD HH:mm:ss" (sub-second precision is dropped). */
export function formatBeijingTime(date: Date): string {
  return formatWall(date.getTime() + BEIJING_OFFSET_MS);
}

/** The instant as UTC "YYYY-MM-DD HH:mm:ss", the form of Stripe's `*_utc` report columns. */
export function formatUtcTime(date: Date): string {
  return formatWall(date.getTime());
}
