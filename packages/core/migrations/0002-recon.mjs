// Reconciliation: one `recon_runs` row per (provider, account, business date) holding the latest attempt's state,
// the staging table the provider's lines are COPYed into (keyed by run id: no temp tables, so RDS Proxy never
// pins — design rule 7), and the matching result per line (`recon_items`) the reports are written from.
// See docs/reconciliation.md.

export async function up(sql) {
  await sql.unsafe(`
    create table recon_runs (
      provider text not null check (provider in ('stripe', 'wechatpay')),
      -- WeChat Pay mchid; Stripe connected account (acct_…) or '' for the platform account.
      account text not null default '',
      business_date date not null,
      -- The current attempt; staging rows and items of older attempts are deleted when a new one starts.
      run_id text not null unique,
      attempt integer not null default 1,
      status text not null check (status in ('running', 'succeeded', 'failed')),
      started_at timestamptz not null,
      finished_at timestamptz,
      -- [window_start, window_end): the business day in UTC instants (Asia/Shanghai days for WeChat Pay).
      window_start timestamptz not null,
      window_end timestamptz not null,
      -- Evidence per source file: name, announced and computed hashes, bytes, rows.
      source_files jsonb not null default '[]',
      counts jsonb not null default '{}',
      totals jsonb not null default '{}',
      unhealed_breaks integer,
      error_code text,
      error text,
      -- Object-store keys of summary.json, breaks.csv, matched.csv and the latest.json pointer.
      report_keys jsonb,
      primary key (provider, account, business_date)
    );

    -- Staging: provider lines as parsed, one row per bill/report line that matters for matching or totals.
    create table recon_lines (
      run_id text not null,
      source text not null,
      line_no integer not null,
      -- payment | refund | payout | fee | fund_flow | other
      kind text not null,
      sub_account text,
      provider_payment_id text,
      provider_refund_id text,
      merchant_order_no text,
      merchant_refund_no text,
      reference text,
      payout_id text,
      amount_minor bigint not null,
      -- Fee exactly as the provider states it: fee_scaled / 10^fee_scale major units (WeChat: scale 5).
      fee_scaled bigint not null default 0,
      fee_scale smallint not null default 0,
      currency char(3) not null,
      -- The provider's state in the ledger's vocabulary (succeeded, canceled, …) and as written.
      status text,
      provider_status text,
      occurred_at timestamptz,
      primary key (run_id, source, line_no)
    );
    create index recon_lines_payment on recon_lines (provider_payment_id) where provider_payment_id is not null;
    create index recon_lines_refund on recon_lines (provider_refund_id) where provider_refund_id is not null;

    -- Matching result: every matched line, every break, every informational item of a run.
    create table recon_items (
      id bigint generated always as identity primary key,
      run_id text not null,
      class text not null,
      kind text not null,
      source text,
      line_no integer,
      provider_payment_id text,
      provider_refund_id text,
      merchant_order_no text,
      merchant_refund_no text,
      payout_id text,
      bill_amount_minor bigint,
      ledger_amount_minor bigint,
      bill_currency char(3),
      ledger_currency char(3),
      bill_status text,
      ledger_status text,
      fee_scaled bigint,
      fee_scale smallint,
      occurred_at timestamptz,
      detail text,
      -- Set when healing turned a break into a match: the class it had before.
      healed_from text,
      heal_note text
    );
    create index recon_items_run on recon_items (run_id, class);
  `);
}

export async function down(sql) {
  await sql.unsafe('drop table recon_items, recon_lines, recon_runs');
}
