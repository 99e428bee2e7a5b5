// Finance in a real browser (headless Chromium from Debian, driven by playwright-core) on the real local stack:
// log in, find yesterday's breaks, open one, note it, resolve it, download breaks.csv and compare its bytes with
// the report and the break register; the break queue by keyboard alone; the pages at phone width. One browser
// for the file, one page reused across the steps.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipTradeBill } from './helpers/bills.ts';
import {
  type ConsoleStack,
  launchBrowser,
  logIn,
  screenshot,
  startConsoleStack,
} from './helpers/console-stack.ts';

let stack: ConsoleStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startConsoleStack(), launchBrowser()]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const hash = () => new URL(page.url()).hash;

describe('the console for finance, in a browser', () => {
  it('logs in as finance and sees yesterday’s reconciliation on the overview', async () => {
    await page.goto(stack.url);
    await screenshot(page, 'login');
    await logIn(page, stack, 'finance');
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Overview', 'Breaks', 'Reports']);
    const stripeCard = page.getByRole('region', { name: 'stripe platform' });
    await stripeCard.waitFor();
    expect(await stripeCard.textContent()).toContain('succeeded');
    expect(await stripeCard.textContent()).toMatch(/amount_mismatch: 1 open of 1/);
    await page
      .getByRole('img', { name: /Daily volume/ })
      .first()
      .waitFor();
    await screenshot(page, 'overview');
  });

  it('finds yesterday’s open breaks, opens one by keyboard alone, and the table shows focus', async () => {
    const date = stack.demo.dates.stripe;
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Breaks' }).click();
    await page.getByLabel('State').selectOption('open');
    await page.getByLabel('Found on business date').fill(date);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    // Polled from the test: the console's CSP forbids the page-side eval that waitForFunction needs.
    await expect.poll(() => page.evaluate('location.hash'), { timeout: 30_000 }).toContain('state=open');
    const rows = page.getByRole('table', { name: 'Breaks' }).locator('tbody tr');
    await rows.first().waitFor();
    const [{ count }] = (await stack.db.sql`
      select count(*)::int as count from recon_breaks b
      where b.state = 'open' and exists (select 1 from recon_break_sightings s
        where s.break_id = b.id and s.business_date = ${date})`) as unknown as [{ count: number }];
    expect(count).toBeGreaterThan(1);
    expect(await rows.count()).toBe(count);
    await screenshot(page, 'breaks');

    // Keyboard only: Tab from the filter button reaches the first row, ↓ the second, Enter opens it.
    await page.getByRole('button', { name: 'Apply filters' }).focus();
    let onRow = false;
    for (let i = 0; i < 5 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = await page.evaluate("document.activeElement?.tagName === 'TR'");
    }
    expect(onRow).toBe(true);
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate("document.activeElement?.getAttribute('aria-label')");
    expect(second).toBe(await rows.nth(1).getAttribute('aria-label'));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Break #\d+/ }).waitFor();
    expect(hash()).toMatch(/^#\/breaks\/\d+$/);
  });

  it('notes and resolves the break; both are in its audit trail with the user as actor', async () => {
    const id = BigInt(hash().split('/').pop()!);
    await screenshot(page, 'break-detail');
    await page
      .getByLabel('Note', { exact: true })
      .fill('Checked with the bank statement: the provider is right.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByRole('status').filter({ hasText: 'note: done' }).waitFor();
    await page.getByLabel('Resolution (optional)').fill('Adjusted in the ledger by journal 42');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByRole('heading', { name: /resolved/ }).waitFor();
    const trail = page.getByRole('list', { name: 'Audit trail' });
    expect(await trail.textContent()).toContain('resolved by finance');
    const events = await stack.db.sql`
      select actor, action, note, to_state from recon_break_events where break_id = ${id.toString()} and actor <> 'system' and action in ('noted', 'resolved') order by id`;
    expect(events.map((e) => ({ ...e }))).toEqual([
      {
        actor: 'finance',
        action: 'noted',
        note: 'Checked with the bank statement: the provider is right.',
        to_state: expect.any(String),
      },
      {
        actor: 'finance',
        action: 'resolved',
        note: 'Adjusted in the ledger by journal 42',
        to_state: 'resolved',
      },
    ]);
    const [row] = await stack.db.sql`select state from recon_breaks where id = ${id.toString()}`;
    expect(row).toEqual({ state: 'resolved' });
  });

  it('downloads breaks.csv through a short-lived link: the bytes of the report, one row per break of the date', async () => {
    const date = stack.demo.dates.stripe;
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Reports' }).click();
    const button = page.getByRole('button', { name: `Download breaks.csv for stripe platform ${date}` });
    await button.waitFor();
    await screenshot(page, 'reports');
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    const bytes = await readFile((await download.path())!);
    const onDisk = await readFile(stack.demo.recon.reportFiles[`stripe/platform/${date}`]!);
    expect(bytes.equals(onDisk)).toBe(true);
    expect(bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
    const registered = await stack.db.sql`
      select b.id::text as id from recon_breaks b join recon_break_sightings s on s.break_id = b.id
      where b.provider = 'stripe' and b.account = '' and s.business_date = ${date} order by b.id`;
    const text = bytes.toString('utf8');
    expect(registered.length).toBeGreaterThan(0);
    for (const { id } of registered) expect(text).toMatch(new RegExp(`(^|,)${id}(,|$)`, 'm'));
  });

  it('reconciles an uploaded WeChat Pay bill from the reports page; the run records the file and its SHA-256', async () => {
    const [{ account }] = (await stack.db.sql`
      select account from payments where provider = 'wechatpay' order by account limit 1`) as unknown as [
      { account: string },
    ];
    const bill = await gzipTradeBill(account, [['4200000000000000009901', 1234n]]);
    const sha = createHash('sha256').update(bill).digest('hex');
    await page.getByLabel('Account', { exact: true }).fill(account);
    await page.getByLabel('Business date').fill('2025-03-01');
    await page
      .getByLabel('Bill or report file')
      .setInputFiles({ name: 'tradebill-2025-03-01.csv.gz', mimeType: 'application/gzip', buffer: bill });
    await page.getByRole('button', { name: 'Reconcile', exact: true }).click();
    const status = page.getByRole('status').filter({ hasText: `sha256 ${sha.slice(0, 12)}` });
    await status.waitFor();
    expect(await status.textContent()).toContain(`wechatpay ${account} 2025-03-01: 0 matched, 1 break(s)`);
    const [run] = await stack.db.sql<{ source_files: { fileName?: string; sha256Downloaded: string }[] }[]>`
      select source_files from recon_runs where provider = 'wechatpay' and account = ${account}
        and business_date = '2025-03-01' and status = 'succeeded'`;
    expect(run!.source_files).toEqual([
      expect.objectContaining({
        origin: 'file',
        fileName: 'tradebill-2025-03-01.csv.gz',
        sha256Downloaded: sha,
      }),
    ]);
  });

  it('shows why an uploaded file could not be reconciled, once the run behind the page ended', async () => {
    await page
      .getByLabel('Bill or report file')
      .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('no bill at all\n') });
    await page.getByLabel('Business date').fill('2025-03-02');
    await page.getByRole('button', { name: 'Reconcile', exact: true }).click();
    // The upload answers 202 at once; the page polls the upload's status until the run ended.
    const status = page.getByRole('status').filter({ hasText: 'notes.txt is neither' });
    await status.waitFor();
    expect(await status.getAttribute('class')).toBe('error');
    expect(await page.getByRole('button', { name: 'Reconcile', exact: true }).isEnabled()).toBe(true);
  });

  it('is usable at phone width: navigation visible, nothing wider than the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await logIn(phone, stack, 'finance');
      for (const path of ['#/overview', '#/breaks', '#/reports']) {
        await phone.goto(`${stack.url}${path}`);
        await phone.getByRole('heading', { level: 1 }).waitFor();
        const width = await phone.evaluate('document.documentElement.scrollWidth');
        expect(width, path).toBeLessThanOrEqual(390);
        expect(await phone.getByRole('navigation', { name: 'Pages' }).isVisible()).toBe(true);
      }
    } finally {
      await phone.close();
    }
  });
});
