import { constants, createHash, generateKeyPairSync, type KeyObject, publicEncrypt } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import * as BillFixtures from '@payhooks/testkit/bills/bill-fixtures';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecryptError } from '../../src/errors.ts';
import {
  BILL_DECRYPT_CODES,
  BILL_FORMAT_CODES,
  BILL_HASH_CODES,
  BillDecipher,
  BillFormatError,
  BillHashMismatchError,
  createBillDecipher,
  createBillHashCheck,
  decryptEncryptKey,
  type EncryptedBillPart,
  openBill,
  openBillParts,
  parseFundFlowBill,
  parseTradeBill,
} from '../../src/recon/index.ts';
import { byteChunks, caught, collect, fundFlowLines, tradeBillAllLines } from './helpers.ts';

const TRADE_TEXT = `\uFEFF${tradeBillAllLines().join('\r\n')}\r\n`;
const FUND_TEXT = `${fundFlowLines().join('\r\n')}\r\n`;
const sha1 = (data: string | Uint8Array) => createHash('sha1').update(data).digest('hex');

let merchant: { publicKey: KeyObject; privateKey: KeyObject };
let otherMerchant: { publicKey: KeyObject; privateKey: KeyObject };

beforeAll(() => {
  merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  otherMerchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
});

const asParts = (downloads: BillFixtures.EncryptedBillDownload[], chunkSize = 13): EncryptedBillPart[] =>
  downloads.map((d) => ({ ...d, body: () => byteChunks(d.body, chunkSize) }));

describe('openBill: gzip + SHA-1', () => {
  it('gunzips while streaming and checks the hash of the original bill (case-insensitive hex)', async () => {
    const download = BillFixtures.packBill(TRADE_TEXT);
    expect(download.hashValue).toBe(sha1(TRADE_TEXT));
    const opened = openBill(byteChunks(download.body, 17), {
      expectedSha1: download.hashValue.toUpperCase(),
      hashType: 'SHA1',
      gzip: true,
    });
    const bill = parseTradeBill(opened);
    const rows = await collect(bill);
    expect(rows).toHaveLength(3);
    expect(bill.summary().feeTotalMicro).toBe(59600n);
    expect(opened.integrity()).toEqual([
      {
        part: null,
        expectedSha1: sha1(TRADE_TEXT),
        checkedStage: 'plaintext',
        sha1: { downloaded: sha1(download.body), decrypted: null, plaintext: sha1(TRADE_TEXT) },
        encrypted: false,
        gzip: true,
        downloadedBytes: download.body.length,
        plaintextBytes: Buffer.byteLength(TRADE_TEXT),
      },
    ]);
  });

  it('detects gzip by its magic bytes, and passes a plain file through', async () => {
    const gz = openBill(gzipSync(TRADE_TEXT), { expectedSha1: sha1(TRADE_TEXT) });
    expect(await collect(parseTradeBill(gz))).toHaveLength(3);
    expect(gz.integrity()[0]?.gzip).toBe(true);
    const plain = openBill(Readable.from([Buffer.from(TRADE_TEXT)]), { expectedSha1: sha1(TRADE_TEXT) });
    expect(await collect(parseTradeBill(plain))).toHaveLength(3);
    expect(plain.integrity()[0]?.gzip).toBe(false);
  });

  it('fails at the end with BillHashMismatchError when the hash differs, after the rows', async () => {
    const download = BillFixtures.packBill(TRADE_TEXT);
    const opened = openBill(download.body, { expectedSha1: sha1('another bill') });
    const seen: number[] = [];
    const error = await caught(async () => {
      for await (const row of parseTradeBill(opened)) seen.push(row.line);
    });
    expect(seen).toEqual([2, 3, 4]);
    expect(error).toBeInstanceOf(BillHashMismatchError);
    expect(error).toMatchObject({
      code: BILL_HASH_CODES.mismatch,
      expected: sha1('another bill'),
      actual: sha1(TRADE_TEXT),
      stage: 'plaintext',
      matchingStages: [],
    });
    expect(await caught(() => opened.integrity())).toMatchObject({ code: BILL_FORMAT_CODES.incomplete });
  });

  it('says so when the announced hash covers the gzip bytes instead of the bill', async () => {
    const download = BillFixtures.packBill(TRADE_TEXT);
    const error = await caught(() => collect(openBill(download.body, { expectedSha1: sha1(download.body) })));
    expect(error).toMatchObject({ code: BILL_HASH_CODES.mismatch, matchingStages: ['downloaded'] });
    const accepted = openBill(download.body, { expectedSha1: sha1(download.body), hashCovers: 'downloaded' });
    expect(await collect(parseTradeBill(accepted))).toHaveLength(3);
  });

  it('rejects a malformed hash or an unsupported hash type before reading', () => {
    expect(() => openBill(Buffer.alloc(0), { expectedSha1: 'abc' })).toThrow(BillHashMismatchError);
    expect(() => openBill(Buffer.alloc(0), { expectedSha1: sha1('x'), hashType: 'SM3' })).toThrowError(
      expect.objectContaining({ code: BILL_HASH_CODES.invalid }),
    );
  });

  it('maps a truncated or corrupt gzip file to BillFormatError BILL_GZIP', async () => {
    const body = gzipSync(TRADE_TEXT);
    const truncated = await caught(() =>
      collect(openBill(body.subarray(0, body.length - 20), { expectedSha1: sha1(TRADE_TEXT), gzip: true })),
    );
    expect(truncated).toBeInstanceOf(BillFormatError);
    expect(truncated).toMatchObject({ code: BILL_FORMAT_CODES.gzip });
    const corrupt = Buffer.from(body);
    corrupt[20] = (corrupt[20] ?? 0) ^ 0xff;
    const error = await caught(() =>
      collect(openBill(corrupt, { expectedSha1: sha1(TRADE_TEXT), gzip: true })),
    );
    expect(error).toBeInstanceOf(BillFormatError);
  });

  it('createBillHashCheck is a pass-through Transform that fails at the end on mismatch', async () => {
    const sink = () =>
      new Writable({
        write(_chunk, _encoding, callback) {
          callback();
        },
      });
    await pipeline(Readable.from([Buffer.from(TRADE_TEXT)]), createBillHashCheck(sha1(TRADE_TEXT)), sink());
    const error = await caught(() =>
      pipeline(Readable.from([Buffer.from(TRADE_TEXT)]), createBillHashCheck(sha1('x')), sink()),
    );
    expect(error).toBeInstanceOf(BillHashMismatchError);
  });
});

describe('encrypted sub-merchant bills', () => {
  it('unwraps encrypt_key with RSA-OAEP/SHA-1 and the merchant private key', () => {
    const key = BillFixtures.newBillKey();
    const wrapped = BillFixtures.encryptBillKey(key, merchant.publicKey);
    expect(decryptEncryptKey(wrapped, merchant.privateKey)).toEqual(key);
    const pem = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(decryptEncryptKey(wrapped, pem)).toEqual(key);
  });

  it('accepts a key wrapped as base64 or hex text of 32 bytes (plaintext key shape is unconfirmed)', () => {
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    const wrap = (data: string) =>
      publicEncrypt(
        { key: merchant.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
        Buffer.from(data),
      ).toString('base64');
    expect(decryptEncryptKey(wrap(raw.toString('base64')), merchant.privateKey)).toEqual(raw);
    expect(decryptEncryptKey(wrap(raw.toString('hex')), merchant.privateKey)).toEqual(raw);
    expect(() => decryptEncryptKey(wrap('too short'), merchant.privateKey)).toThrowError(
      expect.objectContaining({ code: BILL_DECRYPT_CODES.keyLength }),
    );
  });

  it('fails with DecryptError BILL_DECRYPT_KEY for another merchant key or a key wrapped with SHA-256', () => {
    const wrapped = BillFixtures.encryptBillKey(BillFixtures.newBillKey(), merchant.publicKey);
    const error = (() => {
      try {
        decryptEncryptKey(wrapped, otherMerchant.privateKey);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DecryptError);
    expect(error).toMatchObject({ code: BILL_DECRYPT_CODES.key });
    const sha256 = publicEncrypt(
      { key: merchant.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      BillFixtures.newBillKey(),
    ).toString('base64');
    expect(() => decryptEncryptKey(sha256, merchant.privateKey)).toThrow(DecryptError);
  });

  it('decrypts, gunzips and joins parts in bill_sequence order, whatever order they are given in', async () => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 3,
    });
    expect(downloads.map((d) => d.nonce.length)).toEqual([16, 16, 16]);
    const [p1, p2, p3] = asParts(downloads);
    const opened = openBillParts([p3!, p1!, p2!], {
      merchantPrivateKey: merchant.privateKey,
      expectedCount: 3,
    });
    const bill = parseFundFlowBill(opened);
    const rows = await collect(bill);
    const direct = await collect(parseFundFlowBill(FUND_TEXT));
    expect(rows).toEqual(direct);
    expect(bill.summary().expenseFen).toBe(3077n);
    const integrity = opened.integrity();
    expect(integrity.map((i) => i.part)).toEqual([1, 2, 3]);
    expect(integrity.every((i) => i.encrypted && i.gzip && i.checkedStage === 'plaintext')).toBe(true);
    expect(integrity.reduce((n, i) => n + i.plaintextBytes, 0)).toBe(Buffer.byteLength(FUND_TEXT));
  });

  it('joins parts cut inside a multi-byte character, without gzip', async () => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 7,
      gzip: false,
    });
    const rows = await collect(
      parseFundFlowBill(openBillParts(asParts(downloads, 1), { merchantPrivateKey: merchant.privateKey })),
    );
    expect(rows).toEqual(await collect(parseFundFlowBill(FUND_TEXT)));
  });

  it('reads the parts lazily, one after the other', async () => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 2,
    });
    const opened: number[] = [];
    const parts = downloads.map((d) => ({
      ...d,
      body: async () => {
        opened.push(d.billSequence);
        return [d.body];
      },
    }));
    const iterator = openBillParts(parts, { merchantPrivateKey: merchant.privateKey })[
      Symbol.asyncIterator
    ]();
    await iterator.next();
    expect(opened).toEqual([1]);
    while (!(await iterator.next()).done) {
      /* drain */
    }
    expect(opened).toEqual([1, 2]);
  });

  it('accepts a 12-byte nonce as well as the documented 16 characters', async () => {
    const key = BillFixtures.newBillKey();
    for (const nonce of [
      BillFixtures.newBillNonce(12),
      BillFixtures.newBillNonce(16),
      BillFixtures.newBillNonce(32),
    ]) {
      const body = await BillFixtures.collectBytes(
        BillFixtures.encryptChunks(gzipSync(FUND_TEXT), key, nonce),
      );
      const opened = openBill(byteChunks(body, 5), {
        expectedSha1: sha1(FUND_TEXT),
        decryption: { key, nonce },
      });
      expect(await collect(parseFundFlowBill(opened))).toHaveLength(3);
    }
  });

  it.each([
    ['a flipped ciphertext byte', (body: Buffer) => body.fill(body[3]! ^ 1, 3, 4)],
    ['a flipped tag byte', (body: Buffer) => body.fill(body[body.length - 1]! ^ 1, body.length - 1)],
    ['a dropped last byte', (body: Buffer) => body.subarray(0, body.length - 1)],
  ])('rejects a tampered part (%s) with DecryptError BILL_DECRYPT_AUTH', async (_name, tamper) => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 2,
      gzip: false,
    });
    const second = downloads[1]!;
    downloads[1] = { ...second, body: tamper(Buffer.from(second.body)) };
    const error = await caught(() =>
      collect(
        parseFundFlowBill(openBillParts(asParts(downloads), { merchantPrivateKey: merchant.privateKey })),
      ),
    );
    expect(error).toBeInstanceOf(DecryptError);
    expect(error).toMatchObject({ code: BILL_DECRYPT_CODES.auth });
  });

  it('rejects a tampered gzipped part with DecryptError, not a gzip error', async () => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, { merchantPublicKey: merchant.publicKey });
    const body = Buffer.from(downloads[0]!.body);
    body[body.length - 20] = (body[body.length - 20] ?? 0) ^ 0x55;
    downloads[0] = { ...downloads[0]!, body };
    const error = await caught(() =>
      collect(openBillParts(asParts(downloads), { merchantPrivateKey: merchant.privateKey })),
    );
    expect(error).toBeInstanceOf(DecryptError);
  });

  it('rejects a file shorter than the tag with BILL_DECRYPT_TRUNCATED', async () => {
    const error = await caught(() =>
      collect(
        openBill(Buffer.alloc(10), {
          expectedSha1: sha1(''),
          decryption: { key: Buffer.alloc(32), nonce: 'n' },
        }),
      ),
    );
    expect(error).toMatchObject({ code: BILL_DECRYPT_CODES.truncated });
  });

  it('rejects a wrong key length and an empty nonce up front', () => {
    expect(() => new BillDecipher(Buffer.alloc(16), 'nonce')).toThrowError(
      expect.objectContaining({ code: BILL_DECRYPT_CODES.keyLength }),
    );
    expect(() =>
      openBill(Buffer.alloc(0), { expectedSha1: sha1(''), decryption: { key: Buffer.alloc(32), nonce: '' } }),
    ).toThrowError(expect.objectContaining({ code: BILL_DECRYPT_CODES.nonce }));
  });

  it('checks the hash of each part over its plaintext, and points at the stage that matches otherwise', async () => {
    const overDecrypted = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 2,
      hashOver: 'decrypted',
    });
    const error = await caught(() =>
      collect(openBillParts(asParts(overDecrypted), { merchantPrivateKey: merchant.privateKey })),
    );
    expect(error).toBeInstanceOf(BillHashMismatchError);
    expect(error).toMatchObject({ part: 1, stage: 'plaintext', matchingStages: ['decrypted'] });
    const accepted = openBillParts(asParts(overDecrypted), {
      merchantPrivateKey: merchant.privateKey,
      hashCovers: 'decrypted',
    });
    expect(await collect(parseFundFlowBill(accepted))).toHaveLength(3);

    const overCiphertext = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      hashOver: 'downloaded',
    });
    const cipherError = await caught(() =>
      collect(openBillParts(asParts(overCiphertext), { merchantPrivateKey: merchant.privateKey })),
    );
    expect(cipherError).toMatchObject({ matchingStages: ['downloaded'] });
  });

  it('rejects duplicated or missing bill_sequence numbers and a wrong part count', () => {
    const downloads = BillFixtures.packEncryptedBill(FUND_TEXT, {
      merchantPublicKey: merchant.publicKey,
      parts: 3,
    });
    const parts = asParts(downloads);
    const sequenceError = expect.objectContaining({ code: BILL_FORMAT_CODES.partSequence });
    expect(() =>
      openBillParts([parts[0]!, parts[0]!, parts[1]!], { merchantPrivateKey: merchant.privateKey }),
    ).toThrowError(sequenceError);
    expect(() =>
      openBillParts([parts[0]!, parts[2]!], { merchantPrivateKey: merchant.privateKey }),
    ).toThrowError(sequenceError);
    expect(() =>
      openBillParts(parts, { merchantPrivateKey: merchant.privateKey, expectedCount: 4 }),
    ).toThrowError(sequenceError);
  });

  it('createBillDecipher works as a Transform with one-byte chunks', async () => {
    const key = BillFixtures.newBillKey();
    const nonce = BillFixtures.newBillNonce();
    const body = await BillFixtures.collectBytes(BillFixtures.encryptChunks(FUND_TEXT, key, nonce));
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(byteChunks(body, 1)),
      createBillDecipher(key, nonce),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(out).toString('utf8')).toBe(FUND_TEXT);

    const tampered = Buffer.from(body);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    const error = await caught(() =>
      pipeline(
        Readable.from([tampered]),
        createBillDecipher(key, nonce),
        new Writable({
          write(_chunk, _encoding, callback) {
            callback();
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(DecryptError);
  });

  it('an empty encrypted bill (zero rows) round-trips', async () => {
    const empty = `${fundFlowLines()[0]}\r\n资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n\`0,\`0,\`0.00,\`0,\`0.00\r\n`;
    const downloads = BillFixtures.packEncryptedBill(empty, { merchantPublicKey: merchant.publicKey });
    const bill = parseFundFlowBill(
      openBillParts(asParts(downloads), { merchantPrivateKey: merchant.privateKey }),
    );
    expect(await collect(bill)).toEqual([]);
    expect(bill.summary().rowCount).toBe(0);
  });
});

describe('bill fixtures (sandbox side)', () => {
  it('sha1Hex and gzipChunks stream', async () => {
    expect(await BillFixtures.sha1Hex(['a', Buffer.from('b')])).toBe(sha1('ab'));
    const gz = await BillFixtures.collectBytes(
      BillFixtures.gzipChunks([TRADE_TEXT.slice(0, 10), TRADE_TEXT.slice(10)]),
    );
    const opened = openBill(gz, { expectedSha1: sha1(TRADE_TEXT), gzip: true });
    expect(await collect(parseTradeBill(opened))).toHaveLength(3);
  });
});
