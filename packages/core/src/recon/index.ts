// Reconciliation, parsing layer: provider bill/report files in, typed rows with exact minor units out, streaming.
// Matching against the ledger (COPY into staging + SQL) and report writing build on these.
export { csvField } from './csv-field.ts';
export * from './errors.ts';
export * from './stripe/report-format.ts';
export * from './stripe/report-parser.ts';
export type { TextChunk, TextSource } from './text.ts';
export { formatBeijingTime, formatUtcTime, parseAmount, parseBeijingTime, parseUtcTime } from './values.ts';
export * from './wechatpay/bill-format.ts';
export * from './wechatpay/bill-parser.ts';
export * from './wechatpay/bill-stream.ts';
