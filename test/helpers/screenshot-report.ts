// node --import tsx test/helpers/screenshot-report.ts REPORT.html OUT.png [light|dark] [WIDTH]
// How docs/check-report.png is made: the report in the system Chromium, full page.
import { launchChromium, openReport } from './browser.js';

const [file, out, scheme = 'light', width = '1280'] = process.argv.slice(2);
if (!file || !out) throw new Error('usage: screenshot-report.ts REPORT.html OUT.png [light|dark] [WIDTH]');
const browser = await launchChromium();
try {
  const { page, foreignRequests } = await openReport(browser, file, { colorScheme: scheme === 'dark' ? 'dark' : 'light', width: Number(width) });
  if (foreignRequests.length > 0) throw new Error(`the report fetched ${foreignRequests.join(', ')}`);
  await page.screenshot({ path: out, fullPage: true });
} finally {
  await browser.close();
}
