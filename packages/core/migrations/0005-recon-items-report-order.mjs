// Reports stream matched items page by page in bill order (source, line) instead of loading a run's items at once.

export async function up(sql) {
  await sql.unsafe(
    "create index recon_items_report_order on recon_items (run_id, class, coalesce(source, ''), coalesce(line_no, 0), id)",
  );
}

export async function down(sql) {
  await sql.unsafe('drop index recon_items_report_order');
}
