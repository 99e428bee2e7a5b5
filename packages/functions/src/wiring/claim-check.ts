// The claim-check store (core/ingress/claim-check.ts) from the environment: the stage's claim-check bucket
// (CLAIM_CHECK_BUCKET, set by stacks/claim-check.ts on every producer and the consumer). The S3 client is loaded
// on the first oversized event only, so the webhooks' cold start carries no S3 code. Without the variable there
// is no store: ingress answers 413 to an envelope that does not fit a queue message, other producers fail it with
// ENVELOPE_TOO_LARGE, and the consumer fails a reference with CLAIM_CHECK_NO_STORE. The local runtime passes its
// folder store instead.
import type { ClaimReader, ClaimStore } from '@payhooks/core/envelope';
import type { ObjectStore } from '@payhooks/core/ports';
import { type Env, optional } from '../config.ts';

export const CLAIM_CHECK_BUCKET_VARIABLE = 'CLAIM_CHECK_BUCKET';

export function claimStoreFromEnv(env: Env): (ClaimStore & ClaimReader) | undefined {
  const bucket = env[CLAIM_CHECK_BUCKET_VARIABLE];
  if (!bucket) return undefined;
  let store: Promise<ObjectStore & { delete(key: string): Promise<void> }> | undefined;
  const s3 = () =>
    (store ??= Promise.all([import('@aws-sdk/client-s3'), import('../adapters/s3-store.ts')]).then(
      ([{ DeleteObjectCommand, S3Client }, { createS3Store }]) => {
        const client = new S3Client({ region: optional(env, 'AWS_REGION', 'us-east-1') });
        return {
          ...createS3Store(client, bucket),
          // S3 answers 204 for a key that is already gone, so a repeated removal succeeds.
          delete: async (key: string) => {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          },
        };
      },
    ));
  return {
    put: async (key, body, contentType) => (await s3()).put(key, body, contentType),
    get: async (key) => (await s3()).get(key),
    delete: async (key) => (await s3()).delete(key),
  };
}
