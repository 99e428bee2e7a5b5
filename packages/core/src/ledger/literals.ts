// Array literals for the set-based statements. postgres.js with `prepare: false` (no named statements, for RDS
// Proxy: design rule 7) sends every statement with parameters as Parse + Describe first and waits for the answer
// before it binds: one extra round trip per statement. A batch's data therefore travels inline, as typed array
// literals in dollar quotes whose tag does not occur in the data (nothing in the data can end the quote), so
// each statement is one round trip and the statements of a batch pipeline.

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/** `{"a","b",NULL}` with the array-literal escapes for backslash and double quote. */
function arrayText(values: readonly (string | null)[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string | null;
    if (i > 0) text += ',';
    // One pass over the value (raw bodies are kilobytes of JSON full of quotes), none for plain values.
    text += v === null ? 'NULL' : NEEDS_ESCAPE.test(v) ? `"${v.replace(ESCAPED, '\\$&')}"` : `"${v}"`;
  }
  return `${text}}`;
}

/**
 * A dollar-quoted literal of `text`. The text does not contain `$` + tag, so no closing `$tag$` can start inside
 * it, not even one that runs on into the closing delimiter (tag characters are never `$`).
 */
export function dollarQuoted(text: string): string {
  let tag = 'v';
  for (let n = 0; text.includes(`$${tag}`); n++) tag = `v${n}`;
  return `$${tag}$${text}$${tag}$`;
}

/** A typed array literal for unnest(): `$v${…}$v$::text[]`. `type` is one of ours, never input. */
export function arrayLiteral(values: readonly (string | null)[], type: string): string {
  return `${dollarQuoted(arrayText(values))}::${type}[]`;
}

/**
 * `ARRAY[$t$…$t$, …]::type[]`: every element its own dollar-quoted literal under one tag that occurs in none of
 * them. For long texts (raw bodies, snapshots): nothing is escaped on either side, where an array literal makes
 * JavaScript escape every quote and PostgreSQL's array parser read the text back character by character.
 */
export function arrayOfLiterals(values: readonly (string | null)[], type: string): string {
  let tag = 'v';
  for (let n = 0; values.some((v) => v?.includes(`$${tag}`)); n++) tag = `v${n}`;
  const quote = `$${tag}$`;
  // Concatenated, not joined: `+` links the long texts into a rope that postgres.js flattens once as it writes
  // the statement, where join() copies them here and again in every join above (a two-byte text — any
  // non-Latin-1 character — widens the whole result each time).
  let text = 'ARRAY[';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string | null;
    if (i > 0) text += ',';
    text += v === null ? 'NULL' : quote + v + quote;
  }
  return `${text}]::${type}[]`;
}
