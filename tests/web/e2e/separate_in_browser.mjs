// Drive `stemkit serve` in headless Chromium: refuse a fake file, upload a song, wait for the
// players and pictures, download one stem, save a screenshot.
// usage: node separate_in_browser.mjs URL SONG OUTDIR [STEM]   -> prints a JSON report on stdout
import { chromium } from 'playwright-core';
import path from 'node:path';
import fs from 'node:fs';

const [url, song, outDir, stem = 'vocals'] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const report = {};

// Set a file on the upload component and wait until its name shows. On a loaded machine a file set
// before Gradio's handler is ready is lost and the input stays empty: set it again then. Once the
// component has taken the file its input is gone (it uploads, then shows the name): wait, and if the
// upload has not finished after a minute, reload the page as a user would (logged in page_log).
async function upload(page, fileInput, file) {
  const shown = page.locator('#upload').getByText(path.basename(file));
  const started = Date.now();
  let taken = Date.now();
  for (;;) {
    if (await fileInput.count() > 0) {
      await fileInput.setInputFiles(file);
      taken = Date.now();
    }
    try {
      await shown.waitFor({ timeout: 15000 });
      return;
    } catch (err) {
      const waited = (Date.now() - started) / 1000;
      pageLog.push(`${path.basename(file)} not shown after ${waited} s`);
      if (waited > 240) {
        pageLog.push(`#upload: ${await page.locator('#upload').innerHTML()}`);
        throw err;
      }
      if (Date.now() - taken > 60000) {
        pageLog.push(`reloading the page: ${await page.locator('#upload').innerText()}`);
        await page.reload();
        await fileInput.waitFor({ state: 'attached', timeout: 60000 });
      }
    }
  }
}

// What the page said and which requests failed, printed to stderr if a step fails.
const pageLog = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const t0 = Date.now();
  const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  page.on('console', (m) => pageLog.push(`${stamp()} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`${stamp()} page error: ${e.message}`));
  page.on('requestfailed', (r) => {  // aborted streams and media preloads are routine
    const why = r.failure()?.errorText;
    if (why !== 'net::ERR_ABORTED') pageLog.push(`${stamp()} request failed: ${r.url()} ${why}`);
  });
  // Every request that leaves the server (fonts, analytics, CDNs) is recorded: there should be none.
  report.external_requests = [];
  const own = new URL(url).host;
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.host !== own) report.external_requests.push(r.url());
  });
  await page.goto(url);
  const fileInput = page.locator('#upload input[type=file]');
  await fileInput.waitFor({ state: 'attached', timeout: 120000 });
  report.page_ready_seconds = (Date.now() - t0) / 1000;

  // 1. A file that only claims to be audio is refused with the server's message.
  const fake = path.join(outDir, 'fake.wav');
  fs.writeFileSync(fake, '<html>not audio</html>');
  await upload(page, fileInput, fake);
  await page.click('#separate');
  const toast = page.getByText(/not a WAV file/).first();
  await toast.waitFor({ timeout: 90000 });
  report.error_message = (await toast.innerText()).trim();
  await page.locator('button.toast-close').first().click();
  await page.locator('#upload button[aria-label="Clear"]').first().click();

  // 2. A real song: wait for every stem's player and picture.
  await upload(page, fileInput, song);
  const started = Date.now();
  await page.click('#separate');
  await page.locator('#picture-0 img').waitFor({ timeout: 120000 });
  await page.locator('#status').getByText(/stems from/).waitFor({ timeout: 90000 });
  report.seconds_to_result = (Date.now() - started) / 1000;
  const players = page.locator('.stem-player:visible');
  report.players = [];
  for (let i = 0; i < await players.count(); i++) {
    const label = (await players.nth(i).locator('[data-testid="block-label"]').innerText()).trim();
    const src = await players.nth(i).locator('a[data-testid="download-link"]').getAttribute('href');
    const picture = await page.locator(`#picture-${i} img`).getAttribute('src');
    report.players.push({ label, src, picture });
  }
  // The browser can decode and play each stem.
  report.durations = await page.evaluate(async (srcs) => Promise.all(srcs.map((s) => new Promise((resolve) => {
    const a = new Audio();
    a.preload = 'metadata';
    a.onloadedmetadata = () => resolve(a.duration);
    a.onerror = () => resolve(-1);
    a.src = s;
  }))), report.players.map((p) => p.src));

  // 3. Download one stem from the downloads list, as a user would.
  const link = page.locator(`#downloads a[data-testid="download-link"][download$=" - ${stem}.wav"]`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  report.download_name = download.suggestedFilename();
  report.downloaded = path.join(outDir, report.download_name);
  await download.saveAs(report.downloaded);

  await page.mouse.move(0, 0);
  report.screenshot = path.join(outDir, 'web.png');
  await page.screenshot({ path: report.screenshot, fullPage: true });
} catch (err) {
  console.error(pageLog.join('\n'));
  throw err;
} finally {
  await browser.close();
}
report.page_log = pageLog;
console.log(JSON.stringify(report));
