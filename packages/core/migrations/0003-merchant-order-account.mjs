// merchant_orders.account: which configured WeChat Pay merchant (or Stripe account) an order belongs to, so the
// backfill and the pending-order sweep query the right merchant. '' = the only / default one.

export async function up(sql) {
  await sql.unsafe(`
    alter table merchant_orders add column account text not null default '';
    create index merchant_orders_created_at on merchant_orders (provider, created_at);
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    drop index merchant_orders_created_at;
    alter table merchant_orders drop column account;
  `);
}
