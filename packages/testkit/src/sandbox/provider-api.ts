// The provider API sandbox: ONE local HTTP server (127.0.0.1, a free port) speaking WeChat Pay's merchant API
// under /v3/… and Stripe's API under /v1/…, in their real wire formats, so the clients in packages/core run
// unchanged against it (WechatpayClient baseUrl / StripeClient apiBaseUrl + filesBaseUrl = `url`). Tests and
// `npm start` use it; it is never deployed. Data and deliberate differences are registered on the returned
// `wechatpay` / `stripe` objects (see provider-api-wechatpay.ts and provider-api-stripe.ts).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@payhooks/core/ports';
import { jsonResponse, readRequest, writeResponse } from './provider-api-http.ts';
import { StripeProviderSandbox } from './provider-api-stripe.ts';
import { WechatpayProviderSandbox, type WechatpaySandboxMerchant } from './provider-api-wechatpay.ts';

export {
  type DeriveBalanceOptions,
  type SandboxBalanceTransactionInput,
  type SandboxPayoutInput,
  StripeProviderSandbox,
  type StripeSandboxFaults,
} from './provider-api-stripe.ts';
export {
  type SandboxPlatformCertificate,
  type SandboxRefund,
  type SandboxRefundInput,
  type SandboxTime,
  type SandboxTransaction,
  type SandboxTransactionInput,
  sandboxMerchantFromConfig,
  sandboxMerchantsFromGenerated,
  WechatpayProviderSandbox,
  type WechatpaySandboxFaults,
  type WechatpaySandboxMerchant,
} from './provider-api-wechatpay.ts';

export interface ProviderSandboxOptions {
  /** WeChat Pay merchant API for these merchants (their keys: see WechatpaySandboxMerchant). */
  wechatpay?: { merchants: readonly WechatpaySandboxMerchant[] };
  /** Stripe API; the secret key callers must present (default a fresh `sk_test_…`). */
  stripe?: { apiKey?: string };
  /** Shared by signatures, timestamps, URL expiry and report availability; tests pass a controllable one. */
  clock?: Clock;
  /** Default 0: a free port. */
  port?: number;
}

export interface ProviderSandbox {
  /** `http://127.0.0.1:<port>`: the base URL of both APIs. */
  url: string;
  wechatpay: WechatpayProviderSandbox | undefined;
  stripe: StripeProviderSandbox | undefined;
  stop(): Promise<void>;
}

export function randomStripeSecretKey(): string {
  return `sk_test_${crypto.randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export async function startProviderSandbox(options: ProviderSandboxOptions = {}): Promise<ProviderSandbox> {
  const clock = options.clock ?? systemClock;
  const wechatpay = options.wechatpay
    ? new WechatpayProviderSandbox(options.wechatpay.merchants, clock)
    : undefined;
  const stripe = options.stripe
    ? new StripeProviderSandbox(options.stripe.apiKey ?? randomStripeSecretKey(), clock)
    : undefined;

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const request = await readRequest(req);
        const path = request.url.pathname;
        if (path.startsWith('/v3/') && wechatpay) return writeResponse(res, await wechatpay.handle(request));
        if (path.startsWith('/v1/') && stripe) return writeResponse(res, await stripe.handle(request));
        const answer = path.startsWith('/v1/')
          ? jsonResponse(404, {
              error: { type: 'invalid_request_error', message: `Unrecognized request URL (${path}).` },
            })
          : jsonResponse(404, { code: 'NOT_FOUND', message: `no sandbox API at ${path}` });
        return writeResponse(res, answer);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        writeResponse(res, jsonResponse(500, { code: 'SYSTEM_ERROR', message: `sandbox: ${message}` }));
      }
    })();
  });
  // Node's 5 s keep-alive default closes a connection while a slow consumer is still reading a large bill
  // download from its buffers ("other side closed"); provider file servers keep them open longer.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (wechatpay) wechatpay.baseUrl = url;
  if (stripe) stripe.baseUrl = url;
  return {
    url,
    wechatpay,
    stripe,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
