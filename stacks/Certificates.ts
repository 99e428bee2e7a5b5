// WeChat Pay platform certificates refresh themselves (docs/wechatpay-merchants.md): a scheduled function that
// downloads `/v3/certificates` for merchants in certificate mode and writes their verify parameters, and the
// alarms around it. Outside the VPC (it needs WeChat Pay and SSM, no database). It reads all three merchant parts
// (verify to compare, decrypt for the APIv3 key, sign to call the API) and may write under verify/ only.

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Function as SstFunction, Stack } from 'sst/constructs';
import { metricsNamespace, payhooksFunction } from './functions.ts';
import { grantWechatpayMerchants, wechatpayParametersPath } from './Secrets.ts';

/** WeChat asks for an interval under 12 h and lists a replacement 24 h ahead: every 6 h sees it four times. */
export const CERTIFICATE_SCHEDULE = 'rate(6 hours)';
/** Matches CERTIFICATE_EXPIRY_WARNING_DAYS in core certificate-refresh.ts. */
export const CERTIFICATE_EXPIRY_ALARM_DAYS = 7;

export function certificateRefresher(stack: Stack): SstFunction {
  const fn = payhooksFunction(stack, 'CertificatesWechatpay', {
    entry: 'certificates-wechatpay',
    description: 'Refreshes WeChat Pay platform certificates into the verify parameters',
    timeoutSeconds: 120,
    memorySize: 256,
  });
  grantWechatpayMerchants(stack, fn, ['verify', 'decrypt', 'sign']);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ssm:PutParameter'],
      resources: [
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: `${wechatpayParametersPath(stack.stage).slice(1)}/verify/*`,
        }),
      ],
    }),
  );
  return fn;
}

type AlarmSpec = [id: string, description: string, props: cloudwatch.AlarmProps];

/** The refresher's alarms; Monitoring creates them with its shared action and missing-data rule. */
export function certificateAlarms(stage: string, refresher: SstFunction): AlarmSpec[] {
  const namespace = metricsNamespace(stage);
  return [
    [
      'PlatformCertificateExpiring',
      `A WeChat Pay merchant's newest platform certificate expires within ${CERTIFICATE_EXPIRY_ALARM_DAYS} days ` +
        'and WeChat Pay lists no replacement: check the merchant console, or move the merchant to public-key mode',
      {
        metric: new cloudwatch.Metric({
          namespace,
          metricName: 'PlatformCertificateDaysLeft',
          dimensionsMap: { service: 'certificates-wechatpay' },
          period: Duration.hours(6),
          statistic: 'Minimum',
        }),
        threshold: CERTIFICATE_EXPIRY_ALARM_DAYS,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
      },
    ],
    [
      'CertificatesWechatpayFailed',
      'The platform-certificate refresh threw (a merchant could not be refreshed): see its log',
      {
        metric: refresher.metricErrors({ period: Duration.hours(6), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      },
    ],
    [
      'WechatpayUnknownSerial',
      'WeChat Pay callbacks signed with a key no merchant lists (a rotation the refresher missed, or forgeries)',
      {
        metric: new cloudwatch.Metric({
          namespace,
          metricName: 'CallbackRejected',
          dimensionsMap: {
            service: 'wechatpay-webhook',
            provider: 'wechatpay',
            reason: 'WECHATPAY_UNKNOWN_SERIAL',
          },
          period: Duration.minutes(5),
          statistic: 'Sum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      },
    ],
  ];
}
