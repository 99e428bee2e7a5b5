// GET /reports from the database index (recon_reports, written with each run's success): filtered in SQL by
// provider, account and dates, without listing the bucket or reading latest.json; a failed forced re-run leaves
// the published report listed. Real runs (reconcile) on an embedded Postgres, folder store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ObjectStore } from '@payhooks/core/ports';
import {
  fileSource,
  listIndexedReports,
  listReports,
  type ReconLine,
  reconcile,
  type SourceFile,
} from '@payhooks/core/recon/run';
import { createFolderStore } from '@payhooks/local/folder-store';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReports } from '../src/adapters/reports-api.ts';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'payhooks-reports-index-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function file(name: string, fail = false): SourceFile {
  return {
    name,
    lines: (async function* (): AsyncGenerator<ReconLine> {
      if (fail) throw new Error('the file broke');
      yield* [];
    })(),
    evidence: () => ({
      name,
      empty: true,
      expectedSha1: null,
      sha1Downloaded: null,
      sha1Plaintext: null,
      sha256Downloaded: null,
      bytes: 0,
      rows: 0,
      totals: {},
    }),
    kept: async () => [],
    dispose: async () => {},
  };
}

const get = (query: Record<string, string>) =>
  ({
    queryStringParameters: query,
    requestContext: { http: { method: 'GET' } },
  }) as unknown as APIGatewayProxyEventV2;

describe('GET /reports from the database index', () => {
  it('filters by provider, account and dates in SQL, never touching the bucket', async () => {
    const store = createFolderStore(path.join(dir, 'reports'));
    const clock = { now: () => new Date('2025-04-01T00:00:00Z') };
    const run = (provider: 'wechatpay' | 'stripe', account: string, date: string, fail = false) =>
      reconcile(
        { sql: db.sql, store, clock, logger: quiet },
        {
          source: fileSource(provider, account, async function* () {
            yield file(provider === 'wechatpay' ? 'tradebill' : 'balance_change', fail);
          }),
          businessDate: date,
          force: true,
        },
      );
    const runs: Record<string, string | null> = {};
    for (const date of ['2025-03-01', '2025-03-02', '2025-03-03'])
      runs[`wx ${date}`] = (await run('wechatpay', '1900000109', date)).runId;
    runs['wx other'] = (await run('wechatpay', '1900000110', '2025-03-02')).runId;
    runs.stripe = (await run('stripe', '', '2025-03-02')).runId;
    // A forced re-run that fails: the report published before stays the current one.
    expect((await run('wechatpay', '1900000109', '2025-03-03', true)).status).toBe('failed');

    const untouchable: ObjectStore = {
      ...store,
      list: async () => {
        throw new Error('the bucket must not be listed');
      },
      get: async () => {
        throw new Error('no latest.json must be read');
      },
    };
    const api = createReports({
      store: untouchable,
      linkSeconds: 60,
      index: (filter) => listIndexedReports(db.sql, filter),
    });
    const answer = await api(get({ provider: 'wechatpay', account: '1900000109', from: '2025-03-02' }));
    expect(answer.statusCode).toBe(200);
    const body = JSON.parse(answer.body!) as { reports: { businessDate: string; runId: string }[] };
    expect(body.reports.map((r) => [r.businessDate, r.runId])).toEqual([
      ['2025-03-02', runs['wx 2025-03-02']],
      ['2025-03-03', runs['wx 2025-03-03']],
    ]);
    const platform = JSON.parse(
      (await api(get({ provider: 'stripe', account: 'platform', to: '2025-03-02' }))).body!,
    ) as { reports: { runId: string }[] };
    expect(platform.reports.map((r) => r.runId)).toEqual([runs.stripe]);
    expect((await api(get({ from: '2025-3-1' }))).statusCode).toBe(400);

    // The index says what the bucket's latest.json pointers say.
    const fromBucket = await listReports(store, '');
    const fromIndex = await listIndexedReports(db.sql);
    const key = (r: { provider: string; account: string; businessDate: string }) =>
      `${r.provider}/${r.account}/${r.businessDate}`;
    expect(fromIndex.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      fromBucket.sort((a, b) => key(a).localeCompare(key(b))),
    );
  });
});
