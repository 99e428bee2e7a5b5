// Download-side streams for WeChat Pay bills: unwrap the sub-merchant bill key (RSA-OAEP/SHA-1), decrypt
// AES-256-GCM while streaming (tag = the file's last 16 bytes), gunzip, join split bills in bill_sequence order,
// and check the announced SHA-1 — all chunk by chunk, memory independent of the bill's size.
//
// Streaming decryption releases plaintext before the GCM tag is checked, and the hash is known only at the end:
// the consumer must treat rows as provisional until the iteration ends without error (COPY inside a
// transaction, rolled back when the iteration throws). For the same reason a tampered encrypted bill fails with
// DecryptError at the end, or earlier with a BillFormatError when gunzip or the parser trips over the damage first.
import {
  constants,
  createDecipheriv,
  createHash,
  type DecipherGCM,
  type Hash,
  type KeyLike,
  privateDecrypt,
} from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecryptError, PayhooksError } from '../../errors.ts';
import {
  BILL_DECRYPT_CODES,
  BILL_FORMAT_CODES,
  BILL_HASH_CODES,
  BillFormatError,
  BillHashMismatchError,
  type BillHashStage,
} from '../errors.ts';

/** Bytes of a downloaded bill: one buffer, a Readable / fetch body, or any (async) iterable of byte chunks. */
export type ByteSource = Uint8Array | AsyncIterable<unknown> | Iterable<Uint8Array>;

const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

/**
 * Unwraps a sub-merchant bill's `encrypt_key`: base64 → RSA-OAEP (SHA-1, MGF1-SHA-1) with the merchant private key
 * (apiclient_key.pem). Returns the 32-byte AES key. The plaintext key is documented only as "the key"; this
 * accepts 32 raw bytes and, defensively, the base64 or hex text of 32 bytes.
 */
export function decryptEncryptKey(encryptKeyBase64: string, merchantPrivateKey: KeyLike): Buffer {
  const wrapped = Buffer.from(encryptKeyBase64, 'base64');
  let plain: Buffer;
  try {
    plain = privateDecrypt(
      { key: merchantPrivateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      wrapped,
    );
  } catch (error) {
    throw new DecryptError(
      BILL_DECRYPT_CODES.key,
      'could not unwrap the bill encrypt_key with the merchant private key (RSA-OAEP/SHA-1): wrong key or a ' +
        'corrupt encrypt_key',
      { cause: error },
    );
  }
  if (plain.length === KEY_LENGTH) return plain;
  const text = plain.toString('latin1').trim();
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  throw new DecryptError(
    BILL_DECRYPT_CODES.keyLength,
    `the unwrapped bill key has ${plain.length} bytes; AES-256-GCM needs ${KEY_LENGTH}`,
  );
}

function nonceBytes(nonce: string | Uint8Array): Buffer {
  const iv = typeof nonce === 'string' ? Buffer.from(nonce, 'utf8') : Buffer.from(nonce);
  if (iv.length === 0) throw new DecryptError(BILL_DECRYPT_CODES.nonce, 'the bill nonce is empty');
  return iv;
}

function checkDecryption(key: Uint8Array, nonce: string | Uint8Array): Buffer {
  if (key.length !== KEY_LENGTH) {
    throw new DecryptError(
      BILL_DECRYPT_CODES.keyLength,
      `bill key has ${key.length} bytes, need ${KEY_LENGTH}`,
    );
  }
  return nonceBytes(nonce);
}

/**
 * Incremental AES-256-GCM decryption of a file laid out as ciphertext ‖ 16-byte tag, with empty AAD and
 * IV = the nonce's bytes (any length; WeChat's example nonce has 16 characters). The last 16 bytes seen are held
 * back, since only the end of the stream tells which bytes are the tag.
 */
export class BillDecipher {
  private readonly decipher: DecipherGCM;
  private tail: Buffer = Buffer.alloc(0);

  constructor(key: Uint8Array, nonce: string | Uint8Array) {
    const iv = checkDecryption(key, nonce);
    this.decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  }

  update(chunk: Uint8Array): Buffer {
    if (chunk.length >= TAG_LENGTH) {
      const body = chunk.subarray(0, chunk.length - TAG_LENGTH);
      const fromTail = this.tail.length > 0 ? this.decipher.update(this.tail) : undefined;
      const fromBody = this.decipher.update(body);
      this.tail = Buffer.from(chunk.subarray(chunk.length - TAG_LENGTH));
      return fromTail === undefined ? fromBody : Buffer.concat([fromTail, fromBody]);
    }
    const combined = Buffer.concat([this.tail, chunk]);
    if (combined.length <= TAG_LENGTH) {
      this.tail = combined;
      return Buffer.alloc(0);
    }
    this.tail = combined.subarray(combined.length - TAG_LENGTH);
    return this.decipher.update(combined.subarray(0, combined.length - TAG_LENGTH));
  }

  /** Checks the tag; throws DecryptError when the file was tampered with or the key/nonce is wrong. */
  final(): Buffer {
    if (this.tail.length < TAG_LENGTH) {
      throw new DecryptError(
        BILL_DECRYPT_CODES.truncated,
        `the encrypted bill is shorter than its ${TAG_LENGTH}-byte authentication tag`,
      );
    }
    try {
      this.decipher.setAuthTag(this.tail);
      return this.decipher.final();
    } catch (error) {
      throw new DecryptError(
        BILL_DECRYPT_CODES.auth,
        'the encrypted bill failed authentication (AES-256-GCM tag): the file was altered or cut, or the key or ' +
          'nonce is wrong — discard every row read from it',
        { cause: error },
      );
    }
  }
}

/** BillDecipher as a node:stream Transform, for callers composing their own pipeline. */
export function createBillDecipher(key: Uint8Array, nonce: string | Uint8Array): Transform {
  const decipher = new BillDecipher(key, nonce);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        callback(null, decipher.update(chunk));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        callback(null, decipher.final());
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

const SHA1_HEX = /^[0-9a-f]{40}$/;

function checkExpectedHash(expected: string, hashType: string | undefined, part: number | null): string {
  const normalized = expected.trim().toLowerCase();
  if (hashType !== undefined && hashType.trim().toUpperCase() !== 'SHA1') {
    throw new BillHashMismatchError(BILL_HASH_CODES.invalid, `unsupported bill hash_type "${hashType}"`, {
      expected,
      stage: 'plaintext',
      part,
    });
  }
  if (!SHA1_HEX.test(normalized)) {
    throw new BillHashMismatchError(
      BILL_HASH_CODES.invalid,
      'the announced bill hash_value is not 40 hex digits',
      {
        expected,
        stage: 'plaintext',
        part,
      },
    );
  }
  return normalized;
}

/** A pass-through Transform that fails at the end of the stream when the SHA-1 of the bytes differs. */
export function createBillHashCheck(expectedSha1: string, stage: BillHashStage = 'plaintext'): Transform {
  const expected = checkExpectedHash(expectedSha1, undefined, null);
  const hash = createHash('sha1');
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const actual = hash.digest('hex');
      if (actual === expected) callback();
      else {
        callback(
          new BillHashMismatchError(
            BILL_HASH_CODES.mismatch,
            `SHA-1 of the bill (${stage}) is ${actual}, the bill API announced ${expected}`,
            { expected, actual, stage },
          ),
        );
      }
    },
  });
}

/** What was verified about one bill file: kept in the reconciliation summary as source evidence. */
export interface BillIntegrity {
  /** bill_sequence for split bills, null for a single file. */
  part: number | null;
  /** The announced hash_value, lower-case. */
  expectedSha1: string;
  /** The stage whose hash had to equal `expectedSha1`. */
  checkedStage: BillHashStage;
  sha1: { downloaded: string; decrypted: string | null; plaintext: string };
  encrypted: boolean;
  gzip: boolean;
  downloadedBytes: number;
  plaintextBytes: number;
}

export interface OpenBillOptions {
  /** hash_value from the bill API (case-insensitive hex). */
  expectedSha1: string;
  /** hash_type from the bill API; only SHA1 is accepted. */
  hashType?: string;
  /** Whether the file is gzip (tar_type=GZIP); `auto` (default) looks at the magic bytes. */
  gzip?: boolean | 'auto';
  /** AES-256-GCM key (see decryptEncryptKey) and nonce for encrypted sub-merchant bills. */
  decryption?: { key: Uint8Array; nonce: string | Uint8Array };
  /**
   * Which bytes the announced hash covers. WeChat documents "the original bill" (after gunzip): `plaintext`, the
   * default. For encrypted bills that is unconfirmed: a mismatch error lists the stages that did match, and this
   * option switches the check without code changes.
   */
  hashCovers?: BillHashStage;
}

/** A verified byte stream of bill text; `integrity()` is available once the iteration ended without error. */
export interface OpenedBill extends AsyncIterable<Buffer> {
  integrity(): readonly BillIntegrity[];
}

async function* bytesOf(source: ByteSource): AsyncGenerator<Buffer> {
  if (source instanceof Uint8Array) {
    yield Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return;
  }
  const iterable: AsyncIterable<unknown> | Iterable<unknown> = source;
  for await (const chunk of iterable) {
    if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else
      throw new BillFormatError(
        BILL_FORMAT_CODES.encoding,
        'the bill download yielded a chunk that is not bytes',
      );
  }
}

async function* tap(
  source: AsyncIterable<Buffer>,
  hash: Hash,
  count: { bytes: number },
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    count.bytes += chunk.length;
    yield chunk;
  }
}

async function* decrypt(source: AsyncIterable<Buffer>, decipher: BillDecipher): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const plain = decipher.update(chunk);
    if (plain.length > 0) yield plain;
  }
  const last = decipher.final();
  if (last.length > 0) yield last;
}

const GUNZIP_CHUNK_BYTES = 256 * 1024;

async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // 256 KiB output chunks, not zlib's 16 KiB: fewer chunks through every stage after it (the hash, the line splitter,
  // the staging writer). On case 5's 200,000-row bill the load's worker CPU fell from 0.71–0.84 s to 0.57–0.74 s
  // (parse-ab.ts, docs/decisions.md "Case 5, session 11 (part recon)").
  const inflater = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  // pipeline destroys every stage with the first error, so an upstream DecryptError surfaces here unchanged.
  pipeline(Readable.from(source), inflater, () => {});
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof PayhooksError) throw error;
    throw new BillFormatError(BILL_FORMAT_CODES.gzip, 'the bill is not a valid or complete gzip file', {
      cause: error,
    });
  }
}

/** Passes bytes through, gunzipping them when they start with the gzip magic bytes 1f 8b. */
async function* gunzipIfGzip(
  source: AsyncIterable<Buffer>,
  decided: (gzip: boolean) => void,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let exhausted = false;
  while (headLength < 2) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const isGzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  decided(isGzip);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!exhausted) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else yield next.value;
      }
    } finally {
      if (!exhausted) await iterator.return?.();
    }
  }
  yield* isGzip ? gunzip(replay()) : replay();
}

interface PreparedPart {
  part: number | null;
  expected: string;
  hashCovers: BillHashStage;
  gzip: boolean | 'auto';
  decryption: { key: Uint8Array; nonce: string | Uint8Array } | undefined;
}

async function* openPart(
  source: ByteSource,
  prepared: PreparedPart,
  record: (integrity: BillIntegrity) => void,
): AsyncGenerator<Buffer> {
  const hashes = {
    downloaded: createHash('sha1'),
    decrypted: prepared.decryption ? createHash('sha1') : null,
    plaintext: createHash('sha1'),
  };
  const downloaded = { bytes: 0 };
  const plaintext = { bytes: 0 };
  let stream: AsyncIterable<Buffer> = tap(bytesOf(source), hashes.downloaded, downloaded);
  if (prepared.decryption) {
    const decipher = new BillDecipher(prepared.decryption.key, prepared.decryption.nonce);
    stream = tap(decrypt(stream, decipher), hashes.decrypted!, { bytes: 0 });
  }
  let gzip = prepared.gzip === true;
  if (prepared.gzip === 'auto') {
    stream = gunzipIfGzip(stream, (isGzip) => {
      gzip = isGzip;
    });
  } else if (prepared.gzip) {
    stream = gunzip(stream);
  }
  try {
    yield* tap(stream, hashes.plaintext, plaintext);
  } catch (error) {
    if (prepared.decryption && error instanceof BillFormatError && error.code === BILL_FORMAT_CODES.gzip) {
      // Plaintext is released before the GCM tag is checked, so tampering can surface as broken gzip first.
      throw new BillFormatError(
        BILL_FORMAT_CODES.gzip,
        `the decrypted ${prepared.part === null ? 'bill' : `bill part ${prepared.part}`} is not valid gzip: the ` +
          'file was altered or the key or nonce is wrong (the authentication tag is only checked at the end)',
        { cause: error },
      );
    }
    throw error;
  }

  const sha1 = {
    downloaded: hashes.downloaded.digest('hex'),
    decrypted: hashes.decrypted?.digest('hex') ?? null,
    plaintext: hashes.plaintext.digest('hex'),
  };
  const stage = prepared.hashCovers;
  const actual = sha1[stage] ?? sha1.downloaded;
  if (actual !== prepared.expected) {
    const stages: BillHashStage[] = ['downloaded', 'decrypted', 'plaintext'];
    const matchingStages = stages.filter((s) => s !== stage && sha1[s] === prepared.expected);
    const which = prepared.part === null ? 'the bill' : `bill part ${prepared.part}`;
    const hint =
      matchingStages.length > 0
        ? ` — the announced hash matches the ${matchingStages.join('/')} bytes instead: set hashCovers accordingly`
        : ' — the download is corrupt or incomplete: keep the file and fetch the bill again';
    throw new BillHashMismatchError(
      BILL_HASH_CODES.mismatch,
      `SHA-1 of ${which} (${stage}) is ${actual}, the bill API announced ${prepared.expected}${hint}`,
      { expected: prepared.expected, actual, stage, matchingStages, part: prepared.part },
    );
  }
  record({
    part: prepared.part,
    expectedSha1: prepared.expected,
    checkedStage: stage,
    sha1,
    encrypted: prepared.decryption !== undefined,
    gzip,
    downloadedBytes: downloaded.bytes,
    plaintextBytes: plaintext.bytes,
  });
}

function opened(run: (record: (integrity: BillIntegrity) => void) => AsyncGenerator<Buffer>): OpenedBill {
  const results: BillIntegrity[] = [];
  let finished = false;
  let started = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (started)
        throw new BillFormatError(BILL_FORMAT_CODES.incomplete, 'an opened bill can be read only once');
      started = true;
      yield* run((integrity) => results.push(integrity));
      finished = true;
    },
    integrity() {
      if (!finished) {
        throw new BillFormatError(
          BILL_FORMAT_CODES.incomplete,
          'bill integrity is known only after the whole file was read without error',
        );
      }
      return results;
    },
  };
}

/**
 * Opens one downloaded bill file: (decrypt) → (gunzip) → bill text bytes, hashing each stage, and throws
 * BillHashMismatchError at the end when the announced SHA-1 does not match. Feed the result to parseTradeBill /
 * parseFundFlowBill. Throws synchronously when the announced hash is malformed.
 */
export function openBill(source: ByteSource, options: OpenBillOptions): OpenedBill {
  const prepared: PreparedPart = {
    part: null,
    expected: checkExpectedHash(options.expectedSha1, options.hashType, null),
    hashCovers: options.hashCovers ?? 'plaintext',
    gzip: options.gzip ?? 'auto',
    decryption: options.decryption,
  };
  if (prepared.decryption) checkDecryption(prepared.decryption.key, prepared.decryption.nonce);
  return opened((record) => openPart(source, prepared, record));
}

/** One entry of the sub-merchant fund-flow bill's `download_bill_list`, with a way to get its bytes. */
export interface EncryptedBillPart {
  billSequence: number;
  /** Base64 `encrypt_key`, unwrapped with the merchant private key. */
  encryptKey: string;
  nonce: string;
  hashType?: string;
  hashValue: string;
  /** The downloaded bytes, or a function fetching them when the part's turn comes. */
  body: ByteSource | (() => ByteSource | Promise<ByteSource>);
}

export interface OpenBillPartsOptions {
  merchantPrivateKey: KeyLike;
  /** download_bill_count: the number of parts the API announced. */
  expectedCount?: number;
  gzip?: boolean | 'auto';
  hashCovers?: BillHashStage;
}

/**
 * Joins an encrypted, possibly split bill: each part is decrypted with its own key and nonce, gunzipped and
 * hash-checked on its own, and the plaintexts follow each other in bill_sequence order (a part may end in the
 * middle of a line; the parser does not care). Sequence numbers must be unique and consecutive.
 */
export function openBillParts(
  parts: readonly EncryptedBillPart[],
  options: OpenBillPartsOptions,
): OpenedBill {
  if (options.expectedCount !== undefined && parts.length !== options.expectedCount) {
    throw new BillFormatError(
      BILL_FORMAT_CODES.partSequence,
      `the bill API announced ${options.expectedCount} parts but ${parts.length} were given`,
    );
  }
  const sorted = [...parts].sort((a, b) => a.billSequence - b.billSequence);
  sorted.forEach((part, index) => {
    const previous = sorted[index - 1];
    if (
      !Number.isSafeInteger(part.billSequence) ||
      (previous && part.billSequence !== previous.billSequence + 1)
    ) {
      throw new BillFormatError(
        BILL_FORMAT_CODES.partSequence,
        `bill parts must have consecutive bill_sequence numbers; got ${sorted.map((p) => p.billSequence).join(', ')}`,
      );
    }
  });
  const prepared = sorted.map((part): PreparedPart & { body: EncryptedBillPart['body'] } => ({
    part: part.billSequence,
    expected: checkExpectedHash(part.hashValue, part.hashType, part.billSequence),
    hashCovers: options.hashCovers ?? 'plaintext',
    gzip: options.gzip ?? 'auto',
    decryption: {
      key: decryptEncryptKey(part.encryptKey, options.merchantPrivateKey),
      nonce: nonceBytes(part.nonce),
    },
    body: part.body,
  }));
  return opened(async function* (record) {
    for (const part of prepared) {
      const source = typeof part.body === 'function' ? await part.body() : part.body;
      yield* openPart(source, part, record);
    }
  });
}
