// The reports API's dependencies from the environment: the reports bucket, the lifetime of its links and, when the
// function can reach the ledger database (DATABASE_URL or DB_HOST), the report index GET /reports filters in SQL.

import { listIndexedReports } from '@payhooks/core/recon/run';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createReports, type ReportsDeps } from '../adapters/reports-api.ts';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { type Env, integer } from '../config.ts';
import { sqlFromEnv } from './db.ts';

export function createReportsHandler(env: Env, overrides: Partial<ReportsDeps> = {}) {
  let deps: ReportsDeps | undefined;
  return (event: APIGatewayProxyEventV2) => {
    deps ??= {
      store: overrides.store ?? s3StoreFromEnv(env),
      linkSeconds: overrides.linkSeconds ?? integer(env, 'REPORT_LINK_SECONDS', 300),
      ...reportIndexFromEnv(env, overrides),
    };
    return createReports(deps)(event);
  };
}

function reportIndexFromEnv(env: Env, overrides: Partial<ReportsDeps>): Pick<ReportsDeps, 'index'> {
  if (overrides.index) return { index: overrides.index };
  if (!env.DATABASE_URL && !env.DB_HOST) return {};
  const sql = sqlFromEnv(env, 'payhooks-reports');
  return { index: (filter) => listIndexedReports(sql, filter) };
}
