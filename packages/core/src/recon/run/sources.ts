// Provider sources: fetch a business day's files through small API interfaces (the real clients satisfy them;
// tests pass in-memory fakes), verify them while streaming, and yield staged lines. Every download is copied to
// a temporary file on the way so a file that fails verification can be kept as evidence.
import type { KeyLike } from 'node:crypto';
import { PayhooksError } from '../../errors.ts';
import type { ReportAvailability } from '../../providers/stripe/client.ts';
import {
  type BillAnswer,
  type SubMerchantBillAnswer,
  WechatpayDownloadExpiredError,
} from '../../providers/wechatpay/client.ts';
import { STRIPE_REPORT_TYPES } from '../stripe/report-format.ts';
import { parseBalanceChangeReport, parsePayoutsReport } from '../stripe/report-parser.ts';
import { parseFundFlowBill, parseTradeBill } from '../wechatpay/bill-parser.ts';
import { type ByteSource, openBill, openBillParts } from '../wechatpay/bill-stream.ts';
import { balanceChangeLine, fundFlowLine, payoutLine, tradeBillLine } from './lines.ts';
import { TempCopy } from './temp-copy.ts';
import type { ReconLine, ReconSource, RunWindow, SourceFile, SourceFileEvidence } from './types.ts';

/** The business day's data is not available at the provider yet: try again later (not a failure of the data). */
export class ReconNotReadyError extends PayhooksError {}

type Download = AsyncIterable<unknown>;

function emptyFile(name: string): SourceFile {
  const evidence: SourceFileEvidence = {
    name,
    empty: true,
    expectedSha1: null,
    sha1Downloaded: null,
    sha1Plaintext: null,
    sha256Downloaded: null,
    bytes: 0,
    rows: 0,
    totals: {},
  };
  return {
    name,
    lines: (async function* () {})(),
    evidence: () => evidence,
    kept: async () => [],
    dispose: async () => {},
  };
}

const stringTotals = (totals: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(totals)
      .filter(([, v]) => typeof v === 'bigint' || typeof v === 'number')
      .map(([k, v]) => [k, String(v)]),
  );

// ---------------------------------------------------------------- WeChat Pay

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

/** Requests the bill and downloads it at once; a download URL that expired is requested again, once. */
async function downloadBill(
  api: WechatpayBillApi,
  request: () => Promise<BillAnswer>,
): Promise<{ answer: Extract<BillAnswer, { empty: false }>; body: Download } | undefined> {
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
  onRow?: (line: ReconLine) => void,
): SourceFile {
  const copy = new TempCopy(`${name}.download`, tempDir);
  const bill = openBill(copy.tee(body), {
    expectedSha1: answer.hashValue,
    hashType: answer.hashType,
    gzip: 'auto',
  });
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    if (kind === 'trade') {
      const parser = parseTradeBill(bill);
      for await (const row of parser) {
        const line = tradeBillLine(row, name);
        onRow?.(line);
        rows += 1;
        yield line;
      }
      summary = { ...parser.summary() };
    } else {
      const parser = parseFundFlowBill(bill);
      for await (const row of parser) {
        rows += 1;
        yield fundFlowLine(row, name);
      }
      summary = { ...parser.summary() };
    }
  }
  return {
    name,
    lines: lines(),
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
 * sub-merchant fund-flow bill per sub-merchant. "No bill for that day" (NO_STATEMENT_EXIST) is an empty file.
 */
export function wechatpaySource(api: WechatpayBillApi, options: WechatpaySourceOptions): ReconSource {
  const date = options.businessDate;
  return {
    provider: 'wechatpay',
    account: options.mchid,
    async *files() {
      const subMerchants = new Set(options.subMerchants ?? []);
      const trade = await downloadBill(api, () => api.tradeBill(date, 'ALL', { gzip: true }));
      yield trade
        ? wechatBillFile('tradebill', trade.answer, trade.body, 'trade', options.tempDir, (line) => {
            if (line.subAccount) subMerchants.add(line.subAccount);
          })
        : emptyFile('tradebill');
      const fund = await downloadBill(api, () => api.fundFlowBill(date, 'BASIC', { gzip: true }));
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
  const answer = await api.subMerchantFundFlowBill(sub, options.businessDate, 'BASIC', { gzip: true });
  if (answer.empty) return emptyFile(name);
  if (!options.privateKey)
    throw new PayhooksError('RECON_CONFIG', 'sub-merchant bills need the merchant private key');
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

// ---------------------------------------------------------------- Stripe

interface ReportRunLike {
  id: string;
  status: string;
  result?: { id: string; url?: string | null } | null;
}

/** The Reports API calls of the Stripe client (StripeClient satisfies it). */
export interface StripeReportApi {
  reportTypeAvailability?(reportType: string): Promise<ReportAvailability>;
  createReportRun(
    reportType: string,
    parameters: {
      intervalStart: Date;
      intervalEnd: Date;
      connectedAccount?: string;
      columns?: readonly string[];
    },
  ): Promise<ReportRunLike>;
  waitForReportRun(id: string, options?: { sleep?: (ms: number) => Promise<void> }): Promise<ReportRunLike>;
  downloadFile(fileUrlOrId: string): Promise<Download>;
}

export interface StripeSourceOptions {
  /** '' for the platform account, acct_… for a connected account (report per connected account). */
  account: string;
  window: RunWindow;
  orderMetadataKey: string;
  /** Also fetch payouts.itemized.3 (default true). */
  payouts?: boolean;
  /** Poll pause; tests inject an immediate one. */
  sleep?: (ms: number) => Promise<void>;
  tempDir?: string;
}

export function balanceChangeColumns(orderMetadataKey: string): string[] {
  return [
    'balance_transaction_id',
    'created_utc',
    'available_on_utc',
    'currency',
    'gross',
    'fee',
    'net',
    'reporting_category',
    'source_id',
    'description',
    'automatic_payout_id',
    'customer_id',
    'charge_id',
    'payment_intent_id',
    `payment_metadata[${orderMetadataKey}]`,
  ];
}

export const PAYOUT_REPORT_COLUMNS = [
  'payout_id',
  'effective_at_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'description',
  'payout_expected_arrival_date',
  'payout_status',
  'payout_type',
  'balance_transaction_id',
] as const;

async function stripeReportFile(
  api: StripeReportApi,
  options: StripeSourceOptions,
  reportType: string,
  name: string,
  columns: readonly string[],
): Promise<SourceFile> {
  if (api.reportTypeAvailability) {
    const availability = await api.reportTypeAvailability(reportType);
    if (availability.dataAvailableEnd.getTime() < options.window.end.getTime()) {
      throw new ReconNotReadyError(
        'RECON_NOT_READY',
        `Stripe ${reportType} data is available until ${availability.dataAvailableEnd.toISOString()}, the business day ends ${options.window.end.toISOString()}: try later`,
      );
    }
  }
  const created = await api.createReportRun(reportType, {
    intervalStart: options.window.start,
    intervalEnd: options.window.end,
    ...(options.account ? { connectedAccount: options.account } : {}),
    columns,
  });
  const run = await api.waitForReportRun(created.id, options.sleep ? { sleep: options.sleep } : {});
  const file = run.result?.url ?? run.result?.id;
  if (!file)
    throw new PayhooksError('RECON_REPORT_NO_FILE', `Stripe report run ${run.id} succeeded without a file`);
  const copy = new TempCopy(`${name}.csv`, options.tempDir);
  const body = copy.tee(await api.downloadFile(file));
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    if (reportType === STRIPE_REPORT_TYPES.payouts) {
      const parser = parsePayoutsReport(body);
      for await (const row of parser) {
        rows += 1;
        yield payoutLine(row, name);
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    } else {
      const parser = parseBalanceChangeReport(body);
      for await (const row of parser) {
        rows += 1;
        yield balanceChangeLine(row, { orderMetadataKey: options.orderMetadataKey, source: name });
      }
      summary = totalsOf(parser.summary().totalsByCurrency);
    }
  }
  return {
    name,
    lines: lines(),
    evidence: () => ({
      name,
      empty: rows === 0,
      expectedSha1: null,
      sha1Downloaded: copy.digests?.sha1 ?? null,
      sha1Plaintext: copy.digests?.sha1 ?? null,
      sha256Downloaded: copy.digests?.sha256 ?? null,
      bytes: copy.bytes,
      rows,
      totals: summary as Record<string, string>,
      providerRef: run.id,
    }),
    kept: async () => {
      const bytes = await copy.read();
      return bytes ? [{ name: `${name}.csv`, body: bytes }] : [];
    },
    dispose: () => copy.dispose(),
  };
}

function totalsOf(
  byCurrency: Record<string, { count: number; grossMinor: bigint; feeMinor: bigint; netMinor: bigint }>,
) {
  const out: Record<string, string> = {};
  for (const [currency, t] of Object.entries(byCurrency)) {
    out[`${currency}.count`] = String(t.count);
    out[`${currency}.grossMinor`] = t.grossMinor.toString();
    out[`${currency}.feeMinor`] = t.feeMinor.toString();
    out[`${currency}.netMinor`] = t.netMinor.toString();
  }
  return out;
}

/**
 * A Stripe account's UTC day: balance_change_from_activity.itemized.3 (create the run, poll with backoff, download,
 * stream-parse) and payouts.itemized.3, so each bank deposit ties to its payout and the payout's transactions.
 */
export function stripeSource(api: StripeReportApi, options: StripeSourceOptions): ReconSource {
  return {
    provider: 'stripe',
    account: options.account,
    async *files() {
      yield await stripeReportFile(
        api,
        options,
        STRIPE_REPORT_TYPES.balanceChange,
        'balance_change',
        balanceChangeColumns(options.orderMetadataKey),
      );
      if (options.payouts !== false) {
        yield await stripeReportFile(
          api,
          options,
          STRIPE_REPORT_TYPES.payouts,
          'payouts',
          PAYOUT_REPORT_COLUMNS,
        );
      }
    },
  };
}

/** Static files (tests, replays of kept files): each entry is one already-downloaded file. */
export function fileSource(
  provider: 'wechatpay' | 'stripe',
  account: string,
  files: () => AsyncIterable<SourceFile>,
): ReconSource {
  return { provider, account, files };
}
