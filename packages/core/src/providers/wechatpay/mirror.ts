// How WeChat Pay objects are kept in the `wechatpay` schema (migration 0007) and how their raw states rank
// (see ledger/status.ts for why a version decides between snapshots). Registered with the ledger on import.
// The mirror holds what the payments and refunds rows cannot: the sub-merchant of a service-provider payment,
// the combined order a sub-order belongs to, and every profit-sharing movement.
import { type MirrorSpec, registerMirrorTables } from '../../ledger/mirrors.ts';

const s = (rank: number, terminal = false) => ({ rank, terminal });

export const WECHATPAY_OBJECT = {
  transaction: 'transaction',
  refund: 'refund',
  profitSharing: 'profit_sharing',
} as const;

export const MIRROR: Readonly<Record<string, MirrorSpec>> = {
  [WECHATPAY_OBJECT.transaction]: {
    table: 'wechatpay.transactions',
    statuses: {
      NOTPAY: s(10),
      USERPAYING: s(20),
      PAYERROR: s(30),
      // A paid transaction later shows REFUND (转入退款): both final for the payment, REFUND comes later.
      SUCCESS: s(80, true),
      REFUND: s(90, true),
      CLOSED: s(95, true),
      REVOKED: s(95, true),
    },
  },
  [WECHATPAY_OBJECT.refund]: {
    table: 'wechatpay.refunds',
    statuses: { PROCESSING: s(10), ABNORMAL: s(30), SUCCESS: s(90, true), CLOSED: s(95, true) },
  },
  // A share and its return are separate movements (the return has its own order_id), each notified once.
  [WECHATPAY_OBJECT.profitSharing]: {
    table: 'wechatpay.profit_sharing',
    statuses: { SUCCESS: s(90, true), RETURN: s(90, true) },
  },
};

registerMirrorTables('wechatpay', MIRROR);
