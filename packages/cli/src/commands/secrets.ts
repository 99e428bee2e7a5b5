// `payhooks secrets set-wechatpay-merchant --stage prod --file merchant.json`: validates one merchant's full
// configuration (or a whole merchants document) and writes its three parts as SecureString parameters
// /payhooks/<stage>/wechatpay/<verify|decrypt|sign>/<id> (docs/wechatpay-merchants.md). Prints ids and
// parameter names only, never a value.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@payhooks/core/errors';
import {
  MERCHANT_PURPOSES,
  parseMerchants,
  splitMerchantsDocument,
} from '@payhooks/core/providers/wechatpay';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { localStateFile, readLocalJson } from '../target.ts';

export function registerSecrets(
  program: Command,
  context: CliContext,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const secrets = program.command('secrets').description('provider secrets of a stage or the local stack');
  secrets
    .command('add-stripe')
    .description('local stack: accept one more Stripe endpoint secret (e.g. from stripe listen), no restart')
    .argument('<secret>', 'whsec_…')
    .action(async (secret: string, _options: unknown, command: Command) => {
      if (context.globals(command).stage)
        throw new ConfigError(
          'CLI_USAGE',
          'secrets add-stripe acts on the local stack only; a stage takes STRIPE_WEBHOOK_SECRETS (docs/deploy.md)',
        );
      const stateFile = localStateFile(env);
      readLocalJson(stateFile); // one line if no local stack runs
      const { addStripeSecret } = await import('../local/stripe-secrets.ts');
      const file = addStripeSecret(path.dirname(stateFile), secret);
      console.log(
        `added a Stripe endpoint secret to ${file}; the local gateway accepts it from its next request`,
      );
    });
  secrets
    .command('set-wechatpay-merchant')
    .description('write a WeChat Pay merchant as its verify / decrypt / sign parameters')
    .requiredOption('--file <file>', 'one merchant (merchant config JSON) or a {"merchants": [...]} document')
    .option('--advanced', 'use the advanced tier (8 KB) when a part exceeds 4 KB')
    .action(async (options: { file: string; advanced?: boolean }, command: Command) => {
      // --stage is the global option (`payhooks --stage prod secrets …` or after the command).
      const { stage, region } = context.globals(command);
      if (!stage) throw new ConfigError('CLI_USAGE', 'secrets set-wechatpay-merchant needs --stage NAME');
      let value: unknown;
      try {
        value = JSON.parse(await readFile(options.file, 'utf8'));
      } catch {
        throw new Error(`--file ${options.file} cannot be read as JSON`);
      }
      const document =
        value && typeof value === 'object' && 'merchants' in value ? value : { merchants: [value] };
      parseMerchants(document); // every key parsed and checked before anything is written
      const { SSMClient, PutParameterCommand } = await import('@aws-sdk/client-ssm');
      const client = new SSMClient(region ? { region } : {});
      for (const parts of splitMerchantsDocument(document)) {
        for (const purpose of MERCHANT_PURPOSES) {
          const name = `/payhooks/${stage}/wechatpay/${purpose}/${parts.verify.id}`;
          await client.send(
            new PutParameterCommand({
              Name: name,
              Type: 'SecureString',
              Value: JSON.stringify(parts[purpose]),
              Overwrite: true,
              Tier: options.advanced ? 'Advanced' : 'Standard',
            }),
          );
          console.log(`set ${name}`);
        }
      }
    });
}
