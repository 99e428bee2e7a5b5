// The S3 ObjectStore adapter, offline: commands are captured from a stub client (no AWS call), and pre-signed
// links are computed locally by the SDK's presigner with static credentials.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, type ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Store, MAX_LINK_SECONDS } from '../src/adapters/s3-store.ts';

function stubClient(answers: (command: unknown) => unknown) {
  const client = new S3Client({
    region: 'ap-southeast-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  const sent: unknown[] = [];
  (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command) => {
    sent.push(command);
    return answers(command);
  };
  return { client, sent };
}

describe('S3 object store', () => {
  it('puts with bucket, key, content type and UTF-8 bytes', async () => {
    const { client, sent } = stubClient(() => ({}));
    await createS3Store(client, 'reports-bucket').put(
      'wechatpay/1/2025-03-01/latest.json',
      '{"a":"订单"}',
      'application/json',
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(PutObjectCommand);
    const input = (sent[0] as PutObjectCommand).input;
    expect(input).toMatchObject({
      Bucket: 'reports-bucket',
      Key: 'wechatpay/1/2025-03-01/latest.json',
      ContentType: 'application/json',
    });
    expect(Buffer.from(input.Body as Uint8Array).toString('utf8')).toBe('{"a":"订单"}');
  });

  it('uploads a file as a stream with its length (large reports never sit in memory)', async () => {
    const { client, sent } = stubClient(() => ({}));
    const dir = await mkdtemp(path.join(os.tmpdir(), 's3-store-'));
    const file = path.join(dir, 'matched.csv');
    await writeFile(file, 'a,b\r\n1,2\r\n');
    await createS3Store(client, 'reports-bucket').putFile(
      'stripe/platform/2025-03-01/runs/r/matched.csv',
      file,
      'text/csv',
    );
    const input = (sent[0] as PutObjectCommand).input;
    expect(input).toMatchObject({
      Bucket: 'reports-bucket',
      Key: 'stripe/platform/2025-03-01/runs/r/matched.csv',
      ContentLength: 10,
      ContentType: 'text/csv',
    });
    expect(input.Body).toBeInstanceOf(Readable);
    (input.Body as Readable).destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets bytes, and undefined for NoSuchKey', async () => {
    const { client, sent } = stubClient((command) => {
      const key = (command as GetObjectCommand).input.Key;
      if (key === 'missing') throw Object.assign(new Error('gone'), { name: 'NoSuchKey' });
      return { Body: { transformToByteArray: async () => new Uint8Array([1, 2, 3]) } };
    });
    const store = createS3Store(client, 'b');
    expect([...((await store.get('stripe/platform/x')) ?? [])]).toEqual([1, 2, 3]);
    expect(await store.get('missing')).toBeUndefined();
    expect(sent[0]).toBeInstanceOf(GetObjectCommand);
  });

  it('lists every page under a prefix', async () => {
    const { client, sent } = stubClient((command) => {
      const token = (command as ListObjectsV2Command).input.ContinuationToken;
      return token
        ? { Contents: [{ Key: 'stripe/c' }], IsTruncated: false }
        : {
            Contents: [{ Key: 'stripe/a' }, { Key: 'stripe/b' }],
            IsTruncated: true,
            NextContinuationToken: 't2',
          };
    });
    expect(await createS3Store(client, 'b').list('stripe/')).toEqual(['stripe/a', 'stripe/b', 'stripe/c']);
    expect(sent.map((c) => (c as ListObjectsV2Command).input)).toEqual([
      { Bucket: 'b', Prefix: 'stripe/', ContinuationToken: undefined },
      { Bucket: 'b', Prefix: 'stripe/', ContinuationToken: 't2' },
    ]);
  });

  it('links are pre-signed GETs for the key, short-lived and capped', async () => {
    const { client, sent } = stubClient(() => ({}));
    const store = createS3Store(client, 'reports-bucket');
    const url = new URL(await store.link('wechatpay/1900000109/2025-03-01/runs/r1/breaks.csv', 300));
    expect(url.hostname).toContain('reports-bucket');
    expect(url.pathname).toBe('/wechatpay/1900000109/2025-03-01/runs/r1/breaks.csv');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    const capped = new URL(await store.link('k', 999_999));
    expect(capped.searchParams.get('X-Amz-Expires')).toBe(String(MAX_LINK_SECONDS));
    expect(sent).toHaveLength(0); // presigning sends nothing
  });
});
