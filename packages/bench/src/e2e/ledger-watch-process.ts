// Case 7's ledger watch in a process of its own (forked from an esbuild bundle), so that its polling neither takes
// the stack's main thread (gateway, webhook handlers, poller) nor counts in payhooks' CPU: the bench excludes this
// process and its PostgreSQL backend from both sides' figures. Answers one `watch` at a time (ledger-watch.ts).
import { createSql, type Sql } from '@payhooks/core/ledger';
import { maxInboxId, watchLedger } from './ledger-watch.ts';
import type { LedgerWatchMessage, LedgerWatchReply } from './protocol.ts';

let sql: Sql | undefined;
let canStall = false;
const reply = (message: LedgerWatchReply) => process.send!(message);

async function handle(message: LedgerWatchMessage): Promise<void> {
  try {
    switch (message.type) {
      case 'connect': {
        await sql?.end();
        sql = createSql({ url: message.databaseUrl, max: 1, applicationName: 'bench-watch' });
        const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
        reply({ type: 'connected', backendPid: row!.pid });
        return;
      }
      case 'watch': {
        canStall = false;
        const result = await watchLedger(sql!, new Set(message.expected), {
          afterId: message.afterId,
          timeoutMs: message.timeoutMs,
          stallMs: message.stallMs,
          canStall: () => canStall,
        });
        reply({
          type: 'watched',
          committedMs: [...result.committedMs],
          lastCommitMs: result.lastCommitMs,
          polls: result.polls,
          lateStamped: result.lateStamped,
          missing: result.missing,
          maxId: await maxInboxId(sql!),
        });
        return;
      }
      case 'can-stall':
        canStall = message.value;
        return;
      case 'close':
        await sql?.end();
        sql = undefined;
        reply({ type: 'closed' });
        return;
    }
  } catch (error) {
    reply({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  }
}

if (process.env.PAYHOOKS_BENCH_CHILD === 'ledger-watch' && process.send) {
  // The parent going away (IPC closed) ends the watch, whatever the parent died of.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: LedgerWatchMessage) => void handle(message));
}
