// Case 7's measuring parts: the delivery mix (redeliveries, out of order) and CPU accounting from /proc, including
// processes that exit during a window and subtrees that must not count.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { planDeliveries, type UniqueEvent } from '../src/e2e/deliveries.ts';
import { parseStat, treeCpuSeconds } from '../src/e2e/proc-cpu.ts';

const fakeEvents = (count: number): UniqueEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    eventId: `evt_${i}`,
    path: '/webhooks/stripe',
    body: `{"id":"evt_${i}"}`,
    sign: () => ({}),
  }));

/**
 * A child that burns a fixed amount of CPU, prints its own process.cpuUsage() in seconds, then exits — or, with
 * `stay`, keeps running idle until killed.
 */
function burn(stay: boolean): { pid: number; usage: Promise<number>; kill(): void } {
  const script = `
    const { createHash } = require('node:crypto');
    let h = 'x';
    for (let i = 0; i < 60000; i++) h = createHash('sha256').update(h).digest('hex');
    const u = process.cpuUsage();
    process.stdout.write(String((u.user + u.system) / 1e6) + '\\n');
    ${stay ? 'setInterval(() => {}, 1000);' : ''}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const usage = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      if (!stay) child.once('exit', () => resolve(Number(out)));
      else resolve(Number(out));
    });
    child.once('error', reject);
  });
  return { pid: child.pid!, usage, kill: () => child.kill() };
}

describe('case 7 delivery plan', () => {
  it('has 20 % redeliveries, each after its first delivery, and about 10 % of events moved later', () => {
    // Prepare
    const events = fakeEvents(800);

    // Act
    const plan = planDeliveries(events, { redeliveryShare: 0.2, outOfOrderShare: 0.1, seed: 5 });

    // Assess
    expect(plan.length).toBe(1000);
    expect(plan.filter((d) => d.attempt > 0).length).toBe(200);
    const firstAt = new Map<UniqueEvent, number>();
    plan.forEach((d, position) => {
      if (d.attempt === 0) firstAt.set(d.event, position);
      else expect(firstAt.has(d.event)).toBe(true);
    });
    expect(firstAt.size).toBe(800);
    // An event is out of order when an event later in event time was first delivered before it.
    const firsts = plan.filter((d) => d.attempt === 0).map((d) => events.indexOf(d.event));
    let maxSoFar = -1;
    let late = 0;
    for (const index of firsts) {
      if (index < maxSoFar) late += 1;
      maxSoFar = Math.max(maxSoFar, index);
    }
    expect(late / events.length).toBeGreaterThan(0.05);
    expect(late / events.length).toBeLessThan(0.15);
  });
});

describe('case 7 CPU accounting from /proc', () => {
  it('parses a stat line whose command holds spaces and parentheses', () => {
    const line = '4242 (node (worker) x) S 17 4242 4242 0 -1 4194560 900 0 0 0 150 25 7 3 20 0 11 0 100 0 0';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, self: 175, reaped: 10 });
  });

  it('counts a child that exited during the window and skips an excluded live one', async () => {
    // Prepare
    const before = treeCpuSeconds([process.pid]);

    // Act: one child runs to completion (reaped: its CPU moves into our cutime) …
    const exited = await burn(false).usage;
    const afterExited = treeCpuSeconds([process.pid]);
    // … one stays alive after burning, excluded from one of two views of the same window.
    const alive = burn(true);
    const exclude = new Set([alive.pid]);
    const beforeAll = treeCpuSeconds([process.pid]);
    const beforeExcluded = treeCpuSeconds([process.pid], exclude);
    const aliveUsage = await alive.usage;
    const all = treeCpuSeconds([process.pid]) - beforeAll;
    const withoutIt = treeCpuSeconds([process.pid], exclude) - beforeExcluded;
    alive.kill();

    // Assess: within a clock tick or two.
    expect(exited).toBeGreaterThan(0.05);
    expect(afterExited - before).toBeGreaterThanOrEqual(exited - 0.02);
    expect(aliveUsage).toBeGreaterThan(0.05);
    expect(all - withoutIt).toBeGreaterThan(aliveUsage / 2);
    expect(withoutIt).toBeLessThan(aliveUsage / 2);
  });
});
