// A big bill download while the parser is slow (issue 15: case 5 died with BILL_GZIP at load 20–31). A file
// server cuts a connection whose reader takes nothing for a while (nginx send_timeout; the sandbox's keep-alive
// did the same once the body sat in the socket buffers); a parser feeding COPY on a loaded machine stalls for
// longer than that. Real parts: a node:http file server with a send timeout, the real WechatpayClient download
// over loopback, gzip, SHA-1, the real parser. The slow consumer waits for the server's own "response closed"
// event — the server either sent everything or gave up on the stalled reader — not for a time.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { collectBytes } from '@payhooks/testkit/bills/bill-fixtures';
import { writeTradeBill } from '@payhooks/testkit/bills/bill-writer';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PayhooksError } from '../../src/errors.ts';
import { WechatpayClient } from '../../src/providers/wechatpay/index.ts';
import { RECON_RUN_CODES } from '../../src/recon/errors.ts';
import type { TradeBillRecord } from '../../src/recon/index.ts';
import { type WechatpayBillApi, wechatpaySource } from '../../src/recon/run/index.ts';
import { MCHID, testMerchant } from '../helpers/wechatpay-fixtures.ts';

const DATE = '2025-03-01';
// ≈ 40 MB of gzip: far more than loopback socket buffers and the fetch body's queue hold in flight.
const ROWS = 60_000;
/** A reader that takes nothing for this long is cut; generous, so a loaded machine's fast reader is never cut. */
const SEND_TIMEOUT_MS = 4000;
const CHUNK = 64 * 1024;

function record(i: number): TradeBillRecord {
  return {
    tradeTime: new Date(Date.UTC(2025, 1, 28, 16, 0, i % 86_400)),
    appid: 'wx8888888888888888',
    mchid: MCHID,
    subMchid: null,
    deviceInfo: '',
    transactionId: `42000000012025030${String(i).padStart(11, '0')}`,
    outTradeNo: `ORDER-${i}`,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    tradeType: 'JSAPI',
    tradeState: 'SUCCESS',
    bankType: 'CMB_DEBIT',
    currency: 'CNY',
    settlementAmountFen: BigInt(100 + (i % 997)),
    couponAmountFen: 0n,
    refundRequestedAt: null,
    refundSucceededAt: null,
    refundId: null,
    outRefundNo: null,
    refundAmountFen: 0n,
    rechargeCouponRefundFen: 0n,
    refundType: '',
    refundStatus: '',
    productName: '咖啡豆, 500g,深烘',
    // Incompressible, so the gzip stays large.
    attach: randomBytes(384).toString('base64'),
    feeMicro: 60_000n,
    feeRate: '0.60%',
    orderAmountFen: BigInt(100 + (i % 997)),
    requestedRefundAmountFen: 0n,
    rateNote: '',
  };
}

let bill: { text: Buffer; gz: Buffer; sha1: string };
beforeAll(async () => {
  const text = await collectBytes(
    writeTradeBill(
      Array.from({ length: ROWS }, (_, i) => record(i)),
      { bom: true },
    ),
  );
  bill = { text, gz: gzipSync(text, { level: 1 }), sha1: createHash('sha1').update(text).digest('hex') };
});

const drainedOrClosed = (res: http.ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

interface FileServer {
  url: string;
  /** Resolves when the server's response ended: all bytes sent, or the stalled reader cut. */
  responseClosed: Promise<{ sent: number; complete: boolean }>;
  close(): Promise<void>;
}

/** Serves `body` in 64 KiB writes with backpressure; `cutAfter` destroys the connection after that many bytes. */
async function fileServer(body: Buffer, cutAfter?: number): Promise<FileServer> {
  let settle!: (value: { sent: number; complete: boolean }) => void;
  const responseClosed = new Promise<{ sent: number; complete: boolean }>((resolve) => {
    settle = resolve;
  });
  const server = http.createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    let sent = 0;
    res.on('close', () => settle({ sent, complete: res.writableFinished }));
    for (let at = 0; at < body.length && !res.destroyed; at += CHUNK) {
      if (cutAfter !== undefined && at >= cutAfter) {
        res.destroy();
        return;
      }
      const chunk = body.subarray(at, at + CHUNK);
      sent += chunk.length;
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    res.end();
  });
  // The file server's send timeout: a connection with no write progress for this long is destroyed.
  server.timeout = SEND_TIMEOUT_MS;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    responseClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function billApi(server: FileServer, plainSha1: string): WechatpayBillApi {
  const client = new WechatpayClient({
    merchant: testMerchant(),
    baseUrl: server.url,
    failoverBaseUrl: null,
  });
  return {
    tradeBill: async () => ({
      empty: false,
      hashType: 'SHA1',
      hashValue: plainSha1,
      downloadUrl: `${server.url}/v3/billdownload/file?token=t`,
    }),
    fundFlowBill: async () => ({ empty: true, code: 'NO_STATEMENT_EXIST', signed: true }),
    subMerchantFundFlowBill: async () => ({ empty: true, code: 'NO_STATEMENT_EXIST', signed: true }),
    download: (url) => client.download(url),
  };
}

let server: FileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('bill download with a slow parser', () => {
  it('a parser that stalls longer than the file server waits still reads the whole bill', async () => {
    const { gz } = bill;
    expect(gz.length).toBeGreaterThan(16 * 1024 * 1024);
    server = await fileServer(gz);
    const source = wechatpaySource(billApi(server, bill.sha1), {
      mchid: MCHID,
      businessDate: DATE,
    });
    const files = source.files()[Symbol.asyncIterator]();
    const trade = (await files.next()).value!;
    let rows = 0;
    for await (const _line of trade.lines) {
      // The slow consumer: nothing more is read until the server is done with the response, one way or the other.
      if (rows === 0) await server.responseClosed;
      rows += 1;
    }
    expect(await server.responseClosed).toEqual({ sent: gz.length, complete: true });
    expect(rows).toBe(ROWS);
    const evidence = trade.evidence();
    expect(evidence.rows).toBe(ROWS);
    expect(evidence.bytes).toBe(gz.length);
    expect(evidence.sha256Downloaded).toBe(createHash('sha256').update(gz).digest('hex'));
    await trade.dispose();
  });

  it('a download cut by the server fails as a download (RECON_DOWNLOAD, bytes received), not as bad gzip', async () => {
    const { gz } = bill;
    server = await fileServer(gz, 8 * CHUNK);
    const source = wechatpaySource(billApi(server, bill.sha1), {
      mchid: MCHID,
      businessDate: DATE,
    });
    const files = source.files()[Symbol.asyncIterator]();
    const trade = (await files.next()).value!;
    const error = await (async () => {
      try {
        for await (const _line of trade.lines);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PayhooksError);
    expect((error as PayhooksError).code).toBe(RECON_RUN_CODES.download);
    expect((error as Error).message).toMatch(/tradebill\.download failed after \d+ bytes/);
    // The bytes that did arrive are kept as evidence.
    const kept = await trade.kept();
    expect(kept[0]!.body.length).toBeGreaterThan(0);
    expect(kept[0]!.body.length).toBeLessThan(gz.length);
    await trade.dispose();
  });
});
