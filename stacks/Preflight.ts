// Preflight: the deploy-time stage guard (docs/deploy.md "What is checked where"). An SST Script runs the
// preflight function on every deploy, after Secrets and before Database: it checks every bound secret and every
// WeChat Pay merchant part against the stage's declared mode with the same rule the functions apply at cold
// start. A refusal fails this stack, so nothing stateful and no function of the stage is touched.
import { Script, type StackContext, use } from 'sst/constructs';
import { payhooksFunction } from './functions.ts';
import { resourceMatching, waive } from './nag.ts';
import { grantWechatpayMerchants, Secrets } from './Secrets.ts';
import { stageSettings } from './stage.ts';

export function Preflight({ stack, app }: StackContext) {
  const { wechatpay } = stageSettings(app.stage);
  const secrets = use(Secrets);
  const preflight = payhooksFunction(stack, 'Preflight', {
    entry: 'preflight',
    description: 'Refuses the deploy when the stage keys do not match its declared mode or are missing',
    timeoutSeconds: 60,
    memorySize: 256,
    enableLiveDev: false,
    // Reads every secret, but is invoked only by the deploy (no route, no schedule, no event source).
    bind: [secrets.STRIPE_WEBHOOK_SECRETS, secrets.STRIPE_API_KEY],
  });
  // What the preflight checks besides the secrets: a Stripe-only stage has no merchant parts to read.
  preflight.addEnvironment('PAYHOOKS_PROVIDERS', wechatpay ? 'stripe,wechatpay' : 'stripe');
  if (wechatpay) grantWechatpayMerchants(stack, preflight, ['verify', 'decrypt', 'sign']);

  const script = new Script(stack, 'PreflightOnDeploy', { onCreate: preflight, onUpdate: preflight });
  waive(script, [
    {
      id: 'AwsSolutions-L1',
      reason: "SST's Script handler keeps SST's pinned runtime; it moves with SST upgrades.",
    },
    {
      id: 'PCI.DSS.321-LambdaInsideVPC',
      reason: 'Only invokes Preflight through the Lambda API; touches no data.',
    },
    {
      id: 'AwsSolutions-IAM4',
      reason: 'AWS-maintained basic execution policy (CloudWatch Logs writes only).',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'lambda:InvokeFunction on Preflight and its versions/aliases (<arn>:*), nothing else.',
      appliesTo: [resourceMatching('<Preflight[0-9A-F]+\\.Arn>:\\*')],
    },
    { id: 'PCI.DSS.321-IAMNoInlinePolicy', reason: 'SST-generated role policy: invoke Preflight only.' },
  ]);
  return { preflight, script };
}
