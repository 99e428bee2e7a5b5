// A value loaded once per container and re-loaded in the background when older than a TTL: the caller always
// gets the current value at once (never waits for a reload on the request path); a reload that fails keeps the
// current value and is tried again one TTL later. The webhook holds its verify parts in one, so keys
// the platform-certificate refresher stores reach running containers within the TTL, without a redeploy.
import type { Clock } from '@payhooks/core/ports';

export interface RefreshingValue<T> {
  /** The first load (awaited once at cold start), then the current value; starts a reload when stale. */
  get(): Promise<T>;
  /** Synchronous get() once loaded (undefined before): the per-request read costs no promise. */
  current(): T | undefined;
  /** Resolves once no reload is in flight (tests; a reload never blocks get()). */
  settled(): Promise<void>;
}

export function refreshingValue<T>(options: {
  load: () => Promise<T>;
  ttlMs: number;
  clock: Clock;
  onReloadError?: (error: unknown) => void;
}): RefreshingValue<T> {
  const { load, ttlMs, clock } = options;
  let current: { value: T; loadedAt: number } | undefined;
  let first: Promise<T> | undefined;
  let reloading: Promise<void> | undefined;

  const reload = () => {
    reloading ??= load()
      .then((value) => {
        current = { value, loadedAt: clock.now().getTime() };
      })
      .catch((error: unknown) => {
        // Keep serving the current value and try again one TTL later (no reload storm while SSM is down).
        if (current) current = { ...current, loadedAt: clock.now().getTime() };
        options.onReloadError?.(error);
      })
      .finally(() => {
        reloading = undefined;
      });
  };

  return {
    current() {
      if (!current) return undefined;
      if (clock.now().getTime() - current.loadedAt >= ttlMs) reload();
      return current.value;
    },
    async get() {
      if (!current) {
        first ??= load().then(
          (value) => {
            current = { value, loadedAt: clock.now().getTime() };
            return value;
          },
          (error: unknown) => {
            first = undefined; // a failed cold start is retried on the next invocation
            throw error;
          },
        );
        return first;
      }
      if (clock.now().getTime() - current.loadedAt >= ttlMs) reload();
      return current.value;
    },
    async settled() {
      await reloading;
    },
  };
}
