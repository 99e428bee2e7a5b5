// Breaks that live across runs (docs/reconciliation.md "Break lifecycle"). recon_items holds what one run found and
// is replaced by the next attempt; recon_breaks gives each break an identity that survives re-runs: (provider,
// account, class, object key), where the object key is the line kind and the most specific provider id. A run
// records where it saw each break (recon_break_sightings, one row per break and business date) and closes the
// breaks of its date it no longer finds. recon_break_events is the append-only audit trail of every state change,
// note and assignment, with who and when. recon_day_totals holds gross / fees / net per run date and currency, and
// recon_payout_transactions links each Stripe balance transaction to the payout that settles it.

export async function up(sql) {
  await sql.unsafe(`
    create table recon_breaks (
      id bigint generated always as identity primary key,
      provider text not null,
      account text not null,
      class text not null,
      kind text not null,
      -- kind:id with the most specific provider id (refund, payout, payment; else the merchant's number).
      object_key text not null,
      provider_payment_id text,
      provider_refund_id text,
      payout_id text,
      merchant_order_no text,
      merchant_refund_no text,
      provider_currency char(3),
      provider_amount_minor bigint,
      ledger_currency char(3),
      ledger_amount_minor bigint,
      -- What filters by amount compare: the provider's amount, else the ledger's, as a magnitude.
      amount_minor bigint generated always as (abs(coalesce(provider_amount_minor, ledger_amount_minor))) stored,
      first_seen_date date not null,
      first_seen_run text not null,
      first_seen_at timestamptz not null,
      last_seen_date date not null,
      last_seen_run text not null,
      last_seen_at timestamptz not null,
      state text not null check (state in ('open', 'healed', 'resolved', 'written_off')),
      assignee text,
      -- The run that closed it (state healed), or null.
      closed_by_run text,
      closed_at timestamptz,
      -- The reason given when resolved or written off.
      resolution text,
      -- The latest run's item as recon_items held it (both sides, statuses, the provider's raw status, line).
      item jsonb not null,
      updated_at timestamptz not null,
      -- The state before the latest run's upsert (null when that run detected it): RETURNING of an upsert only shows
      -- new values, and this is how the run knows which audit event each change is.
      state_before_run text,
      unique (provider, account, class, object_key)
    );
    create index recon_breaks_listing on recon_breaks (first_seen_date desc, id desc);
    create index recon_breaks_state on recon_breaks (state, provider, account);

    -- Where a break was seen: per business date, the run that last found it, or the run that no longer found it.
    create table recon_break_sightings (
      break_id bigint not null references recon_breaks (id),
      provider text not null,
      account text not null,
      business_date date not null,
      run_id text not null,
      seen_at timestamptz not null,
      -- The run's heal stage fixed it (it is in breaks.csv with healed=true).
      healed_in_run boolean not null,
      heal_note text,
      -- Set when a later run of this date no longer found it.
      gone_run text,
      gone_at timestamptz,
      primary key (break_id, business_date)
    );
    create index recon_break_sightings_date on recon_break_sightings (provider, account, business_date);

    create table recon_break_events (
      id bigint generated always as identity primary key,
      break_id bigint not null references recon_breaks (id),
      at timestamptz not null,
      -- A user, or run:<run id> for what a reconciliation run did.
      actor text not null,
      action text not null check (action in ('detected', 'redetected', 'healed', 'closed', 'assigned', 'noted',
        'resolved', 'written_off', 'reopened')),
      note text,
      from_state text,
      to_state text,
      run_id text
    );
    create index recon_break_events_break on recon_break_events (break_id, id);

    -- Append-only: no role, the owner included, changes or deletes an audit row.
    create function recon_break_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'recon_break_events is append-only' using errcode = 'insufficient_privilege';
    end $$;
    create trigger recon_break_events_append_only before update or delete on recon_break_events
      for each row execute function recon_break_events_append_only();

    -- Per run date and currency: what the provider's files say was paid, refunded, charged in fees, and the net.
    create table recon_day_totals (
      provider text not null,
      account text not null,
      business_date date not null,
      currency char(3) not null,
      run_id text not null,
      payments integer not null,
      refunds integer not null,
      gross_minor bigint not null,
      refunds_minor bigint not null,
      -- Fees exactly as stated (WeChat Pay: 5 decimals): fee_scaled / 10^fee_scale major units.
      fee_scaled bigint not null,
      fee_scale smallint not null,
      -- Other balance changes (Stripe fees billed apart, disputes, adjustments), signed.
      other_minor bigint not null,
      primary key (provider, account, business_date, currency)
    );

    -- Stripe: each balance transaction and the automatic payout that settles it (from balance_change reports).
    create table recon_payout_transactions (
      provider text not null,
      account text not null,
      balance_transaction_id text not null,
      payout_id text not null,
      business_date date not null,
      run_id text not null,
      currency char(3) not null,
      kind text not null,
      gross_minor bigint not null,
      fee_minor bigint not null,
      net_minor bigint not null,
      primary key (provider, account, balance_transaction_id)
    );
    create index recon_payout_transactions_payout on recon_payout_transactions (provider, account, payout_id);
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    drop table recon_payout_transactions, recon_day_totals, recon_break_events, recon_break_sightings, recon_breaks;
    drop function recon_break_events_append_only();
  `);
}
