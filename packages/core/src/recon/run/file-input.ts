// A bill or report file finance already has on disk (downloaded from the merchant platform or the Dashboard):
// one pre-pass hashes it (SHA-256 and SHA-1 of the bytes, SHA-1 of the plaintext after gunzip) and reads the first
// plaintext line, so the source can name the file's kind; then the plaintext streams to the provider's parser.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { ConfigError } from '../../errors.ts';
import type { SourceFileEvidence } from './types.ts';

export interface LocalFile {
  path: string;
  fileName: string;
  bytes: number;
  gzip: boolean;
  sha256: string;
  sha1: string;
  /** SHA-1 of the plaintext (after gunzip); equals `sha1` for a plain file. */
  plaintextSha1: string;
  /** The first line of the plaintext, without a BOM (empty for an encrypted file). */
  firstLine: string;
  /** The file's bytes, streamed again. */
  raw(): AsyncIterable<Buffer>;
  /** The plaintext, gunzipped when the file is gzip. */
  plaintext(): AsyncIterable<Buffer>;
}

const isGzipMagic = (head: Buffer) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Hashes a local file and reads its first plaintext line; refuses a missing or empty file with one line. */
export async function openLocalFile(file: string, options: { encrypted?: boolean } = {}): Promise<LocalFile> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new ConfigError('RECON_FILE_MISSING', `no such file: ${file}`);
  if (info.size === 0) throw new ConfigError('RECON_FILE_EMPTY', `the file is empty: ${file}`);
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  let head: Buffer | undefined;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    head ??= chunk.subarray(0, 2);
    sha256.update(chunk);
    sha1.update(chunk);
  }
  const gzip = !options.encrypted && isGzipMagic(head ?? Buffer.alloc(0));
  const raw = () => createReadStream(file) as AsyncIterable<Buffer>;
  const plaintext = () =>
    (gzip ? createReadStream(file).pipe(createGunzip()) : createReadStream(file)) as AsyncIterable<Buffer>;
  let plaintextSha1 = sha1.copy().digest('hex');
  let firstLine = '';
  if (!options.encrypted) {
    const hash = createHash('sha1');
    let text = '';
    try {
      for await (const chunk of plaintext()) {
        hash.update(chunk);
        if (!text.includes('\n') && text.length < 65_536) text += chunk.toString('utf8');
      }
    } catch (error) {
      throw new ConfigError('RECON_FILE_GZIP', `${file} is not a valid or complete gzip file`, {
        cause: error,
      });
    }
    plaintextSha1 = hash.digest('hex');
    firstLine = (text.split(/\r?\n/)[0] ?? '').replace(/^\uFEFF/, '').trim();
  }
  return {
    path: file,
    fileName: path.basename(file),
    bytes: info.size,
    gzip,
    sha256: sha256.digest('hex'),
    sha1: sha1.digest('hex'),
    plaintextSha1,
    firstLine,
    raw,
    plaintext,
  };
}

/** The evidence of a local file: its name, hashes and size, marked `origin: file`. */
export function localFileEvidence(
  name: string,
  file: LocalFile,
  rows: number,
  totals: Record<string, string>,
): SourceFileEvidence {
  return {
    name,
    empty: false,
    expectedSha1: null,
    sha1Downloaded: file.sha1,
    sha1Plaintext: file.plaintextSha1,
    sha256Downloaded: file.sha256,
    bytes: file.bytes,
    rows,
    totals,
    origin: 'file',
    fileName: file.fileName,
  };
}
