// Fresh planner statistics for staged bill lines, for the role that runs reconciliation. ANALYZE needs the table's
// owner (or MAINTAIN, PostgreSQL 17+; Aurora runs 16 here), and `payhooks_app` only reads and writes rows: without
// this function its `analyze recon_lines` is skipped with a warning and a million-line run is planned as a few rows
// (nested loops over the whole run). SECURITY DEFINER runs the one statement as the owner; nothing else is granted.

const APP_ROLE = 'payhooks_app';

export async function up(sql) {
  await sql.unsafe(`
    create function recon_analyze_lines() returns void
      language sql security definer set search_path = pg_catalog, public
      as 'analyze public.recon_lines';
    revoke all on function recon_analyze_lines() from public;
    grant execute on function recon_analyze_lines() to ${APP_ROLE};
  `);
}

export async function down(sql) {
  await sql.unsafe('drop function if exists recon_analyze_lines()');
}
