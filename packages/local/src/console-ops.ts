// The console's operations port on the local queues: the very adapter a stage's console wiring builds on SQS
// (functions' adapters/console-ops-sqs.ts), here on the emulator.
export { opsQueuesOn } from '@payhooks/functions/adapters/console-ops-sqs';
