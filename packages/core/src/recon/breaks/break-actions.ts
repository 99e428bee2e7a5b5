// What people do to a break: assign it, note on it, resolve it, write it off. Each action is one transaction that
// locks the break's row, checks the state machine, changes the row and appends the audit event with actor and
// time, so two people acting at once are serialised and the trail never disagrees with the state.
//
//   open ──resolve──▶ resolved        open ──write off (reason)──▶ written_off
//   healed ──resolve──▶ resolved      assign: open, healed          note: any state
// Runs move open ⇄ healed (closed / reopened); resolved and written-off breaks are never reopened by a run.
import type { Sql, Tx } from '../../ledger/db.ts';
import { BREAK_CODES, BreakError } from '../errors.ts';
import type { BreakAction, BreakEvent, BreakState } from './types.ts';

const MAX_TEXT = 2000;

export interface BreakActionBase {
  breakId: bigint;
  /** Who acts (the console passes the signed-in user; the CLI the operator's name). */
  actor: string;
  /** When (default: now); injected so tests control time. */
  at?: Date;
}

export interface BreakActionResult {
  breakId: bigint;
  state: BreakState;
  assignee: string | null;
  event: BreakEvent;
}

interface LockedBreak {
  id: bigint;
  state: BreakState;
  assignee: string | null;
}

const ACTION_FROM: Record<'assigned' | 'resolved' | 'written_off', readonly BreakState[]> = {
  assigned: ['open', 'healed'],
  resolved: ['open', 'healed'],
  written_off: ['open'],
};

function requiredText(value: string | undefined, what: string): string {
  const text = value?.trim() ?? '';
  if (text === '') throw new BreakError(BREAK_CODES.reasonRequired, `${what} is required`);
  if (text.length > MAX_TEXT)
    throw new BreakError(BREAK_CODES.reasonRequired, `${what} is longer than ${MAX_TEXT} characters`);
  return text;
}

function optionalText(value: string | undefined, what: string): string | null {
  return value === undefined || value.trim() === '' ? null : requiredText(value, what);
}

async function withLockedBreak<T>(
  sql: Sql,
  input: BreakActionBase,
  act: (tx: Tx, locked: LockedBreak, at: Date, actor: string) => Promise<T>,
): Promise<T> {
  const actor = input.actor?.trim() ?? '';
  if (actor === '')
    throw new BreakError(BREAK_CODES.actorRequired, 'actor is required: every change records who made it');
  if (actor.startsWith('run:'))
    throw new BreakError(BREAK_CODES.actorRequired, 'actor "run:…" is reserved for reconciliation runs');
  const at = input.at ?? new Date();
  return sql.begin(async (tx) => {
    const [locked] = await tx<LockedBreak[]>`
      select id, state, assignee from recon_breaks where id = ${input.breakId.toString()} for update`;
    if (!locked) throw new BreakError(BREAK_CODES.notFound, `no break ${input.breakId}`);
    return act(tx, locked, at, actor);
  }) as Promise<T>;
}

function refuse(locked: LockedBreak, action: string): never {
  throw new BreakError(
    BREAK_CODES.invalidTransition,
    `break ${locked.id} is ${locked.state}: it cannot be ${action}`,
  );
}

async function appendEvent(
  tx: Tx,
  event: {
    breakId: bigint;
    at: Date;
    actor: string;
    action: BreakAction;
    note: string | null;
    from: BreakState;
    to: BreakState;
  },
): Promise<BreakEvent> {
  const [row] = await tx<{ id: bigint }[]>`
    insert into recon_break_events (break_id, at, actor, action, note, from_state, to_state)
    values (${event.breakId.toString()}, ${event.at}, ${event.actor}, ${event.action}, ${event.note}, ${event.from}, ${event.to})
    returning id`;
  return {
    id: row!.id,
    at: event.at,
    actor: event.actor,
    action: event.action,
    note: event.note,
    fromState: event.from,
    toState: event.to,
    runId: null,
  };
}

/** Assigns the break to someone (open or healed breaks). */
export async function assignBreak(
  sql: Sql,
  input: BreakActionBase & { assignee: string },
): Promise<BreakActionResult> {
  const assignee = requiredText(input.assignee, 'assignee');
  return withLockedBreak(sql, input, async (tx, locked, at, actor) => {
    if (!ACTION_FROM.assigned.includes(locked.state)) refuse(locked, 'assigned');
    await tx`update recon_breaks set assignee = ${assignee}, updated_at = ${at} where id = ${locked.id.toString()}`;
    const event = await appendEvent(tx, {
      breakId: locked.id,
      at,
      actor,
      action: 'assigned',
      note: locked.assignee ? `${assignee} (was ${locked.assignee})` : assignee,
      from: locked.state,
      to: locked.state,
    });
    return { breakId: locked.id, state: locked.state, assignee, event };
  });
}

/** Adds a note (any state: a closed break can still be explained). */
export async function noteBreak(
  sql: Sql,
  input: BreakActionBase & { text: string },
): Promise<BreakActionResult> {
  const text = requiredText(input.text, 'note text');
  return withLockedBreak(sql, input, async (tx, locked, at, actor) => {
    await tx`update recon_breaks set updated_at = ${at} where id = ${locked.id.toString()}`;
    const event = await appendEvent(tx, {
      breakId: locked.id,
      at,
      actor,
      action: 'noted',
      note: text,
      from: locked.state,
      to: locked.state,
    });
    return { breakId: locked.id, state: locked.state, assignee: locked.assignee, event };
  });
}

/** Resolves an open or healed break (the cause is fixed or explained); a run finding it again keeps it resolved. */
export async function resolveBreak(
  sql: Sql,
  input: BreakActionBase & { reason?: string },
): Promise<BreakActionResult> {
  const reason = optionalText(input.reason, 'reason');
  return closeBy(sql, input, 'resolved', reason);
}

/** Writes an open break off (the money is accepted as lost or gained); a reason is required. */
export async function writeOffBreak(
  sql: Sql,
  input: BreakActionBase & { reason: string },
): Promise<BreakActionResult> {
  const reason = requiredText(input.reason, 'reason for a write-off');
  return closeBy(sql, input, 'written_off', reason);
}

async function closeBy(
  sql: Sql,
  input: BreakActionBase,
  to: 'resolved' | 'written_off',
  reason: string | null,
): Promise<BreakActionResult> {
  return withLockedBreak(sql, input, async (tx, locked, at, actor) => {
    if (!ACTION_FROM[to].includes(locked.state))
      refuse(locked, to === 'resolved' ? 'resolved' : 'written off');
    await tx`
      update recon_breaks set state = ${to}, resolution = ${reason}, closed_at = ${at}, updated_at = ${at}
      where id = ${locked.id.toString()}`;
    const event = await appendEvent(tx, {
      breakId: locked.id,
      at,
      actor,
      action: to,
      note: reason,
      from: locked.state,
      to,
    });
    return { breakId: locked.id, state: to, assignee: locked.assignee, event };
  });
}
