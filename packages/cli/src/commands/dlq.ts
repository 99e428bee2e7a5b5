// `payhooks dlq …`: list, inspect, replay and purge dead letters.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '@payhooks/core/errors';
import { openNotification, parseMerchants } from '@payhooks/core/providers/wechatpay';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { dlqDepth, listDeadLetters, purgeDeadLetters, replayDeadLetters } from '../stage/dead-letters.ts';
import { resolveTarget } from '../target.ts';

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead-letter queue: list, inspect, replay, purge');

  dlq
    .command('list')
    .description('list dead letters (event id, provider, type, receive count)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: string; json?: boolean }) => {
      const target = resolveTarget();
      const letters = await listDeadLetters(target.sqs, target.dlqUrl, Number(options.limit));
      if (options.json) {
        console.log(
          JSON.stringify(
            letters.map(({ envelope, ...rest }) => ({
              ...rest,
              provider: envelope?.provider,
              eventId: envelope?.eventId,
              eventType: envelope?.eventType,
            })),
            null,
            2,
          ),
        );
        return;
      }
      console.log(`${letters.length} dead letter(s) in ${target.dlqUrl}`);
      for (const letter of letters) {
        const e = letter.envelope;
        console.log(
          e
            ? `  ${letter.messageId}  ${e.provider}  ${e.eventId}  ${e.eventType}  received ${letter.receiveCount}×  sent ${letter.sentAt ?? '?'}`
            : `  ${letter.messageId}  not an envelope: ${letter.invalid}`,
        );
      }
    });

  dlq
    .command('inspect <messageId>')
    .description(
      'show one dead letter; the raw body only with --body, WeChat resources decrypted only with --decrypt',
    )
    .option('--body', 'print the raw provider body (may contain payer data)')
    .option('--decrypt', 'decrypt a WeChat Pay resource with the merchant configuration (prints payer data)')
    .action(async (messageId: string, options: { body?: boolean; decrypt?: boolean }) => {
      const target = resolveTarget();
      const letter = (await listDeadLetters(target.sqs, target.dlqUrl, 1000)).find(
        (l) => l.messageId === messageId,
      );
      if (!letter) {
        console.error(`no dead letter with message id ${messageId}`);
        process.exitCode = 1;
        return;
      }
      const { envelope, ...meta } = letter;
      console.log(
        JSON.stringify(
          {
            ...meta,
            envelope: envelope && {
              ...envelope,
              rawBody: options.body ? envelope.rawBody : `(${envelope.rawBody.length} chars; --body to show)`,
            },
          },
          null,
          2,
        ),
      );
      if (options.decrypt && envelope?.provider === 'wechatpay') {
        const file = process.env.WECHATPAY_MERCHANTS_FILE ?? target.wechatpayMerchantsFile;
        const document = process.env.WECHATPAY_MERCHANTS ?? (file ? readFileSync(file, 'utf8') : undefined);
        if (!document)
          throw new ConfigError(
            'CLI_NO_MERCHANTS',
            'set WECHATPAY_MERCHANTS or WECHATPAY_MERCHANTS_FILE to decrypt',
          );
        const merchant = parseMerchants(document).forRoute(envelope.account);
        if (!merchant)
          throw new ConfigError(
            'WECHATPAY_UNKNOWN_MERCHANT',
            `no merchant "${envelope.account}" in the configuration`,
          );
        console.log(JSON.stringify(openNotification(envelope.rawBody, merchant).resource, null, 2));
      }
    });

  dlq
    .command('replay')
    .description('move every dead letter back to the main queue (SQS message move task)')
    .option('--dry-run', 'only say how many would move')
    .option('--rate <perSecond>', 'limit the move rate')
    .action(async (options: { dryRun?: boolean; rate?: string }) => {
      const target = resolveTarget();
      const depth = await dlqDepth(target.sqs, target.dlqUrl);
      if (options.dryRun || depth === 0) {
        console.log(
          `${depth} dead letter(s) would be moved to ${target.queueUrl}${options.dryRun ? ' (dry run)' : ''}`,
        );
        return;
      }
      const bar = new cliProgress.SingleBar(
        { format: 'replaying |{bar}| {value}/{total} moved' },
        cliProgress.Presets.shades_classic,
      );
      bar.start(depth, 0);
      const result = await replayDeadLetters(target.sqs, target.dlqUrl, {
        ...(options.rate ? { maxPerSecond: Number(options.rate) } : {}),
        onProgress: (p) => {
          if (p.total !== undefined) bar.setTotal(p.total);
          bar.update(p.moved);
        },
      });
      bar.stop();
      console.log(`move task ${result.status}: ${result.moved} message(s) back on ${target.queueUrl}`);
    });

  dlq
    .command('purge')
    .description('delete every dead letter (asks for confirmation)')
    .option('--yes', 'do not ask')
    .action(async (options: { yes?: boolean }) => {
      const target = resolveTarget();
      const depth = await dlqDepth(target.sqs, target.dlqUrl);
      if (!options.yes) {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(
          `Delete ${depth} dead letter(s) from ${target.dlqUrl} for good? Type "purge": `,
        );
        rl.close();
        if (answer.trim() !== 'purge') {
          console.log('nothing deleted');
          return;
        }
      }
      await purgeDeadLetters(target.sqs, target.dlqUrl);
      console.log(`purged ${depth} dead letter(s)`);
    });
}
