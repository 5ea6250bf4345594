import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches the system Chromium headless, or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the HTML report's browser tests need it. ` +
        'Install it with `apt-get update && apt-get install -y chromium` (.ci/run does), or set CHROMIUM_PATH.',
    );
  }
  // We run as root in CI: Chromium's sandbox refuses root.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A page opened on a local HTML file, with every request other than that file recorded (and aborted). */
export interface OpenedReport {
  page: Page;
  /** URLs the page tried to fetch besides the file itself. */
  foreignRequests: string[];
}

export async function openReport(
  browser: Browser,
  file: string,
  options: { colorScheme?: 'light' | 'dark'; width?: number } = {},
): Promise<OpenedReport> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? 'light',
    viewport: { width: options.width ?? 1280, height: 900 },
  });
  const page = await context.newPage();
  const url = pathToFileURL(file).href;
  const foreignRequests: string[] = [];
  const record = (requested: string): void => {
    if (requested !== url && !foreignRequests.includes(requested)) foreignRequests.push(requested);
  };
  // Every request is seen (the request event, file: URLs included) and none
  // but the file itself goes out (routing covers the network schemes).
  page.on('request', (request) => record(request.url()));
  await page.route('**/*', async (route) => {
    const requested = route.request().url();
    record(requested);
    if (requested === url) await route.continue();
    else await route.abort();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, foreignRequests };
}
