// The reports API's dependencies from the environment: the reports bucket and the lifetime of its links.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createReports, type ReportsDeps } from '../adapters/reports-api.ts';
import { s3StoreFromEnv } from '../adapters/s3-store.ts';
import { type Env, integer } from '../config.ts';

export function createReportsHandler(env: Env, overrides: Partial<ReportsDeps> = {}) {
  let deps: ReportsDeps | undefined;
  return (event: APIGatewayProxyEventV2) => {
    deps ??= {
      store: overrides.store ?? s3StoreFromEnv(env),
      linkSeconds: overrides.linkSeconds ?? integer(env, 'REPORT_LINK_SECONDS', 300),
    };
    return createReports(deps)(event);
  };
}
