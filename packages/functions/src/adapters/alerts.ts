// Reconciliation alerts: an SNS publish to ALERT_TOPIC_ARN and always a structured `alert: true` log line
// (CloudWatch keeps it; the UnhealedBreaks metric and the function-error alarms notify the same topic too).
// The SNS client is loaded on the first alert, not at cold start: most runs end without one.
import type { SNSClient } from '@aws-sdk/client-sns';
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

export function createAlerter(env: Env, logger: Logger, client?: Pick<SNSClient, 'send'>): Alerter {
  const topicArn = env.ALERT_TOPIC_ARN;
  let sns:
    | Promise<{
        client: Pick<SNSClient, 'send'>;
        PublishCommand: typeof import('@aws-sdk/client-sns').PublishCommand;
      }>
    | undefined;
  const loadSns = () => {
    sns ??= import('@aws-sdk/client-sns').then((sdk) => ({
      client: client ?? new sdk.SNSClient({}),
      PublishCommand: sdk.PublishCommand,
    }));
    return sns;
  };
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
        const { client: publisher, PublishCommand } = await loadSns();
        await publisher.send(
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
