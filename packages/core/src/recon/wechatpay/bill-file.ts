// A WeChat Pay bill file finance already has (`recon run --file`): a trade bill or fund-flow bill, plain or gzip,
// or the encrypted sub-merchant form (with the encrypt_key, nonce and hash_value its bill API answer gave). The
// rows go through the same parser and staging as the scheduled run's downloads, so matching and the report are
// the same; the evidence says the source was a file, with its SHA-256.
import type { KeyLike } from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { type LocalFile, localFileEvidence } from '../run/file-input.ts';
import { stringTotals } from '../run/source-files.ts';
import type { ReconLine, ReconSource, SourceFile } from '../run/types.ts';
import { parseFundFlowBill, parseTradeBill } from './bill-parser.ts';
import { fundFlowLine, tradeBillLine } from './bill-staging.ts';
import { openBillParts } from './bill-stream.ts';

export interface WechatpayBillFileOptions {
  mchid: string;
  file: LocalFile;
  /** The encrypted sub-merchant form: decrypted with the merchant private key, then parsed as a fund-flow bill. */
  encrypted?: { encryptKey: string; nonce: string; hashValue: string; privateKey: KeyLike; subMchid: string };
}

/** Which bill a plaintext first line (the header) starts: 交易时间 → trade bill, 记账时间 → fund-flow bill. */
export function wechatpayBillKind(firstLine: string, fileName: string): 'trade' | 'fundflow' {
  const first = firstLine.replace(/^`/, '').split(',')[0]?.trim();
  if (first === '交易时间') return 'trade';
  if (first === '记账时间') return 'fundflow';
  throw new ConfigError(
    'RECON_FILE_KIND',
    `${fileName} is neither a WeChat Pay trade bill (header 交易时间,…) nor a fund-flow bill (记账时间,…)`,
  );
}

export function wechatpayFileSource(options: WechatpayBillFileOptions): ReconSource {
  return {
    provider: 'wechatpay',
    account: options.mchid,
    async *files() {
      yield options.encrypted ? encryptedFile(options, options.encrypted) : plainFile(options.file);
    },
  };
}

function plainFile(file: LocalFile): SourceFile {
  const kind = wechatpayBillKind(file.firstLine, file.fileName);
  const name = kind === 'trade' ? 'tradebill' : 'fundflowbill';
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    if (kind === 'trade') {
      const parser = parseTradeBill(file.plaintext());
      for await (const row of parser) {
        rows += 1;
        yield tradeBillLine(row, name);
      }
      summary = { ...parser.summary() };
    } else {
      const parser = parseFundFlowBill(file.plaintext());
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
    evidence: () => localFileEvidence(name, file, rows, stringTotals(summary)),
    kept: async () => [],
    dispose: async () => {},
  };
}

function encryptedFile(
  options: WechatpayBillFileOptions,
  encrypted: NonNullable<WechatpayBillFileOptions['encrypted']>,
): SourceFile {
  const { file } = options;
  const name = `sub-fundflowbill-${encrypted.subMchid}`;
  const bill = openBillParts(
    [
      {
        billSequence: 1,
        encryptKey: encrypted.encryptKey,
        nonce: encrypted.nonce,
        hashValue: encrypted.hashValue,
        body: () => file.raw(),
      },
    ],
    { merchantPrivateKey: encrypted.privateKey },
  );
  let rows = 0;
  let summary: Record<string, unknown> = {};
  async function* lines(): AsyncGenerator<ReconLine> {
    const parser = parseFundFlowBill(bill);
    for await (const row of parser) {
      rows += 1;
      yield { ...fundFlowLine(row, name), subAccount: encrypted.subMchid };
    }
    summary = { ...parser.summary() };
  }
  return {
    name,
    lines: lines(),
    evidence: () => {
      const parts = bill.integrity();
      return {
        ...localFileEvidence(name, file, rows, stringTotals(summary)),
        expectedSha1: encrypted.hashValue.toLowerCase(),
        sha1Plaintext: parts[0]?.sha1.plaintext ?? null,
        parts: [...parts],
      };
    },
    kept: async () => [],
    dispose: async () => {},
  };
}
