#!/usr/bin/env node
// Saturates the CPU for a bounded time, so the test suite can be run the way a loaded CI machine runs it
// (batches outliving the SQS visibility timeout, redeliveries, slow timers):
//   node scripts/saturate-cpu.mjs 900 & npm test
// Arguments: duration in seconds (required, at most 3600), worker count (default: one per core).
// Stops by itself when the duration is over, or on SIGINT/SIGTERM.
import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

if (isMainThread) {
  const seconds = Number(process.argv[2]);
  const workers = process.argv[3] === undefined ? os.availableParallelism() : Number(process.argv[3]);
  if (
    !Number.isFinite(seconds) ||
    seconds <= 0 ||
    seconds > 3600 ||
    !Number.isInteger(workers) ||
    workers < 1
  ) {
    console.error('usage: node scripts/saturate-cpu.mjs <seconds 1..3600> [workers, default one per core]');
    process.exit(2);
  }
  const until = Date.now() + seconds * 1000;
  const threads = Array.from(
    { length: workers },
    () => new Worker(new URL(import.meta.url), { workerData: { until } }),
  );
  console.error(`saturate-cpu: ${workers} busy threads for ${seconds} s (pid ${process.pid})`);
  let running = threads.length;
  for (const thread of threads) {
    thread.on('exit', () => {
      running -= 1;
      if (running === 0) console.error('saturate-cpu: done');
    });
  }
  const stop = () => {
    for (const thread of threads) thread.postMessage('stop');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  // Spin in slices so a stop message (or the deadline) is noticed within a few milliseconds.
  let stopped = false;
  parentPort?.on('message', () => {
    stopped = true;
  });
  const { until } = workerData;
  let sink = 0;
  const slice = () => {
    const end = Math.min(Date.now() + 50, until);
    while (Date.now() < end) sink = (sink * 31 + 7) % 1_000_003;
    if (stopped || Date.now() >= until) {
      parentPort?.close();
      return;
    }
    setImmediate(slice);
  };
  slice();
}
