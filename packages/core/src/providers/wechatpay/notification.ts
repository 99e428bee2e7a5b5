// Zod schemas of the APIv3 notification envelope and of the decrypted transaction and refund resources.
// Objects are not strict: WeChat adds fields over time, and the raw body is kept as evidence anyway.
import * as z from 'zod';
import { RESOURCE_ALGORITHM } from './constants.ts';

/** RFC 3339 with an offset (WeChat sends +08:00). */
export const providerTime = z.iso.datetime({ offset: true });

/** Amounts are integer fen; z.int() also bounds them to safe integers so BigInt(n) is exact. */
const fen = z.int().nonnegative();
const text = z.string().min(1);

export const notificationResourceSchema = z.object({
  original_type: text,
  algorithm: z.literal(RESOURCE_ALGORITHM),
  ciphertext: text,
  associated_data: z.string().nullish(),
  nonce: text,
});

export const notificationSchema = z.object({
  id: text,
  create_time: providerTime,
  resource_type: text,
  event_type: text,
  summary: z.string().optional(),
  resource: notificationResourceSchema,
});

export type Notification = z.infer<typeof notificationSchema>;
export type NotificationResource = z.infer<typeof notificationResourceSchema>;

export const TRADE_STATES = [
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
] as const;
export type TradeState = (typeof TRADE_STATES)[number];

// Direct merchants get appid/mchid; service providers get sp_appid/sp_mchid plus the sub-merchant's ids.
const merchantIds = {
  appid: text.optional(),
  mchid: text.optional(),
  sp_appid: text.optional(),
  sp_mchid: text.optional(),
  sub_appid: text.optional(),
  sub_mchid: text.optional(),
};

export const transactionResourceSchema = z.object({
  ...merchantIds,
  out_trade_no: text,
  transaction_id: text,
  trade_type: z.string().optional(),
  trade_state: z.enum(TRADE_STATES),
  trade_state_desc: z.string().optional(),
  bank_type: z.string().optional(),
  attach: z.string().optional(),
  success_time: providerTime.optional(),
  payer: z.record(z.string(), z.unknown()).optional(),
  amount: z.object({
    total: fen,
    payer_total: fen.optional(),
    currency: z.string().regex(/^[A-Za-z]{3}$/),
    payer_currency: z.string().optional(),
  }),
  promotion_detail: z.array(z.unknown()).optional(),
});

export type TransactionResource = z.infer<typeof transactionResourceSchema>;

/** Notifications carry SUCCESS, CLOSED or ABNORMAL; the refund query may also answer PROCESSING. */
export const REFUND_STATES = ['SUCCESS', 'CLOSED', 'ABNORMAL', 'PROCESSING'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

export const refundResourceSchema = z.object({
  ...merchantIds,
  transaction_id: text,
  out_trade_no: text,
  refund_id: text,
  out_refund_no: text,
  refund_status: z.enum(REFUND_STATES),
  success_time: providerTime.optional(),
  user_received_account: z.string().optional(),
  amount: z.object({
    total: fen,
    refund: fen,
    payer_total: fen.optional(),
    payer_refund: fen.optional(),
    // The refund notification has no currency (domestic refunds are CNY); the query response does.
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/)
      .optional(),
  }),
});

export type RefundResource = z.infer<typeof refundResourceSchema>;

/**
 * A combined payment (合单支付): one payer action paying up to 10 sub-orders, each its own transaction with its
 * own merchant (and, for service providers, sub-merchant). Amounts are `total_amount` / `payer_amount` here.
 */
export const combinedTransactionResourceSchema = z.object({
  combine_appid: text.optional(),
  combine_mchid: text,
  combine_out_trade_no: text,
  scene_info: z.record(z.string(), z.unknown()).optional(),
  sub_orders: z
    .array(
      z.object({
        mchid: text,
        sub_mchid: text.optional(),
        sub_appid: text.optional(),
        trade_type: z.string().optional(),
        trade_state: z.enum(TRADE_STATES),
        bank_type: z.string().optional(),
        attach: z.string().optional(),
        success_time: providerTime.optional(),
        transaction_id: text,
        out_trade_no: text,
        amount: z.object({
          total_amount: fen,
          payer_amount: fen.optional(),
          currency: z.string().regex(/^[A-Za-z]{3}$/),
          payer_currency: z.string().optional(),
        }),
        promotion_detail: z.array(z.unknown()).optional(),
      }),
    )
    .min(1),
  combine_payer_info: z.record(z.string(), z.unknown()).optional(),
});

export type CombinedTransactionResource = z.infer<typeof combinedTransactionResourceSchema>;

/**
 * A profit-sharing movement (分账动账, PROFITSHARING.SUCCESS / PROFITSHARING.RETURN), sent to the receiver:
 * `mchid` / `sp_mchid` is the merchant that shared, `receiver` the party whose balance moved.
 */
export const profitSharingResourceSchema = z.object({
  ...merchantIds,
  transaction_id: text,
  order_id: text,
  out_order_no: text,
  receiver: z.object({
    type: text,
    account: text,
    amount: fen,
    description: z.string().optional(),
  }),
  success_time: providerTime.optional(),
});

export type ProfitSharingResource = z.infer<typeof profitSharingResourceSchema>;
