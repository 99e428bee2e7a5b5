// Reconciliation alerts: an SNS publish to ALERT_TOPIC_ARN and always a structured `alert: true` log line
// (CloudWatch keeps it; the UnhealedBreaks metric and the function-error alarms notify the same topic too).
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { errorFields } from '@payhooks/core/logger';
import type { Logger } from '@payhooks/core/ports';
import type { Env } from '../config.ts';

export interface Alert {
  subject: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface Alerter {
  alert(alert: Alert): Promise<void>;
}

export class MemoryAlerter implements Alerter {
  readonly alerts: Alert[] = [];
  async alert(alert: Alert): Promise<void> {
    this.alerts.push(alert);
  }
}

export function createAlerter(
  env: Env,
  logger: Logger,
  client: Pick<SNSClient, 'send'> = new SNSClient({}),
): Alerter {
  const topicArn = env.ALERT_TOPIC_ARN;
  return {
    async alert(alert) {
      logger.error(alert.subject, {
        alert: true,
        topicArn: topicArn ?? null,
        message: alert.message,
        ...alert.fields,
      });
      if (!topicArn) return;
      try {
        await client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: alert.subject.slice(0, 100),
            Message: alert.message,
          }),
        );
      } catch (error) {
        // The log line above and the UnhealedBreaks / error alarms still reach the topic.
        logger.error('publishing the reconciliation alert to SNS failed', {
          topicArn,
          ...errorFields(error),
        });
      }
    },
  };
}
