// The registry of provider mirror tables: a provider registers, per object type, the table that keeps its
// snapshots verbatim and how the object's statuses rank (the Stripe provider registers its `stripe.*` tables).
// The ledger writes object changes through this registry, so it knows no provider itself.
import type { Provider } from './changes.ts';
import { LedgerError, type StatusTable } from './status.ts';

export interface MirrorSpec {
  /** Schema-qualified table (`stripe.payment_intents`) with the mirror columns of migration 0001. */
  table: string;
  statuses: StatusTable;
  /**
   * Whether the provider can be asked for the object when two events tie (object_revalidations): the mirror
   * then converges to the provider's truth instead of the higher event id.
   */
  revalidateTies?: boolean;
}

const registry = new Map<string, MirrorSpec>();
const keyOf = (provider: Provider, objectType: string) => `${provider}\u0000${objectType}`;
const TABLE_NAME = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

/** Registers (or replaces) a provider's mirror tables; the table names end up in SQL, so they are checked. */
export function registerMirrorTables(provider: Provider, specs: Readonly<Record<string, MirrorSpec>>): void {
  for (const [objectType, spec] of Object.entries(specs)) {
    if (!TABLE_NAME.test(spec.table)) {
      throw new LedgerError('LEDGER_BAD_MIRROR_TABLE', `mirror table "${spec.table}" is not schema.table`);
    }
    registry.set(keyOf(provider, objectType), spec);
  }
}

export function mirrorSpecFor(provider: Provider, objectType: string): MirrorSpec {
  const spec = registry.get(keyOf(provider, objectType));
  if (!spec) {
    throw new LedgerError('LEDGER_NO_MIRROR_TABLE', `no mirror table for ${provider} ${objectType}`);
  }
  return spec;
}
