// Database connection: a URL locally, RDS Proxy with IAM auth tokens and TLS in AWS (no password ever sits in an
// environment variable). Options come from wiring/db.ts.
import { createSql, type Sql } from '@payhooks/core/ledger';

export type DatabaseOptions =
  | { url: string; maxConnections: number; role?: string }
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
  if ('url' in options)
    return createSql({
      url: options.url,
      max,
      applicationName,
      ...(options.role ? { role: options.role } : {}),
    });
  const { host, port, username } = options;
  // The signer (and the SDK code under it) loads with the first connection, not with the module: a local
  // database never needs it, and a cold start does not pay for it before the handler opens a connection.
  let signer: Promise<{ getAuthToken(): Promise<string> }> | undefined;
  const authToken = async () => {
    signer ??= import('@aws-sdk/rds-signer').then(
      ({ Signer }) => new Signer({ hostname: host, port, username, region: options.region }),
    );
    return (await signer).getAuthToken();
  };
  return createSql({
    host,
    port,
    database: options.database,
    username,
    password: authToken,
    ssl: { rejectUnauthorized: true },
    max,
    applicationName,
  });
}
