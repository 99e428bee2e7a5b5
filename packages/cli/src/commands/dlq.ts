// `payhooks dlq …`: list, inspect, replay and purge dead letters. Looking hands every message back at once, so a
// replay right after a list moves what the list showed; attempt counts and reasons are the consumer's record.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { ConfigError, PayhooksError } from '@payhooks/core/errors';
import type { DeliveryFailureSummary } from '@payhooks/core/ledger';
import { openNotification, parseMerchants } from '@payhooks/core/providers/wechatpay';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { type CliContext, emit } from '../context.ts';
import { EXIT } from '../exit-codes.ts';
import { deliveryFailureKey, failureLookupFor } from '../failures.ts';
import {
  type DeadLetter,
  type DeadLetterSelection,
  dlqDepth,
  isSelective,
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
  replaySelected,
  selects,
} from '../stage/dead-letters.ts';

/** The look's upper bound when a command needs every dead letter (a replay, an inspect). */
const ALL = 10_000;

/** No dead letter with the asked message or event id. */
export class DeadLetterNotFoundError extends PayhooksError {
  constructor(id: string) {
    super('DLQ_NOT_FOUND', `no dead letter with message id or event id ${id}`);
  }
}

function row(letter: DeadLetter, failure: DeliveryFailureSummary | undefined, reasonsKnown: boolean) {
  const e = letter.envelope;
  return {
    messageId: letter.messageId,
    provider: e?.provider ?? null,
    eventId: e?.eventId ?? null,
    eventType: e?.eventType ?? null,
    account: e?.account ?? null,
    receivedAt: e?.receivedAt ?? null,
    sentAt: letter.sentAt ?? null,
    bodyBytes: letter.bodyBytes,
    ...(letter.invalid ? { invalid: letter.invalid } : {}),
    /** null: no failure reasons reachable from this target (no database, no stage). */
    failedAttempts: reasonsKnown ? (failure?.failedAttempts ?? 0) : null,
    lastFailure: failure
      ? {
          at: failure.lastFailedAt,
          attempt: failure.lastAttempt,
          code: failure.errorCode,
          message: failure.errorMessage,
        }
      : null,
  };
}

type Row = ReturnType<typeof row>;

function describeRow(r: Row): string {
  const what = r.eventId ? `${r.provider}  ${r.eventId}  ${r.eventType}` : `not an envelope: ${r.invalid}`;
  const why =
    r.failedAttempts === null
      ? 'failure reasons unavailable (no database for this target)'
      : r.lastFailure
        ? `failed ${r.failedAttempts}× — last ${r.lastFailure.code}: ${r.lastFailure.message}`
        : 'no failure recorded';
  return `  ${r.messageId}  ${what}  received ${r.receivedAt ?? r.sentAt ?? '?'}  ${why}`;
}

function parseInstant(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new ConfigError('CLI_USAGE', `${flag} must be an ISO date-time, got "${text}"`);
  return date;
}

interface SelectionOptions {
  eventId?: string[];
  provider?: string;
  eventType?: string;
  errorCode?: string;
  since?: string;
  until?: string;
}

function selectionOf(options: SelectionOptions): DeadLetterSelection {
  const since = parseInstant(options.since, '--since');
  const until = parseInstant(options.until, '--until');
  return {
    ...(options.eventId?.length ? { eventIds: options.eventId } : {}),
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.eventType ? { eventType: options.eventType } : {}),
    ...(options.errorCode ? { errorCode: options.errorCode } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDlq(program: Command, context: CliContext): void {
  const dlq = program.command('dlq').description('dead-letter queue: list, inspect, replay, purge');

  dlq
    .command('list')
    .description('list dead letters with the consumer’s failed-attempt count and last failure reason')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options: { limit: string }, command: Command) => {
      const target = await context.target(command);
      const letters = await listDeadLetters(target.sqs, target.dlqUrl, Number(options.limit));
      const failures = await failureLookupFor(target)?.(letters);
      const rows = letters.map((l) => row(l, failures?.get(deliveryFailureKey(l)), failures !== undefined));
      emit(context.globals(command), rows, () => {
        console.log(`${rows.length} dead letter(s) in ${target.dlqUrl} (${target.label})`);
        for (const r of rows) console.log(describeRow(r));
      });
    });

  dlq
    .command('inspect <id>')
    .description(
      'show one dead letter (message id or event id) with its failure reason; the raw body only with --body, ' +
        'WeChat resources decrypted only with --decrypt',
    )
    .option('--body', 'print the raw provider body (may contain payer data)')
    .option('--decrypt', 'decrypt a WeChat Pay resource with the merchant configuration (prints payer data)')
    .action(async (id: string, options: { body?: boolean; decrypt?: boolean }, command: Command) => {
      const target = await context.target(command);
      const letter = (await listDeadLetters(target.sqs, target.dlqUrl, ALL)).find(
        (l) => l.messageId === id || l.envelope?.eventId === id,
      );
      if (!letter) throw new DeadLetterNotFoundError(id);
      const failures = await failureLookupFor(target)?.([letter]);
      const { envelope } = letter;
      const shown = {
        ...row(letter, failures?.get(deliveryFailureKey(letter)), failures !== undefined),
        rawBody: envelope
          ? options.body
            ? envelope.rawBody
            : `(${envelope.rawBody.length} chars; --body to show)`
          : null,
      };
      console.log(JSON.stringify(shown, null, 2));
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
    .description(
      'move dead letters back to the main queue: all of them (SQS message move task), or only those selected',
    )
    .option('--event-id <id>', 'only this event (repeatable)', collect)
    .option('--provider <provider>', 'only this provider (stripe | wechatpay)')
    .option('--event-type <type>', 'only this event type, e.g. payment_intent.succeeded')
    .option('--error-code <code>', 'only messages whose last recorded failure has this code')
    .option('--since <iso>', 'only events the ingress received at or after this time')
    .option('--until <iso>', 'only events the ingress received before this time')
    .option('--dry-run', 'only list what would move')
    .option('--rate <perSecond>', 'limit the move rate (all messages only)')
    .action(async (options: SelectionOptions & { dryRun?: boolean; rate?: string }, command: Command) => {
      const globals = context.globals(command);
      const selection = selectionOf(options);
      const target = await context.target(command);
      const lookup = failureLookupFor(target);
      // Without the consumer's record no message has a code: refuse rather than move nothing silently.
      if (selection.errorCode && !lookup)
        throw new ConfigError(
          'CLI_NO_FAILURE_REASONS',
          '--error-code needs failure reasons: use --stage NAME, the local stack, or DATABASE_URL',
        );
      const choose = async (letters: DeadLetter[]) => {
        const failures = selection.errorCode ? await lookup?.(letters) : undefined;
        return new Set(
          letters
            .filter((l) => selects(selection, l, failures?.get(deliveryFailureKey(l))))
            .map((l) => l.messageId),
        );
      };

      if (options.dryRun) {
        const letters = await listDeadLetters(target.sqs, target.dlqUrl, ALL);
        const chosen = await choose(letters);
        const selected = letters.filter((l) => chosen.has(l.messageId));
        emit(
          globals,
          {
            dryRun: true,
            selected: selected.map((l) => ({ messageId: l.messageId, eventId: l.envelope?.eventId ?? null })),
          },
          () => {
            console.log(
              `${selected.length} dead letter(s) would be moved to ${target.queueUrl} (dry run, ${target.label})`,
            );
            for (const l of selected)
              console.log(`  ${l.messageId}  ${l.envelope?.eventId ?? '(not an envelope)'}`);
          },
        );
        return;
      }

      if (!isSelective(selection)) {
        const expected = (await listDeadLetters(target.sqs, target.dlqUrl, ALL)).length;
        if (expected === 0) {
          emit(globals, { selected: 0, moved: 0 }, () => console.log('0 dead letter(s): nothing to move'));
          return;
        }
        const bar = globals.json
          ? undefined
          : new cliProgress.SingleBar(
              { format: 'replaying |{bar}| {value}/{total} moved', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            );
        bar?.start(expected, 0);
        const result = await replayDeadLetters(target.sqs, target.dlqUrl, {
          ...(options.rate ? { maxPerSecond: Number(options.rate) } : {}),
          onProgress: (p) => {
            if (p.total !== undefined) bar?.setTotal(p.total);
            bar?.update(p.moved);
          },
        });
        bar?.stop();
        emit(globals, { selected: expected, moved: result.moved, status: result.status }, () =>
          console.log(
            `move task ${result.status}: moved ${result.moved} of ${expected} dead letter(s) to ${target.queueUrl}`,
          ),
        );
        if (result.moved < expected) {
          console.error(
            `INCOMPLETE: ${expected - result.moved} dead letter(s) not moved; run dlq list to see what is left`,
          );
          process.exitCode = EXIT.incomplete;
        }
        return;
      }

      if (options.rate)
        throw new ConfigError('CLI_USAGE', '--rate applies only when replaying every message');
      const result = await replaySelected(target.sqs, {
        dlqUrl: target.dlqUrl,
        queueUrl: target.queueUrl,
        choose,
        limit: ALL,
        onProgress: (moved, selected) => {
          if (!globals.json) process.stderr.write(`\rreplaying ${moved}/${selected} moved`);
        },
      });
      if (!globals.json && result.selected.length > 0) process.stderr.write('\n');
      emit(globals, result, () => {
        console.log(
          `moved ${result.moved.length} of ${result.selected.length} selected dead letter(s) to ${target.queueUrl}`,
        );
        for (const id of result.sentNotDeleted)
          console.log(`  ${id}: sent, but still in the DLQ (delete failed; the inbox absorbs the copy)`);
        for (const id of result.notSent) console.log(`  ${id}: not sent, still in the DLQ`);
      });
      if (result.moved.length < result.selected.length) process.exitCode = EXIT.incomplete;
    });

  dlq
    .command('purge')
    .description('delete every dead letter (asks for confirmation)')
    .option('--yes', 'do not ask')
    .action(async (options: { yes?: boolean }, command: Command) => {
      const target = await context.target(command);
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
      emit(context.globals(command), { purged: depth }, () => console.log(`purged ${depth} dead letter(s)`));
    });
}
