// `payhooks trigger stripe <event type>` / `payhooks trigger wechatpay <event type>`: one signed callback to the
// running local stack, and what the ledger did with it (local/trigger.ts). Local only: a deployed stage's
// endpoints take only the providers' own signatures.
import { ConfigError } from '@payhooks/core/errors';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { localStateFile, readLocalJson } from '../target.ts';

export function registerTrigger(program: Command, context: CliContext, env: NodeJS.ProcessEnv): void {
  program
    .command('trigger')
    .description(
      'send one signed Stripe or WeChat Pay callback to the local stack and show what the ledger did',
    )
    .argument('<provider>', 'stripe or wechatpay')
    .argument(
      '<eventType>',
      'e.g. payment_intent.succeeded, TRANSACTION.SUCCESS (unknown: lists the supported)',
    )
    .option('--timeout <seconds>', 'how long to wait for the ledger', '30')
    .action(async (provider: string, eventType: string, options: { timeout: string }, command: Command) => {
      const globals = context.globals(command);
      if (globals.stage)
        throw new ConfigError('CLI_USAGE', 'trigger acts on the local stack only; drop --stage');
      if (provider !== 'stripe' && provider !== 'wechatpay')
        throw new ConfigError('CLI_USAGE', `trigger needs stripe or wechatpay, got "${provider}"`);
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
        throw new ConfigError(
          'CLI_USAGE',
          `--timeout must be a positive number of seconds, got "${options.timeout}"`,
        );
      const { assertTriggerType, describeTrigger, triggerLocal } = await import('../local/trigger.ts');
      assertTriggerType(provider, eventType); // before local.json: a typo is told even with no stack running
      const local = readLocalJson(localStateFile(env));
      const result = await triggerLocal({
        provider,
        type: eventType,
        local,
        timeoutMs: timeoutSeconds * 1000,
      });
      emit(globals, result, () => console.log(describeTrigger(result)));
    });
}
