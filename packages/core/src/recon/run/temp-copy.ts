// A temporary copy of a download, written while the bytes stream through: if verification fails at the end,
// the exact bytes received are still there to keep as evidence; otherwise the copy is deleted.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class TempCopy {
  private stream: WriteStream | undefined;
  private file: string | undefined;
  private closed: Promise<void> | undefined;
  private readonly sha1 = createHash('sha1');
  private readonly sha256 = createHash('sha256');
  bytes = 0;
  digests: { sha1: string; sha256: string } | undefined;

  constructor(
    readonly name: string,
    private readonly dir?: string,
  ) {}

  /** Passes the chunks through, copying and hashing them. */
  async *tee(source: AsyncIterable<unknown> | Iterable<unknown>): AsyncGenerator<Buffer> {
    const base = await mkdtemp(path.join(this.dir ?? tmpdir(), 'payhooks-recon-'));
    this.file = path.join(base, this.name.replace(/[^A-Za-z0-9._-]/g, '_'));
    const stream = createWriteStream(this.file);
    this.stream = stream;
    this.closed = once(stream, 'close').then(() => undefined);
    try {
      for await (const chunk of source as AsyncIterable<unknown>) {
        const buffer =
          typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
        this.sha1.update(buffer);
        this.sha256.update(buffer);
        this.bytes += buffer.length;
        if (!stream.write(buffer)) await once(stream, 'drain');
        yield buffer;
      }
      this.digests = { sha1: this.sha1.digest('hex'), sha256: this.sha256.digest('hex') };
    } finally {
      stream.end();
    }
  }

  /** The bytes received so far (all of them once the download ended). */
  async read(): Promise<Buffer | undefined> {
    if (!this.file) return undefined;
    this.stream?.end();
    await this.closed;
    return readFile(this.file);
  }

  async dispose(): Promise<void> {
    if (!this.file) return;
    this.stream?.end();
    await this.closed;
    await rm(path.dirname(this.file), { recursive: true, force: true });
    this.file = undefined;
  }
}
