// merchant_orders.account names the account an order belongs to: a Stripe order is the platform's own
// ('platform') or one account's (acct_… for a Connect account, a configured account id for an independent Stripe
// account), never '' — '' used to match payments of every Connect account, so a connected seller's own payment
// could make a platform order look paid. Existing Stripe rows with '' were meant for the platform. WeChat Pay rows
// keep '' for "the deployment's only merchant" (docs/decisions.md, "Orders are scoped by provider and account").

export async function up(sql) {
  await sql.unsafe(`
    update merchant_orders set account = 'platform' where provider = 'stripe' and account = '';
    alter table merchant_orders add constraint merchant_orders_stripe_account_named
      check (provider <> 'stripe' or account <> '');
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    alter table merchant_orders drop constraint merchant_orders_stripe_account_named;
    update merchant_orders set account = '' where provider = 'stripe' and account = 'platform';
  `);
}
