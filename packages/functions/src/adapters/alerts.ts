// Reconciliation alerts: an SNS publish to ALERT_TOPIC_ARN when @aws-sdk/client-sns is available, and always a
// structured `alert: true` log line (CloudWatch keeps it; the UnhealedBreaks metric and the function-error alarms
// notify the same topic through Monitoring). The SNS client is not a dependency of this repository yet, so it is
// loaded by name at run time and its absence is logged, not fatal.
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

type SnsModule = {
  SNSClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<unknown> };
  PublishCommand: new (input: Record<string, unknown>) => unknown;
};

export function createAlerter(env: Env, logger: Logger): Alerter {
  const topicArn = env.ALERT_TOPIC_ARN;
  let sns: Promise<{ send(command: unknown): Promise<unknown>; module: SnsModule } | undefined> | undefined;
  const load = () => {
    sns ??= (async () => {
      const name = '@aws-sdk/client-sns';
      try {
        const module = (await import(/* @vite-ignore */ name)) as SnsModule;
        const client = new module.SNSClient({});
        return { send: (command: unknown) => client.send(command), module };
      } catch {
        logger.warn(
          'SNS client @aws-sdk/client-sns is not installed: reconciliation alerts are logged only',
          {
            topicArn,
          },
        );
        return undefined;
      }
    })();
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
      const client = await load();
      if (!client) return;
      try {
        await client.send(
          new client.module.PublishCommand({
            TopicArn: topicArn,
            Subject: alert.subject.slice(0, 100),
            Message: alert.message,
          }),
        );
      } catch (error) {
        logger.error('publishing the reconciliation alert to SNS failed', {
          topicArn,
          ...errorFields(error),
        });
      }
    },
  };
}
