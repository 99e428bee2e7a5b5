// `payhooks recon …`: run or re-run reconciliation for a date and provider (same code as the scheduled Lambdas),
// list the current reports, download one report's files. With `--stage NAME` a run happens in the stage's
// operations function and reports come from its bucket through the SDK; locally it uses the `npm start` stack
// (.payhooks/local.json: database, reports folder, provider API sandbox); otherwise DATABASE_URL / REPORTS_BUCKET /
// provider credentials from the environment. Local-only parts live in ../local/ and are loaded on demand.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@payhooks/core/errors';
import { createSql } from '@payhooks/core/ledger';
import { createLogger } from '@payhooks/core/logger';
import type { ObjectStore } from '@payhooks/core/ports';
import {
  accountSegment,
  checkBusinessDate,
  listReports,
  REPORT_FILES,
  type ReconProgress,
  refuseFutureBusinessDate,
  resolveReportKey,
} from '@payhooks/core/recon/run';
import { s3StoreFromEnv } from '@payhooks/functions/adapters/s3-store';
import type { Command } from 'commander';
import pino from 'pino';
import { type CliContext, emit } from '../context.ts';
import { ReportNotFoundError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { operate } from '../stage/operations.ts';
import { type CliGlobals, readLocalJson } from '../target.ts';

interface LocalState {
  databaseUrl?: string;
  reportsDir?: string;
  wechatpayMerchantsFile?: string;
  providerApiUrl?: string;
  stripeApiKey?: string;
}

/** `.payhooks/local.json` written by `npm start`, when the local stack runs and no stage is targeted. */
export function readLocalState(env: NodeJS.ProcessEnv): LocalState | undefined {
  const file = path.resolve(env.PAYHOOKS_STATE_DIR ?? '.payhooks', 'local.json');
  if (env.DATABASE_URL || env.REPORTS_BUCKET || !existsSync(file)) return undefined;
  // The reports folder is read without a running stack, so only a malformed file is an error here.
  return readLocalJson(file, false) as LocalState;
}

/** The reports of a stage (`--stage`: its bucket through the SDK), the local stack's folder, or REPORTS_BUCKET. */
async function storeFor(
  env: NodeJS.ProcessEnv,
  context: CliContext,
  command: Command,
): Promise<{ store: ObjectStore; where: string }> {
  const globals = context.globals(command);
  if (globals.stage) {
    const target = await context.target(command);
    const bucketEnv = { REPORTS_BUCKET: target.reportsBucket, AWS_REGION: target.region ?? env.AWS_REGION };
    return { store: s3StoreFromEnv(bucketEnv), where: `s3://${target.reportsBucket} (${target.label})` };
  }
  const local = readLocalState(env);
  if (!env.REPORTS_BUCKET) {
    const dir = env.REPORTS_DIR ?? local?.reportsDir ?? path.resolve('.payhooks', 'reports');
    const { folderStore } = await import('../local/reconciliation.ts');
    return { store: folderStore(dir), where: dir };
  }
  return { store: s3StoreFromEnv(env), where: `s3://${env.REPORTS_BUCKET}` };
}

function progressPrinter(): (provider: string, account: string, p: ReconProgress) => void {
  return (provider, account, p) => {
    const who = `${provider}/${account}`;
    switch (p.stage) {
      case 'claimed':
        console.log(`${who}: run ${p.runId} (attempt ${p.attempt})`);
        break;
      case 'skipped':
        console.log(`${who}: skipped — ${p.reason}`);
        break;
      case 'file':
        console.log(`${who}: downloading and verifying ${p.name} …`);
        break;
      case 'lines':
        process.stdout.write(`\r${who}: ${p.name} ${p.lines} line(s) staged`);
        break;
      case 'file-done':
        process.stdout.write(
          `\r${who}: ${p.name} ${p.empty ? 'no bill for the day (empty)' : `${p.rows} row(s) verified and staged`}\n`,
        );
        break;
      case 'matched':
        console.log(`${who}: matched ${JSON.stringify(p.counts)}`);
        break;
      case 'healing':
        console.log(`${who}: healing ${p.candidates} break(s) from the provider's query API …`);
        break;
      case 'healed':
        console.log(`${who}: healed ${p.healed}, not healed ${p.failed}`);
        break;
      case 'published':
        console.log(`${who}: report published (${p.keys.at(-1)})`);
        break;
      case 'failed':
        console.log(`${who}: FAILED — ${p.error}`);
        break;
    }
  };
}

interface ReconRunOptions {
  provider: string;
  date?: string;
  merchant?: string;
  force?: boolean;
  file?: string;
  encryptKey?: string;
  nonce?: string;
  sha1?: string;
  subMerchant?: string;
}

interface StageReconResult {
  provider: string;
  account: string;
  businessDate: string;
  status: string;
  counts: Record<string, number>;
  breaks: { total: number; healed: number; unhealed: number };
  error?: { code: string; message: string };
  reportKey?: string;
}

function describeStageResults(results: readonly StageReconResult[]): string {
  return results
    .map((r) => {
      const who = `${r.provider} ${r.account || 'platform'} ${r.businessDate}`;
      if (r.status !== 'succeeded')
        return `  ${who}: ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`;
      return `  ${who}: ${r.counts.matched ?? 0} matched, ${r.breaks.total} break(s) (${r.breaks.healed} healed, ${r.breaks.unhealed} unhealed)${r.reportKey ? `  report ${r.reportKey}` : ''}`;
    })
    .join('\n');
}

export function registerRecon(program: Command, context: CliContext): void {
  const recon = program
    .command('recon')
    .description('reconciliation: run or re-run a date, list and download reports');

  recon
    .command('run')
    .description('reconcile one business date (default: yesterday in the provider zone)')
    .requiredOption('--provider <provider>', 'wechatpay | stripe')
    .option('--date <YYYY-MM-DD>', 'business date (Asia/Shanghai for wechatpay, UTC for stripe)')
    .option(
      '--merchant <id>',
      'WeChat Pay merchant id or mchid / Stripe account (acct_… or platform); default all',
    )
    .option('--force', 'replace the report of a date that already succeeded')
    .option(
      '--file <path>',
      'reconcile this bill / report file (plain, gzip or encrypted) instead of downloading',
    )
    .option('--encrypt-key <base64>', 'with --file: encrypt_key of an encrypted sub-merchant bill')
    .option('--nonce <nonce>', 'with --file: nonce of an encrypted sub-merchant bill')
    .option('--sha1 <hash>', 'with --file: hash_value of an encrypted sub-merchant bill')
    .option('--sub-merchant <sub_mchid>', 'with --file: the sub-merchant of an encrypted bill')
    .action(async (options: ReconRunOptions, command: Command) => {
      if (options.provider !== 'wechatpay' && options.provider !== 'stripe')
        throw new ConfigError('CLI_USAGE', '--provider must be wechatpay or stripe');
      const provider: 'wechatpay' | 'stripe' = options.provider;
      if (options.date) {
        checkBusinessDate(options.date);
        refuseFutureBusinessDate(provider, options.date, new Date());
      }
      const globals: CliGlobals = context.globals(command);
      if (globals.stage && options.file)
        throw new ConfigError(
          'CLI_USAGE',
          '--file reconciles against a database this machine reaches: not with --stage',
        );
      if (globals.stage) {
        const target = await context.target(command);
        if (!globals.json)
          process.stderr.write(
            `${target.label}: reconciling ${provider} in its operations function (up to 15 min) …\n`,
          );
        const results = await operate<StageReconResult[]>(target.operations!, {
          action: 'recon-run',
          provider,
          ...(options.date ? { date: options.date } : {}),
          ...(options.merchant ? { account: options.merchant } : {}),
          force: options.force ?? false,
        });
        emit(globals, results, () => console.log(describeStageResults(results)));
        if (results.some((r) => r.status === 'failed')) process.exitCode = EXIT.failed;
        return;
      }
      const env = process.env;
      const local = readLocalState(env);
      const databaseUrl = env.DATABASE_URL ?? local?.databaseUrl;
      if (!databaseUrl)
        throw new ConfigError(
          'CLI_NO_DATABASE',
          'no database: start the local stack (npm start) or set DATABASE_URL',
        );
      const sql = createSql({ url: databaseUrl, max: 2, applicationName: 'payhooks-cli-recon' });
      try {
        const logger = createLogger({ name: 'recon', level: 'warn', destination: pino.destination(2) });
        const common = {
          sql,
          env,
          provider,
          ...(options.date ? { date: options.date } : {}),
          ...(options.merchant ? { account: options.merchant } : {}),
          force: options.force ?? false,
          logger,
          onProgress: globals.json ? () => {} : progressPrinter(),
        };
        let outcome: { description: string; failed: boolean };
        if (options.file) {
          const { reconcileFile, describeFileRun } = await import('./recon-file.ts');
          const { store, where } = await storeFor(env, context, command);
          const merchantsFile = env.WECHATPAY_MERCHANTS_FILE ?? local?.wechatpayMerchantsFile;
          const result = await reconcileFile({
            ...common,
            store,
            file: options.file,
            ...(options.merchant ? { merchant: options.merchant } : {}),
            ...(merchantsFile ? { merchantsFile } : {}),
            encrypted: {
              ...(options.encryptKey ? { encryptKey: options.encryptKey } : {}),
              ...(options.nonce ? { nonce: options.nonce } : {}),
              ...(options.sha1 ? { sha1: options.sha1 } : {}),
              ...(options.subMerchant ? { subMerchant: options.subMerchant } : {}),
            },
          });
          outcome = { description: describeFileRun(result, where), failed: result.status !== 'succeeded' };
        } else if (env.REPORTS_BUCKET) {
          const { reconcileStage } = await import('../stage/reconciliation.ts');
          outcome = await reconcileStage(common);
        } else {
          const { reconcileLocally } = await import('../local/reconciliation.ts');
          const { where } = await storeFor(env, context, command);
          const merchantsFile = env.WECHATPAY_MERCHANTS_FILE ?? local?.wechatpayMerchantsFile;
          const providerApiUrl = env.PROVIDER_API_URL ?? local?.providerApiUrl;
          outcome = await reconcileLocally({
            ...common,
            reportsDir: where,
            ...(merchantsFile ? { merchantsFile } : {}),
            ...(providerApiUrl ? { providerApiUrl } : {}),
            ...(local?.stripeApiKey && !env.STRIPE_API_KEY ? { stripeApiKey: local.stripeApiKey } : {}),
          });
        }
        emit(globals, { description: outcome.description, failed: outcome.failed }, () =>
          console.log(`\n${outcome.description}`),
        );
        if (outcome.failed) process.exitCode = EXIT.failed;
      } finally {
        await sql.end();
      }
    });

  recon
    .command('list')
    .description('list the current report of each provider/account/date')
    .option('--provider <provider>', 'wechatpay | stripe')
    .action(async (options: { provider?: string }, command: Command) => {
      const { store, where } = await storeFor(process.env, context, command);
      const reports = await listReports(store, options.provider ? `${options.provider}/` : '');
      emit(context.globals(command), reports, () => {
        console.log(`${reports.length} report(s) in ${where}`);
        for (const r of reports) {
          console.log(
            `  ${r.provider}  ${accountSegment(r.account)}  ${r.businessDate}  run ${r.runId}  unhealed ${r.unhealedBreaks}  ${JSON.stringify(r.counts)}`,
          );
        }
      });
    });

  recon
    .command('download <provider> <account> <date>')
    .description('download summary.json, breaks.csv and matched.csv of the current report')
    .option('--to <dir>', 'target folder', '.')
    .action(
      async (provider: string, account: string, date: string, options: { to: string }, command: Command) => {
        const { store } = await storeFor(process.env, context, command);
        const written: { file: string; bytes: number }[] = [];
        const target = path.resolve(options.to, `${provider}-${account}-${date}`);
        await mkdir(target, { recursive: true });
        for (const file of REPORT_FILES) {
          const key = await resolveReportKey(
            store,
            `${provider}/${account}/${checkBusinessDate(date)}/${file}`,
          );
          const body = key ? await store.get(key) : undefined;
          if (!body)
            throw new ReportNotFoundError(
              `no report for ${provider}/${account}/${date} (run: npm run cli -- recon list)`,
            );
          await writeFile(path.join(target, file), body);
          written.push({ file: path.join(target, file), bytes: body.length });
        }
        emit(context.globals(command), written, () => {
          for (const w of written) console.log(`  ${w.file}  (${w.bytes} bytes)`);
        });
      },
    );
}
