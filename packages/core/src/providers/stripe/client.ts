// Stripe API client for backfill, healing and reconciliation: a thin layer over the `stripe` package (events list
// with auto-pagination, object retrieval, Reports API) plus streamed report file downloads. The same code runs
// against api.stripe.com and the local sandbox (`apiBaseUrl`). Stripe's errors become StripeApiError so callers
// branch on one typed error with a stable `code`.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import Stripe from 'stripe';
import { PayhooksError } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports.ts';

export const STRIPE_API_BASE_URL = 'https://api.stripe.com';
export const STRIPE_FILES_BASE_URL = 'https://files.stripe.com';

export const STRIPE_CLIENT_CODES = {
  /** 401: wrong or revoked API key. */
  authentication: 'STRIPE_AUTHENTICATION',
  /** 403: the key may not do this (restricted key, live-only report). */
  permission: 'STRIPE_PERMISSION',
  /** 400/404: bad parameters, unknown object (`stripeCode` resource_missing), interval beyond availability. */
  invalidRequest: 'STRIPE_INVALID_REQUEST',
  rateLimit: 'STRIPE_RATE_LIMIT',
  /** 5xx from Stripe after the library's retries. */
  api: 'STRIPE_API',
  /** No answer after the library's retries. */
  connection: 'STRIPE_CONNECTION',
  /** The report run ended `failed`. */
  reportFailed: 'STRIPE_REPORT_FAILED',
  /** The report run was still pending after timeoutMs. */
  reportTimeout: 'STRIPE_REPORT_TIMEOUT',
  /** A file URL outside the configured Stripe hosts (the API key is not sent there). */
  fileHost: 'STRIPE_FILE_HOST',
  /** Anything else the library raised. */
  other: 'STRIPE_ERROR',
} as const;

/** A Stripe API call failed. `type` is Stripe's error type, `stripeCode` its error code (e.g. resource_missing). */
export class StripeApiError extends PayhooksError {
  readonly status: number | null;
  readonly type: string | null;
  readonly stripeCode: string | null;
  readonly requestId: string | null;
  constructor(
    code: string,
    message: string,
    details: {
      status?: number | null;
      type?: string | null;
      stripeCode?: string | null;
      requestId?: string | null;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status ?? null;
    this.type = details.type ?? null;
    this.stripeCode = details.stripeCode ?? null;
    this.requestId = details.requestId ?? null;
  }
}

const CODE_BY_TYPE: Record<string, string> = {
  StripeAuthenticationError: STRIPE_CLIENT_CODES.authentication,
  StripePermissionError: STRIPE_CLIENT_CODES.permission,
  StripeInvalidRequestError: STRIPE_CLIENT_CODES.invalidRequest,
  StripeRateLimitError: STRIPE_CLIENT_CODES.rateLimit,
  StripeAPIError: STRIPE_CLIENT_CODES.api,
  StripeConnectionError: STRIPE_CLIENT_CODES.connection,
};

/** Converts what the stripe package throws into StripeApiError (other errors pass through). */
export function toStripeApiError(error: unknown): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  const code = CODE_BY_TYPE[error.type] ?? STRIPE_CLIENT_CODES.other;
  return new StripeApiError(code, `Stripe: ${error.message}`, {
    status: error.statusCode ?? null,
    type: (error.raw as { type?: string } | undefined)?.type ?? error.type,
    stripeCode: error.code ?? null,
    requestId: error.requestId ?? null,
    cause: error,
  });
}

async function call<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw toStripeApiError(error);
  }
}

export interface StripeClientOptions {
  apiKey: string;
  /** Default https://api.stripe.com; the sandbox's `url` locally. */
  apiBaseUrl?: string;
  /** Host of report file contents; default https://files.stripe.com (the sandbox's `url` locally). */
  filesBaseUrl?: string;
  /** Pinned API version; default the package's. */
  apiVersion?: string;
  /** Connected account to act as (`Stripe-Account`). */
  stripeAccount?: string;
  /** stripe package retries (network errors, 409, 5xx), default 2. */
  maxNetworkRetries?: number;
  /** Per request, default 30 s. */
  timeoutMs?: number;
  /** For file downloads. */
  fetch?: typeof fetch;
  clock?: Clock;
}

/** The object types `retrieve` knows; each is a mirrored/ledger object in normalize.ts. */
export const RETRIEVABLE_OBJECT_TYPES = [
  'payment_intent',
  'charge',
  'refund',
  'dispute',
  'customer',
  'invoice',
  'subscription',
  'payout',
] as const;
export type RetrievableObjectType = (typeof RETRIEVABLE_OBJECT_TYPES)[number];

export interface ReportRunParameters {
  /** Inclusive, unix seconds or Date. */
  intervalStart: number | Date;
  /** Exclusive. */
  intervalEnd: number | Date;
  timezone?: string;
  connectedAccount?: string;
  columns?: readonly string[];
  currency?: string;
}

export interface WaitForReportRunOptions {
  /** First pause between polls (default 2 s); doubles up to maxPollMs. */
  pollMs?: number;
  /** Longest pause between polls (default 60 s). */
  maxPollMs?: number;
  /** Give up after this much total waiting (default 15 min). */
  timeoutMs?: number;
  /** Injected by tests and by callers with their own scheduler. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReportAvailability {
  reportType: string;
  dataAvailableStart: Date;
  /** Asking for an interval ending after this is a 400: wait for the day to become available. */
  dataAvailableEnd: Date;
}

const unix = (value: number | Date) => (value instanceof Date ? Math.floor(value.getTime() / 1000) : value);
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class StripeClient {
  /** The underlying stripe package instance, for calls this wrapper does not cover. */
  readonly stripe: Stripe;
  private readonly apiKey: string;
  private readonly apiOrigin: string;
  private readonly filesOrigin: string;
  private readonly stripeAccount: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  readonly clock: Clock;

  constructor(options: StripeClientOptions) {
    const api = new URL(options.apiBaseUrl ?? STRIPE_API_BASE_URL);
    this.apiOrigin = api.origin;
    this.filesOrigin = new URL(options.filesBaseUrl ?? options.apiBaseUrl ?? STRIPE_FILES_BASE_URL).origin;
    this.apiKey = options.apiKey;
    this.stripeAccount = options.stripeAccount;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    const protocol = api.protocol === 'http:' ? 'http' : 'https';
    this.stripe = new Stripe(options.apiKey, {
      host: api.hostname,
      port: api.port || (protocol === 'http' ? 80 : 443),
      protocol,
      ...(options.apiVersion ? { apiVersion: options.apiVersion as Stripe.LatestApiVersion } : {}),
      ...(options.stripeAccount ? { stripeAccount: options.stripeAccount } : {}),
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: this.timeoutMs,
      telemetry: false,
    });
  }

  /**
   * Events created in [createdGte, createdLt), newest first, every page (the list covers the last 30 days).
   * Stops early when the consumer breaks out of the loop.
   */
  async *listEvents(options: {
    createdGte: number | Date;
    createdLt?: number | Date;
    types?: readonly string[];
    pageSize?: number;
  }): AsyncGenerator<Stripe.Event> {
    const created: Stripe.RangeQueryParam = { gte: unix(options.createdGte) };
    if (options.createdLt !== undefined) created.lt = unix(options.createdLt);
    const params: Stripe.EventListParams = { created, limit: options.pageSize ?? 100 };
    if (options.types && options.types.length > 0) params.types = [...options.types];
    try {
      for await (const event of this.stripe.events.list(params)) yield event;
    } catch (error) {
      throw toStripeApiError(error);
    }
  }

  /** Fetches the current state of an object (a deleted customer comes back as `{ id, deleted: true }`). */
  async retrieve(objectType: RetrievableObjectType, id: string): Promise<Record<string, unknown>> {
    const s = this.stripe;
    const fetchers: Record<RetrievableObjectType, () => Promise<unknown>> = {
      payment_intent: () => s.paymentIntents.retrieve(id),
      charge: () => s.charges.retrieve(id),
      refund: () => s.refunds.retrieve(id),
      dispute: () => s.disputes.retrieve(id),
      customer: () => s.customers.retrieve(id),
      invoice: () => s.invoices.retrieve(id),
      subscription: () => s.subscriptions.retrieve(id),
      payout: () => s.payouts.retrieve(id),
    };
    const fetcher = fetchers[objectType];
    if (!fetcher) {
      throw new StripeApiError(
        STRIPE_CLIENT_CODES.invalidRequest,
        `cannot retrieve object type ${objectType}`,
      );
    }
    const object = (await call(fetcher)) as Record<string, unknown>;
    // The package adds a non-enumerable lastResponse; a plain copy is what gets stored and wrapped.
    return { ...object };
  }

  /** Creates a report run (pending); poll it with waitForReportRun. */
  async createReportRun(
    reportType: string,
    parameters: ReportRunParameters,
  ): Promise<Stripe.Reporting.ReportRun> {
    const params: Stripe.Reporting.ReportRunCreateParams.Parameters = {
      interval_start: unix(parameters.intervalStart),
      interval_end: unix(parameters.intervalEnd),
    };
    if (parameters.timezone) params.timezone = parameters.timezone;
    if (parameters.connectedAccount) params.connected_account = parameters.connectedAccount;
    if (parameters.columns) params.columns = [...parameters.columns];
    if (parameters.currency) params.currency = parameters.currency;
    return call(() =>
      this.stripe.reporting.reportRuns.create({ report_type: reportType, parameters: params }),
    );
  }

  /**
   * Polls a report run until it leaves `pending`, with exponential backoff. Returns the succeeded run (its
   * `result` is the File to download); throws StripeApiError STRIPE_REPORT_FAILED / STRIPE_REPORT_TIMEOUT.
   */
  async waitForReportRun(
    id: string,
    options: WaitForReportRunOptions = {},
  ): Promise<Stripe.Reporting.ReportRun> {
    const sleep = options.sleep ?? defaultSleep;
    const maxPoll = options.maxPollMs ?? 60_000;
    const timeout = options.timeoutMs ?? 15 * 60_000;
    let pause = options.pollMs ?? 2_000;
    let waited = 0;
    for (;;) {
      const run = await this.retrieveReportRun(id);
      if (run.status === 'succeeded') return run;
      if (run.status === 'failed') {
        throw new StripeApiError(
          STRIPE_CLIENT_CODES.reportFailed,
          `report run ${id} (${run.report_type}) failed: ${run.error ?? 'no reason given'}`,
        );
      }
      if (waited + pause > timeout) {
        throw new StripeApiError(
          STRIPE_CLIENT_CODES.reportTimeout,
          `report run ${id} (${run.report_type}) still ${run.status} after ${waited} ms`,
        );
      }
      await sleep(pause);
      waited += pause;
      pause = Math.min(maxPoll, pause * 2);
    }
  }

  private async retrieveReportRun(id: string): Promise<Stripe.Reporting.ReportRun> {
    try {
      return await this.stripe.reporting.reportRuns.retrieve(id);
    } catch (error) {
      // A failed run carries `error` as a string; stripe-node takes any 2xx body with an `error` key for an OAuth
      // error and throws, with the run's error text as the error `type`. That answer is the failed run itself.
      if (error instanceof Stripe.errors.StripeError && (error.statusCode ?? 500) < 400) {
        throw new StripeApiError(STRIPE_CLIENT_CODES.reportFailed, `report run ${id} failed: ${error.type}`, {
          status: error.statusCode ?? null,
          requestId: error.requestId ?? null,
          cause: error,
        });
      }
      throw toStripeApiError(error);
    }
  }

  /** data_available_start/end of a report type: the interval a run may ask for. */
  async reportTypeAvailability(reportType: string): Promise<ReportAvailability> {
    const type = await call(() => this.stripe.reporting.reportTypes.retrieve(reportType));
    return {
      reportType: type.id,
      dataAvailableStart: new Date(type.data_available_start * 1000),
      dataAvailableEnd: new Date(type.data_available_end * 1000),
    };
  }

  /**
   * Streams a file's contents (a report run's `result.url`, or a file id), authenticated with the API key as a
   * Bearer token. Only the configured API and files hosts receive the key.
   */
  async downloadFile(fileUrlOrId: string): Promise<Readable> {
    const url = /^file_[A-Za-z0-9_]+$/.test(fileUrlOrId)
      ? new URL(`/v1/files/${fileUrlOrId}/contents`, this.filesOrigin)
      : new URL(fileUrlOrId);
    if (url.origin !== this.filesOrigin && url.origin !== this.apiOrigin) {
      throw new StripeApiError(
        STRIPE_CLIENT_CODES.fileHost,
        `file URL host ${url.origin} is not the configured Stripe files host ${this.filesOrigin}`,
      );
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` };
    if (this.stripeAccount) headers['stripe-account'] = this.stripeAccount;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(url, { headers, signal: controller.signal });
    } catch (cause) {
      throw new StripeApiError(STRIPE_CLIENT_CODES.connection, `file download from ${url.origin} failed`, {
        cause,
      });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      let body: { error?: { type?: string; code?: string; message?: string } } = {};
      try {
        body = (await response.json()) as typeof body;
      } catch {
        body = {};
      }
      const code =
        response.status === 401
          ? STRIPE_CLIENT_CODES.authentication
          : response.status === 403
            ? STRIPE_CLIENT_CODES.permission
            : response.status >= 500
              ? STRIPE_CLIENT_CODES.api
              : STRIPE_CLIENT_CODES.invalidRequest;
      throw new StripeApiError(
        code,
        `Stripe file download answered HTTP ${response.status}: ${body.error?.message ?? ''}`.trim(),
        {
          status: response.status,
          type: body.error?.type ?? null,
          stripeCode: body.error?.code ?? null,
          requestId: response.headers.get('request-id'),
        },
      );
    }
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }
}

export interface SyntheticEventOptions {
  /** Default `evt_heal_` + a hash of the object snapshot, so healing the same snapshot twice dedupes in the inbox. */
  id?: string;
  /** Default `<object>.updated` (e.g. payment_intent.updated): the normalizer routes on the object, not the type. */
  type?: string;
  /** Unix seconds; default now. The ledger orders on it: the snapshot is current as of retrieval. */
  created?: number;
  account?: string;
  apiVersion?: string | null;
}

/** What syntheticEvent returns: a valid Stripe event body plus a marker. */
export interface SyntheticStripeEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  type: string;
  livemode: boolean;
  pending_webhooks: 0;
  /** `request.id` null: no API request caused it. */
  request: { id: null; idempotency_key: null };
  account?: string;
  data: { object: Record<string, unknown> };
  /** Marks an event made by payhooks from a retrieved object (healing/backfill), never sent by Stripe. */
  payhooks_synthetic: true;
}

/**
 * Wraps a retrieved object in an event body the existing normalizer accepts (normalizeStripeEvent routes on
 * `data.object.object`), so healing goes through the same inbox → projections path as webhooks. The event is
 * marked `payhooks_synthetic: true` with `request.id = null`; its id starts `evt_heal_`.
 */
export function syntheticEvent(
  object: Record<string, unknown>,
  options: SyntheticEventOptions & { clock?: Clock } = {},
): SyntheticStripeEvent {
  const objectType = typeof object.object === 'string' ? object.object : 'unknown';
  const created = options.created ?? Math.floor((options.clock ?? systemClock).now().getTime() / 1000);
  const digest = createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 32);
  const event: SyntheticStripeEvent = {
    id: options.id ?? `evt_heal_${digest}`,
    object: 'event',
    api_version: options.apiVersion ?? null,
    created,
    type: options.type ?? `${objectType}.updated`,
    livemode: object.livemode === true,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    data: { object },
    payhooks_synthetic: true,
  };
  if (options.account) event.account = options.account;
  return event;
}
