// One postgres.js client per process (one pooled connection per Lambda container). Unnamed statements
// (`prepare: false`) and no session state, so RDS Proxy never pins a session (design rule 7).
// int8 columns come back as bigint: money never passes through a JS number.
import postgres from 'postgres';

export type Sql = postgres.Sql<{ bigint: bigint }>;
export type Tx = postgres.TransactionSql<{ bigint: bigint }>;

export interface DbOptions {
  /** postgres://user:pass@host:port/db (local, external). */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  username?: string;
  /** A function is called for every new connection: IAM auth tokens live 15 minutes. */
  password?: string | (() => string | Promise<string>);
  ssl?: boolean | 'require' | { rejectUnauthorized: boolean };
  max?: number;
  applicationName?: string;
  /**
   * Local only: the role the session runs as (a startup parameter, so `reset role` returns to it), for a URL
   * whose user is the superuser. In AWS each function logs in as its own role instead (DB_USER, IAM auth).
   */
  role?: string;
}

export function createSql(options: DbOptions): Sql {
  const settings = {
    max: options.max ?? 1,
    prepare: false,
    idle_timeout: 60,
    max_lifetime: 60 * 14, // below the 15-minute lifetime of an IAM token
    connect_timeout: 10,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: {
      application_name: options.applicationName ?? 'payhooks',
      ...(options.role ? { role: options.role } : {}),
    },
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
    ...(options.database ? { database: options.database } : {}),
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
  };
  return (options.url ? postgres(options.url, settings) : postgres(settings)) as unknown as Sql;
}
