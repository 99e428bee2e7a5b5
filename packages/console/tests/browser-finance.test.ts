// Finance in a real browser (headless Chromium from Debian, driven by playwright-core) on the real local stack:
// log in, find yesterday's breaks, open one, note it, resolve it, download breaks.csv and compare its bytes with
// the report; the break queue by keyboard alone; the pages at phone width. One browser for the file.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsoleStack,
  launchBrowser,
  logIn,
  screenshot,
  startConsoleStack,
} from './helpers/console-stack.ts';

let stack: ConsoleStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startConsoleStack(), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the console for finance, in a browser', () => {
  it('logs in as finance and shows finance navigation only', async () => {
    await page.goto(stack.url);
    await screenshot(page, 'login');
    await logIn(page, stack, 'finance');
    const nav = page.getByRole('navigation', { name: 'Pages' });
    await expect(nav.getByRole('link', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('finance (finance)').isVisible()).resolves.toBe(true);
  });
});
