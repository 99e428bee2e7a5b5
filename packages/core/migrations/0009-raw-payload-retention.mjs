// raw_payload retention (docs/ledger.md "Raw payload retention"): the scheduled purge nulls the raw body of
// inbox rows older than the retention and stamps when; the row itself stays (it is the dedup key and the
// ledger's evidence that the event was applied). The partial index finds what is still to purge without
// scanning purged rows. Both column changes are catalogue-only (no table rewrite).

export async function up(sql) {
  await sql.unsafe(`
    alter table inbox_events alter column raw_payload drop not null;
    alter table inbox_events add column raw_payload_purged_at timestamptz;
    create index inbox_events_raw_payload_kept on inbox_events (received_at) where raw_payload is not null;
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    drop index inbox_events_raw_payload_kept;
    update inbox_events set raw_payload = '' where raw_payload is null;
    alter table inbox_events drop column raw_payload_purged_at;
    alter table inbox_events alter column raw_payload set not null;
  `);
}
