// The S3 SDK pieces the store uses, in one module that s3-store.ts imports only on its first request: the
// client and @smithy/core are ≈ 250 KiB a handler would otherwise evaluate at every cold start before it knows
// whether it touches the bucket (docs/decisions.md, "Cold start, session 4").
export {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
export { getSignedUrl } from '@aws-sdk/s3-request-presigner';
