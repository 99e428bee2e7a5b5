// The operations function's handler on the embedded Postgres, as the CLI's --stage invokes it: failure reasons
// from delivery_failures, doctor, and errors raised on purpose returned as data (one line for the CLI).
import { createDeliveryFailureRecorder } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperationsHandler } from '../src/operations.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const logger = createLogger({ name: 'ops', destination: pino.destination('/dev/null') });
const handler = () => createOperationsHandler({ DATABASE_URL: db.url }, { logger });

describe('operations handler', () => {
  it('answers failure reasons per event from delivery_failures', async () => {
    const recorder = createDeliveryFailureRecorder({ sql: db.sql, logger });
    for (const attempt of [1, 2, 3])
      recorder.note({
        messageId: 'm1',
        attempt,
        envelope: { provider: 'stripe', eventId: 'evt_1', eventType: 'charge.succeeded' },
        error: Object.assign(new Error('no status'), { code: 'STRIPE_UNEXPECTED_SHAPE' }),
      });
    await recorder.flush();
    const response = await handler()({
      action: 'failures',
      events: [
        { provider: 'stripe', eventId: 'evt_1' },
        { provider: 'stripe', eventId: 'evt_none' },
      ],
    });
    expect(response).toMatchObject({
      ok: true,
      action: 'failures',
      result: [{ eventId: 'evt_1', failedAttempts: 3, lastAttempt: 3, errorCode: 'STRIPE_UNEXPECTED_SHAPE' }],
    });
  });

  it('doctor reports the database and what is not configured', async () => {
    const response = await handler()({ action: 'doctor' });
    expect(response.ok).toBe(true);
    const checks = (response as { result: { name: string; ok: boolean; detail: string }[] }).result;
    expect(checks.find((c) => c.name === 'database')).toMatchObject({ ok: true });
    expect(checks.find((c) => c.name === 'stripe api key')).toMatchObject({ ok: false });
    expect(checks.find((c) => c.name === 'stripe api key')!.detail).toMatch(/^SECRET_MISSING/);
  });

  it('doctor on a Stripe-only stage says WeChat Pay is not taken instead of failing on absent merchants', async () => {
    const checksOf = async (env: Record<string, string>) => {
      const response = await createOperationsHandler(
        { DATABASE_URL: db.url, ...env },
        { logger },
      )({
        action: 'doctor',
      });
      return (response as { result: { name: string; ok: boolean; detail: string }[] }).result;
    };
    const stripeOnly = await checksOf({ PAYHOOKS_PROVIDERS: 'stripe' });
    expect(stripeOnly.find((c) => c.name === 'wechatpay merchants')).toEqual({
      name: 'wechatpay merchants',
      ok: true,
      detail: 'not taken by this stage (Stripe only)',
    });
    const both = await checksOf({});
    expect(both.find((c) => c.name === 'wechatpay merchants')).toMatchObject({ ok: false });
  });

  it('returns a malformed request and an error raised on purpose as code and message', async () => {
    expect(await handler()({ action: 'drop-tables' })).toMatchObject({
      ok: false,
      code: 'OPERATIONS_BAD_REQUEST',
    });
    expect(await handler()({ action: 'recon-run', provider: 'stripe', date: '2026-13-45' })).toMatchObject({
      ok: false,
      code: 'RECON_INVALID_DATE',
    });
    expect(
      await handler()({ action: 'backfill-stripe', since: new Date().toISOString(), dryRun: true }),
    ).toMatchObject({ ok: false, code: 'SECRET_MISSING' });
  });
});
