// Personal data masked out of provider bodies before anyone sees them (the operations console shows verified raw
// bodies). Masking is by field name, for what Stripe and WeChat Pay put in their objects (names, e-mail, phone,
// addresses, card last4 / fingerprints / IIN, WeChat openid and payer fields, client IPs), plus any e-mail address
// in any other string (free text and metadata carry them too). The result keeps the document's shape and every
// id, amount, status and time, so an operator can still read what happened.

export const MASK = '[masked]';

/** Keys whose whole value (a string, a number, or every leaf of an object) is personal data. */
const PERSONAL_KEYS = new Set([
  // people
  'name',
  'email',
  'receipt_email',
  'phone',
  'phone_number',
  'tax_id',
  'tax_ids',
  // places
  'address',
  'shipping',
  'billing_details',
  'customer_details',
  'customer_address',
  'customer_email',
  'customer_name',
  'customer_phone',
  'customer_shipping',
  'line1',
  'line2',
  'postal_code',
  // cards and bank accounts
  'last4',
  'dynamic_last4',
  'fingerprint',
  'iin',
  'account_holder_name',
  'routing_number',
  // WeChat Pay payer
  'payer',
  'openid',
  'sp_openid',
  'sub_openid',
  'user_received_account',
  'payer_client_ip',
  'device_ip',
  'client_ip',
  'ip',
  'ip_address',
]);

const EMAIL = /[^\s@"'<>()[\],;:]+@[^\s@"'<>()[\],;:]+\.[A-Za-z]{2,}/g;

function normalizedKey(key: string): string {
  // camelCase and snake_case alike: payerClientIp → payer_client_ip.
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function maskAll(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(maskAll);
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskAll(v)]),
    );
  }
  return MASK;
}

/** A copy of a parsed JSON value with personal data replaced by `[masked]` (null stays null: "none given"). */
export function maskPersonalData(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(EMAIL, MASK);
  if (Array.isArray(value)) return value.map(maskPersonalData);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, v]) => [
        key,
        PERSONAL_KEYS.has(normalizedKey(key)) ? maskAll(v) : maskPersonalData(v),
      ]),
    );
  }
  return value;
}

/**
 * A raw provider body for display: JSON is parsed, masked and pretty-printed; anything else (not JSON) has its
 * e-mail addresses and long digit runs (card or phone numbers) masked.
 */
export function maskRawBody(rawBody: string): string {
  try {
    return JSON.stringify(maskPersonalData(JSON.parse(rawBody)), null, 2);
  } catch {
    return rawBody.replace(EMAIL, MASK).replace(/\+?\d[\d -]{8,}\d/g, MASK);
  }
}
