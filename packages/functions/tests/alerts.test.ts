// Reconciliation alerts publish to the topic and are logged; a failing publish is logged, never thrown.
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Logger } from '@payhooks/core/ports';
import { describe, expect, it } from 'vitest';
import { createAlerter } from '../src/adapters/alerts.ts';

function recordingLogger(): Logger & { lines: { message: string; fields?: Record<string, unknown> }[] } {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const write = (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ message, ...(fields ? { fields } : {}) });
  return { lines, debug: write, info: write, warn: write, error: write };
}

describe('createAlerter', () => {
  it('publishes to ALERT_TOPIC_ARN and logs the alert', async () => {
    const sent: unknown[] = [];
    const logger = recordingLogger();
    const alerter = createAlerter(
      { ALERT_TOPIC_ARN: 'arn:aws:sns:ap-southeast-1:123456789012:alerts' },
      logger,
      {
        send: async (command: unknown) => void sent.push(command),
      } as never,
    );
    await alerter.alert({
      subject: 'unhealed breaks: wechatpay 2026-11-22',
      message: '2 breaks',
      fields: { runId: 'r1' },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(PublishCommand);
    expect((sent[0] as PublishCommand).input).toEqual({
      TopicArn: 'arn:aws:sns:ap-southeast-1:123456789012:alerts',
      Subject: 'unhealed breaks: wechatpay 2026-11-22',
      Message: '2 breaks',
    });
    expect(logger.lines[0]).toMatchObject({
      message: 'unhealed breaks: wechatpay 2026-11-22',
      fields: { alert: true, runId: 'r1' },
    });
  });

  it('logs a failed publish instead of throwing', async () => {
    const logger = recordingLogger();
    const alerter = createAlerter({ ALERT_TOPIC_ARN: 'arn:aws:sns:x:1:t' }, logger, {
      send: async () => {
        throw new Error('no route');
      },
    } as never);
    await alerter.alert({ subject: 's', message: 'm', fields: {} });
    expect(logger.lines.map((l) => l.message)).toEqual([
      's',
      'publishing the reconciliation alert to SNS failed',
    ]);
  });
});
