// disputes by payment: the order-status API (ledger/order-status.ts) finds an order's disputes through its
// payments; without this index that is a scan of every dispute on each request. Refunds and anomalies already
// have one ((provider, provider_payment_id) and the anomalies' unique key). The console's operations migration
// (consoleops) creates the same index for its event detail: whichever runs first creates it, the other finds it.

export async function up(sql) {
  await sql.unsafe('create index if not exists disputes_payment on disputes (provider, provider_payment_id)');
}

export async function down(sql) {
  await sql.unsafe('drop index if exists disputes_payment');
}
