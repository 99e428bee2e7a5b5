// Api: the public HTTP API. Webhook routes are unauthenticated at the gateway because the ingress functions
// verify the providers' signatures themselves; the reports routes require SigV4 (IAM) so only principals with
// the FinanceReportsAccess policy can list and download reports; the order-status routes require SigV4 too
// (OrderStatusAccess, for the merchant's apps). The console's routes (stacks/Console.ts) use the JWT authorizer
// declared here. Throttled and access-logged per stage.

import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { dependsOn, Api as SstApi, type StackContext, use } from 'sst/constructs';
import { consoleRoutes } from './Console.ts';
import { ConsoleAuth } from './ConsoleAuth.ts';
import { grantClaimCheckPut } from './claim-check.ts';
import { Database } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { Network } from './Network.ts';
import { LOG_GROUP_ENCRYPTION, resourceMatching, waive } from './nag.ts';
import { Queue } from './Queue.ts';
import { Reconciliation } from './Reconciliation.ts';
import { grantWechatpayMerchants, Secrets } from './Secrets.ts';
import { stageSettings } from './stage.ts';
import { throttleRoutes } from './throttle.ts';

/** The JWT authorizer of the console API routes (stacks/Console.ts adds them). */
export const CONSOLE_AUTHORIZER = 'ConsoleJwt';
export const ORDER_ROUTES = {
  status: 'GET /orders/{provider}/{account}/{merchantOrderNo}',
  openapi: 'GET /orders/openapi.yaml',
} as const;

const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
  integrationLatency: '$context.integrationLatency',
  userArn: '$context.identity.userArn',
});

export function Api({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const { queue, claimChecks, deadLetterQueue } = use(Queue);
  // Deploy order: the consumer reads a new envelope wire form before the webhooks write it (docs/decisions.md
  // "Ingress envelopes carry the body inline"). The queue URL's reference orders the stacks today; this keeps the
  // order if that reference ever goes (the URL from a parameter, say).
  dependsOn(Queue);
  const { bucket } = use(Reconciliation);
  const secrets = use(Secrets);

  const sendToQueue = new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] });

  const stripeWebhook = payhooksFunction(stack, 'StripeWebhook', {
    entry: 'stripe-webhook',
    description: 'Verifies Stripe callbacks and enqueues them',
    timeoutSeconds: 10,
    memorySize: 256,
    bind: [secrets.STRIPE_WEBHOOK_SECRETS],
    environment: { QUEUE_URL: queue.queueUrl },
  });
  stripeWebhook.addToRolePolicy(sendToQueue);
  grantClaimCheckPut(claimChecks, stripeWebhook, 'stripe');

  // Only on stages that take WeChat Pay (stacks/stages.ts `providers`).
  const wechatpayWebhook = settings.wechatpay
    ? payhooksFunction(stack, 'WechatpayWebhook', {
        entry: 'wechatpay-webhook',
        description: 'Verifies WeChat Pay callbacks and enqueues them',
        timeoutSeconds: 10,
        memorySize: 256,
        environment: { QUEUE_URL: queue.queueUrl },
      })
    : undefined;
  if (wechatpayWebhook) {
    wechatpayWebhook.addToRolePolicy(sendToQueue);
    grantClaimCheckPut(claimChecks, wechatpayWebhook, 'wechatpay');
    // Internet-facing: public verification material only, never a key that could sign or decrypt.
    grantWechatpayMerchants(stack, wechatpayWebhook, ['verify']);
  }

  const reports = payhooksFunction(stack, 'Reports', {
    entry: 'reports',
    description: 'Lists reconciliation reports and returns short-lived pre-signed links',
    timeoutSeconds: 10,
    memorySize: 256,
    environment: { REPORTS_BUCKET: bucket.bucketName },
  });
  reports.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] }),
  );
  reports.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
  );

  // The merchant's apps ask for one order's state (docs/openapi/orders.yaml), through the read-only role.
  const { vpc, functionSubnets, functionsSecurityGroup } = use(Network);
  const { connect } = use(Database);
  const orders = payhooksFunction(stack, 'Orders', {
    entry: 'handlers/orders-api',
    description: "Answers the merchant's apps: one order's payment state from the ledger (read-only role)",
    timeoutSeconds: 10,
    memorySize: 256,
    vpc,
    vpcSubnets: functionSubnets,
    securityGroups: [functionsSecurityGroup],
    copyFiles: [{ from: 'docs/openapi/orders.yaml', to: 'openapi/orders.yaml' }],
    environment: { ORDERS_OPENAPI_FILE: 'openapi/orders.yaml' },
  });
  connect(orders, 'readonly');

  const consoleAuth = use(ConsoleAuth);
  const consoleApp = consoleRoutes({
    stack,
    inVpc: { vpc, vpcSubnets: functionSubnets, securityGroups: [functionsSecurityGroup] },
    connect,
    queue,
    deadLetterQueue,
    bucket,
    clientId: consoleAuth.clientId,
    authorizer: CONSOLE_AUTHORIZER,
  });
  const api = new SstApi(stack, 'Api', {
    cors: false,
    // Every /console/api/* route (stacks/Console.ts) requires an ID token of this stage's console user pool.
    authorizers: {
      [CONSOLE_AUTHORIZER]: {
        type: 'jwt',
        jwt: { issuer: consoleAuth.issuer, audience: [consoleAuth.clientId] },
      },
    },
    accessLog: { format: ACCESS_LOG_FORMAT, retention: settings.logRetentionName },
    defaults: {
      throttle: { rate: settings.api.rateLimit, burst: settings.api.burstLimit },
    },
    routes: {
      'POST /webhooks/stripe': stripeWebhook,
      'POST /webhooks/stripe/{account}': stripeWebhook,
      ...(wechatpayWebhook
        ? {
            'POST /webhooks/wechatpay': wechatpayWebhook,
            'POST /webhooks/wechatpay/{merchant}': wechatpayWebhook,
          }
        : {}),
      'GET /reports': { function: reports, authorizer: 'iam' },
      'GET /reports/{key+}': { function: reports, authorizer: 'iam' },
      [ORDER_ROUTES.status]: { function: orders, authorizer: 'iam' },
      [ORDER_ROUTES.openapi]: { function: orders, authorizer: 'iam' },
      ...consoleApp.routes,
    },
  });

  // The defaults above throttle the webhooks; the reports and console routes get their own, smaller bucket.
  throttleRoutes(api, {
    'GET /reports': settings.api.reports,
    'GET /reports/{key+}': settings.api.reports,
    ...Object.fromEntries(Object.keys(consoleApp.routes).map((route) => [route, settings.api.reports])),
  });

  // Attach to finance users or roles (docs/deploy.md): invoke the reports routes, nothing else.
  const financePolicy = new iam.ManagedPolicy(stack, 'FinanceReportsAccess', {
    description: `payhooks ${app.stage}: read reconciliation reports through GET /reports`,
    statements: [
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [
          stack.formatArn({ service: 'execute-api', resource: api.httpApiId, resourceName: '*/GET/reports' }),
          stack.formatArn({
            service: 'execute-api',
            resource: api.httpApiId,
            resourceName: '*/GET/reports/*',
          }),
        ],
      }),
    ],
  });

  // Attach to the merchant's app roles (docs/deploy.md): invoke the order-status routes, nothing else.
  const orderStatusPolicy = new iam.ManagedPolicy(stack, 'OrderStatusAccess', {
    description: `payhooks ${app.stage}: read order status through GET /orders/…`,
    statements: [
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: [
          stack.formatArn({
            service: 'execute-api',
            resource: api.httpApiId,
            resourceName: '*/GET/orders/*',
          }),
        ],
      }),
    ],
  });
  waive(orderStatusPolicy, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'execute-api ARN of the GET /orders/… routes on any API stage: the order-status routes only.',
      appliesTo: [
        resourceMatching(
          'arn:<AWS::Partition>:execute-api:[^:]+:[0-9]+:<Api[0-9A-F]+>\\/\\*\\/GET\\/orders\\/\\*',
        ),
      ],
    },
  ]);

  waive(reports, [
    {
      id: 'AwsSolutions-IAM5',
      reason: 'The reports route pre-signs downloads of any report object in the reports bucket (read only).',
      appliesTo: [resourceMatching('<ReportsBucket[0-9A-F]+\\.Arn>\\/\\*')],
    },
  ]);
  waive(financePolicy, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'execute-api ARNs of GET /reports and GET /reports/{key+} on any API stage: those two routes only.',
      appliesTo: [
        resourceMatching(
          'arn:<AWS::Partition>:execute-api:[^:]+:[0-9]+:<Api[0-9A-F]+>\\/\\*\\/GET\\/reports',
        ),
        resourceMatching(
          'arn:<AWS::Partition>:execute-api:[^:]+:[0-9]+:<Api[0-9A-F]+>\\/\\*\\/GET\\/reports\\/\\*',
        ),
      ],
    },
  ]);
  for (const route of api.node.findAll()) {
    if (route instanceof CfnRoute && route.routeKey.startsWith('GET /console') && !route.authorizerId) {
      waive(route, [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'The console page, its script and style and its login configuration (client id, Cognito endpoint) are ' +
            'public by design: they carry no data; every /console/api/* route has the JWT authorizer.',
        },
      ]);
    }
    if (route instanceof CfnRoute && route.routeKey.startsWith('POST /webhooks/')) {
      waive(route, [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Provider callbacks carry no AWS credentials: each webhook function verifies the provider signature ' +
            '(Stripe-Signature HMAC, WeChat Pay RSA/SM2 headers) before anything is queued, and answers 401 otherwise.',
        },
      ]);
    }
  }
  waive(api, [LOG_GROUP_ENCRYPTION]);

  stack.addOutputs({
    ApiEndpoint: api.url,
    StripeWebhookUrl: `${api.url}/webhooks/stripe`,
    ...(wechatpayWebhook ? { WechatpayWebhookUrl: `${api.url}/webhooks/wechatpay` } : {}),
    FinanceReportsPolicyArn: financePolicy.managedPolicyArn,
    OrderStatusUrl: `${api.url}/orders`,
    ConsoleUrl: `${api.url}/console`,
    OrderStatusPolicyArn: orderStatusPolicy.managedPolicyArn,
  });
  return { api, stripeWebhook, wechatpayWebhook, reports, orders, ...consoleApp };
}
