// Ports: what the domain needs from the outside world. AWS adapters (packages/functions) and the local
// runtime (packages/local) implement the same interfaces, and contract tests run against each.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface QueueSendResult {
  messageId: string;
}

/** A durable queue: `send` resolves only once the message is stored. */
export interface Queue {
  send(body: string): Promise<QueueSendResult>;
}

export interface ObjectStore {
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** Uploads a local file by streaming it (large reports never sit in memory). */
  putFile(key: string, file: string, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  list(prefix: string): Promise<string[]>;
  /** A link finance can open: pre-signed and short-lived in AWS, a file URL locally. */
  link(key: string, expiresInSeconds: number): Promise<string>;
}

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Counters such as accepted / rejected / enqueued / applied / duplicate; EMF in AWS, memory locally. */
export interface Metrics {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
}
