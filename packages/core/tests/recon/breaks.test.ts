// Breaks that live across runs, on a real Postgres: WeChat Pay runs of crafted bills against crafted ledger rows
// write the break register; the same break keeps its id and age in a re-run and in the next day's run, a break a
// new run no longer finds is closed by that run, a resolved one found again stays resolved; people's actions follow
// the state machine and leave an audit trail; the console's queries filter, page and total.
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/ports.ts';
import type { TradeBillRecord } from '../../src/recon/index.ts';
import {
  assignBreak,
  BREAK_CODES,
  BreakError,
  getBreak,
  listBreaks,
  noteBreak,
  type ReconcileDeps,
  type ReconcileResult,
  reconcile,
  reconOverview,
  reconSeries,
  resolveBreak,
  wechatpaySource,
  writeOffBreak,
} from '../../src/recon/run/index.ts';
import { caught } from './helpers.ts';
import { breaksCsvRows } from './reconcile-csv.ts';
import {
  billApi,
  billText,
  insertPayment,
  MCHID,
  MemoryStore,
  silentLogger,
  tradeRecord,
  truncateReconTables,
} from './reconcile-helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await truncateReconTables(db.sql);
  now = new Date('2025-03-03T03:00:00Z');
});

const D1 = '2025-03-01';
const D2 = '2025-03-02';
let now = new Date('2025-03-03T03:00:00Z');
const clock: Clock = { now: () => now };
let runNo = 0;

function deps(store: MemoryStore): ReconcileDeps {
  return {
    sql: db.sql,
    store,
    clock,
    logger: silentLogger,
    newRunId: () => {
      runNo += 1;
      return `run-${runNo}`;
    },
  };
}

const payment = (id: string, fen: bigint, extra: Partial<TradeBillRecord> = {}) =>
  tradeRecord({
    transactionId: id,
    outTradeNo: `ORDER-${id}`,
    orderAmountFen: fen,
    settlementAmountFen: fen,
    ...extra,
  });

async function run(
  store: MemoryStore,
  date: string,
  records: TradeBillRecord[],
  force = false,
): Promise<ReconcileResult> {
  const trade = await billText(records);
  const result = await reconcile(deps(store), {
    source: wechatpaySource(billApi({ trade }), { mchid: MCHID, businessDate: date }),
    businessDate: date,
    force,
  });
  expect(result.status).toBe('succeeded');
  return result;
}

function breaksRows(store: MemoryStore, result: ReconcileResult) {
  return breaksCsvRows(store.text(result.reportKeys!.files['breaks.csv']!));
}

function summaryOf(store: MemoryStore, result: ReconcileResult) {
  return JSON.parse(store.text(result.reportKeys!.files['summary.json']!));
}

/** The break of the object (kind:id) in class, from the register. */
async function breakOf(cls: string, objectKey: string) {
  const page = await listBreaks(db.sql, { class: cls, limit: 100, asOf: '2025-03-05' });
  const found = page.breaks.find((b) => b.objectKey === objectKey);
  if (!found) throw new Error(`no ${cls} break for ${objectKey}`);
  return found;
}

/** Ledger of D1: T1 matches; T2 is 2.00 (the bill says 2.50); T6 is not in the bill. */
async function seedLedger(): Promise<void> {
  await insertPayment(db.sql, { id: 'T1', amount: 100n, orderNo: 'ORDER-T1' });
  await insertPayment(db.sql, { id: 'T2', amount: 200n, orderNo: 'ORDER-T2' });
  await insertPayment(db.sql, {
    id: 'T6',
    amount: 600n,
    orderNo: 'ORDER-T6',
    succeededAt: '2025-03-01T05:00:00Z',
  });
}

const d1Bill = () => [payment('T1', 100n), payment('T2', 250n), payment('T5', 400n)];

describe('break lifecycle across runs', () => {
  it('a re-run keeps ids and ages, closes what it no longer finds, and keeps a resolved break resolved', async () => {
    await seedLedger();
    const store = new MemoryStore();
    const first = await run(store, D1, d1Bill());
    const rows1 = breaksRows(store, first);
    const idOf = (rows: Record<string, string>[], id: string) =>
      rows.find((r) => r.provider_payment_id === id)!;
    expect(rows1.map((r) => [r.class, r.provider_payment_id, r.age_days, r.break_state]).sort()).toEqual([
      ['amount_mismatch', 'T2', '0', 'open'],
      ['missing_at_provider', 'T6', '0', 'open'],
      ['missing_in_ledger', 'T5', '0', 'open'],
    ]);
    expect(rows1.every((r) => /^\d+$/.test(r.break_id!))).toBe(true);
    const t6 = BigInt(idOf(rows1, 'T6').break_id!);
    await resolveBreak(db.sql, { breakId: t6, actor: 'fin.li', reason: 'refunded off-platform, ticket 118' });

    // The callback for T5 arrives late: the forced re-run no longer finds that break.
    await insertPayment(db.sql, { id: 'T5', amount: 400n, orderNo: 'ORDER-T5' });
    now = new Date('2025-03-03T04:00:00Z');
    const second = await run(store, D1, d1Bill(), true);
    const rows2 = breaksRows(store, second);
    expect(idOf(rows2, 'T2').break_id).toBe(idOf(rows1, 'T2').break_id);
    expect(idOf(rows2, 'T2').age_days).toBe('0');
    expect(idOf(rows2, 'T6')).toMatchObject({ break_id: t6.toString(), break_state: 'resolved' });
    expect(rows2.find((r) => r.provider_payment_id === 'T5')).toBeUndefined();

    const t5 = await breakOf('missing_in_ledger', 'payment:T5');
    expect(t5).toMatchObject({ state: 'healed', closedByRun: second.runId, firstSeenRun: first.runId });
    expect(t5.id.toString()).toBe(idOf(rows1, 'T5').break_id);
    const t5Detail = (await getBreak(db.sql, t5.id))!;
    expect(t5Detail.healHistory.map((e) => [e.action, e.fromState, e.toState, e.runId])).toEqual([
      ['detected', null, 'open', first.runId],
      ['closed', 'open', 'healed', second.runId],
    ]);
    expect(t5Detail.sightings).toEqual([
      expect.objectContaining({ businessDate: D1, runId: first.runId, goneRun: second.runId }),
    ]);
    // Both sides: the bill line as the provider wrote it, and the ledger row now (the late callback).
    expect(t5Detail.item).toMatchObject({
      billAmountMinor: 400n,
      billProviderStatus: 'SUCCESS',
      source: 'tradebill',
    });
    expect(t5Detail.ledger).toMatchObject({ table: 'payments', status: 'succeeded', amountMinor: 400n });

    const t6Detail = (await getBreak(db.sql, t6))!;
    expect(t6Detail.state).toBe('resolved');
    expect(t6Detail.events.map((e) => [e.action, e.actor, e.fromState, e.toState])).toEqual([
      ['detected', `run:${first.runId}`, null, 'open'],
      ['resolved', 'fin.li', 'open', 'resolved'],
      ['redetected', `run:${second.runId}`, 'resolved', 'resolved'],
    ]);
    expect(t6Detail.resolution).toBe('refunded off-platform, ticket 118');

    const summary = summaryOf(store, second);
    expect(summary.lifecycle.byState).toEqual({ open: 1, healed: 0, resolved: 1, written_off: 0 });
    expect(summary.lifecycle.changes).toEqual({
      detected: 0,
      refound: 2,
      redetected: 1,
      reopened: 0,
      closed: 1,
    });
    expect(summary.lifecycle.breaks).toContainEqual({
      breakId: t6.toString(),
      class: 'missing_at_provider',
      objectKey: 'payment:T6',
      ageDays: 0,
      state: 'resolved',
    });
  });

  it("the next day's run finding the same break keeps its id and its age grows; a healed break found again reopens", async () => {
    await seedLedger();
    const store = new MemoryStore();
    const first = await run(store, D1, d1Bill());
    const t2 = idIn(breaksRows(store, first), 'T2');

    // The next day's bill lists T2 again at 2.50: the same amount_mismatch break, one day older.
    const next = await run(store, D2, [payment('T2', 250n, { tradeTime: new Date('2025-03-02T02:00:00Z') })]);
    const row = breaksRows(store, next).find((r) => r.provider_payment_id === 'T2')!;
    expect(row).toMatchObject({ class: 'amount_mismatch', break_id: t2, age_days: '1', break_state: 'open' });
    const detail = (await getBreak(db.sql, BigInt(t2)))!;
    expect(detail).toMatchObject({ firstSeenDate: D1, lastSeenDate: D2, lastSeenRun: next.runId });
    expect(detail.sightings.map((s) => s.businessDate)).toEqual([D1, D2]);

    // The provider corrects both days: still seen on D2 until D2 re-runs, then closed.
    await run(store, D1, [payment('T1', 100n), payment('T2', 200n), payment('T5', 400n)], true);
    expect((await getBreak(db.sql, BigInt(t2)))!.state).toBe('open');
    const d2Fixed = await run(store, D2, [], true);
    const closed = (await getBreak(db.sql, BigInt(t2)))!;
    expect(closed).toMatchObject({ state: 'healed', closedByRun: d2Fixed.runId });

    // …and the D2 bill is wrong again: the healed break is reopened, with the same id.
    const again = await run(
      store,
      D2,
      [payment('T2', 250n, { tradeTime: new Date('2025-03-02T02:00:00Z') })],
      true,
    );
    expect(breaksRows(store, again).find((r) => r.provider_payment_id === 'T2')).toMatchObject({
      break_id: t2,
      break_state: 'open',
      age_days: '1',
    });
    const reopened = (await getBreak(db.sql, BigInt(t2)))!;
    expect(reopened.closedByRun).toBeNull();
    expect(reopened.healHistory.map((e) => e.action)).toEqual(['detected', 'closed', 'reopened']);
  });
});

const idIn = (rows: Record<string, string>[], paymentId: string) =>
  rows.find((r) => r.provider_payment_id === paymentId)!.break_id!;

describe('break actions', () => {
  async function oneOpenBreak(): Promise<bigint> {
    await seedLedger();
    const store = new MemoryStore();
    const result = await run(store, D1, d1Bill());
    return BigInt(idIn(breaksRows(store, result), 'T5'));
  }

  it('assign, note and resolve are recorded in order with actor and time; invalid transitions are refused', async () => {
    const id = await oneOpenBreak();
    const t = (minute: number) => new Date(`2025-03-03T05:${String(minute).padStart(2, '0')}:00Z`);
    const assigned = await assignBreak(db.sql, {
      breakId: id,
      actor: 'lead.wang',
      assignee: 'fin.li',
      at: t(1),
    });
    expect(assigned).toMatchObject({ state: 'open', assignee: 'fin.li' });
    await noteBreak(db.sql, {
      breakId: id,
      actor: 'fin.li',
      text: 'asked WeChat Pay support, case 5521',
      at: t(2),
    });
    await assignBreak(db.sql, { breakId: id, actor: 'lead.wang', assignee: 'fin.zhao', at: t(3) });
    const resolved = await resolveBreak(db.sql, { breakId: id, actor: 'fin.zhao', at: t(4) });
    expect(resolved.state).toBe('resolved');

    const refused = await caught(() =>
      writeOffBreak(db.sql, { breakId: id, actor: 'fin.zhao', reason: 'x' }),
    );
    expect(refused).toBeInstanceOf(BreakError);
    expect((refused as BreakError).code).toBe(BREAK_CODES.invalidTransition);
    expect((refused as Error).message).toBe(`break ${id} is resolved: it cannot be written off`);
    expect(await caught(() => resolveBreak(db.sql, { breakId: id, actor: 'fin.zhao' }))).toMatchObject({
      code: BREAK_CODES.invalidTransition,
    });
    expect(await caught(() => assignBreak(db.sql, { breakId: id, actor: 'a', assignee: 'b' }))).toMatchObject(
      {
        code: BREAK_CODES.invalidTransition,
      },
    );
    // A closed break can still be explained.
    await noteBreak(db.sql, { breakId: id, actor: 'auditor', text: 'checked', at: t(5) });

    const detail = (await getBreak(db.sql, id))!;
    expect(detail).toMatchObject({ state: 'resolved', assignee: 'fin.zhao', resolution: null });
    expect(
      detail.events.map((e) => [e.action, e.actor, e.note, e.fromState, e.toState, e.at.toISOString()]),
    ).toEqual([
      ['detected', expect.stringMatching(/^run:/), null, null, 'open', '2025-03-03T03:00:00.000Z'],
      ['assigned', 'lead.wang', 'fin.li', 'open', 'open', t(1).toISOString()],
      ['noted', 'fin.li', 'asked WeChat Pay support, case 5521', 'open', 'open', t(2).toISOString()],
      ['assigned', 'lead.wang', 'fin.zhao (was fin.li)', 'open', 'open', t(3).toISOString()],
      ['resolved', 'fin.zhao', null, 'open', 'resolved', t(4).toISOString()],
      ['noted', 'auditor', 'checked', 'resolved', 'resolved', t(5).toISOString()],
    ]);
  });

  it('a write-off needs a reason; notes need text; every action needs an actor and a known break', async () => {
    const id = await oneOpenBreak();
    for (const reason of ['', '   ']) {
      expect(
        await caught(() => writeOffBreak(db.sql, { breakId: id, actor: 'fin.li', reason })),
      ).toMatchObject({
        code: BREAK_CODES.reasonRequired,
        message: 'reason for a write-off is required',
      });
    }
    expect(await caught(() => noteBreak(db.sql, { breakId: id, actor: 'fin.li', text: ' ' }))).toMatchObject({
      code: BREAK_CODES.reasonRequired,
    });
    expect(await caught(() => resolveBreak(db.sql, { breakId: id, actor: ' ' }))).toMatchObject({
      code: BREAK_CODES.actorRequired,
    });
    expect(
      await caught(() => noteBreak(db.sql, { breakId: id, actor: 'run:forged', text: 'x' })),
    ).toMatchObject({
      code: BREAK_CODES.actorRequired,
    });
    expect(await caught(() => resolveBreak(db.sql, { breakId: 999_999n, actor: 'fin.li' }))).toMatchObject({
      code: BREAK_CODES.notFound,
    });
    // Nothing refused left a trace.
    expect((await getBreak(db.sql, id))!.events.map((e) => e.action)).toEqual(['detected']);

    const written = await writeOffBreak(db.sql, {
      breakId: id,
      actor: 'fin.li',
      reason: 'below the 5 CNY threshold',
    });
    expect(written.state).toBe('written_off');
    expect((await getBreak(db.sql, id))!).toMatchObject({ resolution: 'below the 5 CNY threshold' });

    // A written-off break found again by a run stays written off.
    const store = new MemoryStore();
    await run(store, D1, d1Bill(), true);
    const after = (await getBreak(db.sql, id))!;
    expect(after.state).toBe('written_off');
    expect(after.events.map((e) => e.action)).toEqual(['detected', 'written_off', 'redetected']);
  });

  it('concurrent actions on one break are serialised by the row lock: exactly one close wins', async () => {
    const id = await oneOpenBreak();
    const outcomes = await Promise.allSettled([
      resolveBreak(db.sql, { breakId: id, actor: 'fin.li', reason: 'a' }),
      writeOffBreak(db.sql, { breakId: id, actor: 'fin.zhao', reason: 'b' }),
      resolveBreak(db.sql, { breakId: id, actor: 'fin.wu', reason: 'c' }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected'))
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: BREAK_CODES.invalidTransition });
    const events = (await getBreak(db.sql, id))!.events;
    expect(events.filter((e) => e.action === 'resolved' || e.action === 'written_off')).toHaveLength(1);
  });

  it('the audit trail is append-only: rows cannot be changed or deleted', async () => {
    const id = await oneOpenBreak();
    const update = await caught(
      () => db.sql`update recon_break_events set actor = 'x' where break_id = ${id.toString()}`,
    );
    expect((update as Error).message).toContain('append-only');
    const remove = await caught(
      () => db.sql`delete from recon_break_events where break_id = ${id.toString()}`,
    );
    expect((remove as Error).message).toContain('append-only');
  });
});

describe('break queue and overview queries', () => {
  it('listBreaks filters by class, state, age, amount and date, and pages newest first without gaps or repeats', async () => {
    const store = new MemoryStore();
    // D1: seven missing_in_ledger breaks of 1.00 … 7.00; D2: three more.
    await run(
      store,
      D1,
      [1n, 2n, 3n, 4n, 5n, 6n, 7n].map((n) => payment(`A${n}`, n * 100n)),
    );
    await run(
      store,
      D2,
      [8n, 9n, 10n].map((n) => payment(`B${n}`, n * 100n, { tradeTime: new Date('2025-03-02T02:00:00Z') })),
    );
    const a3 = await breakOf('missing_in_ledger', 'payment:A3');
    await writeOffBreak(db.sql, { breakId: a3.id, actor: 'fin.li', reason: 'test order' });

    const all: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await listBreaks(db.sql, { limit: 3, ...(after ? { after } : {}), asOf: '2025-03-04' });
      all.push(...result.breaks.map((b) => b.objectKey));
      if (!result.nextCursor) break;
      after = result.nextCursor;
    }
    // Newest first: D2's breaks, then D1's; within a date by id descending (a run registers in key order).
    expect(all).toEqual([
      'payment:B9',
      'payment:B8',
      'payment:B10',
      'payment:A7',
      'payment:A6',
      'payment:A5',
      'payment:A4',
      'payment:A3',
      'payment:A2',
      'payment:A1',
    ]);

    const keys = async (filter: Omit<Parameters<typeof listBreaks>[1], 'limit'>) =>
      (await listBreaks(db.sql, { limit: 100, asOf: '2025-03-04', ...filter })).breaks.map(
        (b) => b.objectKey,
      );
    expect(await keys({ businessDate: D2 })).toEqual(['payment:B9', 'payment:B8', 'payment:B10']);
    expect(await keys({ state: 'written_off' })).toEqual(['payment:A3']);
    expect(await keys({ minAmountMinor: 500n, maxAmountMinor: 800n })).toEqual([
      'payment:B8',
      'payment:A7',
      'payment:A6',
      'payment:A5',
    ]);
    // Ages as of 03-04: D1's open breaks are 3 days old, D2's 2.
    expect(await keys({ minAgeDays: 3, state: 'open' })).toEqual([
      'payment:A7',
      'payment:A6',
      'payment:A5',
      'payment:A4',
      'payment:A2',
      'payment:A1',
    ]);
    expect(await keys({ class: 'amount_mismatch' })).toEqual([]);
    expect(await keys({ provider: 'stripe' })).toEqual([]);
    expect(await keys({ account: MCHID, businessDate: D1, state: 'open', minAmountMinor: 700n })).toEqual([
      'payment:A7',
    ]);
    const newest = (await listBreaks(db.sql, { limit: 1, asOf: '2025-03-04' })).breaks[0]!;
    expect(newest).toMatchObject({
      objectKey: 'payment:B9',
      ageDays: 2,
      amountMinor: 900n,
      providerAmountMinor: 900n,
      ledgerAmountMinor: null,
    });

    expect(await caught(() => listBreaks(db.sql, { limit: 0 }))).toMatchObject({
      code: BREAK_CODES.badFilter,
    });
    expect(await caught(() => listBreaks(db.sql, { limit: 5, after: 'nonsense' }))).toMatchObject({
      code: BREAK_CODES.badFilter,
    });
  });

  it('reconOverview has run state, matched count, breaks by class and gross / fees / net per currency', async () => {
    await seedLedger();
    await insertPayment(db.sql, { id: 'T9', amount: 900n, orderNo: 'ORDER-T9' });
    const store = new MemoryStore();
    const records = [
      payment('T1', 100n, { feeMicro: 600n }),
      payment('T2', 250n, { feeMicro: 1500n }),
      payment('T5', 400n, { feeMicro: 2400n }),
      payment('T9', 900n, { feeMicro: 5400n }),
      // A REVOKED payment is not paid: not in gross.
      payment('T8', 800n, { tradeState: 'REVOKED', feeMicro: 0n }),
      tradeRecord({
        transactionId: 'T9',
        outTradeNo: 'ORDER-T9',
        tradeState: 'REFUND',
        settlementAmountFen: 0n,
        orderAmountFen: 0n,
        refundId: 'R9',
        outRefundNo: 'RF-9',
        refundAmountFen: 300n,
        requestedRefundAmountFen: 300n,
        refundType: 'ORIGINAL',
        refundStatus: 'SUCCESS',
        feeMicro: -1800n,
      }),
    ];
    const result = await run(store, D1, records);

    const [row] = await reconOverview(db.sql, { businessDate: D1 });
    expect(row).toMatchObject({
      provider: 'wechatpay',
      account: MCHID,
      businessDate: D1,
      run: { runId: result.runId, status: 'succeeded', publishedRunId: result.runId },
      matched: 2,
    });
    // T2 amount, T5 missing in ledger, T6 missing at provider, T8 status (pending vs canceled is not in the
    // ledger: missing_in_ledger), R9 missing in ledger.
    expect(row!.breaksByClass).toEqual(row!.openByClass);
    expect(row!.breaksByClass).toEqual({
      amount_mismatch: 1,
      missing_at_provider: 1,
      missing_in_ledger: 3,
    });
    // Paid: 1.00 + 2.50 + 4.00 + 9.00 = 16.50; refunded 3.00; fees 0.00600+0.01500+0.02400+0.05400−0.01800.
    expect(row!.money).toEqual([
      {
        currency: 'CNY',
        payments: 4,
        refunds: 1,
        paymentsMinor: 1650n,
        refundsMinor: 300n,
        otherMinor: 0n,
        grossMinor: 1350n,
        feesScaled: 8100n,
        feeScale: 5,
        netScaled: 1350000n - 8100n,
        netScale: 5,
        gross: '13.50',
        fees: '0.08100',
        net: '13.41900',
      },
    ]);
    const summary = summaryOf(store, result);
    expect(summary.money).toEqual([
      expect.objectContaining({ currency: 'CNY', grossMinor: '1350', fees: '0.08100', net: '13.41900' }),
    ]);

    expect(await reconOverview(db.sql, { businessDate: D1, provider: 'stripe' })).toEqual([]);
    const series = await reconSeries(db.sql, { days: 30, to: '2025-03-02' });
    expect(series).toEqual([
      {
        businessDate: D1,
        provider: 'wechatpay',
        account: MCHID,
        volume: 5,
        amountByCurrency: { CNY: 1350n },
        breaksByClass: { amount_mismatch: 1, missing_at_provider: 1, missing_in_ledger: 3 },
      },
    ]);
    expect(await reconSeries(db.sql, { days: 30, to: '2025-02-28' })).toEqual([]);
  });
});
