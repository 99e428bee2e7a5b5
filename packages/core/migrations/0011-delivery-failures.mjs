// Why a queued event could not be applied: one row per failed attempt, written by the consumer outside the failed
// transaction (packages/core/src/ledger/delivery-failures.ts). The DLQ tools read the last row per event; rows
// older than the DLQ's retention (14 days) describe messages SQS has deleted and are pruned by the consumer.
// Only codes and sanitized messages are stored: never a raw body, a secret or payer data.

export async function up(sql) {
  await sql.unsafe(`
    create table delivery_failures (
      id bigint generated always as identity primary key,
      failed_at timestamptz not null default now(),
      message_id text not null,
      provider text,
      event_id text,
      event_type text,
      attempt integer not null,
      error_code text not null,
      error_message text not null
    );
    create index delivery_failures_event on delivery_failures (provider, event_id, failed_at desc);
    create index delivery_failures_message on delivery_failures (message_id, failed_at desc);
    create index delivery_failures_failed_at on delivery_failures (failed_at);
  `);
}

export async function down(sql) {
  await sql.unsafe('drop table delivery_failures');
}
