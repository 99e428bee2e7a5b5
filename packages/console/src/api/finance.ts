// The finance routes. Reading (overview, series, break queue and detail) is open to finance and ops; acting on a
// break (assign, note, resolve, write off), report downloads and file uploads are finance's alone. Every action
// records the signed-in user (from the verified claims) as the actor in the break's audit trail.
import path from 'node:path';
import {
  assignBreak,
  BREAK_CODES,
  BREAK_STATES,
  BreakError,
  type BreakListFilter,
  type BreakState,
  getBreak,
  listBreaks,
  listIndexedReports,
  noteBreak,
  previousBusinessDate,
  reconOverview,
  reconSeries,
  resolveBreak,
  resolveReportKey,
  writeOffBreak,
} from '@payhooks/core/recon/run';
import type { ConsoleApiDeps, ReconUploads } from './deps.ts';
import { badRequest, ConsoleApiError, notFound } from './errors.ts';
import { json } from './http.ts';
import type { ApiRoute, Role, RouteContext } from './types.ts';

const READERS: readonly Role[] = ['finance', 'ops'];
const FINANCE: readonly Role[] = ['finance'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PROVIDERS = ['wechatpay', 'stripe'] as const;
type Provider = (typeof PROVIDERS)[number];
const REPORT_FILES = ['summary.json', 'breaks.csv', 'matched.csv'] as const;
/** Largest bill/report file the console takes (base64 in JSON stays under API Gateway's 10 MB and Lambda's 6 MB). */
export const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;
/** An uploaded file's key as the upload port makes it (never a status object or another prefix). */
const UPLOAD_KEY = /^uploads\/[\w-]+\/[\w-]+\/\d{4}-\d{2}-\d{2}\/[\w.-]+$/;

const STATUS_OF_BREAK_CODE: Record<string, number> = {
  [BREAK_CODES.notFound]: 404,
  [BREAK_CODES.invalidTransition]: 409,
  [BREAK_CODES.reasonRequired]: 400,
  [BREAK_CODES.actorRequired]: 400,
  [BREAK_CODES.badFilter]: 400,
};

/** Break errors answered with their own status (a missing reason is the caller's, a wrong state a conflict). */
async function breakCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof BreakError)
      throw new ConsoleApiError(STATUS_OF_BREAK_CODE[error.code] ?? 409, error.code, error.message, {
        cause: error,
      });
    throw error;
  }
}

function provider(value: string | undefined): Provider | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(PROVIDERS as readonly string[]).includes(value))
    throw badRequest('provider must be wechatpay or stripe');
  return value as Provider;
}

function date(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!DATE.test(value)) throw badRequest(`${name} must be YYYY-MM-DD`);
  return value;
}

function wholeNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,6}$/.test(value)) throw badRequest(`${name} must be a whole number`);
  return Number(value);
}

/** Amounts in minor units as integers (never floats). */
function minor(value: string | undefined, name: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,18}$/.test(value)) throw badRequest(`${name} must be a whole number of minor units`);
  return BigInt(value);
}

function breakId(context: RouteContext): bigint {
  const id = context.params.id ?? '';
  if (!/^\d{1,18}$/.test(id)) throw badRequest('a break id is a whole number');
  return BigInt(id);
}

function text(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${name} must be text`);
  return value;
}

/** The latest business date worth showing first: yesterday in the provider's zone (WeChat Pay's by default). */
const defaultDate = (deps: ConsoleApiDeps, p: Provider | undefined) =>
  previousBusinessDate(p ?? 'wechatpay', deps.clock.now());

async function latestBusinessDates(
  deps: ConsoleApiDeps,
  only: Provider | undefined,
): Promise<{ provider: Provider; businessDate: string }[]> {
  const rows = await deps.sql<{ provider: Provider; business_date: string }[]>`
    select provider, max(business_date)::text as business_date from recon_runs
    where ${only ? deps.sql`provider = ${only}` : deps.sql`true`} group by provider order by provider`;
  return rows.map((r) => ({ provider: r.provider, businessDate: r.business_date }));
}

export function financeRoutes(deps: ConsoleApiDeps): ApiRoute[] {
  const linkSeconds = deps.linkSeconds ?? 300;
  const act = (suffix: string, run: (context: RouteContext, id: bigint) => Promise<unknown>): ApiRoute => ({
    method: 'POST',
    path: `/breaks/{id}/${suffix}`,
    roles: FINANCE,
    handle: async (context) => {
      const id = breakId(context);
      const result = await breakCall(() => run(context, id));
      return json(200, result);
    },
  });
  return [
    {
      method: 'GET',
      path: '/overview',
      roles: READERS,
      handle: async ({ request }) => {
        const p = provider(request.query.provider);
        const account = request.query.account ? { account: request.query.account } : {};
        const asked = date(request.query.date, 'date');
        // Without a date: each provider's latest reconciled business date (their days end at different instants).
        const dates = asked ? [{ provider: p, businessDate: asked }] : await latestBusinessDates(deps, p);
        const rows = [];
        for (const d of dates)
          rows.push(
            ...(await breakCall(() =>
              reconOverview(deps.sql, {
                businessDate: d.businessDate,
                ...(d.provider ? { provider: d.provider } : {}),
                ...account,
              }),
            )),
          );
        const businessDate =
          asked ??
          dates
            .map((d) => d.businessDate)
            .sort()
            .at(-1) ??
          defaultDate(deps, p);
        return json(200, { businessDate, rows });
      },
    },
    {
      method: 'GET',
      path: '/series',
      roles: READERS,
      handle: async ({ request }) => {
        const p = provider(request.query.provider);
        const days = wholeNumber(request.query.days, 'days') ?? 30;
        const to = date(request.query.to, 'to') ?? defaultDate(deps, p);
        const series = await breakCall(() =>
          reconSeries(deps.sql, {
            days,
            to,
            ...(p ? { provider: p } : {}),
            ...(request.query.account ? { account: request.query.account } : {}),
          }),
        );
        return json(200, { to, days, series });
      },
    },
    {
      method: 'GET',
      path: '/breaks',
      roles: READERS,
      handle: async ({ request }) => {
        const q = request.query;
        const state = q.state || undefined;
        if (state && !(BREAK_STATES as readonly string[]).includes(state))
          throw badRequest(`state must be one of ${BREAK_STATES.join(', ')}`);
        const p = provider(q.provider);
        const minAgeDays = wholeNumber(q.minAgeDays, 'minAgeDays');
        const minAmountMinor = minor(q.minAmountMinor, 'minAmountMinor');
        const maxAmountMinor = minor(q.maxAmountMinor, 'maxAmountMinor');
        const businessDate = date(q.businessDate, 'businessDate');
        const filter: BreakListFilter = {
          limit: wholeNumber(q.limit, 'limit') ?? 50,
          ...(p ? { provider: p } : {}),
          ...(q.account ? { account: q.account } : {}),
          ...(q.class ? { class: q.class } : {}),
          ...(state ? { state: state as BreakState } : {}),
          ...(minAgeDays !== undefined ? { minAgeDays } : {}),
          ...(minAmountMinor !== undefined ? { minAmountMinor } : {}),
          ...(maxAmountMinor !== undefined ? { maxAmountMinor } : {}),
          ...(businessDate ? { businessDate } : {}),
          ...(q.after ? { after: q.after } : {}),
        };
        return json(200, await breakCall(() => listBreaks(deps.sql, filter)));
      },
    },
    {
      method: 'GET',
      path: '/breaks/{id}',
      roles: READERS,
      handle: async (context) => {
        const id = breakId(context);
        const detail = await breakCall(() => getBreak(deps.sql, id));
        if (!detail) throw notFound(`no break ${id}`);
        return json(200, detail);
      },
    },
    act('assign', ({ caller, json: body }, id) =>
      assignBreak(deps.sql, { breakId: id, actor: caller.user, assignee: text(body, 'assignee') ?? '' }),
    ),
    act('note', ({ caller, json: body }, id) =>
      noteBreak(deps.sql, { breakId: id, actor: caller.user, text: text(body, 'text') ?? '' }),
    ),
    act('resolve', ({ caller, json: body }, id) => {
      const reason = text(body, 'reason');
      return resolveBreak(deps.sql, { breakId: id, actor: caller.user, ...(reason ? { reason } : {}) });
    }),
    act('write-off', ({ caller, json: body }, id) =>
      writeOffBreak(deps.sql, { breakId: id, actor: caller.user, reason: text(body, 'reason') ?? '' }),
    ),
    {
      method: 'GET',
      path: '/reports',
      roles: FINANCE,
      handle: async ({ request }) => {
        const p = provider(request.query.provider);
        const from = date(request.query.from, 'from');
        const to = date(request.query.to, 'to');
        const reports = await listIndexedReports(deps.sql, {
          ...(p ? { provider: p } : {}),
          ...(p && request.query.account ? { account: request.query.account } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        });
        return json(200, { reports });
      },
    },
    {
      // A short-lived link to one file of the current report of a provider/account/date: pre-signed S3 on AWS,
      // the local gateway's signed download route locally. The page opens it; the link needs no token.
      method: 'GET',
      path: '/reports/{provider}/{account}/{date}/{file}',
      roles: FINANCE,
      handle: async ({ params }) => {
        provider(params.provider);
        date(params.date, 'date');
        if (!(REPORT_FILES as readonly string[]).includes(params.file ?? ''))
          throw badRequest(`file must be one of ${REPORT_FILES.join(', ')}`);
        if (!/^[\w-]+$/.test(params.account ?? '')) throw badRequest('account is an id, acct_…, or platform');
        const key = `${params.provider}/${params.account}/${params.date}/${params.file}`;
        const resolved = await resolveReportKey(deps.reports, key);
        if (!resolved) throw notFound(`no report file ${key}`);
        const url = await deps.reports.link(resolved, linkSeconds);
        return json(200, {
          key: resolved,
          url,
          expiresAt: new Date(deps.clock.now().getTime() + linkSeconds * 1000).toISOString(),
        });
      },
    },
    {
      // Reconcile a bill or report file finance already has (the `recon run --file` path: the providers' file
      // sources and the same reconcile; nothing asked of the provider, so no healing), through the upload port:
      // it runs with the reconciliation role, not the console's (deps.ts ReconUploads).
      method: 'POST',
      path: '/recon/file',
      roles: FINANCE,
      handle: async ({ json: body }) => reconcileUpload(deps, body),
    },
    {
      // Where an upload stands (the page polls it): queued, running, done with the run, or failed with why.
      method: 'GET',
      path: '/recon/file/status',
      roles: FINANCE,
      handle: async ({ request }) => {
        const key = request.query.key ?? '';
        if (!UPLOAD_KEY.test(key) || key.includes('..'))
          throw badRequest('key is the uploads/… key the upload answered');
        const status = await uploads(deps).status(key);
        if (!status) throw notFound(`no upload ${key}`);
        return json(200, status);
      },
    },
  ];
}

async function reconcileUpload(deps: ConsoleApiDeps, body: unknown) {
  const p = provider(text(body, 'provider') ?? '');
  if (!p) throw badRequest('provider is required');
  const businessDate = date(text(body, 'businessDate') ?? '', 'businessDate');
  if (!businessDate) throw badRequest('businessDate is required (YYYY-MM-DD: the date the file covers)');
  const account = (text(body, 'account') ?? '').trim();
  const fileName = path.basename(text(body, 'fileName') ?? 'upload');
  const content = text(body, 'contentBase64') ?? '';
  const bytes = Buffer.from(content, 'base64');
  if (bytes.length === 0) throw badRequest('the file is empty');
  if (bytes.length > MAX_UPLOAD_BYTES) throw badRequest(`the file is larger than ${MAX_UPLOAD_BYTES} bytes`);
  if (p === 'wechatpay' && !/^\d+$/.test(account))
    throw badRequest(
      'account for WeChat Pay is the merchant number (mchid); encrypted sub-merchant bills: use the CLI',
    );
  if (p === 'stripe' && account !== 'platform' && !account.startsWith('acct_'))
    throw badRequest('account for Stripe is acct_… or platform');
  const force = (body as Record<string, unknown>).force === true;
  const { key } = await uploads(deps).start({ provider: p, account, businessDate, fileName, bytes, force });
  // 202: the run goes on behind the answer (it may outlast API Gateway's 29 s); the page polls its status.
  return json(202, {
    key,
    state: 'queued',
    status: `/console/api/recon/file/status?${new URLSearchParams({ key })}`,
  });
}

function uploads(deps: ConsoleApiDeps): ReconUploads {
  if (deps.uploads) return deps.uploads;
  throw new ConsoleApiError(
    503,
    'CONSOLE_NO_UPLOADS',
    'this console API was built without its upload port: reconcile the file with the CLI (recon run --file)',
  );
}
