// Fault injection for reliability tests: a TCP pass-through that can be switched off (the queue "down" for
// ingress while the emulator keeps its state), and a sampler of database connections per application name.
import net from 'node:net';
import type { Sql } from '@payhooks/core/ledger';

export interface Switch {
  port: number;
  url: string;
  up: boolean;
  setUp(up: boolean): void;
  stop(): Promise<void>;
}

/** Forwards TCP to `target`; while down it resets every connection, including open keep-alive ones. */
export async function startSwitch(target: { host: string; port: number }): Promise<Switch> {
  const sockets = new Set<net.Socket>();
  const state = { up: true };
  const server = net.createServer((client) => {
    if (!state.up) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pipe(upstream).pipe(client);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get up() {
      return state.up;
    },
    setUp(up: boolean) {
      state.up = up;
      if (!up) for (const socket of sockets) socket.resetAndDestroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Samples how many connections an application holds, until stopped; returns the peak. */
export function sampleConnections(
  sql: Sql,
  applicationName: string,
  everyMs = 20,
): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where application_name = ${applicationName} and datname = current_database()`;
      peak = Math.max(peak, rows[0]?.n ?? 0);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
