import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check-command.js';
import { launchChromium, openReport } from '../helpers/browser.js';
import { ROOT } from '../helpers/processes.js';
import { hostileTraceLine } from './hostile-trace.js';

const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/traces', name);

async function check(args: string[], stdin = new PassThrough()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: new PassThrough().on('data', (c: Buffer) => (stdout += c.toString())),
    stderr: new PassThrough().on('data', (c: Buffer) => (stderr += c.toString())),
  };
  const code = await checkCommand(args, io, stdin);
  return { code, stdout, stderr };
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lcg-html-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('check --html, in a real browser', () => {
  it('shows the violation of the real app trace, its query text and call sid; the filter hides clean calls; no network', async () => {
    const report = path.join(dir, 'report.html');
    const { code, stdout, stderr } = await check([fixture('app-clean.jsonl'), fixture('app-report.jsonl'), '--html', report]);
    expect(code).toBe(1);
    expect(stdout).toContain('FAIL');
    expect(stderr).toContain(`HTML report written to ${report}`);

    const { page, foreignRequests } = await openReport(browser, report);
    const bad = page.locator('section.call', { hasText: 'CA-fixture-report' });
    const clean = page.locator('section.call', { hasText: 'CA-fixture-clean' });
    // Violations first, whatever the order of the inputs.
    await expect.poll(() => page.locator('section.call').first().getAttribute('data-sid')).toBe('CA-fixture-report');
    expect(await bad.locator('.tl-row.violation').isVisible()).toBe(true);
    expect(await bad.locator('.tl-row.violation').innerText()).toContain('VIOLATION');
    expect(await bad.getByText('select 2 as live_query').first().isVisible()).toBe(true);
    expect(await bad.getByRole('heading', { name: /CA-fixture-report/ }).isVisible()).toBe(true);
    expect(await bad.getByText('call-with-live-query.ts', { exact: false }).first().isVisible()).toBe(true);
    expect(await page.getByRole('status').first().innerText()).toContain('FAIL (exit 1)');

    // The statement list is a table a screen reader can walk.
    const table = bad.getByRole('table', { name: /Database statements of call CA-fixture-report/ });
    expect(await table.getByRole('columnheader').allInnerTexts()).toEqual(['#', 'verdict', 'phase', 'start', 'duration', 'statement', 'span id']);
    expect(await table.getByRole('row', { name: /VIOLATION/ }).innerText()).toContain('select 2 as live_query');
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('banner').count()).toBe(1);
    expect(await page.getByRole('search').count()).toBe(1);

    expect(await clean.isVisible()).toBe(true);
    await page.getByLabel('Violations only').check();
    expect(await clean.isVisible()).toBe(false);
    expect(await bad.isVisible()).toBe(true);
    expect(await page.locator('#filter-status').innerText()).toBe('Showing 1 of 2 calls drawn in full');
    await page.getByLabel('Violations only').uncheck();

    const cleanTrace = (await clean.getAttribute('data-trace'))!;
    await page.getByLabel('Search call sid or trace id').fill(cleanTrace.slice(0, 12));
    expect(await clean.isVisible()).toBe(true);
    expect(await bad.isVisible()).toBe(false);
    await page.getByLabel('Search call sid or trace id').fill('fixture-rep');
    expect(await bad.isVisible()).toBe(true);
    expect(await clean.isVisible()).toBe(false);

    const screenshot = path.join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await fs.stat(screenshot)).size).toBeGreaterThan(10_000);
    expect(foreignRequests).toEqual([]);
  });

  it('renders hostile input as text: a query with </script> and <img onerror> runs nothing', async () => {
    const traces = path.join(dir, 'hostile.jsonl');
    const report = path.join(dir, 'hostile.html');
    await fs.writeFile(traces, hostileTraceLine());
    expect((await check([traces, '--html', report])).code).toBe(1);
    const html = await fs.readFile(report, 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html.match(/<script>/g)).toHaveLength(1);

    const { page, foreignRequests } = await openReport(browser, report);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    const card = page.locator('.violation-card').first();
    expect(await card.innerText()).toContain('</script><script>globalThis.pwned=1</script>');
    expect(await card.innerText()).toContain('<img src=x onerror="globalThis.pwned=2">');
    expect(await page.getByRole('heading', { name: /<b>CA-evil<\/b>/ }).isVisible()).toBe(true);
    expect(foreignRequests).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the network check catches a page that fetches (control for the assertions above)', async () => {
    const page = path.join(dir, 'fetching.html');
    await fs.writeFile(page, '<!doctype html><title>x</title><img src="http://127.0.0.1:9/x.png" alt="">');
    const { foreignRequests } = await openReport(browser, page);
    expect(foreignRequests).toEqual(['http://127.0.0.1:9/x.png']);
  });

  it('follows the dark colour scheme', async () => {
    const report = path.join(dir, 'dark.html');
    await check([fixture('app-report.jsonl'), '--html', report]);
    const background = async (scheme: 'light' | 'dark'): Promise<string> => {
      const { page } = await openReport(browser, report, { colorScheme: scheme });
      return page.locator('body').evaluate((body) => (body.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor);
    };
    expect(await background('dark')).not.toBe(await background('light'));
  });
});
