// Finance's access to reconciliation reports over API Gateway (HTTP API, IAM/SigV4-authenticated at the API);
// the Lambda (reports.ts) and the local gateway serve it.
//   GET /reports[?provider=&account=&from=&to=]  → the current report of each provider/account/date (latest.json)
//   GET /reports/{key+}[?redirect=1]             → a short-lived pre-signed link to one file; `<provider>/<account>/
//     <date>/breaks.csv` resolves through latest.json, run keys are served as they are, nothing else is.
import type { ObjectStore } from '@payhooks/core/ports';
import {
  listReports,
  type ReportFilter,
  type ReportPointer,
  resolveReportKey,
} from '@payhooks/core/recon/run';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface ReportsDeps {
  store: ObjectStore;
  linkSeconds: number;
  /**
   * The report index in the database (listIndexedReports over recon_reports): when given, GET /reports filters in
   * SQL; without it the bucket is listed and every latest.json read (the stores written before the index).
   */
  index?: (filter: ReportFilter) => Promise<ReportPointer[]>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

export function createReports(deps: ReportsDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    if (event.requestContext?.http?.method && event.requestContext.http.method !== 'GET') {
      return json(405, { message: 'Method Not Allowed' });
    }
    const query = event.queryStringParameters ?? {};
    const key = event.pathParameters?.key;
    if (!key) {
      const provider = query.provider;
      if (provider !== undefined && provider !== 'wechatpay' && provider !== 'stripe') {
        return json(400, { message: 'provider must be wechatpay or stripe' });
      }
      let reports: ReportPointer[];
      if (deps.index) {
        if ((query.from && !DATE.test(query.from)) || (query.to && !DATE.test(query.to)))
          return json(400, { message: 'from and to must be YYYY-MM-DD' });
        reports = await deps.index({
          ...(provider ? { provider } : {}),
          ...(provider && query.account ? { account: query.account } : {}),
          ...(query.from ? { from: query.from } : {}),
          ...(query.to ? { to: query.to } : {}),
        });
      } else {
        const prefix = provider ? `${provider}/${query.account ? `${query.account}/` : ''}` : '';
        reports = (await listReports(deps.store, prefix)).filter(
          (r) => (!query.from || r.businessDate >= query.from) && (!query.to || r.businessDate <= query.to),
        );
      }
      return json(200, {
        reports: reports.map((r) => ({
          provider: r.provider,
          account: r.account,
          businessDate: r.businessDate,
          runId: r.runId,
          publishedAt: r.publishedAt,
          unhealedBreaks: r.unhealedBreaks,
          counts: r.counts,
          files: r.files,
        })),
      });
    }
    const resolved = await resolveReportKey(deps.store, key);
    if (!resolved) return json(404, { message: `no report file ${key}` });
    const url = await deps.store.link(resolved, deps.linkSeconds);
    if (query.redirect === '1' || query.redirect === 'true') {
      return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
    }
    return json(200, {
      key: resolved,
      url,
      expiresAt: new Date(Date.now() + deps.linkSeconds * 1000).toISOString(),
    });
  };
}
