// The folder ObjectStore and the reports route on top of it, on a real temporary folder.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createReports } from '@payhooks/functions/reports';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFolderStore } from '../src/folder-store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const event = (key?: string, query?: Record<string, string>) =>
  ({
    pathParameters: key ? { key } : undefined,
    queryStringParameters: query,
    requestContext: { http: { method: 'GET' } },
  }) as unknown as APIGatewayProxyEventV2;

describe('folder object store', () => {
  it('puts, gets, lists and links keys as files; refuses traversal', async () => {
    const store = createFolderStore(dir);
    await store.put('wechatpay/1/2025-03-01/runs/r1/breaks.csv', '\uFEFFclass,商户订单号\r\n', 'text/csv');
    await store.put('stripe/platform/2025-03-01/latest.json', '{}', 'application/json');
    const bytes = (await store.get('wechatpay/1/2025-03-01/runs/r1/breaks.csv'))!;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toContain('商户订单号');
    expect(await store.get('nope')).toBeUndefined();
    expect(await store.list('')).toEqual([
      'stripe/platform/2025-03-01/latest.json',
      'wechatpay/1/2025-03-01/runs/r1/breaks.csv',
    ]);
    expect(await store.list('wechatpay/')).toEqual(['wechatpay/1/2025-03-01/runs/r1/breaks.csv']);
    const link = await store.link('wechatpay/1/2025-03-01/runs/r1/breaks.csv', 60);
    expect(await readFile(fileURLToPath(link), 'utf8')).toContain('商户订单号');
    await expect(store.put('../escape', 'x', 'text/plain')).rejects.toThrow(/not a valid object key/);
  });

  it('the reports route lists latest pointers and links files through them, nothing else', async () => {
    const store = createFolderStore(dir);
    const files = {
      'summary.json': 'wechatpay/1900000109/2025-03-01/runs/r2/summary.json',
      'breaks.csv': 'wechatpay/1900000109/2025-03-01/runs/r2/breaks.csv',
      'matched.csv': 'wechatpay/1900000109/2025-03-01/runs/r2/matched.csv',
    };
    for (const key of Object.values(files)) await store.put(key, 'x', 'text/plain');
    await store.put(
      'wechatpay/1900000109/2025-03-01/quarantine/r1/tradebill.csv.gz',
      'x',
      'application/octet-stream',
    );
    await store.put(
      'wechatpay/1900000109/2025-03-01/latest.json',
      JSON.stringify({
        provider: 'wechatpay',
        account: '1900000109',
        businessDate: '2025-03-01',
        runId: 'r2',
        unhealedBreaks: 3,
        counts: {},
        files,
      }),
      'application/json',
    );
    const reports = createReports({ store, linkSeconds: 60 });
    const listed = JSON.parse((await reports(event(undefined, { provider: 'wechatpay' }))).body as string);
    expect(listed.reports).toHaveLength(1);
    expect(listed.reports[0]).toMatchObject({ runId: 'r2', unhealedBreaks: 3 });
    const linked = await reports(event('wechatpay/1900000109/2025-03-01/breaks.csv'));
    expect(linked.statusCode).toBe(200);
    expect(JSON.parse(linked.body as string)).toMatchObject({ key: files['breaks.csv'] });
    expect(
      (await reports(event('wechatpay/1900000109/2025-03-01/quarantine/r1/tradebill.csv.gz'))).statusCode,
    ).toBe(404);
    expect((await reports(event('../../etc/passwd'))).statusCode).toBe(404);
    const redirect = await reports(event('wechatpay/1900000109/2025-03-01/summary.json', { redirect: '1' }));
    expect(redirect.statusCode).toBe(302);
    expect(String(redirect.headers?.location)).toMatch(/^file:\/\//);
  });
});
