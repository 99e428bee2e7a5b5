// isoTime writes exactly what Date.prototype.toISOString writes, whatever order the times come in (its hour
// prefix is cached between calls).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoNow, isoTime } from '../src/iso-time.ts';

const YEAR_10000 = 253_402_300_800_000;
const YEAR_0 = -62_167_219_200_000;

describe('isoTime', () => {
  it('equals toISOString for any integer time, in any order of calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { minLength: 1, maxLength: 50 }),
        (times) => {
          for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals toISOString at hour, day, year and range edges, and for times within one hour', () => {
    const edges = [
      0,
      -1,
      1,
      3_599_999,
      3_600_000,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2028, 1, 29, 12),
      YEAR_0,
      YEAR_0 - 1,
      YEAR_10000 - 1,
      YEAR_10000,
    ];
    for (const ms of edges) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    const base = Date.UTC(2026, 11, 2, 14);
    for (let ms = base; ms < base + 3_600_000; ms += 997)
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('truncates a fractional time as Date does, and throws on an invalid one as toISOString does', () => {
    isoTime(Date.UTC(2026, 11, 2, 14)); // the cached hour holds the next value
    const fractional = Date.UTC(2026, 11, 2, 14, 30) + 0.75;
    expect(isoTime(fractional)).toBe(new Date(fractional).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });

  it('equals toISOString when calls alternate between two or three hours', () => {
    const now = Date.UTC(2026, 11, 2, 14, 12, 13, 14);
    const created = Date.UTC(2026, 10, 30, 3, 4, 5);
    const third = Date.UTC(2025, 0, 1);
    for (let i = 0; i < 30; i++) {
      for (const ms of [now + i * 7, created + i * 1001, now + i * 13, third + i, created - i])
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('isoNow is the current time', () => {
    const before = Date.now();
    const text = isoNow();
    expect(Date.parse(text)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(text)).toBeLessThanOrEqual(Date.now());
  });
});
