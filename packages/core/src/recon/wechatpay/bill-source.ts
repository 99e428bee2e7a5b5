// The WeChat Pay source of a run: requests a merchant's bills of the business day through the client's bill API
// (WechatpayClient satisfies it; tests pass in-memory fakes), verifies them while streaming (SHA-1, gzip, the
// bill's own summary) and yields staged lines. Every download is copied to a temporary file on the way, so a bill
// that fails verification can be kept as evidence.
import type { KeyLike } from 'node:crypto';
import { PayhooksError } from '../../errors.ts';
import {
  type BillAnswer,
  isBillNotReady,
  type SubMerchantBillAnswer,
  WechatpayDownloadExpiredError,
} from '../../providers/wechatpay/client.ts';
import { RECON_RUN_CODES, ReconNotReadyError } from '../errors.ts';
import { type Download, emptyFile, stringTotals } from '../run/source-files.ts';
import { TempCopy } from '../run/temp-copy.ts';
import type { ReconLine, ReconSource, SourceFile, StagedChunk } from '../run/types.ts';
import { parseFundFlowBill, parseTradeBill } from './bill-parser.ts';
import { TradeBillStaging } from './bill-records.ts';
import { fundFlowLine, stagingRecordPrefix, tradeBillLine, tradeBillStagingRecord } from './bill-staging.ts';
import { type ByteSource, openBill, openBillParts } from './bill-stream.ts';

/** The bill calls of the WeChat Pay client (WechatpayClient satisfies it). */
export interface WechatpayBillApi {
  tradeBill(billDate: string, billType?: 'ALL', options?: { gzip?: boolean }): Promise<BillAnswer>;
  fundFlowBill(billDate: string, accountType?: 'BASIC', options?: { gzip?: boolean }): Promise<BillAnswer>;
  subMerchantFundFlowBill(
    subMchid: string,
    billDate: string,
    accountType?: 'BASIC',
    options?: { gzip?: boolean },
  ): Promise<SubMerchantBillAnswer>;
  download(downloadUrl: string): Promise<Download>;
}

export interface WechatpaySourceOptions {
  mchid: string;
  /** Service providers also fetch the encrypted sub-merchant fund-flow bill of each sub-merchant in the trade bill. */
  serviceProvider?: boolean;
  /** Merchant private key: unwraps the sub-merchant bills' encrypt_key. */
  privateKey?: KeyLike;
  /** Sub-merchants to fetch even when the trade bill has no row for them. */
  subMerchants?: readonly string[];
  businessDate: string;
  tempDir?: string;
}

const isExpired = (error: unknown) => error instanceof WechatpayDownloadExpiredError;

/**
 * Asks the bill API; "still being generated" becomes ReconNotReadyError (the run waits for the next scheduled
 * attempt), never an empty day: only NO_STATEMENT_EXIST is "no bill for that day".
 */
async function askBill<T>(what: string, businessDate: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!isBillNotReady(error)) throw error;
    throw new ReconNotReadyError(
      RECON_RUN_CODES.notReady,
      `WeChat Pay ${what} of ${businessDate} is still being generated (${error.code}): try later`,
      { cause: error },
    );
  }
}

/** Requests the bill and downloads it at once; a download URL that expired is requested again, once. */
async function downloadBill(
  api: WechatpayBillApi,
  what: string,
  businessDate: string,
  send: () => Promise<BillAnswer>,
): Promise<{ answer: Extract<BillAnswer, { empty: false }>; body: Download } | undefined> {
  const request = () => askBill(what, businessDate, send);
  let answer = await request();
  if (answer.empty) return undefined;
  try {
    return { answer, body: await api.download(answer.downloadUrl) };
  } catch (error) {
    if (!isExpired(error)) throw error;
    answer = await request();
    if (answer.empty) return undefined;
    return { answer, body: await api.download(answer.downloadUrl) };
  }
}

function wechatBillFile(
  name: string,
  answer: Extract<BillAnswer, { empty: false }>,
  body: Download,
  kind: 'trade' | 'fundflow',
  tempDir: string | undefined,
  onSubMerchant?: (subMchid: string) => void,
): SourceFile {
  const copy = new TempCopy(`${name}.download`, tempDir);
  const bill = openBill(copy.tee(body), {
    expectedSha1: answer.hashValue,
    hashType: answer.hashType,
    gzip: 'auto',
  });
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* tradeRows() {
    const parser = parseTradeBill(bill);
    for await (const row of parser) {
      if (row.subMchid) onSubMerchant?.(row.subMchid);
      rows += 1;
      yield row;
    }
    summary = { ...parser.summary() };
  }
  async function* lines(): AsyncGenerator<ReconLine> {
    if (kind === 'trade') {
      for await (const row of tradeRows()) yield tradeBillLine(row, name);
    } else {
      const parser = parseFundFlowBill(bill);
      for await (const row of parser) {
        rows += 1;
        yield fundFlowLine(row, name);
      }
      summary = { ...parser.summary() };
    }
  }
  async function* tradeRecords(runId: string): AsyncGenerator<string> {
    const prefix = stagingRecordPrefix(runId, name);
    for await (const row of tradeRows()) yield tradeBillStagingRecord(prefix, row);
  }
  async function* tradeChunks(runId: string): AsyncGenerator<StagedChunk> {
    const staging = new TradeBillStaging(stagingRecordPrefix(runId, name), { onSubMerchant });
    for await (const chunk of staging.chunks(bill)) {
      rows = staging.rows;
      yield chunk;
    }
    rows = staging.rows;
    summary = { ...staging.summary() };
  }
  return {
    name,
    lines: lines(),
    ...(kind === 'trade' ? { stagingRecords: tradeRecords, stagedChunks: tradeChunks } : {}),
    // Not for a service provider's trade bill: its rows name the sub-merchants whose bills files() fetches next, so
    // it must be read before files() goes on (reconcile() spools it).
    ...(onSubMerchant === undefined ? { prepare: () => copy.prefetch(body) } : {}),
    evidence() {
      const integrity = bill.integrity()[0];
      return {
        name,
        empty: false,
        expectedSha1: answer.hashValue.toLowerCase(),
        sha1Downloaded: integrity?.sha1.downloaded ?? null,
        sha1Plaintext: integrity?.sha1.plaintext ?? null,
        sha256Downloaded: copy.digests?.sha256 ?? null,
        bytes: integrity?.downloadedBytes ?? copy.bytes,
        rows,
        totals: stringTotals(summary),
      };
    },
    kept: async () => {
      const bytes = await copy.read();
      return bytes ? [{ name: `${name}${integrityExtension(bytes)}`, body: bytes }] : [];
    },
    dispose: () => copy.dispose(),
  };
}

const integrityExtension = (bytes: Uint8Array) =>
  bytes[0] === 0x1f && bytes[1] === 0x8b ? '.csv.gz' : '.csv';

/**
 * A WeChat Pay merchant's day: trade bill (ALL), fund-flow bill (BASIC) and, for service providers, the encrypted
 * sub-merchant fund-flow bill per sub-merchant. "No bill for that day" (NO_STATEMENT_EXIST) is an empty file;
 * "still being generated" (STATEMENT_CREATING) is ReconNotReadyError.
 */
export function wechatpaySource(api: WechatpayBillApi, options: WechatpaySourceOptions): ReconSource {
  const date = options.businessDate;
  return {
    provider: 'wechatpay',
    account: options.mchid,
    async *files() {
      const subMerchants = new Set(options.subMerchants ?? []);
      const trade = await downloadBill(api, 'trade bill', date, () =>
        api.tradeBill(date, 'ALL', { gzip: true }),
      );
      yield trade
        ? wechatBillFile(
            'tradebill',
            trade.answer,
            trade.body,
            'trade',
            options.tempDir,
            options.serviceProvider ? (sub) => subMerchants.add(sub) : undefined,
          )
        : emptyFile('tradebill');
      const fund = await downloadBill(api, 'fund-flow bill', date, () =>
        api.fundFlowBill(date, 'BASIC', { gzip: true }),
      );
      yield fund
        ? wechatBillFile('fundflowbill', fund.answer, fund.body, 'fundflow', options.tempDir)
        : emptyFile('fundflowbill');
      if (!options.serviceProvider) return;
      for (const sub of [...subMerchants].sort()) {
        yield await subMerchantFile(api, options, sub);
      }
    },
  };
}

async function subMerchantFile(
  api: WechatpayBillApi,
  options: WechatpaySourceOptions,
  sub: string,
): Promise<SourceFile> {
  const name = `sub-fundflowbill-${sub}`;
  const answer = await askBill(`sub-merchant ${sub} fund-flow bill`, options.businessDate, () =>
    api.subMerchantFundFlowBill(sub, options.businessDate, 'BASIC', { gzip: true }),
  );
  if (answer.empty) return emptyFile(name);
  if (!options.privateKey)
    throw new PayhooksError(RECON_RUN_CODES.config, 'sub-merchant bills need the merchant private key');
  const copies = answer.parts.map(
    (part) => new TempCopy(`${name}-part${part.billSequence}.download`, options.tempDir),
  );
  const bill = openBillParts(
    answer.parts.map((part, i) => ({
      billSequence: part.billSequence,
      encryptKey: part.encryptKey,
      nonce: part.nonce,
      hashType: part.hashType,
      hashValue: part.hashValue,
      body: async (): Promise<ByteSource> => copies[i]!.tee(await api.download(part.downloadUrl)),
    })),
    { merchantPrivateKey: options.privateKey, expectedCount: answer.count },
  );
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    const parser = parseFundFlowBill(bill);
    for await (const row of parser) {
      rows += 1;
      yield { ...fundFlowLine(row, name), subAccount: sub };
    }
    summary = { ...parser.summary() };
  }
  return {
    name,
    lines: lines(),
    evidence() {
      const parts = bill.integrity();
      return {
        name,
        empty: false,
        expectedSha1: parts.map((p) => p.expectedSha1).join(','),
        sha1Downloaded: parts.map((p) => p.sha1.downloaded).join(','),
        sha1Plaintext: parts.map((p) => p.sha1.plaintext).join(','),
        sha256Downloaded: null,
        bytes: parts.reduce((sum, p) => sum + p.downloadedBytes, 0),
        rows,
        totals: stringTotals(summary),
        parts: [...parts],
      };
    },
    kept: async () => {
      const out: { name: string; body: Uint8Array }[] = [];
      for (const copy of copies) {
        const bytes = await copy.read();
        if (bytes) out.push({ name: copy.name.replace(/\.download$/, '.bin'), body: bytes });
      }
      return out;
    },
    dispose: async () => {
      for (const copy of copies) await copy.dispose();
    },
  };
}
