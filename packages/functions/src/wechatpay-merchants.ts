// The WeChat Pay merchant configuration (docs/wechatpay-merchants.md) for any function that needs it: the
// WECHATPAY_MERCHANTS_FILE path when set (local runtime), otherwise the WECHATPAY_MERCHANTS secret (an SST
// Config.Secret in AWS, or a plain variable). Callers hold the result for the container's lifetime, so PEM text
// is parsed into KeyObjects once and never on the request path.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@payhooks/core/errors';
import { type MerchantRegistry, parseMerchants } from '@payhooks/core/providers/wechatpay';
import { type Env, secret } from './config.ts';

export async function merchantsFromEnv(env: Env): Promise<MerchantRegistry> {
  const file = env.WECHATPAY_MERCHANTS_FILE;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new ConfigError('CONFIG_MISSING', `WECHATPAY_MERCHANTS_FILE ${file} cannot be read`, { cause });
    }
    return parseMerchants(text);
  }
  return parseMerchants(await secret(env, 'WECHATPAY_MERCHANTS'));
}
