// The console's test harness on the real local stack: `npm start` as a function (callbacks from the provider
// sandbox, then yesterday's reconciliation with the sandbox's deliberate breaks) on a fresh test database, the
// console mounted on its gateway, and helpers to log in over the API or in headless Chromium (Debian's package,
// driven by playwright-core — no browser download).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleUser } from '@payhooks/local/console';
import { type LocalDemo, runLocalDemo } from '@payhooks/local/demo';
import { createTestDatabase, type TestDatabase } from '@payhooks/testkit/testing';
import { type Browser, chromium, type Page } from 'playwright-core';

export interface ConsoleStack {
  demo: LocalDemo;
  db: TestDatabase;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/console` */
  url: string;
  user(role: 'finance' | 'ops'): ConsoleUser;
  /** An ID token for the role, as the login endpoint issues it. */
  token(role: 'finance' | 'ops'): Promise<string>;
  stop(): Promise<void>;
}

export async function startConsoleStack(options: { now?: Date } = {}): Promise<ConsoleStack> {
  const db = await createTestDatabase({ migrate: false });
  const dir = await mkdtemp(path.join(tmpdir(), 'payhooks-console-'));
  let demo: LocalDemo;
  try {
    demo = await runLocalDemo({
      stateDir: dir,
      port: 0,
      databaseUrl: db.url,
      // As start.test.ts: this seed settles refunds on both providers and plants the deliberate breaks.
      seed: 7,
      stripePayments: 12,
      connectPayments: 2,
      wechatpayPayments: 12,
      ...(options.now ? { now: options.now } : {}),
      log: () => {},
    });
  } catch (error) {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const consoleInfo = demo.stack.console;
  if (!consoleInfo) throw new Error('the local stack did not mount the console');
  const user = (role: 'finance' | 'ops') => demo.consoleUsers.find((u) => u.groups.includes(role))!;
  return {
    demo,
    db,
    origin: demo.stack.gatewayUrl,
    url: consoleInfo.url,
    user,
    token: (role) => consoleInfo.issuer.issue(user(role)),
    async stop() {
      await demo.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: apt-get install chromium (or set CHROMIUM_PATH)');
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** Logs in through the form as a person does; resolves when the navigation shows. */
export async function logIn(page: Page, stack: ConsoleStack, role: 'finance' | 'ops'): Promise<void> {
  const { username, password } = stack.user(role);
  await page.goto(stack.url);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/console');
/** Committed images stay small (docs/console.md): a page over the budget is shot again on a smaller screen. */
export const SCREENSHOT_BUDGET_BYTES = 150 * 1024;
const SCREENSHOT_SIZES = [
  { width: 1280, height: 800 },
  { width: 1100, height: 720 },
  { width: 960, height: 640 },
];

/**
 * docs/console/<name>.png at 1280×800 (smaller when the picture would exceed the budget), only when
 * CONSOLE_SCREENSHOTS=1 (a normal run leaves the tree clean).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CONSOLE_SCREENSHOTS !== '1') return;
  await mkdir(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  try {
    for (const viewport of SCREENSHOT_SIZES) {
      // Only when it differs: a resize would lose the test's scroll position.
      const now = page.viewportSize();
      if (now?.width !== viewport.width || now.height !== viewport.height)
        await page.setViewportSize(viewport);
      const png = await page.screenshot({ fullPage: false, animations: 'disabled' });
      if (png.length <= SCREENSHOT_BUDGET_BYTES) {
        await writeFile(path.join(SCREENSHOTS, `${name}.png`), png);
        return;
      }
    }
    throw new Error(`screenshot ${name} is over ${SCREENSHOT_BUDGET_BYTES} bytes even at the smallest size`);
  } finally {
    const now = page.viewportSize();
    if (size && (now?.width !== size.width || now.height !== size.height)) await page.setViewportSize(size);
  }
}

/** The signed-in tab's ID token (the console keeps it in sessionStorage). */
export async function sessionToken(page: Page): Promise<string> {
  const token = await page.evaluate(
    "JSON.parse(sessionStorage.getItem('payhooks.console.session') ?? 'null')?.idToken ?? ''",
  );
  if (typeof token !== 'string' || !token) throw new Error('the page has no console session');
  return token;
}

/** A console API GET from inside the page with its own session, as a person with the developer tools would. */
export async function apiStatusFromPage(page: Page, apiPath: string): Promise<number> {
  const token = await sessionToken(page);
  return page.evaluate(
    async ([p, t]) => (await fetch(`/console/api${p}`, { headers: { authorization: `Bearer ${t}` } })).status,
    [apiPath, token] as const,
  );
}
