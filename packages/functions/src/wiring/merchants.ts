// The WeChat Pay merchant configuration (docs/wechatpay-merchants.md) for any function that needs it: a file
// (local runtime, CLI) or the document itself (the WECHATPAY_MERCHANTS secret: an SST Config.Secret in AWS, or a
// plain variable). Callers hold the result for the container's lifetime, so PEM text is parsed into KeyObjects
// once and never on the request path.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@payhooks/core/errors';
import { type MerchantRegistry, parseMerchants } from '@payhooks/core/providers/wechatpay';
import { type Env, secret } from '../config.ts';

export type MerchantsSource = { file: string } | { document: string };

export async function loadMerchants(source: MerchantsSource): Promise<MerchantRegistry> {
  if ('document' in source) return parseMerchants(source.document);
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_MISSING', `WECHATPAY_MERCHANTS_FILE ${source.file} cannot be read`, {
      cause,
    });
  }
  return parseMerchants(text);
}

/** WECHATPAY_MERCHANTS_FILE when set, otherwise the WECHATPAY_MERCHANTS secret. */
export async function merchantsFromEnv(env: Env): Promise<MerchantRegistry> {
  const file = env.WECHATPAY_MERCHANTS_FILE;
  return loadMerchants(file ? { file } : { document: await secret(env, 'WECHATPAY_MERCHANTS') });
}
