// merchant_orders.sub_account: the WeChat Pay sub-merchant (特约商户号, sub_mchid) of a service provider's order.
// The pending-order sweep and `backfill wechatpay` must ask the partner query for such an order; the direct query
// does not know it and answers ORDER_NOT_EXIST, so a paid sub-merchant order whose notification was lost would be
// counted "still pending" for ever. Null: the merchant's own (direct) order.

export async function up(sql) {
  await sql.unsafe(`alter table merchant_orders add column sub_account text`);
}

export async function down(sql) {
  await sql.unsafe(`alter table merchant_orders drop column sub_account`);
}
