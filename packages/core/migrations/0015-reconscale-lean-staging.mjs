// Reconciliation at scale (issue 15): staged lines are working data, re-creatable from the provider's files, so
// recon_lines is UNLOGGED (no WAL for a million-row COPY; Aurora keeps unlogged tables crash-safe anyway) and loses
// the two partial indexes on provider ids that no per-run query needs (matching joins by hash; the previous day's
// lines are read through the primary key's run_id prefix). recon_items keeps only breaks, informational items and
// healed matches: a plain match is a staged line with no item, which is what `recon_plain_matches` lists.

export async function up(sql) {
  await sql.unsafe(`
    drop index if exists recon_lines_payment;
    drop index if exists recon_lines_refund;
    alter table recon_lines set unlogged;
    -- The anti-join of plain matches and the keyset pages of matched.csv look items up by their line.
    create index recon_items_line on recon_items (run_id, source, line_no) where source is not null;
    -- Bill lines that matched the ledger outright (after matching ran for their run): lines of the kinds matching
    -- classifies that have no item. Healed matches are items (class matched, healed_from set), not listed here.
    create view recon_plain_matches as
      select l.* from recon_lines l
      where (l.kind in ('payment', 'refund') or (l.kind = 'payout' and l.source = 'payouts'))
        and not exists (
          select 1 from recon_items i
          where i.run_id = l.run_id and i.source = l.source and i.line_no = l.line_no);
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    drop view recon_plain_matches;
    drop index recon_items_line;
    alter table recon_lines set logged;
    create index recon_lines_payment on recon_lines (provider_payment_id) where provider_payment_id is not null;
    create index recon_lines_refund on recon_lines (provider_refund_id) where provider_refund_id is not null;
  `);
}
