// Former home of the amount and time conversions, kept as an alias for the sandbox writers that still import it;
// new code imports decimal-amount.ts or wall-clock-time.ts.
export { parseAmount } from './decimal-amount.ts';
export { formatBeijingTime, formatUtcTime, parseBeijingTime, parseUtcTime } from './wall-clock-time.ts';
