// `payhooks breaks list|show|assign|note|resolve|write-off` against a real Postgres, through commander like the bin:
// the same state machine and audit trail as the console's calls; refusals are PayhooksErrors (one line in main.ts).
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerBreaks } from '../src/commands/breaks.ts';
import { createContext } from '../src/context.ts';
import { awsStagePorts } from '../src/target.ts';

let db: TestDatabase;
const saved = { ...process.env };
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => {
    out.push(values.join(' '));
  });
  process.env.DATABASE_URL = db.url;
  process.env.PAYHOOKS_ACTOR = 'fin.li';
  const program = new Command('payhooks').option('--json').option('--stage <name>').exitOverride();
  registerBreaks(program, createContext(awsStagePorts));
  await program.parseAsync(['node', 'payhooks', ...args]);
  return out.join('\n');
}

/** A break as a run registers it (one detected event). */
async function seedBreak(objectId: string, amount: bigint): Promise<bigint> {
  const item = {
    class: 'missing_in_ledger',
    kind: 'payment',
    providerPaymentId: objectId,
    billAmountMinor: amount.toString(),
  };
  const [row] = await db.sql<{ id: bigint }[]>`
    insert into recon_breaks (provider, account, class, kind, object_key, provider_payment_id, provider_currency,
      provider_amount_minor, first_seen_date, first_seen_run, first_seen_at, last_seen_date, last_seen_run, last_seen_at,
      state, item, updated_at)
    values ('wechatpay', '1900000109', 'missing_in_ledger', 'payment', ${`payment:${objectId}`}, ${objectId}, 'CNY',
      ${amount.toString()}, '2025-03-01', 'run-1', now(), '2025-03-01', 'run-1', now(), 'open', ${db.sql.json(item)}, now())
    returning id`;
  await db.sql`insert into recon_break_events (break_id, at, actor, action, from_state, to_state, run_id)
    values (${row!.id.toString()}, now(), 'run:run-1', 'detected', null, 'open', 'run-1')`;
  return row!.id;
}

describe('payhooks breaks', () => {
  it('lists, shows, assigns, notes and resolves a break; a second close is refused with its code', async () => {
    const id = await seedBreak('T-CLI-1', 400n);
    await seedBreak('T-CLI-2', 90000n);

    const listed = await cli('breaks', 'list', '--state', 'open', '--max-amount', '1000');
    expect(listed).toContain(`${id}  open`);
    expect(listed).toContain('payment:T-CLI-1  400 CNY');
    expect(listed).not.toContain('T-CLI-2');
    expect(listed).toContain('1 break(s)');

    expect(await cli('breaks', 'assign', String(id), 'fin.zhao')).toBe(
      `break ${id}: assigned by fin.li — now open`,
    );
    await cli('breaks', 'note', String(id), 'asked', 'support,', 'case', '5521');
    expect(await cli('breaks', 'resolve', String(id), '--reason', 'callback replayed')).toBe(
      `break ${id}: resolved by fin.li — now resolved`,
    );
    await expect(cli('breaks', 'write-off', String(id), '--reason', 'x')).rejects.toMatchObject({
      code: 'BREAK_INVALID_TRANSITION',
      message: `break ${id} is resolved: it cannot be written off`,
    });

    const shown = JSON.parse(await cli('--json', 'breaks', 'show', String(id)));
    expect(shown).toMatchObject({
      id: id.toString(),
      state: 'resolved',
      assignee: 'fin.zhao',
      resolution: 'callback replayed',
    });
    expect(
      shown.events.map((e: { action: string; actor: string; note: string | null }) => [
        e.action,
        e.actor,
        e.note,
      ]),
    ).toEqual([
      ['detected', 'run:run-1', null],
      ['assigned', 'fin.li', 'fin.zhao'],
      ['noted', 'fin.li', 'asked support, case 5521'],
      ['resolved', 'fin.li', 'callback replayed'],
    ]);
    const human = await cli('breaks', 'show', String(id));
    expect(human).toContain(`break ${id}  missing_in_ledger  payment:T-CLI-1  resolved`);
    expect(human).toContain('fin.li  resolved → resolved  callback replayed');
  });

  it('refuses a stage, a missing break and a bad id with one-line errors', async () => {
    await expect(cli('--stage', 'prod', 'breaks', 'list')).rejects.toMatchObject({ code: 'CLI_USAGE' });
    await expect(cli('breaks', 'show', '999999')).rejects.toMatchObject({ code: 'BREAK_NOT_FOUND' });
    await expect(cli('breaks', 'resolve', 'abc')).rejects.toMatchObject({ code: 'CLI_USAGE' });
  });
});
