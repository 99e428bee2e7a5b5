// What case 7's parent process and its two forked children (load-worker.ts, baseline-server.ts) say to each other,
// and the baseline's table. Kept apart from the child scripts: importing those would run them (they listen on
// the process's IPC channel), which the bench process itself must never do.
import type { Delivery } from './deliveries.ts';

export type LoadWorkerMessage =
  | { type: 'load'; deliveries: Delivery[] }
  | { type: 'run'; url: string; concurrency: number; expectStatus: number };

export interface LoadWorkerResult {
  type: 'done';
  requests: number;
  startedAtMs: number;
  finishedAtMs: number;
  statuses: Record<string, number>;
  firstSentMs: Record<string, number>;
  firstAnsweredMs: Record<string, number>;
  error?: string;
}

export interface BaselineConfig {
  type: 'config';
  databaseUrl: string;
  stripeSecret: string;
  merchants: { id: string; apiv3Key: string; keys: { serial: string; publicKeyPem: string }[] }[];
}

export const BASELINE_TABLE_SQL = `
  create table if not exists baseline_events (
    provider text not null,
    object_id text not null,
    event_id text not null,
    event_type text not null,
    occurred_at timestamptz not null,
    payload jsonb not null,
    primary key (provider, object_id)
  )`;

/** The ledger watch's process (ledger-watch-process.ts): what it is asked and what it answers. */
export type LedgerWatchMessage =
  | { type: 'connect'; databaseUrl: string }
  | {
      type: 'watch';
      expected: string[];
      afterId: number;
      timeoutMs: number;
      stallMs?: number;
    }
  /** Whether the load is done and the main queue empty: only then may the watch give up after `stallMs`. */
  | { type: 'can-stall'; value: boolean }
  | { type: 'close' };

export type LedgerWatchReply =
  | { type: 'connected'; backendPid: number }
  | {
      type: 'watched';
      committedMs: [string, number][];
      lastCommitMs: number;
      polls: number;
      lateStamped: number;
      missing: number;
      maxId: number;
    }
  | { type: 'failed'; error: string }
  | { type: 'closed' };
