// node --import tsx test/helpers/screenshot-report.ts REPORT.html OUT.png [light|dark] [WIDTH] [HEIGHT]
// How docs/check-report.png is made: the report in the system Chromium, the
// top HEIGHT pixels (default: the full page).
import { launchChromium, openReport } from './browser.js';

const [file, out, scheme = 'light', width = '1280', height] = process.argv.slice(2);
if (!file || !out) throw new Error('usage: screenshot-report.ts REPORT.html OUT.png [light|dark] [WIDTH]');
const browser = await launchChromium();
try {
  const { page, foreignRequests } = await openReport(browser, file, { colorScheme: scheme === 'dark' ? 'dark' : 'light', width: Number(width) });
  if (height) await page.setViewportSize({ width: Number(width), height: Number(height) });
  if (foreignRequests.length > 0) throw new Error(`the report fetched ${foreignRequests.join(', ')}`);
  await page.screenshot({ path: out, fullPage: height === undefined });
} finally {
  await browser.close();
}
