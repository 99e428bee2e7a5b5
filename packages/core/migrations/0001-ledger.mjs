// Ledger schema: inbox, payments, refunds, disputes, merchant orders and anomalies, and the Stripe object
// mirror. Public interface: apps and analysts query these tables, so names are stable (see docs/ledger.md).
// Runs on PostgreSQL 15+ (embedded Postgres locally, Aurora PostgreSQL in AWS).

export async function up(sql) {
  await sql.unsafe(`
    create table inbox_events (
      id bigint generated always as identity primary key,
      provider text not null check (provider in ('stripe', 'wechatpay')),
      event_id text not null,
      event_type text not null,
      account text not null default '',
      occurred_at timestamptz not null,
      received_at timestamptz not null,
      applied_at timestamptz not null default now(),
      api_version text,
      -- 'applied': projections written; 'stored': kept as evidence only (unknown type or object).
      outcome text not null check (outcome in ('applied', 'stored')),
      raw_payload text not null,
      unique (provider, event_id)
    );
    create index inbox_events_occurred_at on inbox_events (occurred_at);

    create table payments (
      provider text not null,
      provider_payment_id text not null,
      account text not null default '',
      merchant_order_no text,
      amount_minor bigint not null,
      currency char(3) not null,
      status text not null,
      status_rank smallint not null,
      first_seen_at timestamptz not null,
      succeeded_at timestamptz,
      updated_at timestamptz not null,
      last_event_id text not null,
      version text not null,
      primary key (provider, provider_payment_id)
    );
    create index payments_merchant_order on payments (provider, merchant_order_no);
    create index payments_succeeded_at on payments (succeeded_at);

    create table refunds (
      provider text not null,
      provider_refund_id text not null,
      provider_payment_id text,
      account text not null default '',
      merchant_refund_no text,
      merchant_order_no text,
      amount_minor bigint not null,
      currency char(3) not null,
      status text not null,
      status_rank smallint not null,
      first_seen_at timestamptz not null,
      succeeded_at timestamptz,
      updated_at timestamptz not null,
      last_event_id text not null,
      version text not null,
      primary key (provider, provider_refund_id)
    );
    create index refunds_payment on refunds (provider, provider_payment_id);
    create index refunds_succeeded_at on refunds (succeeded_at);

    create table disputes (
      provider text not null,
      provider_dispute_id text not null,
      provider_payment_id text,
      account text not null default '',
      amount_minor bigint not null,
      currency char(3) not null,
      status text not null,
      status_rank smallint not null,
      reason text,
      first_seen_at timestamptz not null,
      updated_at timestamptz not null,
      last_event_id text not null,
      version text not null,
      primary key (provider, provider_dispute_id)
    );

    -- Written by the merchant's own system: what each order should be paid.
    create table merchant_orders (
      provider text not null,
      merchant_order_no text not null,
      amount_minor bigint not null,
      currency char(3) not null,
      created_at timestamptz not null default now(),
      primary key (provider, merchant_order_no)
    );

    create table payment_anomalies (
      id bigint generated always as identity primary key,
      provider text not null,
      provider_payment_id text not null,
      merchant_order_no text not null,
      kind text not null check (kind in ('amount_mismatch', 'currency_mismatch')),
      expected_amount_minor bigint not null,
      expected_currency char(3) not null,
      actual_amount_minor bigint not null,
      actual_currency char(3) not null,
      event_id text not null,
      detected_at timestamptz not null default now(),
      unique (provider, provider_payment_id, kind)
    );

    create schema stripe;
  `);
  for (const table of [
    'payment_intents',
    'charges',
    'refunds',
    'disputes',
    'customers',
    'invoices',
    'subscriptions',
    'payouts',
  ]) {
    await sql.unsafe(`
      create table stripe.${table} (
        id text primary key,
        account text not null default '',
        status text,
        deleted boolean not null default false,
        data jsonb not null,
        first_seen_at timestamptz not null,
        updated_at timestamptz not null,
        last_event_id text not null,
        version text not null
      );
    `);
  }
}

export async function down(sql) {
  await sql.unsafe(`
    drop schema stripe cascade;
    drop table payment_anomalies, merchant_orders, disputes, refunds, payments, inbox_events;
  `);
}
