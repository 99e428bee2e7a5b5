// refreshingValue: the webhook's verify-part cache. A stale read answers at once with the current value and
// starts one background re-read; a failed re-read keeps the current value and waits one TTL.
import { describe, expect, it } from 'vitest';
import { refreshingValue } from '../src/wiring/refreshing.ts';
import { createRawPayloadPurgeHandler } from '../src/wiring/retention.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('refreshingValue', () => {
  it('never waits for a re-read, replaces the value once it arrives, and keeps it when a re-read fails', async () => {
    // Prepare
    let now = 0;
    const loads: ReturnType<typeof deferred<string>>[] = [];
    const errors: unknown[] = [];
    const value = refreshingValue({
      load: () => {
        const next = deferred<string>();
        loads.push(next);
        return next.promise;
      },
      ttlMs: 1000,
      clock: { now: () => new Date(now) },
      onReloadError: (error) => errors.push(error),
    });

    // Act + Assess: the cold start waits for the first load.
    const first = value.get();
    loads[0]!.resolve('v1');
    expect(await first).toBe('v1');
    expect(value.current()).toBe('v1');
    expect(loads).toHaveLength(1);

    // Stale: answered at once with v1, one re-read started, not two.
    now = 1000;
    expect(value.current()).toBe('v1');
    expect(value.current()).toBe('v1');
    expect(loads).toHaveLength(2);
    loads[1]!.resolve('v2');
    await value.settled();
    expect(value.current()).toBe('v2');

    // A failed re-read keeps v2 and is not retried before another TTL.
    now = 2000;
    expect(value.current()).toBe('v2');
    loads[2]!.reject(new Error('ssm down'));
    await value.settled();
    expect(errors).toHaveLength(1);
    now = 2500;
    expect(value.current()).toBe('v2');
    expect(loads).toHaveLength(3);
    now = 3000;
    value.current();
    expect(loads).toHaveLength(4);
  });
});

describe('raw payload purge handler', () => {
  it('refuses to run without RAW_PAYLOAD_RETENTION_DAYS, naming the variable', async () => {
    const run = createRawPayloadPurgeHandler({ DATABASE_URL: 'postgres://unused@127.0.0.1:9/none' });
    await expect(run()).rejects.toThrow(/RAW_PAYLOAD_RETENTION_DAYS/);
  });
});
