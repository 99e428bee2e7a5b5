// A temporary copy of a download. The whole download is written to it first, at the network's pace, and the
// parser then reads the copy: a provider's file server (or a CDN in front of it) cuts a connection whose reader
// stalls, and a parser feeding COPY on a loaded machine stalls for minutes — reading straight from the socket
// made the tail of big bills arrive cut (BILL_GZIP under load). If verification fails at the end, the exact bytes
// received are there to keep as evidence; otherwise the copy is deleted.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PayhooksError } from '../../errors.ts';
import { RECON_RUN_CODES } from '../errors.ts';

/** Read size of the copy: large reads keep the per-chunk overhead of the parse pipeline small. */
const READ_CHUNK_BYTES = 1024 * 1024;

export class TempCopy {
  private file: string | undefined;
  private saved: Promise<void> | undefined;
  bytes = 0;
  digests: { sha1: string; sha256: string } | undefined;

  constructor(
    readonly name: string,
    private readonly dir?: string,
  ) {}

  /**
   * Saves the whole download to the copy (hashing it), then yields the copy's bytes. A download that fails or is
   * cut on the way throws RECON_DOWNLOAD, naming how many bytes arrived — never a parse or gzip error.
   */
  async *tee(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Buffer> {
    this.saved ??= this.save(source);
    await this.saved;
    yield* createReadStream(this.file!, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>;
  }

  /** Saves the whole download now (as `tee` does on its first read, which then reads the copy at once). */
  prefetch(source: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    this.saved ??= this.save(source);
    return this.saved;
  }

  private async save(source: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    const base = await mkdtemp(path.join(this.dir ?? tmpdir(), 'payhooks-recon-'));
    this.file = path.join(base, this.name.replace(/[^A-Za-z0-9._-]/g, '_'));
    const sha1 = createHash('sha1');
    const sha256 = createHash('sha256');
    const stream = createWriteStream(this.file);
    const closed = once(stream, 'close');
    try {
      for await (const chunk of source as AsyncIterable<unknown>) {
        const buffer =
          typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
        sha1.update(buffer);
        sha256.update(buffer);
        this.bytes += buffer.length;
        if (!stream.write(buffer)) await once(stream, 'drain');
      }
    } catch (error) {
      stream.end();
      await closed;
      if (error instanceof PayhooksError) throw error;
      throw new PayhooksError(
        RECON_RUN_CODES.download,
        `the download of ${this.name} failed after ${this.bytes} bytes: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    stream.end();
    await closed;
    this.digests = { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
  }

  /** The bytes received so far (all of them once the download ended). */
  async read(): Promise<Buffer | undefined> {
    if (!this.file) return undefined;
    await this.saved?.catch(() => undefined);
    return readFile(this.file);
  }

  async dispose(): Promise<void> {
    if (!this.file) return;
    await this.saved?.catch(() => undefined);
    await rm(path.dirname(this.file), { recursive: true, force: true });
    this.file = undefined;
  }
}
