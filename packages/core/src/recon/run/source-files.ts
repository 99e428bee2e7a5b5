// What every provider source shares: the empty file (no bill or report for the day), provider totals as strings
// for the evidence, and a source over files that are already at hand (tests, replays of kept files).
import type { ReconSource, SourceFile, SourceFileEvidence } from './types.ts';

/** A provider download: an async iterable of byte or text chunks. */
export type Download = AsyncIterable<unknown>;

export function emptyFile(name: string): SourceFile {
  const evidence: SourceFileEvidence = {
    name,
    empty: true,
    expectedSha1: null,
    sha1Downloaded: null,
    sha1Plaintext: null,
    sha256Downloaded: null,
    bytes: 0,
    rows: 0,
    totals: {},
  };
  return {
    name,
    lines: (async function* () {})(),
    evidence: () => evidence,
    kept: async () => [],
    dispose: async () => {},
  };
}

export const stringTotals = (totals: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(totals)
      .filter(([, v]) => typeof v === 'bigint' || typeof v === 'number')
      .map(([k, v]) => [k, String(v)]),
  );

/** Static files (tests, replays of kept files): each entry is one already-downloaded file. */
export function fileSource(
  provider: 'wechatpay' | 'stripe',
  account: string,
  files: () => AsyncIterable<SourceFile>,
): ReconSource {
  return { provider, account, files };
}
