// RFC 4180 field quoting, shared by the run's report CSVs (run/report.ts) and the test kit's Stripe report writer.

/** Quotes a CSV field when it holds a delimiter, quote, line break, or edge whitespace. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
