// Reconciliation at scale (issue 15): a run's staged lines summed once, by matching, per kind, payouts.itemized row,
// currency and status. The run's totals, its day totals and the plain matches per currency are read from these few
// rows instead of three more full scans of the run's lines. Working data like recon_lines (UNLOGGED): the readers
// fall back to the lines when a run has no row here (not matched yet, or the table emptied by a crash).

export async function up(sql) {
  await sql.unsafe(`
    create unlogged table recon_line_totals (
      run_id text not null,
      kind text not null,
      payouts boolean not null,
      -- trim(recon_lines.currency)
      currency text not null,
      status text,
      n integer not null,
      -- Exact sums (numeric): a reader adds groups up and casts once, as a sum over the lines would.
      amount_minor numeric not null,
      fee_scaled numeric not null,
      fee_scale integer not null
    );
    create index recon_line_totals_run on recon_line_totals (run_id);
  `);
}

export async function down(sql) {
  await sql.unsafe('drop table if exists recon_line_totals');
}
