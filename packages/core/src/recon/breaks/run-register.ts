// The step of a run that writes its results into the break register and the day's totals, in one transaction
// that first checks the run still holds its claim (a superseded run must not close breaks a newer run owns).
import type { Provider } from '../../ledger/changes.ts';
import type { Sql } from '../../ledger/db.ts';
import { RECON_RUN_CODES, ReconRunError } from '../errors.ts';
import { readDayMoney, recordDayTotals } from './day-totals.ts';
import { type RunBreaksOutcome, recordRunBreaks, runBreakRefs } from './sync.ts';
import type { BreakRef, DayMoney } from './types.ts';

export interface RunRegistration {
  outcome: RunBreaksOutcome;
  /** By breakRefKey(item). */
  refs: Map<string, BreakRef>;
  /** Gross, fees and net per currency of the run's date. */
  money: DayMoney[];
}

export async function registerRun(
  sql: Sql,
  input: { provider: Provider; account: string; businessDate: string; runId: string; now: Date },
): Promise<RunRegistration> {
  return (await sql.begin(async (tx) => {
    const held =
      await tx`select 1 from recon_runs where run_id = ${input.runId} and status = 'running' for update`;
    if (held.length === 0)
      throw new ReconRunError(
        RECON_RUN_CODES.superseded,
        `run ${input.runId} no longer holds its date; its breaks were not recorded`,
      );
    const outcome = await recordRunBreaks(tx, input);
    await recordDayTotals(tx, input);
    return { outcome, refs: await runBreakRefs(tx, input), money: await readDayMoney(tx, input) };
  })) as RunRegistration;
}
