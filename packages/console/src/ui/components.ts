// Small shared pieces: loading/error states, labelled fields, money and dates as people read them.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change; the page shows loading / error / data. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: () => setRound((r) => r + 1),
  };
}

export function Status({ loaded }: { loaded: Loaded<unknown> }) {
  if (loaded.error) return html`<p class="error" role="alert">${loaded.error}</p>`;
  if (loaded.loading && loaded.data === undefined)
    return html`<p class="muted" aria-live="polite">Loading…</p>`;
  return null;
}

const EXPONENT: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  BHD: 3,
  KWD: 3,
  JOD: 3,
  OMR: 3,
  TND: 3,
};

/** Minor units (a decimal string from the API: bigints never pass through a float) as `1,234.56 CNY`. */
export function money(
  minor: string | number | null | undefined,
  currency: string | null | undefined,
): string {
  if (minor === null || minor === undefined || minor === '') return '—';
  const text = String(minor);
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const exponent = EXPONENT[(currency ?? '').toUpperCase()] ?? 2;
  const padded = digits.padStart(exponent + 1, '0');
  const whole = padded.slice(0, padded.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exponent ? `.${padded.slice(padded.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}${currency ? ` ${currency.toUpperCase()}` : ''}`;
}

export const when = (iso: string | null | undefined) =>
  iso
    ? new Date(iso)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';

export function Field({ label, id, children }: { label: string; id: string; children: ComponentChildren }) {
  return html`<div class="field"><label for=${id}>${label}</label>${children}</div>`;
}

export const account = (value: string | null | undefined) => (value ? value : 'platform');
