// The console on the stage's own API (same origin, no CORS; docs/decisions.md "Console on AWS"): a static function
// serves GET /console, /console/assets/{file} and /console/config.json — the page and where to log in, no data,
// public — and the console API function serves every /console/api/* route behind the JWT authorizer of the
// stage's user pool (stacks/ConsoleAuth.ts). The API runs in the VPC as its own database role (payhooks_console),
// may pre-sign report downloads, read and replay the DLQ into the main queue, read the queue-age and rejection
// metrics (GetMetricData), put an uploaded file under uploads/ and invoke the upload function, and nothing else: no
// Stripe key, no WeChat Pay merchant parameter. The upload function reconciles that file with the reconciliation
// role (payhooks_app) — the console's role may not write reconciliation tables (docs/decisions.md "Console uploads
// on AWS"); no route reaches it. Called from stacks/Api.ts, so the routes and their throttles live in one stack.
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { ApiRouteProps, Function as SstFunction, Stack } from 'sst/constructs';
import { FUNCTION_BUNDLING } from './bundling.ts';
import { consoleAssetsPlugin } from './console-assets.ts';
import type { DbRole } from './Database.ts';
import { payhooksFunction } from './functions.ts';
import { resourceMatching, waive } from './nag.ts';
import { REPORT_PREFIX } from './Reconciliation.ts';

/** Static and public: the page, its two assets and where to log in. None of them reads data. */
export const CONSOLE_PUBLIC_ROUTES = [
  'GET /console',
  'GET /console/assets/{file}',
  'GET /console/config.json',
] as const;

/** Every console API method under /console/api/, each behind the JWT authorizer. */
export const CONSOLE_API_ROUTES = [
  'GET /console/api/{path+}',
  'POST /console/api/{path+}',
  'PUT /console/api/{path+}',
  'PATCH /console/api/{path+}',
  'DELETE /console/api/{path+}',
] as const;

/** Where the console puts uploaded bill/report files (functions' reconciliation/upload.ts UPLOAD_PREFIX). */
export const UPLOAD_PREFIX = 'uploads/';
/** An upload's status object is its key plus this (functions' reconciliation/upload.ts uploadStatusKey). */
export const UPLOAD_STATUS_SUFFIX = '.status.json';
/** The upload function's timeout; the console API answers an upload not ended by then (plus 2 min) as stalled. */
export const CONSOLE_UPLOAD_TIMEOUT_SECONDS = 300;

export interface ConsoleInputs {
  stack: Stack;
  inVpc: { vpc: ec2.IVpc; vpcSubnets: ec2.SubnetSelection; securityGroups: ec2.ISecurityGroup[] };
  connect: (fn: SstFunction, role: DbRole) => void;
  queue: sqs.IQueue;
  deadLetterQueue: sqs.IQueue;
  bucket: s3.IBucket;
  /** The console user pool's public app client (ID tokens' audience; the login form names it). */
  clientId: string;
  authorizer: string;
}

export function consoleRoutes(inputs: ConsoleInputs) {
  const { stack, queue, deadLetterQueue, bucket } = inputs;

  const consoleStatic = payhooksFunction(stack, 'ConsoleStatic', {
    entry: 'handlers/console-static',
    description: 'Serves the console page, its assets and login configuration (no data)',
    timeoutSeconds: 5,
    memorySize: 256,
    nodejs: {
      ...FUNCTION_BUNDLING,
      esbuild: { plugins: [...FUNCTION_BUNDLING.esbuild.plugins, consoleAssetsPlugin] },
    },
    environment: { CONSOLE_CLIENT_ID: inputs.clientId, CONSOLE_STAGE: stack.stage },
  });

  // Reconciles an uploaded file (invoked by the console API only, asynchronously: a run may outlast API Gateway's
  // 29 s): the reconciliation role, the uploaded file, the report prefixes it writes, the upload's status object;
  // no provider key — a file is reconciled without asking the provider (no healing). No async retries: the
  // function records its own failures in the status object, and what it cannot record (a timeout, out of memory)
  // would fail again; an event Lambda could not start within two minutes is dropped, and the console answers
  // such an upload as stalled once the function's time is over (docs/decisions.md "Asynchronous uploads").
  const consoleUpload = payhooksFunction(stack, 'ConsoleUpload', {
    entry: 'handlers/console-upload',
    description: 'Reconciles a bill or report file uploaded in the console (invoked by the console API)',
    timeoutSeconds: CONSOLE_UPLOAD_TIMEOUT_SECONDS,
    memorySize: 1024,
    retryAttempts: 0,
    maxEventAge: Duration.minutes(2),
    ...inputs.inVpc,
    environment: { REPORTS_BUCKET: bucket.bucketName },
  });
  inputs.connect(consoleUpload, 'app');
  const prefixes = Object.values(REPORT_PREFIX);
  const uploadStatusObjects = resourceMatching(
    `<ReportsBucket[0-9A-F]+\\.Arn>\\/${UPLOAD_PREFIX.replace(/[/]/g, '\\/')}\\*\\.status\\.json`,
  );
  consoleUpload.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${UPLOAD_PREFIX}*`)],
    }),
  );
  consoleUpload.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${UPLOAD_PREFIX}*${UPLOAD_STATUS_SUFFIX}`)],
    }),
  );
  consoleUpload.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  consoleUpload.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
    }),
  );
  waive(consoleUpload, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Reads the uploaded files under uploads/, writes their status objects and the reports under the provider ' +
        'prefixes, as the nightly jobs do.',
      appliesTo: [
        ...[UPLOAD_PREFIX, ...prefixes].map((prefix) =>
          resourceMatching(`<ReportsBucket[0-9A-F]+\\.Arn>\\/${prefix.replace(/[/]/g, '\\/')}\\*`),
        ),
        uploadStatusObjects,
      ],
    },
  ]);

  const consoleApi = payhooksFunction(stack, 'ConsoleApi', {
    entry: 'handlers/console-api',
    description: 'Console API for finance and ops: breaks, reports, events, dead letters (JWT-authorized)',
    timeoutSeconds: 29,
    memorySize: 512,
    ...inputs.inVpc,
    environment: {
      REPORTS_BUCKET: bucket.bucketName,
      REPORT_LINK_SECONDS: String(Duration.minutes(5).toSeconds()),
      QUEUE_URL: queue.queueUrl,
      DLQ_URL: deadLetterQueue.queueUrl,
      CONSOLE_UPLOAD_FUNCTION: consoleUpload.functionName,
      CONSOLE_UPLOAD_TIMEOUT_SECONDS: String(CONSOLE_UPLOAD_TIMEOUT_SECONDS),
    },
  });
  inputs.connect(consoleApi, 'console');
  // Report files: read (and pre-sign) under the provider prefixes only.
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
    }),
  );
  // Ops: look at the dead letters without consuming them, replay confirmed ones into the main queue.
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
      ],
      resources: [deadLetterQueue.queueArn],
    }),
  );
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      resources: [queue.queueArn],
    }),
  );
  // Uploads: put the file under uploads/ (write only there), then have the upload function reconcile it.
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${UPLOAD_PREFIX}*`)],
    }),
  );
  // The upload's status object, which the page polls: read, and only that (not the uploaded files).
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects(`${UPLOAD_PREFIX}*${UPLOAD_STATUS_SUFFIX}`)],
    }),
  );
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [consoleUpload.functionArn] }),
  );
  // Queue age (AWS/SQS ApproximateAgeOfOldestMessage) and rejections (CallbackRejected): GetMetricData has no
  // resource-level permissions, so `*`; it reads metrics only.
  consoleApi.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
  );
  waive(consoleApi, [
    {
      id: 'AwsSolutions-IAM5',
      reason:
        'Download links for report objects under the provider prefixes (read only), as the reports route has; ' +
        'uploaded files are written under uploads/ only; cloudwatch:GetMetricData takes no resource but `*`.',
      appliesTo: [
        ...[...prefixes, UPLOAD_PREFIX].map((prefix) =>
          resourceMatching(`<ReportsBucket[0-9A-F]+\\.Arn>\\/${prefix.replace(/[/]/g, '\\/')}\\*`),
        ),
        uploadStatusObjects,
        'Resource::*',
      ],
    },
  ]);

  const routes: Record<string, ApiRouteProps<string>> = {};
  for (const route of CONSOLE_PUBLIC_ROUTES) routes[route] = { function: consoleStatic, authorizer: 'none' };
  for (const route of CONSOLE_API_ROUTES)
    routes[route] = { function: consoleApi, authorizer: inputs.authorizer };
  return { consoleStatic, consoleApi, consoleUpload, routes };
}
