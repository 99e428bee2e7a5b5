// Stripe payout reconciliation end to end against the provider API sandbox: the real Stripe client creates the
// day's payout_reconciliation.itemized.5 report run beside balance_change and payouts, polls it, downloads the CSV
// the sandbox writes in Stripe's format, and the run links each payout to every balance transaction it settles —
// including transactions of a day that was never reconciled, which automatic_payout_id alone could not link. A
// payout whose transactions add up is no break; one whose transactions do not is a payout_mismatch break.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listBreaks, payoutTransactions } from '@payhooks/core/recon/run';
import { checkEnvironmentValues } from '@payhooks/functions/config';
import {
  type ProviderSandbox,
  randomStripeSecretKey,
  startProviderSandbox,
} from '@payhooks/testkit/sandbox/provider-api';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocalReconciliation } from '../src/local-reconciliation.ts';

let db: TestDatabase;
let sandbox: ProviderSandbox;
let dir: string;
const apiKey = randomStripeSecretKey();

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-payouts-'));
  sandbox = await startProviderSandbox({ stripe: { apiKey } });
});
afterAll(async () => {
  await sandbox?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** The payout as payout.paid mirrored it (so the payouts report's line matches the mirror). */
const mirrorPayout = (id: string, amount: number) => db.sql`
  insert into stripe.payouts (id, account, status, data, first_seen_at, updated_at, last_event_id, version)
  values (${id}, '', 'paid', ${db.sql.json({ id, object: 'payout', amount, currency: 'usd', status: 'paid' })},
          now(), now(), 'evt_seed', '0')`;

const seedPayment = (id: string, amount: number, at: string) => db.sql`
  insert into payments (provider, provider_payment_id, account, merchant_order_no, amount_minor, currency, status,
    status_rank, first_seen_at, succeeded_at, updated_at, last_event_id, version)
  values ('stripe', ${id}, '', ${`O-${id}`}, ${amount}, 'USD', 'succeeded', 100, ${at}, ${at}, ${at}, 'seed', ${`0:${id}`})`;

const reconcileDay = (date: string, env: Record<string, string> = {}, force = false) =>
  runLocalReconciliation({
    sql: db.sql,
    env: { STRIPE_ORDER_METADATA_KEY: 'order_id', ...env },
    reportsDir: path.join(dir, 'reports'),
    providerApiUrl: sandbox.url,
    stripeApiKey: apiKey,
    providers: ['stripe'],
    dates: { stripe: date },
    force,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });

const summaryOf = async (outcome: Awaited<ReturnType<typeof reconcileDay>>, date: string) =>
  JSON.parse(
    await readFile(
      path.join(path.dirname(outcome.reportFiles[`stripe/platform/${date}`]!), 'summary.json'),
      'utf8',
    ),
  );

describe('Stripe payout reconciliation report (sandbox, real client, real Postgres)', () => {
  it('links each payout to the transactions it settles; a payout they do not add up to is a break', async () => {
    const stripe = sandbox.stripe!;
    const day1 = '2025-03-01T10:00:00Z';
    const day2 = '2025-03-02T09:00:00Z';
    // Settled by po_ok on 03-03: two charges and a refund (10.00 − 0.30 + 5.00 − 0.15 − 2.00 = 12.55).
    // Settled by po_bad on 03-03: one charge netting 19.42, but the payout paid out 20.00.
    stripe.addBalanceTransactions([
      {
        balanceTransactionId: 'txn_ok_1',
        created: new Date(day1),
        currency: 'usd',
        grossMinor: 1000,
        feeMinor: 30,
        chargeId: 'ch_1',
        paymentIntentId: 'pi_1',
        automaticPayoutId: 'po_ok',
      },
      {
        balanceTransactionId: 'txn_ok_2',
        created: new Date(day2),
        currency: 'usd',
        grossMinor: 500,
        feeMinor: 15,
        chargeId: 'ch_2',
        paymentIntentId: 'pi_2',
        automaticPayoutId: 'po_ok',
      },
      {
        balanceTransactionId: 'txn_ok_3',
        created: new Date(day2),
        currency: 'usd',
        grossMinor: -200,
        reportingCategory: 'refund',
        sourceId: 're_1',
        chargeId: 'ch_1',
        paymentIntentId: 'pi_1',
        automaticPayoutId: 'po_ok',
      },
      {
        balanceTransactionId: 'txn_bad_1',
        created: new Date(day2),
        currency: 'usd',
        grossMinor: 2000,
        feeMinor: 58,
        chargeId: 'ch_3',
        paymentIntentId: 'pi_3',
        automaticPayoutId: 'po_bad',
      },
    ]);
    const payoutDay = new Date('2025-03-03T12:00:00Z');
    stripe.addPayouts([
      { payoutId: 'po_ok', effectiveAt: payoutDay, currency: 'usd', grossMinor: 1255 },
      { payoutId: 'po_bad', effectiveAt: payoutDay, currency: 'usd', grossMinor: 2000 },
    ]);
    await mirrorPayout('po_ok', 1255);
    await mirrorPayout('po_bad', 2000);
    await seedPayment('pi_1', 1000, day1);
    await seedPayment('pi_2', 500, day2);
    await seedPayment('pi_3', 2000, day2);

    // Only the payout day is reconciled: 03-01 and 03-02 never ran, so nothing links their transactions yet.
    const outcome = await reconcileDay('2025-03-03');
    const [result] = outcome.results;
    expect(result).toMatchObject({ status: 'succeeded', account: '' });
    expect(result!.counts).toEqual({ matched: 2, payout_mismatch: 1 });
    expect(result!.breaks).toMatchObject({ total: 1, unhealed: 1 });

    const folder = path.dirname(outcome.reportFiles['stripe/platform/2025-03-03']!);
    const summary = await summaryOf(outcome, '2025-03-03');
    expect(summary.sourceFiles.map((f: { name: string; rows: number }) => [f.name, f.rows])).toEqual([
      ['balance_change', 0],
      ['payouts', 2],
      ['payout_reconciliation', 4],
    ]);
    expect(summary.payouts).toEqual([
      {
        payoutId: 'po_bad',
        currency: 'USD',
        amountMinor: '2000',
        linkedTransactions: 1,
        linkedNetMinor: '1942',
        differenceMinor: '58',
      },
      {
        payoutId: 'po_ok',
        currency: 'USD',
        amountMinor: '1255',
        linkedTransactions: 3,
        linkedNetMinor: '1255',
        differenceMinor: '0',
      },
    ]);
    // The day's money and fees are the balance change report's: the payout reconciliation rows are not counted again.
    expect(summary.money).toEqual([]);
    // (Payout rows carry a zero fee; the settled transactions' 1.03 USD of fees belong to their own days.)
    expect(summary.totals.fees).toEqual({ USD: '0.00' });

    const breaksCsv = await readFile(path.join(folder, 'breaks.csv'), 'utf8');
    expect(breaksCsv).toContain('payout_mismatch');
    expect(breaksCsv).toContain('po_bad');
    expect(breaksCsv).not.toContain('po_ok');
    const [registered] = (await listBreaks(db.sql, { class: 'payout_mismatch', limit: 10 })).breaks;
    expect(registered).toMatchObject({ objectKey: 'payout:po_bad', state: 'open' });

    expect(await payoutTransactions(db.sql, { provider: 'stripe', account: '', payoutId: 'po_ok' })).toEqual([
      expect.objectContaining({ balanceTransactionId: 'txn_ok_1', kind: 'payment', netMinor: 970n }),
      expect.objectContaining({ balanceTransactionId: 'txn_ok_2', kind: 'payment', netMinor: 485n }),
      expect.objectContaining({ balanceTransactionId: 'txn_ok_3', kind: 'refund', netMinor: -200n }),
    ]);
  });

  it('STRIPE_RECON_PAYOUT_RECONCILIATION=false skips the report: payouts of unreconciled days link nothing', async () => {
    // The same day again, forced, without the report: the links it made are replaced and nothing names the payouts.
    const outcome = await reconcileDay('2025-03-03', { STRIPE_RECON_PAYOUT_RECONCILIATION: 'false' }, true);
    expect(outcome.results[0]).toMatchObject({ status: 'succeeded', counts: { matched: 2 } });
    const summary = await summaryOf(outcome, '2025-03-03');
    expect(summary.sourceFiles.map((f: { name: string }) => f.name)).toEqual(['balance_change', 'payouts']);
    expect(
      summary.payouts.map((p: { payoutId: string; linkedTransactions: number }) => [
        p.payoutId,
        p.linkedTransactions,
      ]),
    ).toEqual([
      ['po_bad', 0],
      ['po_ok', 0],
    ]);
    expect(checkEnvironmentValues({ STRIPE_RECON_PAYOUT_RECONCILIATION: 'no' })).toEqual([
      {
        subject: 'STRIPE_RECON_PAYOUT_RECONCILIATION',
        message: 'STRIPE_RECON_PAYOUT_RECONCILIATION must be true or false, got "no"',
      },
    ]);
  });
});
