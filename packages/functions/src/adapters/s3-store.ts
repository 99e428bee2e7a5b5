// ObjectStore on S3 (the reports bucket): plain PUT/GET/LIST through the SDK, and short-lived pre-signed GET
// links for finance (SigV4 query signing; the bucket stays private). The SDK is loaded on the first request
// (s3-sdk.ts), not on import: reconciliation writes its reports at the end of a run, and a cold start that never
// reaches the bucket never pays for the client.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '@payhooks/core/ports';
import { type Env, optional, required } from '../config.ts';

/** Longest link lifetime handed out (SigV4 allows 7 days; reports links are meant to be used at once). */
export const MAX_LINK_SECONDS = 3600;

interface SendsCommands {
  send(command: unknown): Promise<unknown>;
}

type S3Sdk = typeof import('./s3-sdk.ts');
let sdkLoading: Promise<S3Sdk> | undefined;

/** On a client, or on a function that makes one from the SDK when first needed (s3StoreFromEnv). */
export function createS3Store(client: S3Client | ((sdk: S3Sdk) => S3Client), bucket: string): ObjectStore {
  let made: S3Client | undefined;
  const ready = async () => {
    sdkLoading ??= import('./s3-sdk.ts');
    const sdk = await sdkLoading;
    made ??= typeof client === 'function' ? client(sdk) : client;
    return { sdk, client: made, s3: made as unknown as SendsCommands };
  };
  return {
    async put(key, body, contentType) {
      const { sdk, s3 } = await ready();
      const { PutObjectCommand } = sdk;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
          ContentType: contentType,
        }),
      );
    },
    async putFile(key, file, contentType) {
      const { size } = await stat(file);
      const { sdk, s3 } = await ready();
      const { PutObjectCommand } = sdk;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: contentType,
        }),
      );
    },
    async get(key) {
      const { sdk, s3 } = await ready();
      const { GetObjectCommand } = sdk;
      try {
        const answer = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))) as {
          Body?: { transformToByteArray(): Promise<Uint8Array> };
        };
        return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
        throw error;
      }
    },
    async list(prefix) {
      const { sdk, s3 } = await ready();
      const { ListObjectsV2Command } = sdk;
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = (await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        )) as import('./s3-sdk.ts').ListObjectsV2CommandOutput;
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async link(key, expiresInSeconds) {
      const expiresIn = Math.max(1, Math.min(MAX_LINK_SECONDS, Math.trunc(expiresInSeconds)));
      const { sdk, client } = await ready();
      return sdk.getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn,
      });
    },
  };
}

export function s3StoreFromEnv(env: Env): ObjectStore {
  const region = optional(env, 'AWS_REGION', 'us-east-1');
  const bucket = required(env, 'REPORTS_BUCKET');
  return createS3Store((sdk) => new sdk.S3Client({ region }), bucket);
}
