// The claim-check store (core/ingress/claim-check.ts) from the environment: the stage's claim-check bucket
// (CLAIM_CHECK_BUCKET, set by stacks/Queue.ts on the webhooks and the consumer). The S3 client is loaded on the
// first oversized event only, so the webhooks' cold start carries no S3 code. Without the variable there is no
// store: ingress answers 413 to an envelope that does not fit a queue message, and the consumer fails a
// reference with CLAIM_CHECK_NO_STORE. The local runtime passes its folder store instead.
import type { ClaimReader, ClaimStore } from '@payhooks/core/envelope';
import type { ObjectStore } from '@payhooks/core/ports';
import { type Env, optional } from '../config.ts';

export const CLAIM_CHECK_BUCKET_VARIABLE = 'CLAIM_CHECK_BUCKET';

export function claimStoreFromEnv(env: Env): (ClaimStore & ClaimReader) | undefined {
  const bucket = env[CLAIM_CHECK_BUCKET_VARIABLE];
  if (!bucket) return undefined;
  let store: Promise<ObjectStore> | undefined;
  const s3 = () =>
    (store ??= Promise.all([import('@aws-sdk/client-s3'), import('../adapters/s3-store.ts')]).then(
      ([{ S3Client }, { createS3Store }]) =>
        createS3Store(new S3Client({ region: optional(env, 'AWS_REGION', 'us-east-1') }), bucket),
    ));
  return {
    put: async (key, body, contentType) => (await s3()).put(key, body, contentType),
    get: async (key) => (await s3()).get(key),
  };
}
