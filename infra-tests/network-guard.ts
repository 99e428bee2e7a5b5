// Offline guard for the infra suite: any attempt to reach a non-loopback address (TCP/TLS connect, HTTP(S)
// request, DNS lookup of a non-loopback name, fetch) throws NetworkGuardError before a packet leaves the host.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export class NetworkGuardError extends Error {
  readonly code = 'E_NETWORK_GUARD';
  constructor(readonly target: string) {
    super(`infra-tests must stay offline: blocked a connection to "${target}" (only loopback is allowed)`);
    this.name = 'NetworkGuardError';
  }
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

export function isLoopback(host: string | undefined | null): boolean {
  if (host === undefined || host === null || host === '') return true; // Node defaults to localhost
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

function assertLoopback(host: string | undefined | null): void {
  if (!isLoopback(host)) throw new NetworkGuardError(String(host));
}

/** The host a `net.Socket#connect(...)` call targets; undefined for IPC paths (unix sockets, pipes). */
function connectHost(args: unknown[]): { host: string | undefined; ipc: boolean } {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // internal normalized-args form
  if (first !== null && typeof first === 'object') {
    const options = first as { host?: string; path?: string };
    if (options.path !== undefined) return { host: undefined, ipc: true };
    return { host: options.host, ipc: false };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { host: undefined, ipc: true };
  return { host: typeof args[1] === 'string' ? args[1] : undefined, ipc: false };
}

function requestHost(args: unknown[]): string | undefined {
  const [first, second] = args;
  const fromUrl = (value: string | URL) => new URL(String(value)).hostname;
  if (typeof first === 'string' || first instanceof URL) return fromUrl(first);
  const options = (first ?? second) as { hostname?: string; host?: string } | undefined;
  return options?.hostname ?? options?.host?.replace(/:\d+$/, '');
}

let installed = false;

export function installNetworkGuard(): void {
  if (installed) return;
  installed = true;

  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const { host, ipc } = connectHost(args);
    if (!ipc) assertLoopback(host);
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;

  for (const mod of [http, https]) {
    const originalRequest = mod.request;
    const originalGet = mod.get;
    mod.request = function guardedRequest(...args: unknown[]) {
      assertLoopback(requestHost(args));
      return (originalRequest as (...a: unknown[]) => http.ClientRequest)(...args);
    } as typeof mod.request;
    mod.get = function guardedGet(...args: unknown[]) {
      assertLoopback(requestHost(args));
      return (originalGet as (...a: unknown[]) => http.ClientRequest)(...args);
    } as typeof mod.get;
  }

  const originalLookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname: string, ...rest: unknown[]) {
    assertLoopback(hostname);
    return (originalLookup as (...a: unknown[]) => void)(hostname, ...rest);
  } as typeof dns.lookup;
  const originalPromisesLookup = dns.promises.lookup;
  dns.promises.lookup = async function guardedPromisesLookup(hostname: string, ...rest: unknown[]) {
    assertLoopback(hostname);
    return (originalPromisesLookup as (...a: unknown[]) => Promise<unknown>)(hostname, ...rest);
  } as typeof dns.promises.lookup;
  for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny'] as const) {
    const original = dns[name] as (...a: unknown[]) => void;
    (dns as unknown as Record<string, unknown>)[name] = (hostname: string, ...rest: unknown[]) => {
      assertLoopback(hostname);
      return original(hostname, ...rest);
    };
  }

  const originalFetch = globalThis.fetch;
  if (originalFetch) {
    globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      assertLoopback(new URL(url).hostname);
      return originalFetch(input, init);
    };
  }
}
