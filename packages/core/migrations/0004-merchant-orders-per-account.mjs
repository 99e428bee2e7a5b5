// merchant_orders are unique per account: WeChat Pay's out_trade_no is only unique within one merchant (mchid),
// Stripe order numbers within one (Connect) account. `account` holds the same value as payments.account
// (the mchid, acct_…, or '' for an order that applies to any account of the provider).

export async function up(sql) {
  await sql.unsafe(`
    alter table merchant_orders drop constraint merchant_orders_pkey;
    alter table merchant_orders add primary key (provider, account, merchant_order_no);
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    alter table merchant_orders drop constraint merchant_orders_pkey;
    alter table merchant_orders add primary key (provider, merchant_order_no);
  `);
}
