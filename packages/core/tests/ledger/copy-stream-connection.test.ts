// patches/postgres+3.4.9.patch, CopyDone: when the last CopyData of a COPY … TO STDOUT arrives in the same socket
// chunk as CopyDone and fills the readable stream past its high-water mark, postgres.js paused the socket and nothing
// ever resumed it — the next query on that connection hung (upstream porsager/postgres#1016). matched.csv is
// written this way on the reconciliation's one connection, and the run then hung before publishing.
import { createSql } from '@payhooks/core/ledger';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

/** Rejects if `promise` has not settled within `ms`: a hang guard, far above the milliseconds the query takes. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: the connection hangs`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

describe('postgres.js after a COPY TO STDOUT stream', () => {
  it('answers the next query on the same connection once the stream was read to its end', async () => {
    const sql = createSql({ url: db.url, max: 1 });
    try {
      // ≈ 40 KB: more than the stream's 16 KiB high-water mark, little enough to arrive in one socket chunk together
      // with CopyDone; the stream is read only after all of it arrived, so the pushes pass the mark.
      const stream = await sql
        .unsafe(`copy (select repeat('x', 200) from generate_series(1, 200)) to stdout`)
        .readable();
      await new Promise((resolve) => stream.once('readable', resolve));
      let bytes = 0;
      for await (const chunk of stream) bytes += (chunk as Buffer).length;
      expect(bytes).toBe(200 * 201);
      const [row] = await withinMs(sql<{ answer: number }[]>`select 42 as answer`, 15_000);
      expect(row!.answer).toBe(42);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
