// A closed-loop HTTP load generator over loopback: `concurrency` keep-alive connections, each sending its next
// request as soon as the previous answer arrived, until `total` requests were answered. Bounded and self-stopping.
import http from 'node:http';
import { now, percentile } from './stats.ts';

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers by status code; anything but the expected one fails the run. */
  statuses: Record<string, number>;
}

export async function runLoad(options: {
  url: string;
  requests: readonly LoadRequest[];
  total: number;
  concurrency: number;
  expectStatus: number;
  /** Default POST (the webhooks); GET for the order-status API (bodies are then empty). */
  method?: 'GET' | 'POST';
}): Promise<LoadResult> {
  const target = new URL(options.url);
  if (target.hostname !== '127.0.0.1') throw new Error('load generation runs over loopback (127.0.0.1) only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const prepared = options.requests.map((r) => {
    const body = Buffer.from(r.body, 'utf8');
    return { path: r.path, body, headers: { ...r.headers, 'content-length': String(body.length) } };
  });
  const latencies = new Float64Array(options.total);
  const statuses: Record<string, number> = {};
  let next = 0;
  const send = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const r = prepared[index % prepared.length]!;
      const started = now();
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: options.method ?? 'POST',
          path: r.path,
          headers: r.headers,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies[index] = now() - started;
            const code = String(response.statusCode);
            statuses[code] = (statuses[code] ?? 0) + 1;
            resolve();
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(r.body);
    });
  const worker = async () => {
    while (next < options.total) await send(next++);
  };
  const started = now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (now() - started) / 1000;
  const unexpected = Object.entries(statuses).filter(([code]) => Number(code) !== options.expectStatus);
  if (unexpected.length > 0) throw new Error(`unexpected HTTP statuses: ${JSON.stringify(statuses)}`);
  const all = Array.from(latencies);
  return {
    requests: options.total,
    seconds,
    requestsPerSecond: options.total / seconds,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    statuses,
  };
}

/** The baseline server: bare node:http, reads the body and answers 204. */
export async function startBareServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(204);
      response.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
