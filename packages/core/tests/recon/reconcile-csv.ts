// Reads a report CSV back (BOM, CRLF, quoted fields) into objects keyed by header, with csv-parse.
import { parse } from 'csv-parse/sync';

export function breaksCsvRows(text: string): Record<string, string>[] {
  if (!text.startsWith('\uFEFF')) throw new Error('report CSV must start with a UTF-8 BOM');
  return parse(text.slice(1), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}
