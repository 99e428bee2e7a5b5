// Sends a request byte for byte over a socket, for inputs fetch refuses to produce (CRLF in header values,
// non-Latin-1 header bytes, duplicated headers). Returns the status line's code.
import net from 'node:net';

export async function rawRequest(
  url: string,
  head: string[],
  body: Buffer = Buffer.alloc(0),
): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
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
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`no HTTP status in response: ${JSON.stringify(response.slice(0, 80))}`));
    });
  });
}
