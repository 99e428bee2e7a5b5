// The WeChat Pay merchant configuration (docs/wechatpay-merchants.md), one loader per need: the webhook gets
// verification material only, the consumer the APIv3 keys, reconciliation/sweep/backfill everything (they sign).
// Sources, first match wins:
//   1. per-purpose files WECHATPAY_MERCHANTS_<PURPOSE>_FILE (local runtime): `{ "merchants": [part, …] }`;
//   2. WECHATPAY_PARAMETERS (a stage): the SSM path `/payhooks/<stage>/wechatpay`, one SecureString parameter
//      per merchant and purpose under `<path>/<purpose>/<id>`; the function's IAM policy covers only its
//      purposes, so reading another purpose fails with AccessDenied;
//   3. the single full document (WECHATPAY_MERCHANTS_FILE / WECHATPAY_MERCHANTS: CLI, tests, migration); the
//      verify and decrypt loaders drop the other purposes' fields before any key is parsed.
// Callers hold the result for the container's lifetime (once()): read and parsed at cold start, never on the
// request path.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@payhooks/core/errors';
import {
  type DecryptingMerchant,
  type DecryptPart,
  MERCHANT_PURPOSES,
  type MerchantPurpose,
  type MerchantRegistry,
  parseDecryptingMerchants,
  parseMerchantParts,
  parseMerchants,
  parsePartsDocument,
  parseVerifyingMerchants,
  type SignPart,
  splitMerchantsDocument,
  type VerifyingMerchant,
  type VerifyPart,
} from '@payhooks/core/providers/wechatpay';
import { type Env, secret } from '../config.ts';

export type MerchantsSource = { file: string } | { document: string };

/** Reads every parameter value under an SSM path (one merchant part each). */
export type ParameterReader = (path: string) => Promise<string[]>;

export const PURPOSE_FILE_VARIABLE: Record<MerchantPurpose, string> = {
  verify: 'WECHATPAY_MERCHANTS_VERIFY_FILE',
  decrypt: 'WECHATPAY_MERCHANTS_DECRYPT_FILE',
  sign: 'WECHATPAY_MERCHANTS_SIGN_FILE',
};

async function readText(file: string, variable: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('CONFIG_MISSING', `${variable} ${file} cannot be read`, { cause });
  }
}

export async function loadMerchants(source: MerchantsSource): Promise<MerchantRegistry> {
  if ('document' in source) return parseMerchants(source.document);
  return parseMerchants(await readText(source.file, 'WECHATPAY_MERCHANTS_FILE'));
}

/** GetParametersByPath, decrypted, all pages: one call per page at cold start. */
export const ssmParameterReader: ParameterReader = async (path) => {
  const { SSMClient, GetParametersByPathCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({});
  const values: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await client.send(
      new GetParametersByPathCommand({ Path: path, Recursive: false, WithDecryption: true, NextToken }),
    );
    for (const parameter of page.Parameters ?? []) if (parameter.Value) values.push(parameter.Value);
    NextToken = page.NextToken;
  } while (NextToken);
  return values;
};

function partsFromValues(purpose: MerchantPurpose, path: string, values: string[]): unknown[] {
  if (values.length === 0)
    throw new ConfigError(
      'SECRET_MISSING',
      `no WeChat Pay merchant parameters under ${path} (payhooks secrets set-wechatpay-merchant …)`,
    );
  return values.map((value) => {
    try {
      return JSON.parse(value);
    } catch {
      // Never echo the value: it is a secret.
      throw new ConfigError('CONFIG_INVALID', `a ${purpose} parameter under ${path} is not valid JSON`);
    }
  });
}

type Parts = { verify: VerifyPart[]; decrypt: DecryptPart[]; sign: SignPart[] };

/** The parts of the given purposes from the first configured source (see the header). */
export async function loadMerchantParts<P extends MerchantPurpose>(
  env: Env,
  purposes: readonly P[],
  readParameters: ParameterReader = ssmParameterReader,
): Promise<Pick<Parts, P>> {
  const out = {} as Record<MerchantPurpose, unknown[]>;
  if (purposes.every((purpose) => env[PURPOSE_FILE_VARIABLE[purpose]])) {
    for (const purpose of purposes) {
      const variable = PURPOSE_FILE_VARIABLE[purpose];
      out[purpose] = parsePartsDocument(purpose, await readText(env[variable] as string, variable));
    }
  } else if (env.WECHATPAY_PARAMETERS) {
    const root = env.WECHATPAY_PARAMETERS.replace(/\/+$/, '');
    await Promise.all(
      purposes.map(async (purpose) => {
        const path = `${root}/${purpose}`;
        out[purpose] = parsePartsDocument(purpose, {
          merchants: partsFromValues(purpose, path, await readParameters(path)),
        });
      }),
    );
  } else {
    const file = env.WECHATPAY_MERCHANTS_FILE;
    const document = file
      ? await readText(file, 'WECHATPAY_MERCHANTS_FILE')
      : await secret(env, 'WECHATPAY_MERCHANTS');
    const split = splitMerchantsDocument(document);
    for (const purpose of purposes) out[purpose] = split.map((parts) => parts[purpose]);
  }
  return out as unknown as Pick<Parts, P>;
}

/** The webhook: ids, appids and public verification keys. Never an APIv3 key or a private key. */
export async function verifyingMerchantsFromEnv(
  env: Env,
  readParameters?: ParameterReader,
): Promise<MerchantRegistry<VerifyingMerchant>> {
  const { verify } = await loadMerchantParts(env, ['verify'], readParameters);
  return parseVerifyingMerchants({ merchants: verify });
}

/** The consumer: ids, appids and APIv3 keys. Never a private key. */
export async function decryptingMerchantsFromEnv(
  env: Env,
  readParameters?: ParameterReader,
): Promise<MerchantRegistry<DecryptingMerchant>> {
  const { decrypt } = await loadMerchantParts(env, ['decrypt'], readParameters);
  return parseDecryptingMerchants({ merchants: decrypt });
}

/** Reconciliation, sweep, backfill: all three parts (they sign requests, verify answers, heal by decrypting). */
export async function merchantsFromEnv(
  env: Env,
  readParameters?: ParameterReader,
): Promise<MerchantRegistry> {
  return parseMerchantParts(await loadMerchantParts(env, ['verify', 'decrypt', 'sign'], readParameters));
}

/**
 * Splits a full merchants document into one owner-only file per purpose under dir and returns the
 * WECHATPAY_MERCHANTS_<PURPOSE>_FILE variables (the local runtime hands each handler only its own).
 */
export async function writeMerchantPartFiles(
  document: string,
  dir: string,
): Promise<Record<MerchantPurpose, Record<string, string>>> {
  const split = splitMerchantsDocument(document);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const out = {} as Record<MerchantPurpose, Record<string, string>>;
  for (const purpose of MERCHANT_PURPOSES) {
    const file = path.join(dir, `${purpose}.json`);
    const merchants = split.map((parts) => parts[purpose]);
    await writeFile(file, `${JSON.stringify({ merchants }, null, 2)}\n`, { mode: 0o600 });
    out[purpose] = { [PURPOSE_FILE_VARIABLE[purpose]]: file };
  }
  return out;
}

/** The full-document variables, which a purpose-scoped handler must not see. */
export function withoutFullMerchants(env: Env): Env {
  const { WECHATPAY_MERCHANTS: _document, WECHATPAY_MERCHANTS_FILE: _file, ...rest } = env;
  return rest;
}
