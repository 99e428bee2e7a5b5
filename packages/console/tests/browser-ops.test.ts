// Operations in a real browser (headless Chromium from Debian, driven by playwright-core) on the real local stack
// (`npm start` as a function): log in as ops, find an event by merchant order number and open it by keyboard; see
// a dead letter with its reason (a payment the database refuses: cause → DLQ), cancel a replay (nothing moves), fix
// the cause, replay with confirmation and see the payment in the ledger, its event applied, the body masked; the
// health page's queue, rejections and charts; the role boundaries as the browser shows them (ops: no finance
// actions; finance: no operations data, 403); the pages at phone width.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiStatusFromPage,
  type ConsoleStack,
  launchBrowser,
  logIn,
  screenshot,
  startConsoleStack,
} from './helpers/console-stack.ts';
import { blockPayment, type PoisonPayment, sendPoisonEvent } from './helpers/dead-letter.ts';

let stack: ConsoleStack;
let browser: Browser;
let page: Page;
let unblock: () => Promise<void>;

const poison: PoisonPayment = {
  eventId: 'evt_opsuiblocked',
  paymentIntentId: 'pi_opsuiblocked',
  merchantOrderNo: 'ORD-OPSUI-BLOCKED-1',
  amountMinor: 4200n,
  email: 'blocked.payer@example.test',
};

beforeAll(async () => {
  [stack, browser] = await Promise.all([startConsoleStack(), launchBrowser()]);
  const local = JSON.parse(await readFile(stack.demo.localJson, 'utf8')) as {
    stripeWebhookSecrets: string[];
  };
  unblock = await blockPayment(stack.db.sql, poison);
  await sendPoisonEvent(stack.origin, local.stripeWebhookSecrets[0]!, poison);
  // Drained: every receive failed, and the redrive policy moved the message to the DLQ.
  await stack.demo.stack.drain();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Waits as long as playwright's own locators do (the machine may be loaded). */
const POLL = { timeout: 30_000 };
const nav = () => page.getByRole('navigation', { name: 'Pages' });
const ledgerPayment = async () =>
  (
    await stack.db.sql`
    select status, amount_minor, last_event_id from payments
    where provider = 'stripe' and provider_payment_id = ${poison.paymentIntentId}`
  )[0];

describe('the console for operations, in a browser', () => {
  it('logs in as ops: the operations pages, and no finance actions in the navigation', async () => {
    await logIn(page, stack, 'ops');
    expect(await nav().getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Breaks',
      'Events',
      'Dead letters',
      'Health',
    ]);
    // Ops lands on the event search.
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
  });

  it('finds an event by merchant order number and opens it by keyboard: outcome, ledger row, raw body', async () => {
    const [payment] = await stack.db.sql<
      { provider_payment_id: string; merchant_order_no: string; last_event_id: string }[]
    >`
      select provider_payment_id, merchant_order_no, last_event_id from payments
      where provider = 'stripe' and status = 'succeeded' and merchant_order_no is not null
      order by provider_payment_id limit 1`;
    const search = page.getByLabel('Event id, object id or merchant order number');
    await search.fill(payment!.merchant_order_no);
    await search.press('Enter');
    const rows = page.getByRole('table', { name: 'Events' }).locator('tbody tr');
    // The page lists recent events before the search's answer replaces them: wait for the answer's row, not
    // for any row.
    const rowOfEvent = async () => {
      const labels = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('aria-label') ?? ''));
      return labels.findIndex((label) => label.startsWith(`Event ${payment!.last_event_id},`));
    };
    await expect.poll(rowOfEvent, POLL).toBeGreaterThanOrEqual(0);
    const row = await rowOfEvent();
    await screenshot(page, 'events');

    await rows.nth(row).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: new RegExp(`^Event ${payment!.last_event_id}`) }).waitFor();
    const payments = page.getByRole('table', { name: 'Payments' });
    await payments.waitFor();
    expect(await payments.textContent()).toContain(payment!.provider_payment_id);
    expect(await payments.textContent()).toContain(payment!.merchant_order_no);
    expect(await page.locator('pre.raw').textContent()).toContain(payment!.provider_payment_id);
    await screenshot(page, 'event-detail');
  });

  it('shows the dead letter with the consumer’s reason; a cancelled replay moves nothing', async () => {
    await nav().getByRole('link', { name: 'Dead letters' }).click();
    const table = page.getByRole('table', { name: 'Dead letters' });
    await table.waitFor();
    const letter = table.locator('tbody tr').filter({ hasText: poison.eventId });
    expect(await letter.count()).toBe(1);
    // The check constraint's violation, as the consumer recorded it.
    expect(await letter.textContent()).toContain('PG_23514');

    await letter.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Replay selected (1)…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Replay 1 dead letter?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(poison.eventId);
    // The confirmation takes the focus: a keyboard user lands on the decision.
    // Polled from the test (the console's CSP forbids the page-side eval waitForFunction needs).
    await expect.poll(() => page.evaluate('document.activeElement?.id'), POLL).toBe('replay-confirm');
    await screenshot(page, 'dead-letters');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await table.locator('tbody tr').filter({ hasText: poison.eventId }).count()).toBe(1);
    expect(await ledgerPayment()).toBeUndefined();
  });

  it('shows the queues, the rejections by reason and the charts on the health page', async () => {
    await nav().getByRole('link', { name: 'Health' }).click();
    const depth = page.getByRole('table', { name: 'Queue depth' });
    await depth.waitFor();
    const dlqRow = depth.getByRole('row', { name: /Dead letters/ });
    const [waiting, inFlight] = await dlqRow
      .locator('td')
      .evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
    // The poison and whatever the demo left there (its own check wants none). Not compared with a second
    // GetQueueAttributes: the page's own dead-letter look holds messages for a moment, and the counts are approximate.
    expect(waiting! + inFlight!).toBe(1 + stack.demo.dlqDepth);
    // Its own request: waited for, not counted at once (the queue table may answer first).
    await page.getByText(/Oldest dead letter: first sent/).waitFor();
    // ApproximateAgeOfOldestMessage, from the local SQS service: the poison message sits in the DLQ.
    await page.getByText(/Oldest message: main queue .*, dead letters \d+ (s|min|h)/).waitFor();

    // The demo's forgeries, as the ingress counted them.
    const rejections = page.getByRole('table', { name: 'Rejections by reason' });
    await rejections.waitFor();
    const counts = await rejections
      .locator('tbody tr td.num')
      .evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
    const rejected = stack.demo.stack.metrics.ingress.total('CallbackRejected');
    expect(rejected).toBeGreaterThan(0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(rejected);

    await page.getByRole('img', { name: /^Lag from provider event to ledger/ }).waitFor();
    await page.getByRole('img', { name: /^Queue depth/ }).waitFor();
    await screenshot(page, 'health');
    await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight)');
    await screenshot(page, 'health-charts');
  });

  it('replays the dead letter with confirmation once its cause is fixed: the payment is in the ledger', async () => {
    await unblock();
    await nav().getByRole('link', { name: 'Dead letters' }).click();
    const table = page.getByRole('table', { name: 'Dead letters' });
    await table.waitFor();
    await page.getByRole('checkbox', { name: `Select stripe ${poison.eventId}` }).check();
    await page.getByRole('button', { name: 'Replay selected (1)…' }).click();
    await page.getByRole('button', { name: 'Confirm replay of 1' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1 message to the main queue.' }).waitFor();
    await stack.demo.stack.drain();
    expect(await ledgerPayment()).toEqual({
      status: 'succeeded',
      amount_minor: poison.amountMinor,
      last_event_id: poison.eventId,
    });
    // The page reloads its list: the message is no longer a dead letter (waits for the row to go; times out if not).
    await table.locator('tbody tr').filter({ hasText: poison.eventId }).waitFor({ state: 'detached' });
  });

  it('finds the replayed event by its order number: applied, and the payer’s e-mail masked in the raw body', async () => {
    await page.goto(`${stack.url}#/ops/events?q=${poison.merchantOrderNo}`);
    const row = page.getByRole('row', { name: new RegExp(`^Event ${poison.eventId},`) });
    await row.click();
    await page.getByRole('heading', { name: new RegExp(`^Event ${poison.eventId}.*applied`) }).waitFor();
    const raw = (await page.locator('pre.raw').textContent()) ?? '';
    expect(raw).toContain(poison.paymentIntentId);
    expect(raw).toContain('[masked]');
    expect(await page.locator('main').textContent()).not.toContain(poison.email);
  });

  it('as ops, a break shows no actions and the reports page is not offered', async () => {
    const [open] = await stack.db.sql<{ id: string }[]>`
      select id::text as id from recon_breaks where state = 'open' order by id limit 1`;
    await page.goto(`${stack.url}#/breaks/${open!.id}`);
    await page.getByRole('heading', { name: new RegExp(`^Break #${open!.id}`) }).waitFor();
    expect(await page.getByText('Only finance can act on breaks.').count()).toBe(1);
    for (const name of ['Add note', 'Assign', 'Resolve', 'Write off'])
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    await page.goto(`${stack.url}#/reports`);
    await page.getByRole('heading', { name: 'Not for your role' }).waitFor();
    // And the API refuses ops the finance actions anyway.
    expect(await apiStatusFromPage(page, '/reports')).toBe(403);
  });

  it('as finance, the operations pages are not offered and their data is refused (403)', async () => {
    const finance = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await logIn(finance, stack, 'finance');
      expect(
        await finance.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents(),
      ).toEqual(['Overview', 'Breaks', 'Reports']);
      await finance.goto(`${stack.url}#/ops/dead-letters`);
      await finance.getByRole('heading', { name: 'Not for your role' }).waitFor();
      for (const route of [
        '/ops/events',
        `/ops/events/stripe/${poison.eventId}`,
        '/ops/dead-letters',
        '/ops/queues',
        '/ops/rejections',
      ])
        expect(await apiStatusFromPage(finance, route), route).toBe(403);
    } finally {
      await finance.close();
    }
  });

  it('is usable at phone width: navigation visible, nothing wider than the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await logIn(phone, stack, 'ops');
      for (const path of [
        '#/ops/events',
        `#/ops/events/stripe/${poison.eventId}`,
        '#/ops/dead-letters',
        '#/ops/health',
      ]) {
        await phone.goto(`${stack.url}${path}`);
        await phone.getByRole('heading', { level: 1 }).waitFor();
        // Every load answered (an empty dead-letter queue has no table to wait for).
        await expect.poll(() => phone.locator('main').textContent(), POLL).not.toContain('Loading…');
        const width = await phone.evaluate('document.documentElement.scrollWidth');
        expect(width, path).toBeLessThanOrEqual(390);
        expect(await phone.getByRole('navigation', { name: 'Pages' }).isVisible()).toBe(true);
      }
    } finally {
      await phone.close();
    }
  });
});
