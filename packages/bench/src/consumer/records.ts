// SQS records of queue message bodies, as the event source mapping hands them to the consumer.
import type { SQSRecord } from 'aws-lambda';

export function records(bodies: readonly string[], prefix: string): SQSRecord[] {
  return bodies.map((body, i) => ({
    messageId: `${prefix}-${i}`,
    receiptHandle: `${prefix}-${i}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
    awsRegion: 'us-east-1',
  }));
}
