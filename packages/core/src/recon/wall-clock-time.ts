// Wall-clock times in provider files (Beijing time in WeChat Pay bills, UTC in Stripe reports) ↔ instants, exactly.
import { ConfigError } from '../errors.ts';

const DAY = /^(\d{4})[-/](\d{2})[-/](\d{2})$/;
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;
// Bills hold one or two calendar days: caching day → UTC midnight keeps time parsing off the profile.
const dayCache = new Map<string, number | null>();

function dayStartUtcMs(text: string): number | null {
  const cached = dayCache.get(text);
  if (cached !== undefined) return cached;
  const m = DAY.exec(text);
  let ms: number | null = null;
  if (m) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const candidate = Date.UTC(year, month - 1, day);
    const check = new Date(candidate);
    // Date.UTC rolls 2025-02-30 over to March (and maps years < 100 to 19xx): a round trip rejects both.
    if (check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day) {
      ms = candidate;
    }
  }
  if (dayCache.size < 1024) dayCache.set(text, ms);
  return ms;
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** "YYYY-MM-DD HH:mm:ss" (or with `/` and `T`) read as UTC → epoch ms; null when malformed or impossible. */
function wallTimeToUtcMs(text: string): number | null {
  const t = text.trim();
  if (t.length !== 19 || (t[10] !== ' ' && t[10] !== 'T') || t[13] !== ':' || t[16] !== ':') return null;
  const day = dayStartUtcMs(t.slice(0, 10));
  if (day === null) return null;
  const hour = twoDigits(t, 11);
  const minute = twoDigits(t, 14);
  const second = twoDigits(t, 17);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  return day + ((hour * 60 + minute) * 60 + second) * 1000;
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
  if (Number.isNaN(d.getTime())) throw new ConfigError('INVALID_DATE', 'invalid date');
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
