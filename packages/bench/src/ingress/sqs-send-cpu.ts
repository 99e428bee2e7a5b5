// CPU of the SQS client itself per SendMessage, against an endpoint in another process that answers at once
// (a valid SendMessage JSON response with the body's MD5), so the figure is the client's work alone:
// serialisation, SigV4, middleware, MD5 (when on), HTTP. Beside it, a bare SigV4-signed request on a
// keep-alive agent: the least any client must do to send one message; and the webhooks' lean sender
// (adapters/sqs-send.ts: the SDK's signer, no client), with and without its MD5 check of the answer.
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sqsClientFromEnv } from '@payhooks/functions/adapters/sqs';
import { createSqsSender } from '@payhooks/functions/wiring/queue';
import { median } from '../stats.ts';

// The endpoint: answers every POST with SendMessage's JSON response (AWS JSON 1.0 protocol).
const SERVER = `
const http = require('node:http');
const crypto = require('node:crypto');
let n = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const md5 = crypto.createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
    const body = JSON.stringify({ MessageId: 'm-' + ++n, MD5OfMessageBody: md5 });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startEndpoint(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

const sha256 = (data: string) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: crypto.BinaryLike, data: string) =>
  crypto.createHmac('sha256', key).update(data, 'utf8').digest();

/** SendMessage as one SigV4-signed POST (the signing key derived once per day, as any client caches it). */
function bareSender(endpoint: string, queueUrl: string, region = 'us-east-1') {
  const url = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let keyDay = '';
  let signingKey = Buffer.alloc(0);
  return (body: string) =>
    new Promise<string>((resolve, reject) => {
      const payload = JSON.stringify({ QueueUrl: queueUrl, MessageBody: body });
      const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
      const day = amzDate.slice(0, 8);
      if (day !== keyDay) {
        signingKey = hmac(hmac(hmac(hmac('AWS4local', day), region), 'sqs'), 'aws4_request');
        keyDay = day;
      }
      const headers = `content-type:application/x-amz-json-1.0\nhost:${url.host}\nx-amz-date:${amzDate}\nx-amz-target:AmazonSQS.SendMessage\n`;
      const signed = 'content-type;host;x-amz-date;x-amz-target';
      const canonical = `POST\n/\n\n${headers}\n${signed}\n${sha256(payload)}`;
      const scope = `${day}/${region}/sqs/aws4_request`;
      const signature = hmac(
        signingKey,
        `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`,
      ).toString('hex');
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-date': amzDate,
            'x-amz-target': 'AmazonSQS.SendMessage',
            authorization: `AWS4-HMAC-SHA256 Credential=local/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { MessageId?: string };
            if (res.statusCode !== 200 || !answer.MessageId)
              reject(new Error(`bare send: ${res.statusCode}`));
            else resolve(answer.MessageId);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
}

/** CPU µs (user + system of this process) per call, over `count` sequential calls. */
async function cpuPerCall(
  count: number,
  bodies: readonly string[],
  send: (body: string) => Promise<unknown>,
) {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await send(bodies[i % bodies.length]!);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

export interface SqsSendCpu {
  /** Per repetition, CPU µs per SendMessage. */
  shipped: number[];
  sdkDefaults: number[];
  bare: number[];
  /** The webhooks' sender as shipped (MD5 of the answer checked). */
  lean: number[];
  leanNoMd5: number[];
}

/** The shipped producer client (send-only), the SDK with its defaults (MD5 on), and the bare signed request. */
export async function measureSqsSendCpu(options: { count: number; reps: number; bodies: readonly string[] }) {
  const { url, child } = await startEndpoint();
  try {
    const queueUrl = `${url}/000000000000/bench`;
    const env = { SQS_ENDPOINT: url, AWS_REGION: 'us-east-1' };
    const shippedClient = sqsClientFromEnv(env, { sendOnly: true });
    const defaultClient = new SQSClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const viaSdk = (client: SQSClient) => (body: string) =>
      client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const leanOptions = {
      queueUrl,
      region: 'us-east-1',
      endpoint: url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const lean = createSqsSender(leanOptions);
    const leanNoMd5 = createSqsSender({ ...leanOptions, checkMd5: false });
    const sides = {
      shipped: viaSdk(shippedClient),
      sdkDefaults: viaSdk(defaultClient),
      bare: bareSender(url, queueUrl),
      lean: (body: string) => lean.send(body),
      leanNoMd5: (body: string) => leanNoMd5.send(body),
    };
    const out: SqsSendCpu = { shipped: [], sdkDefaults: [], bare: [], lean: [], leanNoMd5: [] };
    const warm = Math.max(5, Math.floor(options.count / 4));
    for (const send of Object.values(sides)) await cpuPerCall(warm, options.bodies, send);
    for (let r = 0; r < options.reps; r++) {
      const forward: (keyof SqsSendCpu)[] = ['shipped', 'sdkDefaults', 'bare', 'lean', 'leanNoMd5'];
      const order = r % 2 === 0 ? forward : [...forward].reverse();
      for (const side of order) out[side].push(await cpuPerCall(options.count, options.bodies, sides[side]));
    }
    shippedClient.destroy();
    defaultClient.destroy();
    lean.close();
    leanNoMd5.close();
    return {
      ...out,
      medianUs: {
        shipped: median(out.shipped),
        sdkDefaults: median(out.sdkDefaults),
        bare: median(out.bare),
        lean: median(out.lean),
        leanNoMd5: median(out.leanNoMd5),
      },
    };
  } finally {
    child.kill();
  }
}
