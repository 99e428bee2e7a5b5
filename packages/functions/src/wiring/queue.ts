// The ingest queue: the SQS adapter (adapters/sqs.ts, tuned for the ingress hot path) from the environment, or
// from a client the caller built (CLI, local runtime).
export { createSqsQueue as createQueue, queueFromEnv, sqsClientFromEnv } from '../adapters/sqs.ts';
