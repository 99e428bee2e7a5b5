// Errors the local runtime throws on purpose: each extends PayhooksError with a stable `code`, like the deployed
// code's, so the poller, tests and `npm start` branch on the class or the code, never on the message. Misuse of
// an API (a missing option, a module started the wrong way) is a ConfigError.
import { PayhooksError } from '@payhooks/core/errors';

/** A child process of the runtime (SQS emulator, consumer container) exited before it answered. */
export class ChildExitedError extends PayhooksError {
  constructor(message: string) {
    super('LOCAL_CHILD_EXITED', message);
  }
}

/** A consumer invocation outlived the function timeout: its batch fails and its container is replaced. */
export class InvocationTimeoutError extends PayhooksError {
  constructor(timeoutMs: number) {
    super('CONSUMER_INVOCATION_TIMEOUT', `consumer invocation timed out after ${timeoutMs} ms`);
  }
}

/**
 * An invocation failed inside a consumer container: the error that crossed the process boundary, rebuilt with its
 * name, message and — when it was a PayhooksError — its code.
 */
export class ContainerInvocationError extends PayhooksError {
  constructor(error: { name: string; message: string; code?: string | undefined }) {
    super(error.code ?? 'CONSUMER_INVOCATION_FAILED', error.message);
    this.name = error.name;
  }
}

/** An object key the folder store refuses (empty, absolute, or with `.`/`..`/empty segments). */
export class ObjectKeyError extends PayhooksError {
  constructor(key: string) {
    super('OBJECT_KEY_INVALID', `not a valid object key: "${key}"`);
  }
}

/** The demo's generated traffic lacks what a planted reconciliation difference needs (a seed/scenario bug). */
export class DemoScenarioError extends PayhooksError {
  constructor(message: string) {
    super('DEMO_SCENARIO_UNSUITABLE', `${message}: start with another --seed or more payments`);
  }
}

/** Another live process runs the local stack on this state folder: a second one would take its Postgres and ports. */
export class StateFolderLockedError extends PayhooksError {
  constructor(
    readonly stateDir: string,
    readonly holder: { pid: number; startedAt?: string; command?: string },
  ) {
    super(
      'LOCAL_STATE_LOCKED',
      `${stateDir} is in use by process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}${
        holder.startedAt ? `, started ${holder.startedAt}` : ''
      }: stop it first, or set PAYHOOKS_STATE_DIR to another folder (and PORT, PAYHOOKS_PG_PORT to free ports)`,
    );
  }
}

/** The embedded PostgreSQL could not be started (busy port, a server still running on the folder…). */
export class PostgresStartError extends PayhooksError {
  constructor(message: string) {
    super('LOCAL_POSTGRES_START', message);
  }
}

/** The saved queue snapshot in the state folder cannot be read or restored. */
export class QueueSnapshotError extends PayhooksError {
  constructor(message: string) {
    super('LOCAL_QUEUE_SNAPSHOT', message);
  }
}
