// One CSV record as text: RFC 4180 quoting (a field holding a delimiter, quote, CR or LF is quoted, quotes doubled),
// plus fields with leading or trailing whitespace, which spreadsheets would otherwise trim; CRLF after each record.
// Hand-written rather than csv-stringify: on matched.csv's 200,000 rows csv-stringify took 2.6× as long for the
// same bytes (docs/decisions.md, "Reconciliation modules"), and the report is the run's longest stage.

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
