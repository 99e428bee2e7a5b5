// Database connection: a URL locally, RDS Proxy with IAM auth tokens and TLS in AWS (no password ever sits in an
// environment variable). Options come from wiring/db.ts.
import { Signer } from '@aws-sdk/rds-signer';
import { createSql, type Sql } from '@payhooks/core/ledger';

export type DatabaseOptions =
  | { url: string; maxConnections: number }
  | {
      host: string;
      port: number;
      database: string;
      username: string;
      region: string;
      maxConnections: number;
    };

export function createDatabase(options: DatabaseOptions, applicationName: string): Sql {
  const max = options.maxConnections;
  if ('url' in options) return createSql({ url: options.url, max, applicationName });
  const { host, port, username } = options;
  const signer = new Signer({ hostname: host, port, username, region: options.region });
  return createSql({
    host,
    port,
    database: options.database,
    username,
    password: () => signer.getAuthToken(),
    ssl: { rejectUnauthorized: true },
    max,
    applicationName,
  });
}
