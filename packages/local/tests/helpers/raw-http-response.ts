// Like raw-http.ts, but returns the whole response (status, lower-cased headers, body), for tests that assert
// what was answered to a request only a raw socket can produce (CRLF in header values, duplicated headers).
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function parseRawResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n', 0, 'latin1');
  const head = (split < 0 ? raw : raw.subarray(0, split)).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!match)
    throw new Error(`no HTTP status in response: ${JSON.stringify(raw.toString('latin1').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = split < 0 ? Buffer.alloc(0) : raw.subarray(split + 4);
  const body = headers['transfer-encoding']?.toLowerCase() === 'chunked' ? dechunk(rest) : rest;
  return { status: Number(match[1]), headers, body: body.toString('utf8') };
}

/** Writes `head` (request line and headers, without Host/Content-Length/Connection) and `body` byte for byte. */
export async function rawExchange(
  url: string,
  head: string[],
  body: Buffer = Buffer.alloc(0),
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => {
      const lines = [
        ...head,
        `Host: ${hostname}:${port}`,
        `Content-Length: ${body.length}`,
        'Connection: close',
        '',
        '',
      ];
      // Not end(): the server answers and closes (Connection: close); a half-closed client may get no answer.
      socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseRawResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}
