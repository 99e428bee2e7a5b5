// Reconciliation, parsing layer: provider bill/report files in, typed rows with exact minor units out, streaming.
// Matching against the ledger (COPY into staging + SQL) and report writing build on these.

export { parseAmount } from './decimal-amount.ts';
export * from './errors.ts';
export { csvField } from './run/csv-record.ts';
export * from './stripe/report-format.ts';
export * from './stripe/report-parser.ts';
export type { TextChunk, TextSource } from './utf8-lines.ts';
export { formatBeijingTime, formatUtcTime, parseBeijingTime, parseUtcTime } from './wall-clock-time.ts';
export * from './wechatpay/bill-format.ts';
export * from './wechatpay/bill-parser.ts';
export * from './wechatpay/bill-stream.ts';
