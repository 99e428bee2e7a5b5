// The JSON logger censors secret-bearing field names (top level and one level down) and masks values that look
// like secrets anywhere in the line: a careless field must not leak a webhook secret or a key.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', destination }) };
}

describe('createLogger', () => {
  it('censors secret field names at the top level and one level down, leaving other fields as they are', () => {
    const { lines, logger } = capture();

    logger.info('configured', {
      eventId: 'evt_1',
      apiv3Key: 'a'.repeat(32),
      merchant: { id: 'm1', privateKey: 'pem', nested: { password: 'deeper' } },
    });

    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', message: 'configured', eventId: 'evt_1' });
    expect(line.apiv3Key).toBe('[REDACTED]');
    expect(line.merchant).toEqual({ id: 'm1', privateKey: '[REDACTED]', nested: { password: 'deeper' } });
  });

  it('masks secret-looking values in any field and in the message', () => {
    const { lines, logger } = capture();

    logger.warn('bad secret whsec_abc123', { note: 'key sk_live_XYZ987 leaked' });

    expect(lines[0]).not.toContain('whsec_abc123');
    expect(lines[0]).not.toContain('sk_live_XYZ987');
    expect(JSON.parse(lines[0]!).note).toBe('key [REDACTED] leaked');
  });
});

describe('createLogger line format', () => {
  it('writes one JSON line: level, time, pid, hostname, name, then the fields, then the message', () => {
    const { lines, logger } = capture();
    const before = Date.now();
    logger.info('stripe callback enqueued', {
      provider: 'stripe',
      eventId: 'evt_1',
      skipped: undefined,
      n: 0,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('}\n')).toBe(true);
    const line = JSON.parse(lines[0]!);
    expect(Object.keys(line)).toEqual([
      'level',
      'time',
      'pid',
      'hostname',
      'name',
      'provider',
      'eventId',
      'n',
      'message',
    ]);
    expect(line).toMatchObject({
      level: 'info',
      pid: process.pid,
      name: 'test',
      n: 0,
      message: 'stripe callback enqueued',
    });
    expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before - 1);
  });

  it('a cycle or a BigInt in a field does not lose the line, and secrets are still censored in it', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { id: 'c1' };
    cyclic.self = cyclic;
    logger.error('odd fields', { cyclic, amount: 12n, password: 'hunter2', note: 'whsec_leakedValue1' });
    const line = JSON.parse(lines[0]!);
    expect(line.cyclic).toEqual({ id: 'c1', self: '[Circular]' });
    expect(line.password).toBe('[REDACTED]');
    expect(line.amount).toBe(12);
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toContain('whsec_leakedValue1');
  });

  it('writes nothing below its level, and an unknown level names LOG_LEVEL', () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 't',
      level: 'warn',
      destination: { write: (l: string) => lines.push(l) },
    });
    logger.debug('no');
    logger.info('no');
    logger.warn('yes');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['yes']);
    expect(() => createLogger({ name: 't', level: 'loud' })).toThrow(/LOG_LEVEL must be one of .*"loud"/);
  });
});
