// Small shared pieces: loading/error states, labelled fields, money and dates as people read them.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (the old data goes: a list never shows rows of another filter); `reload` keeps it. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const key = JSON.stringify(deps);
  const last = useRef(key);
  useEffect(() => {
    let live = true;
    const changed = last.current !== key;
    last.current = key;
    setState((s) => (changed ? { loading: true } : { ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
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

/** A table row that opens something, by keyboard: Enter or Space opens it, ↑/↓ move to the row above/below. */
export function onRowKey(event: KeyboardEvent, open: () => void): void {
  if (event.target !== event.currentTarget) return; // a checkbox or link inside the row keeps its own keys
  const row = event.currentTarget as HTMLTableRowElement;
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    open();
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const next = (event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as
      | HTMLElement
      | undefined;
    next?.focus();
  }
}

/** How long ago, as people say it: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function age(fromIso: string | null | undefined, now = Date.now()): string {
  if (!fromIso) return '—';
  const seconds = Math.max(0, Math.round((now - new Date(fromIso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A duration in milliseconds, as `850 ms`, `4.2 s`, `3.5 min`, `2.1 h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
