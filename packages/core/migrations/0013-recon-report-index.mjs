// The current report per (provider, account, business date), written with the run's success in one statement, so
// GET /reports filters in SQL instead of listing the bucket and fetching every latest.json. recon_runs alone cannot
// say it: a forced re-run that fails resets the row's counts while the old report stays the published one.

export async function up(sql) {
  await sql.unsafe(`
    create table recon_reports (
      provider text not null,
      account text not null,
      business_date date not null,
      run_id text not null,
      published_at timestamptz not null,
      unhealed_breaks integer not null,
      counts jsonb not null,
      pointer_key text not null,
      files jsonb not null,
      primary key (provider, account, business_date)
    );
    create index recon_reports_date on recon_reports (business_date, provider, account);
    insert into recon_reports
      select provider, account, business_date, run_id, finished_at, coalesce(unhealed_breaks, 0), counts,
             report_keys->>'pointerKey', report_keys->'files'
        from recon_runs
       where status = 'succeeded' and report_keys is not null and finished_at is not null;
  `);
}

export async function down(sql) {
  await sql.unsafe('drop table recon_reports');
}
