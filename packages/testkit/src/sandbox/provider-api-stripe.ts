// The Stripe half of the provider API sandbox: the subset of Stripe's API that backfill, healing and
// reconciliation use — events list (created filters, cursor pagination), object retrieval (latest snapshot per
// object from the registered events), the Reports API (report types, report runs pending → succeeded, files) —
// authorised by the sandbox's secret key and answering Stripe's error shape. Report CSVs are written with the test
// kit's report writers from balance transactions the caller registers or derives from the events.
import crypto from 'node:crypto';
import type { Clock } from '@payhooks/core/ports';
import {
  STRIPE_REPORT_TYPES,
  type StripeBalanceChangeRecord,
  type StripePayoutRecord,
} from '@payhooks/core/recon';
import {
  payoutReconciliationRecord,
  writeBalanceChangeReport,
  writePayoutReconciliationReport,
  writePayoutsReport,
} from '../reports/report-writer.ts';
import {
  bytesResponse,
  jsonResponse,
  type SandboxRequest,
  type SandboxResponse,
} from './provider-api-http.ts';
import type { StripeEventJson } from './stripe-scenario.ts';

type Minor = number | bigint;

/** A balance transaction to put in balance_change_from_activity reports; missing fields get defaults. */
export interface SandboxBalanceTransactionInput {
  balanceTransactionId?: string;
  created: Date | number;
  currency: string;
  grossMinor: Minor;
  feeMinor?: Minor;
  reportingCategory?: string;
  sourceId?: string | null;
  chargeId?: string | null;
  paymentIntentId?: string | null;
  customerId?: string | null;
  invoiceId?: string | null;
  connectedAccountId?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  /** The automatic payout that settles it (reports write it as automatic_payout_id). */
  automaticPayoutId?: string | null;
}

export interface SandboxPayoutInput {
  payoutId: string;
  effectiveAt: Date | number;
  currency: string;
  grossMinor: Minor;
  feeMinor?: Minor;
  status?: string;
}

/** Differences to build into balance transactions derived from the events. */
export interface DeriveBalanceOptions {
  /** Charge, refund or dispute ids left out of the report ("missing at provider"). */
  exclude?: readonly string[];
  /** id → gross the report shows instead ("amount mismatch"). */
  grossOverrides?: Readonly<Record<string, Minor>>;
  /** Fee in basis points of the gross for charges (default 290). */
  feeBasisPoints?: number;
}

export interface StripeSandboxFaults {
  /** Polls a report run answers `pending` before it succeeds (default 1: "pending on the first poll"). */
  pendingPolls: number;
  /** The next report run ends `failed`. */
  failNextReportRun: boolean;
}

interface ReportRun {
  run: Record<string, unknown>;
  polls: number;
  fail: boolean;
}

const OBJECT_PATHS: Record<string, string> = {
  payment_intents: 'payment_intent',
  charges: 'charge',
  refunds: 'refund',
  disputes: 'dispute',
  customers: 'customer',
  invoices: 'invoice',
  subscriptions: 'subscription',
  payouts: 'payout',
};

const REPORT_TYPE_NAMES: Record<string, string> = {
  [STRIPE_REPORT_TYPES.balanceChange]: 'Balance change from activity (itemized)',
  [STRIPE_REPORT_TYPES.payouts]: 'Payouts (itemized)',
  [STRIPE_REPORT_TYPES.payoutReconciliation]: 'Payout reconciliation (itemized)',
  [STRIPE_REPORT_TYPES.connectedAccountPayoutReconciliation]:
    'Connected account payout reconciliation (itemized)',
};

const seconds = (value: Date | number) =>
  value instanceof Date ? Math.floor(value.getTime() / 1000) : value;
const randomId = (prefix: string) =>
  `${prefix}_${crypto.randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

function stripeError(
  status: number,
  type: string,
  message: string,
  extra: Record<string, string> = {},
): SandboxResponse {
  return jsonResponse(status, { error: { type, message, ...extra } }, { 'request-id': randomId('req') });
}

function ok(value: unknown): SandboxResponse {
  return jsonResponse(200, value, { 'request-id': randomId('req') });
}

/** `parameters[columns][0]=a` → { parameters: { columns: ['a'] } } (Stripe's form encoding, as stripe-node sends). */
function parseForm(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of params) {
    const path = key.replace(/\]/g, '').split('[');
    let node: Record<string, unknown> = out;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else {
        node[part] ??= {};
        node = node[part] as Record<string, unknown>;
      }
    });
  }
  return out;
}

const listOf = (value: unknown): string[] =>
  value === undefined
    ? []
    : typeof value === 'string'
      ? [value]
      : Object.values(value as Record<string, string>);

export class StripeProviderSandbox {
  readonly faults: StripeSandboxFaults = { pendingPolls: 1, failNextReportRun: false };
  private readonly eventList: { event: StripeEventJson; index: number }[] = [];
  private readonly eventsById = new Map<string, StripeEventJson>();
  /** `type:id` → latest snapshot and the (created, index) it came from. */
  private readonly objects = new Map<
    string,
    { object: Record<string, unknown>; created: number; index: number }
  >();
  private readonly balance: StripeBalanceChangeRecord[] = [];
  private readonly payouts: StripePayoutRecord[] = [];
  private readonly runs = new Map<string, ReportRun>();
  private readonly files = new Map<string, { file: Record<string, unknown>; content: Buffer }>();
  private dataAvailableEnd: number | null = null;
  baseUrl = '';

  constructor(
    readonly apiKey: string,
    private readonly clock: Clock,
  ) {}

  /** Registers events (e.g. a stripe-scenario history); retrieval answers the newest snapshot of each object. */
  addEvents(events: readonly StripeEventJson[]): void {
    for (const event of events) {
      if (this.eventsById.has(event.id)) continue;
      const index = this.eventList.length;
      this.eventList.push({ event, index });
      this.eventsById.set(event.id, event);
      const object = event.data.object;
      if (typeof object.object !== 'string' || typeof object.id !== 'string') continue;
      const key = `${object.object}:${object.id}`;
      const current = this.objects.get(key);
      if (
        !current ||
        event.created > current.created ||
        (event.created === current.created && index > current.index)
      ) {
        this.objects.set(key, { object: structuredClone(object), created: event.created, index });
      }
    }
  }

  /** Replaces an object's current state (it changed after its last event, or was never announced). */
  setObject(object: Record<string, unknown>): void {
    this.objects.set(`${String(object.object)}:${String(object.id)}`, {
      object: structuredClone(object),
      created: Number.MAX_SAFE_INTEGER,
      index: Number.MAX_SAFE_INTEGER,
    });
  }

  events(): StripeEventJson[] {
    return this.eventList.map((e) => e.event);
  }

  /** Adds rows to balance_change_from_activity reports; returns them as written. */
  addBalanceTransactions(inputs: readonly SandboxBalanceTransactionInput[]): StripeBalanceChangeRecord[] {
    const added = inputs.map((input): StripeBalanceChangeRecord => {
      const gross = BigInt(input.grossMinor);
      const fee = BigInt(input.feeMinor ?? 0);
      return {
        balanceTransactionId: input.balanceTransactionId ?? randomId('txn'),
        createdUtc: new Date(seconds(input.created) * 1000),
        availableOnUtc: null,
        currency: input.currency.toUpperCase(),
        grossMinor: gross,
        feeMinor: fee,
        netMinor: gross - fee,
        reportingCategory: input.reportingCategory ?? (gross >= 0n ? 'charge' : 'refund'),
        sourceId: input.sourceId ?? input.chargeId ?? null,
        description: input.description ?? null,
        customerFacingAmountMinor: null,
        customerFacingCurrency: null,
        automaticPayoutId: input.automaticPayoutId ?? null,
        customerId: input.customerId ?? null,
        chargeId: input.chargeId ?? null,
        paymentIntentId: input.paymentIntentId ?? null,
        invoiceId: input.invoiceId ?? null,
        paymentMethodType: input.chargeId ? 'card' : null,
        connectedAccountId: input.connectedAccountId ?? null,
        metadata: { ...(input.metadata ?? {}) },
        extra: {},
      };
    });
    this.balance.push(...added);
    return added;
  }

  /**
   * Derives balance transactions from the registered events' latest snapshots: a `charge` row per succeeded
   * charge (metadata of its payment intent), a `refund` row per succeeded refund, a `dispute` row per dispute.
   */
  deriveBalanceTransactions(options: DeriveBalanceOptions = {}): StripeBalanceChangeRecord[] {
    const exclude = new Set(options.exclude ?? []);
    const bps = BigInt(options.feeBasisPoints ?? 290);
    const gross = (id: string, amount: number, sign: bigint) =>
      options.grossOverrides?.[id] !== undefined ? BigInt(options.grossOverrides[id]) : sign * BigInt(amount);
    const accountOf = new Map<string, string>();
    for (const { event } of this.eventList) {
      const object = event.data.object;
      if (event.account && typeof object.id === 'string') accountOf.set(object.id, event.account);
    }
    const inputs: SandboxBalanceTransactionInput[] = [];
    for (const { object } of this.objects.values()) {
      const id = String(object.id);
      if (exclude.has(id)) continue;
      const pi =
        typeof object.payment_intent === 'string'
          ? this.objects.get(`payment_intent:${object.payment_intent}`)
          : undefined;
      const metadata = (pi?.object.metadata ?? object.metadata ?? {}) as Record<string, string>;
      const common = {
        created: Number(object.created),
        currency: String(object.currency),
        paymentIntentId: typeof object.payment_intent === 'string' ? object.payment_intent : null,
        customerId: typeof object.customer === 'string' ? object.customer : null,
        connectedAccountId: accountOf.get(id) ?? null,
        metadata,
      };
      if (object.object === 'charge' && object.status === 'succeeded') {
        const g = gross(id, Number(object.amount), 1n);
        inputs.push({
          ...common,
          balanceTransactionId:
            typeof object.balance_transaction === 'string' ? object.balance_transaction : undefined,
          grossMinor: g,
          feeMinor: (g * bps) / 10_000n,
          reportingCategory: 'charge',
          sourceId: id,
          chargeId: id,
        });
      } else if (object.object === 'refund' && object.status === 'succeeded') {
        inputs.push({
          ...common,
          grossMinor: gross(id, Number(object.amount), -1n),
          reportingCategory: 'refund',
          sourceId: id,
          chargeId: typeof object.charge === 'string' ? object.charge : null,
        });
      } else if (object.object === 'dispute') {
        inputs.push({
          ...common,
          grossMinor: gross(id, Number(object.amount), -1n),
          reportingCategory: 'dispute',
          sourceId: id,
          chargeId: typeof object.charge === 'string' ? object.charge : null,
        });
      }
    }
    return this.addBalanceTransactions(inputs);
  }

  addPayouts(inputs: readonly SandboxPayoutInput[]): StripePayoutRecord[] {
    const added = inputs.map((input): StripePayoutRecord => {
      const gross = BigInt(input.grossMinor);
      const fee = BigInt(input.feeMinor ?? 0);
      return {
        payoutId: input.payoutId,
        effectiveAtUtc: new Date(seconds(input.effectiveAt) * 1000),
        currency: input.currency.toUpperCase(),
        grossMinor: gross,
        feeMinor: fee,
        netMinor: gross - fee,
        reportingCategory: 'payout',
        description: null,
        expectedArrivalDate: null,
        status: input.status ?? 'paid',
        reversedAtUtc: null,
        type: 'bank_account',
        payoutDescription: null,
        destinationId: null,
        balanceTransactionId: randomId('txn'),
        metadata: {},
        extra: {},
      };
    });
    this.payouts.push(...added);
    return added;
  }

  /** data_available_end of every report type (default: the start of the current UTC day). */
  setDataAvailableEnd(value: Date | number): void {
    this.dataAvailableEnd = seconds(value);
  }

  private availableEnd(): number {
    if (this.dataAvailableEnd !== null) return this.dataAvailableEnd;
    const now = seconds(this.clock.now());
    return now - (now % 86_400);
  }

  private authorised(request: SandboxRequest): SandboxResponse | undefined {
    const header = request.headers.authorization ?? '';
    let key: string | undefined;
    if (header.startsWith('Bearer ')) key = header.slice(7).trim();
    else if (header.startsWith('Basic '))
      key = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
    if (!key) {
      return stripeError(
        401,
        'invalid_request_error',
        'You did not provide an API key. Provide it in the Authorization header (Bearer auth).',
      );
    }
    const a = Buffer.from(key);
    const b = Buffer.from(this.apiKey);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
      return stripeError(
        401,
        'invalid_request_error',
        `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}`,
      );
    }
    return undefined;
  }

  /** Handles a `/v1/…` request. */
  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const denied = this.authorised(request);
    if (denied) return denied;
    const path = request.url.pathname;
    const q = request.url.searchParams;
    if (request.method === 'GET' && path === '/v1/events') return this.listEvents(parseForm(q));
    let match = /^\/v1\/events\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && match) {
      const event = this.eventsById.get(match[1]!);
      return event ? ok(event) : missing('event', match[1]!);
    }
    match = /^\/v1\/reporting\/report_types\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && match) return this.reportType(decodeURIComponent(match[1]!));
    if (request.method === 'POST' && path === '/v1/reporting/report_runs') {
      return this.createRun(parseForm(new URLSearchParams(request.body.toString('utf8'))));
    }
    match = /^\/v1\/reporting\/report_runs\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && match) return this.pollRun(match[1]!);
    match = /^\/v1\/files\/([^/]+)(\/contents)?$/.exec(path);
    if (request.method === 'GET' && match) {
      const file = this.files.get(match[1]!);
      if (!file) return missing('file', match[1]!);
      return match[2] ? bytesResponse(200, file.content, 'text/csv; charset=utf-8') : ok(file.file);
    }
    match = /^\/v1\/([a-z_]+)\/([^/]+)$/.exec(path);
    const objectType = match ? OBJECT_PATHS[match[1]!] : undefined;
    if (request.method === 'GET' && match && objectType) {
      const found = this.objects.get(`${objectType}:${match[2]!}`);
      return found ? ok(found.object) : missing(objectType, match[2]!);
    }
    return stripeError(
      404,
      'invalid_request_error',
      `Unrecognized request URL (${request.method}: ${path}).`,
    );
  }

  private listEvents(params: Record<string, unknown>): SandboxResponse {
    const created = params.created;
    const range: Record<string, number> =
      typeof created === 'string'
        ? { gte: Number(created), lte: Number(created) }
        : Object.fromEntries(
            Object.entries((created ?? {}) as Record<string, string>).map(([k, v]) => [k, Number(v)]),
          );
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 10)));
    const types = new Set([...listOf(params.types), ...listOf(params.type)]);
    const inRange = (t: number) =>
      (range.gte === undefined || t >= range.gte) &&
      (range.gt === undefined || t > range.gt) &&
      (range.lte === undefined || t <= range.lte) &&
      (range.lt === undefined || t < range.lt);
    const sorted = this.eventList
      .filter(({ event }) => inRange(event.created) && (types.size === 0 || types.has(event.type)))
      .sort((a, b) => b.event.created - a.event.created || b.index - a.index)
      .map(({ event }) => event);
    let start = 0;
    let end = sorted.length;
    if (typeof params.starting_after === 'string') {
      const at = sorted.findIndex((e) => e.id === params.starting_after);
      if (at < 0) return missing('event', params.starting_after, 'starting_after');
      start = at + 1;
    } else if (typeof params.ending_before === 'string') {
      const at = sorted.findIndex((e) => e.id === params.ending_before);
      if (at < 0) return missing('event', params.ending_before, 'ending_before');
      end = at;
      start = Math.max(0, end - limit);
    }
    const page = sorted.slice(start, Math.min(end, start + limit));
    return ok({ object: 'list', data: page, has_more: start + page.length < end, url: '/v1/events' });
  }

  private reportTypeObject(id: string): Record<string, unknown> {
    return {
      id,
      object: 'reporting.report_type',
      name: REPORT_TYPE_NAMES[id],
      data_available_start: 1_577_836_800,
      data_available_end: this.availableEnd(),
      default_columns: null,
      livemode: false,
      updated: this.availableEnd(),
      version: 1,
    };
  }

  private reportType(id: string): SandboxResponse {
    return REPORT_TYPE_NAMES[id] ? ok(this.reportTypeObject(id)) : missing('reporting.report_type', id);
  }

  private createRun(form: Record<string, unknown>): SandboxResponse {
    const reportType = typeof form.report_type === 'string' ? form.report_type : '';
    if (!REPORT_TYPE_NAMES[reportType]) {
      return stripeError(400, 'invalid_request_error', `Unknown or unsupported report type: ${reportType}`, {
        param: 'report_type',
      });
    }
    const parameters = (form.parameters ?? {}) as Record<string, unknown>;
    const start = Number(parameters.interval_start);
    const end = Number(parameters.interval_end);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start >= end) {
      return stripeError(
        400,
        'invalid_request_error',
        'parameters[interval_start] must be before parameters[interval_end]',
        { param: 'parameters[interval_start]' },
      );
    }
    if (end > this.availableEnd()) {
      return stripeError(
        400,
        'invalid_request_error',
        `parameters[interval_end] must be at or before data_available_end (${this.availableEnd()}) of ${reportType}`,
        { param: 'parameters[interval_end]', code: 'parameter_invalid_integer' },
      );
    }
    const echoed: Record<string, unknown> = { interval_start: start, interval_end: end };
    if (typeof parameters.timezone === 'string') echoed.timezone = parameters.timezone;
    if (typeof parameters.connected_account === 'string')
      echoed.connected_account = parameters.connected_account;
    if (typeof parameters.currency === 'string') echoed.currency = parameters.currency;
    if (parameters.columns !== undefined) echoed.columns = listOf(parameters.columns);
    const run = {
      id: randomId('frr'),
      object: 'reporting.report_run',
      created: seconds(this.clock.now()),
      error: null,
      livemode: false,
      parameters: echoed,
      report_type: reportType,
      result: null,
      status: 'pending',
      succeeded_at: null,
    };
    this.runs.set(run.id, { run, polls: 0, fail: this.faults.failNextReportRun });
    this.faults.failNextReportRun = false;
    return ok(run);
  }

  private async pollRun(id: string): Promise<SandboxResponse> {
    const entry = this.runs.get(id);
    if (!entry) return missing('reporting.report_run', id);
    entry.polls += 1;
    if (entry.run.status === 'pending' && entry.polls > this.faults.pendingPolls) {
      if (entry.fail) {
        entry.run.status = 'failed';
        entry.run.error = 'The report could not be generated (sandbox: injected failure).';
      } else {
        entry.run.result = await this.renderFile(entry.run);
        entry.run.status = 'succeeded';
        entry.run.succeeded_at = seconds(this.clock.now());
      }
    }
    return ok(entry.run);
  }

  private async renderFile(run: Record<string, unknown>): Promise<Record<string, unknown>> {
    const parameters = run.parameters as {
      interval_start: number;
      interval_end: number;
      connected_account?: string;
      currency?: string;
    };
    const inInterval = (date: Date) => {
      const t = seconds(date);
      return t >= parameters.interval_start && t < parameters.interval_end;
    };
    const currency = parameters.currency?.toUpperCase();
    let text = '';
    if (run.report_type === STRIPE_REPORT_TYPES.balanceChange) {
      const rows = this.balance
        .filter((r) => inInterval(r.createdUtc))
        .filter((r) => !parameters.connected_account || r.connectedAccountId === parameters.connected_account)
        .filter((r) => !currency || r.currency === currency)
        .sort((a, b) => a.createdUtc.getTime() - b.createdUtc.getTime());
      const metadataKeys = [...new Set(rows.flatMap((r) => Object.keys(r.metadata)))].sort();
      for await (const chunk of writeBalanceChangeReport(rows, { metadataKeys })) text += chunk;
    } else if (
      run.report_type === STRIPE_REPORT_TYPES.payoutReconciliation ||
      run.report_type === STRIPE_REPORT_TYPES.connectedAccountPayoutReconciliation
    ) {
      // The transactions each payout effective in the interval settles (automatic_payout_id), payout by payout.
      const payouts = this.payouts
        .filter((p) => inInterval(p.effectiveAtUtc))
        .filter((p) => !currency || p.currency === currency)
        .sort((a, b) => a.effectiveAtUtc.getTime() - b.effectiveAtUtc.getTime());
      const rows = payouts.flatMap((payout) =>
        this.balance
          .filter(
            (r): r is StripeBalanceChangeRecord & { automaticPayoutId: string } =>
              r.automaticPayoutId === payout.payoutId,
          )
          .filter(
            (r) => !parameters.connected_account || r.connectedAccountId === parameters.connected_account,
          )
          .sort((a, b) => a.createdUtc.getTime() - b.createdUtc.getTime())
          .map((r) => payoutReconciliationRecord(r, payout.effectiveAtUtc)),
      );
      for await (const chunk of writePayoutReconciliationReport(rows)) text += chunk;
    } else {
      const rows = this.payouts
        .filter((r) => inInterval(r.effectiveAtUtc))
        .filter((r) => !currency || r.currency === currency);
      for await (const chunk of writePayoutsReport(rows)) text += chunk;
    }
    const content = Buffer.from(text, 'utf8');
    const id = randomId('file');
    const file = {
      id,
      object: 'file',
      created: seconds(this.clock.now()),
      expires_at: seconds(this.clock.now()) + 365 * 86_400,
      filename: `${id}.csv`,
      links: null,
      purpose: 'finance_report_run',
      size: content.length,
      title: `${String(run.report_type)} ${parameters.interval_start}-${parameters.interval_end}`,
      type: 'csv',
      url: `${this.baseUrl}/v1/files/${id}/contents`,
    };
    this.files.set(id, { file, content });
    return file;
  }
}

function missing(what: string, id: string, param = 'id'): SandboxResponse {
  return stripeError(404, 'invalid_request_error', `No such ${what}: '${id}'`, {
    code: 'resource_missing',
    param,
  });
}
