// Case 7's load generator, in its own process (forked from an esbuild bundle) so that neither side's CPU figure
// includes it. Closed loop over loopback: `concurrency` keep-alive connections each send their next delivery when
// the previous answer arrived. Records, per event id, when the bench first sent it and first got an answer
// (epoch milliseconds, performance.timeOrigin + now(), comparable with PostgreSQL's clock on the same machine).
import http from 'node:http';
import type { LoadWorkerMessage, LoadWorkerResult } from './protocol.ts';

const epochMs = () => performance.timeOrigin + performance.now();

let deliveries: { eventId: string; path: string; body: Buffer; headers: Record<string, string> }[] = [];

async function run(url: string, concurrency: number, expectStatus: number): Promise<LoadWorkerResult> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error('load generation runs over loopback (127.0.0.1) only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses: Record<string, number> = {};
  const firstSentMs: Record<string, number> = {};
  const firstAnsweredMs: Record<string, number> = {};
  let next = 0;
  const send = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const d = deliveries[index]!;
      firstSentMs[d.eventId] ??= epochMs();
      const request = http.request(
        { agent, host: target.hostname, port: target.port, method: 'POST', path: d.path, headers: d.headers },
        (response) => {
          response.resume();
          response.on('end', () => {
            firstAnsweredMs[d.eventId] ??= epochMs();
            const code = String(response.statusCode);
            statuses[code] = (statuses[code] ?? 0) + 1;
            resolve();
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(d.body);
    });
  const worker = async () => {
    while (next < deliveries.length) await send(next++);
  };
  const startedAtMs = epochMs();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const finishedAtMs = epochMs();
  const unexpected = Object.keys(statuses).filter((code) => Number(code) !== expectStatus);
  return {
    type: 'done',
    requests: deliveries.length,
    startedAtMs,
    finishedAtMs,
    statuses,
    firstSentMs,
    firstAnsweredMs,
    ...(unexpected.length > 0 ? { error: `unexpected HTTP statuses: ${JSON.stringify(statuses)}` } : {}),
  };
}

// Only as the forked child (the parent sets the role), never in a process that imports this module.
if (process.env.PAYHOOKS_BENCH_CHILD === 'load-worker') {
  process.on('message', (message: LoadWorkerMessage) => {
    if (message.type === 'load') {
      deliveries = message.deliveries.map((d) => {
        const body = Buffer.from(d.body, 'utf8');
        return { ...d, body, headers: { ...d.headers, 'content-length': String(body.length) } };
      });
      process.send!({ type: 'loaded' });
    } else {
      run(message.url, message.concurrency, message.expectStatus).then(
        (result) => process.send!(result),
        (error: unknown) => process.send!({ type: 'done', error: String(error) }),
      );
    }
  });
  process.on('disconnect', () => process.exit(0));
}
