// Proves the offline guard installed by setup.ts: non-loopback connections fail before leaving the host,
// loopback keeps working (so the guard cannot be "passing" by breaking all networking).
import dns from 'node:dns';
import https from 'node:https';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isLoopback, NetworkGuardError } from './network-guard.ts';

// TEST-NET-1 (RFC 5737): never routed, so even an unguarded attempt could not reach anyone.
const NON_LOOPBACK = '192.0.2.1';

describe('network guard (infra-tests/setup.ts)', () => {
  it('fails a TCP connection to a non-loopback address', () => {
    expect(() => net.connect({ host: NON_LOOPBACK, port: 443 })).toThrow(NetworkGuardError);
    expect(() => net.connect(443, NON_LOOPBACK)).toThrow(/only loopback is allowed/);
  });

  it('fails HTTPS requests, fetch and DNS lookups of remote names', async () => {
    expect(() => https.request('https://sts.amazonaws.com/')).toThrow(NetworkGuardError);
    await expect(fetch('https://api.stripe.com/v1/balance')).rejects.toBeInstanceOf(NetworkGuardError);
    await expect(dns.promises.lookup('cloudformation.us-east-1.amazonaws.com')).rejects.toBeInstanceOf(
      NetworkGuardError,
    );
    expect(() => dns.lookup('example.com', () => undefined)).toThrow(NetworkGuardError);
  });

  it('lets loopback connections through', async () => {
    const server = net.createServer((socket) => socket.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        let data = '';
        socket.on('data', (chunk) => {
          data += chunk;
        });
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toBe('pong');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('classifies loopback and remote hosts', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
      undefined,
    ]) {
      expect(isLoopback(host), String(host)).toBe(true);
    }
    for (const host of [
      NON_LOOPBACK,
      '10.0.0.1',
      '::ffff:192.0.2.1',
      'example.com',
      'localhost.example.com',
    ]) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
});
