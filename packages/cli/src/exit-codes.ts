// Exit codes of `payhooks` (README "Operate", docs/runbook.md). Scripts branch on these, so they are stable.
export const EXIT = {
  /** Done as asked. */
  ok: 0,
  /** Failed: a usage or configuration error, a failed reconciliation, an unexpected error (with its stack). */
  failed: 1,
  /** Partly done: e.g. `dlq replay` moved fewer messages than it selected, a backfill had per-order errors. */
  incomplete: 3,
} as const;
