// RFC 3339 UTC timestamps (`Date.prototype.toISOString`'s exact text) without a Date per call: the callback path
// formats two or three per callback (receivedAt, occurredAt, the log line's time), and toISOString cost about a
// microsecond each on this machine kind. The text up to the hour is kept from earlier calls and only minutes,
// seconds and milliseconds are written; tests/iso-time.test.ts checks it against toISOString.

const HOUR_MS = 3_600_000;
// 0000-01-01 … 9999-12-31: toISOString writes a 4-digit year here, so only the hour prefix changes with it.
const FAST_MIN_MS = -62_167_219_200_000;
const FAST_MAX_MS = 253_402_300_800_000;

const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

// Two cached hours: the current one (receivedAt, log lines) and the last other one (a Stripe event's created),
// so alternating between them does not rebuild a prefix per call.
let hourStart = Number.NaN;
let hourPrefix = '';
let otherStart = Number.NaN;
let otherPrefix = '';

/** `new Date(ms).toISOString()` for any `ms`, e.g. `2026-12-02T14:40:00.000Z`. */
export function isoTime(ms: number): string {
  let offset = ms - hourStart;
  // NaN (first call) and any value outside the cached hour fail this test.
  if (!(offset >= 0 && offset < HOUR_MS)) {
    const other = ms - otherStart;
    if (other >= 0 && other < HOUR_MS) {
      [hourStart, otherStart] = [otherStart, hourStart];
      [hourPrefix, otherPrefix] = [otherPrefix, hourPrefix];
      offset = other;
    } else {
      if (!Number.isInteger(ms) || ms < FAST_MIN_MS || ms >= FAST_MAX_MS) return new Date(ms).toISOString();
      otherStart = hourStart;
      otherPrefix = hourPrefix;
      hourStart = ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
      hourPrefix = new Date(hourStart).toISOString().slice(0, 14); // `YYYY-MM-DDTHH:`
      offset = ms - hourStart;
    }
  }
  if (!Number.isInteger(offset)) return new Date(ms).toISOString();
  const seconds = Math.floor(offset / 1000);
  return `${hourPrefix}${TWO_DIGITS[Math.floor(seconds / 60)]}:${TWO_DIGITS[seconds % 60]}.${THREE_DIGITS[offset % 1000]}Z`;
}

/** The current time as isoTime text. */
export const isoNow = (): string => isoTime(Date.now());
