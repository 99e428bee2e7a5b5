// Kept for existing importers: the merchant configuration is built in wiring/merchants.ts.
export { loadMerchants, merchantsFromEnv } from './wiring/merchants.ts';
