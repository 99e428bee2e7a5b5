// The operations console's reads (docs/console.md "Operations"): event search pages through the inbox by
// provider time (keyset on (occurred_at, id)); the lag chart reads the last hours by commit time (applied_at);
// an event's detail finds the ledger rows whose last change it is (last_event_id) and the anomalies it raised.
// queue_depth_samples keeps the queue depth over the last hours, sampled by the local runtime (and by whatever
// samples a stage's queues); the console prunes nothing, the sampler keeps it to two days.
// Cost: payments/refunds/disputes updates now touch one more index each (last_event_id changes with every
// applied change); docs/decisions.md "Console operations" says why that is accepted.

export async function up(sql) {
  await sql.unsafe(`
    create index inbox_events_occurred_id on inbox_events (occurred_at, id);
    create index inbox_events_applied_at on inbox_events (applied_at);
    create index payments_last_event on payments (last_event_id);
    create index refunds_last_event on refunds (last_event_id);
    create index disputes_last_event on disputes (last_event_id);
    create index payment_anomalies_event on payment_anomalies (event_id);
    create index refunds_merchant_order on refunds (provider, merchant_order_no);
    create index disputes_payment on disputes (provider, provider_payment_id);

    create table queue_depth_samples (
      queue text not null check (queue in ('main', 'dlq')),
      sampled_at timestamptz not null,
      visible integer not null,
      in_flight integer not null,
      delayed integer not null default 0,
      primary key (queue, sampled_at)
    );
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    drop table queue_depth_samples;
    drop index disputes_payment, refunds_merchant_order, payment_anomalies_event, disputes_last_event, refunds_last_event,
      payments_last_event, inbox_events_applied_at, inbox_events_occurred_id;
  `);
}
