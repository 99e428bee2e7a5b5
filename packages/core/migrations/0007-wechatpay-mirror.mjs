// WeChat Pay mirror: the decrypted resources of transactions (direct, service-provider and each sub-order of a
// combined payment), refunds and profit-sharing movements, kept per object with the same version rule as the
// Stripe mirror (columns of migration 0001). Payer identifiers (openid) are not stored: the payments, refunds
// and profit-sharing rows need none of them. Generated columns make the ids people search by plain columns.
import { APP_ROLE, READONLY_ROLE } from './0006-roles.mjs';

const MIRROR_COLUMNS = `
  id text primary key,
  account text not null default '',
  status text,
  deleted boolean not null default false,
  data jsonb not null,
  first_seen_at timestamptz not null,
  updated_at timestamptz not null,
  last_event_id text not null,
  version text not null`;

const text = (path) => `text generated always as (${path}) stored`;

export async function up(sql) {
  await sql.unsafe(`
    create schema wechatpay;

    create table wechatpay.transactions (${MIRROR_COLUMNS},
      out_trade_no ${text(`data->>'out_trade_no'`)},
      sub_mchid ${text(`data->>'sub_mchid'`)},
      combine_out_trade_no ${text(`data->>'combine_out_trade_no'`)}
    );
    create index wechatpay_transactions_out_trade_no on wechatpay.transactions (account, out_trade_no);
    create index wechatpay_transactions_combine on wechatpay.transactions (combine_out_trade_no)
      where combine_out_trade_no is not null;

    create table wechatpay.refunds (${MIRROR_COLUMNS},
      transaction_id ${text(`data->>'transaction_id'`)},
      sub_mchid ${text(`data->>'sub_mchid'`)}
    );

    -- One row per movement (a share to one receiver, or its return); id = order_id/receiver account.
    create table wechatpay.profit_sharing (${MIRROR_COLUMNS},
      transaction_id ${text(`data->>'transaction_id'`)},
      order_id ${text(`data->>'order_id'`)},
      out_order_no ${text(`data->>'out_order_no'`)},
      sub_mchid ${text(`data->>'sub_mchid'`)},
      receiver_type ${text(`data->'receiver'->>'type'`)},
      receiver_account ${text(`data->'receiver'->>'account'`)},
      amount_minor bigint generated always as ((data->'receiver'->>'amount')::bigint) stored
    );
    create index wechatpay_profit_sharing_transaction on wechatpay.profit_sharing (transaction_id);

    grant usage on schema wechatpay to ${APP_ROLE}, ${READONLY_ROLE};
    grant select, insert, update, delete on all tables in schema wechatpay to ${APP_ROLE};
    grant select on all tables in schema wechatpay to ${READONLY_ROLE};
    alter default privileges in schema wechatpay grant select, insert, update, delete on tables to ${APP_ROLE};
    alter default privileges in schema wechatpay grant select on tables to ${READONLY_ROLE};
  `);
}

export async function down(sql) {
  await sql.unsafe(`
    alter default privileges in schema wechatpay revoke all on tables from ${APP_ROLE}, ${READONLY_ROLE};
    drop schema wechatpay cascade;
  `);
}
