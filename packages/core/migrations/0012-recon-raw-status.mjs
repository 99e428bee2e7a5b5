// breaks.csv shows the provider's state as written (REVOKED, CLOSED, REFUNDCLOSE, …) beside the normalised one.

export async function up(sql) {
  await sql.unsafe('alter table recon_items add column bill_provider_status text');
}

export async function down(sql) {
  await sql.unsafe('alter table recon_items drop column bill_provider_status');
}
