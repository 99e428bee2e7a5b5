// recon_analyze_lines() (migration 0024) samples 300 × the statistics target rows of recon_lines after every load.
// What the run's plans need from it is small: the share of the table the run holds (run_id), the kinds and that the
// provider ids are unique. A target of 10 (3,000 rows) gives the same plans as the default 100 (30,000 rows) for a
// 200,000-line run at ≈ a tenth of the time (docs/decisions.md, "recpg"). Set on the function only: every other
// ANALYZE (autovacuum's included) keeps the server's target. CREATE OR REPLACE keeps the function's owner and grants.

const body = (settings) => `
  create or replace function recon_analyze_lines() returns void
    language sql security definer set search_path = pg_catalog, public${settings}
    as 'analyze public.recon_lines'`;

export async function up(sql) {
  await sql.unsafe(body(' set default_statistics_target = 10'));
}

export async function down(sql) {
  await sql.unsafe(body(''));
}
