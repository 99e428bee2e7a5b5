// Objects whose mirror could not order two events (same provider time and status rank, different events):
// the consumer records them here and the revalidator fetches the object from the provider and sends it through
// the normal queue path, so the mirror converges to the provider's truth. One row per object; the row keeps
// what was revalidated and when.

export async function up(sql) {
  await sql.unsafe(`
    create table object_revalidations (
      provider text not null,
      object_type text not null,
      object_id text not null,
      account text not null default '',
      reason text not null default 'equal_rank',
      -- The last pair of events the mirror could not order.
      tied_event_ids text[] not null,
      ties integer not null default 1,
      first_detected_at timestamptz not null default now(),
      last_detected_at timestamptz not null default now(),
      state text not null default 'pending' check (state in ('pending', 'enqueued', 'failed')),
      -- Rate limit: an object is revalidated at most once per cooldown, whatever the number of ties.
      not_before timestamptz not null default now(),
      attempts integer not null default 0,
      enqueued_at timestamptz,
      synthetic_event_id text,
      last_error text,
      primary key (provider, object_type, object_id)
    );
    create index object_revalidations_due on object_revalidations (provider, not_before) where state <> 'enqueued';
  `);
}

export async function down(sql) {
  await sql.unsafe('drop table object_revalidations');
}
