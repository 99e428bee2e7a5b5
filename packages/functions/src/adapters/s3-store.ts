// ObjectStore on S3 (the reports bucket): plain PUT/GET/LIST through the SDK, and short-lived pre-signed GET
// links for finance (SigV4 query signing; the bucket stays private).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore } from '@payhooks/core/ports';
import { type Env, optional, required } from '../config.ts';

/** Longest link lifetime handed out (SigV4 allows 7 days; reports links are meant to be used at once). */
export const MAX_LINK_SECONDS = 3600;

interface SendsCommands {
  send(command: unknown): Promise<unknown>;
}

export function createS3Store(client: S3Client, bucket: string): ObjectStore {
  const s3 = client as unknown as SendsCommands;
  return {
    async put(key, body, contentType) {
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
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = (await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        )) as ListObjectsV2CommandOutput;
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async link(key, expiresInSeconds) {
      const expiresIn = Math.max(1, Math.min(MAX_LINK_SECONDS, Math.trunc(expiresInSeconds)));
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
    },
  };
}

export function s3StoreFromEnv(env: Env): ObjectStore {
  const client = new S3Client({ region: optional(env, 'AWS_REGION', 'us-east-1') });
  return createS3Store(client, required(env, 'REPORTS_BUCKET'));
}
