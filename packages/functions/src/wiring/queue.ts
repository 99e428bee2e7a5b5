// The ingest queue: the SQS adapter (adapters/sqs.ts, through the SDK) from the environment, or from a client the
// caller built (CLI, local runtime); and the webhooks' lean signed sender (adapters/sqs-send.ts).
export { createSqsQueue as createQueue, queueFromEnv, sqsClientFromEnv } from '../adapters/sqs.ts';
export {
  createSqsSender,
  type SqsSender,
  type SqsSenderOptions,
  sqsSenderFromEnv,
} from '../adapters/sqs-send.ts';
