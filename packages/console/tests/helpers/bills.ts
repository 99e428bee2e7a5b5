// A WeChat Pay trade bill as finance would have downloaded it from the merchant platform, for the upload tests.
import { gzipSync } from 'node:zlib';
import { successfulTrade, writeTradeBill } from '@payhooks/testkit/bills/bill-writer';

/** A gzip WeChat Pay trade bill (ALL columns) of successful JSAPI payments on 2025-03-01, order no. `O-<id>`. */
export async function gzipTradeBill(
  mchid: string,
  payments: readonly (readonly [transactionId: string, fen: bigint])[],
): Promise<Buffer> {
  let text = '';
  for await (const chunk of writeTradeBill(
    payments.map(([id, fen]) => successfulTrade(mchid, id, `O-${id}`, fen)),
  ))
    text += chunk;
  return gzipSync(Buffer.from(text, 'utf8'));
}
