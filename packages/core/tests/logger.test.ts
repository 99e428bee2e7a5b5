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
