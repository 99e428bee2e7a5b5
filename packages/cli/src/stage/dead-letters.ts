// The dead-letter operations live with the SQS adapter (functions adapters/dead-letters.ts), shared by
// `payhooks dlq` and the console's operations pages; this module keeps the CLI's import path.
export * from '@payhooks/functions/adapters/sqs';
