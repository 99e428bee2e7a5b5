// Streaming text plumbing shared by the bill and report parsers: turns chunks (strings or bytes, from a Readable or
// any async iterable) into validated UTF-8 text and then into lines, holding at most one partial line in memory.
import { PayhooksError } from '../errors.ts';

/** One chunk of a bill or report: text, or bytes in UTF-8. */
export type TextChunk = string | Uint8Array;

/**
 * Where a parser reads from: a whole string or byte array, an async iterable of chunks (a Node Readable, a fetch
 * body via `Readable.fromWeb`, an async generator), or a plain iterable of chunks.
 */
export type TextSource = TextChunk | AsyncIterable<unknown> | Iterable<TextChunk>;

/** Codes of the text-level failures below; the parsers map each to their own format error. */
export const TEXT_FAILURE_CODES = {
  decode: 'TEXT_DECODE',
  lineTooLong: 'TEXT_LINE_TOO_LONG',
} as const;

/** Raised for a chunk that is not text or bytes, or bytes that are not UTF-8; the caller maps it to its error. */
export class TextDecodeFailure extends PayhooksError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(TEXT_FAILURE_CODES.decode, message, options);
  }
}

/** Raised by `splitLines` when a line grows beyond the limit. */
export class LineTooLongFailure extends PayhooksError {
  constructor(readonly line: number) {
    super(TEXT_FAILURE_CODES.lineTooLong, `line ${line} is longer than the allowed maximum`);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Yields the source's chunks; a lone string or byte array is one chunk. */
async function* chunksOf(source: TextSource): AsyncGenerator<unknown> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (isAsyncIterable(source)) {
    yield* source;
    return;
  }
  yield* source;
}

/**
 * Decodes the source as UTF-8 (fatal on invalid bytes, multi-byte characters may span chunks) and drops one leading
 * byte-order mark. String chunks are taken as already decoded.
 */
export async function* decodeText(source: TextSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let first = true;
  for await (const chunk of chunksOf(source)) {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else if (chunk instanceof Uint8Array) {
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch (error) {
        throw new TextDecodeFailure('the input is not valid UTF-8', { cause: error });
      }
    } else {
      throw new TextDecodeFailure('the input yielded a chunk that is neither text nor bytes');
    }
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch (error) {
    throw new TextDecodeFailure('the input ends inside a UTF-8 character', { cause: error });
  }
  if (rest.length > 0) yield first && rest.charCodeAt(0) === 0xfeff ? rest.slice(1) : rest;
}

/**
 * Splits decoded text into lines on LF, dropping one CR before each LF (CRLF and LF files both work; a lone CR
 * stays part of the line). Yields batches of complete lines, so the per-line cost is a plain loop, not an await.
 * The last line is yielded even without a final newline.
 */
export async function* splitLines(
  text: AsyncIterable<string>,
  maxLineLength: number,
): AsyncGenerator<string[]> {
  let pending = '';
  let lineNumber = 0;
  for await (const chunk of text) {
    const buffer = pending.length > 0 ? pending + chunk : chunk;
    const batch: string[] = [];
    let start = 0;
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n', start)) {
      const stop = end > start && buffer.charCodeAt(end - 1) === 13 ? end - 1 : end;
      lineNumber += 1;
      if (stop - start > maxLineLength) throw new LineTooLongFailure(lineNumber);
      batch.push(buffer.slice(start, stop));
      start = end + 1;
    }
    pending = start === 0 ? buffer : buffer.slice(start);
    if (pending.length > maxLineLength + 1) throw new LineTooLongFailure(lineNumber + 1);
    if (batch.length > 0) yield batch;
  }
  if (pending.length > 0) {
    const last = pending.charCodeAt(pending.length - 1) === 13 ? pending.slice(0, -1) : pending;
    if (last.length > maxLineLength) throw new LineTooLongFailure(lineNumber + 1);
    yield [last];
  }
}
