// Chromium for the UI tests (playwright-core with Debian's chromium; see ../shared/PLATFORM.md).
import { existsSync } from 'node:fs';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/** Why the UI tests skip here, or null when Chromium is present. */
export const chromiumSkipReason = existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM}`;

/** A headless Chromium and one page with these options and default timeout; script errors go to `pageErrors`. */
export async function launchChromium(options: BrowserContextOptions, timeoutMs: number, pageErrors: string[]): Promise<{ browser: Browser; page: Page }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage(options);
  page.setDefaultTimeout(timeoutMs);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { browser, page };
}
