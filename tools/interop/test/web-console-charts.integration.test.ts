// Goal: the web console's charts and events work in a real browser (issue
// 21): while fio writes and reads a volume, its IOPS, throughput and latency
// charts and its apparatus's draw, and move as samples come (more points,
// different pixels); a migration started from the page shows its copy rate
// and time left; a resize's hold shows in the hold strip, and that
// migration's changes, holding nothing, do not; an operator's
// fence and rejoin appear in the events panel, recorded in the journal by the
// controller; after a restart the events derived from the persisted journal
// (that fence and rejoin among them) are listed, and the ones this console
// only observed are not. Method: one `switchyard up` in a folder of the
// test's own (so it can restart it), fio's nbd engine as the load, headless
// Debian Chromium driven by playwright-core. A screenshot of the page under
// load is saved in the OS temp folder; its path is printed. A missing
// Chromium or fio fails the test.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Appliance, createVolume, makeScratchDir, requireTools } from "./appliance.js";
import { consoleToken, consoleTokensFolder, consoleUrl, logIn } from "./console-helpers.js";

/** Debian's chromium package (scripts/setup.sh installs it). */
const chromiumPath = "/usr/bin/chromium";
/**
 * The server samples every 5 s and the page reads every 5 s (io-history.ts,
 * charts.ts): a new point shows within about 10 s; this leaves room for a
 * loaded machine.
 */
const chartWaitTimeoutMs = 40_000;
/** fio runs at most this long; the test stops it sooner, this only bounds a test that failed before. */
const fioRuntimeSeconds = 120;
/** Pages in the OS temp folder, named for this run, that the test prints: under load, and with the events. */
const screenshotPath = join(tmpdir(), `switchyard-console-charts-${process.pid}.png`);
const eventsScreenshotPath = join(tmpdir(), `switchyard-console-events-${process.pid}.png`);

const volumeCard = "#volume-charts .chart-card[data-series='load']";
const apparatusCard = "#apparatus-charts .chart-card[data-series='a0']";

/** An attribute of the first element matching `selector`, as a number (NaN when absent). */
async function numberOf(page: Page, selector: string, attribute: string): Promise<number> {
  return Number(await page.locator(selector).first().getAttribute(attribute));
}

/** The pixels of the first chart canvas in `selector`, as a data URL: two that differ show the chart was redrawn with other data. */
async function canvasPixels(page: Page, selector: string): Promise<string> {
  // An expression, not a function: this test is compiled without the DOM's types.
  const pixels: unknown = await page.evaluate(`document.querySelector(${JSON.stringify(`${selector} canvas`)}).toDataURL()`);
  return String(pixels);
}

/** Waits until the card's newest sample shows I/O and it has more samples than `moreThan`. */
async function waitForSample(page: Page, selector: string, moreThan: number): Promise<number> {
  const deadlineMs = Date.now() + chartWaitTimeoutMs;
  for (;;) {
    const samples = await numberOf(page, selector, "data-samples");
    if (samples > moreThan && (await numberOf(page, selector, "data-last-iops")) > 0) return samples;
    assert.ok(Date.now() < deadlineMs, `${selector}: no new sample with I/O in ${chartWaitTimeoutMs} ms (samples ${samples})`);
    await page.waitForTimeout(250);
  }
}

describe("web console charts and events in Chromium", () => {
  let dir: string;
  let appliance: Appliance | undefined;
  let browser: Browser | undefined;
  let fio: ChildProcess | undefined;
  let page: Page;

  beforeAll(async () => {
    assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium package (scripts/setup.sh does)`);
    await requireTools(["fio"]);
    dir = await makeScratchDir();
    appliance = await Appliance.start({ dir, extraArgs: ["--lu-size", "256MiB"] });
    await createVolume(appliance, "load", "64MiB", ["--lu", "lu0"]);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(chartWaitTimeoutMs);
    await logIn(page, await consoleUrl(appliance), await consoleToken(await consoleTokensFolder(appliance), "operator"));
    await page.waitForSelector("#connection[data-state='live']");
  });

  afterAll(async () => {
    fio?.kill("SIGKILL");
    await browser?.close();
    await appliance?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("draws IOPS, throughput and latency per volume and apparatus, and they move while fio runs", async () => {
    assert.ok(appliance !== undefined);
    fio = spawn("fio", [
      "--name=charts", "--ioengine=nbd", `--uri=${appliance.nbdUri("load")}`, "--rw=randrw", "--bs=4k", "--iodepth=4",
      "--size=32MiB", "--time_based", `--runtime=${fioRuntimeSeconds}`, "--rate_iops=400",
    ], { cwd: dir, stdio: "ignore" });
    const first = await waitForSample(page, volumeCard, 0);
    expect(await page.locator(`${volumeCard} canvas`).count()).toBe(3);
    const before = await canvasPixels(page, volumeCard);
    const later = await waitForSample(page, volumeCard, first);
    expect(later).toBeGreaterThan(first);
    expect(await canvasPixels(page, volumeCard)).not.toBe(before);
    expect(await numberOf(page, volumeCard, "data-last-bytes-per-second")).toBeGreaterThan(0);
    await waitForSample(page, apparatusCard, 0);
    // The latency chart has drawn its two lines' legend.
    expect(await page.locator(`${volumeCard} .u-legend`).allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining("p99")]));
  });

  it("shows a migration's copy rate and time left, and a resize's hold in the strip", async () => {
    await page.selectOption("#migrate-volume", "load");
    await page.selectOption("#migrate-to", "lu1");
    // 16 extents of 4 MiB at 8 MiB/s: about 8 s, many snapshots.
    await page.fill("#migrate-rate", "8MiB/s");
    await page.click("#migrate-submit");
    await page.waitForSelector("#migrate-result[data-ok='true']");
    const card = "#migration-charts .chart-card[data-change-id^='migrate']";
    await page.waitForFunction(`Number(document.querySelector(${JSON.stringify(card)})?.dataset.rateBytesPerSecond ?? 0) > 0`);
    expect(await page.locator(`${card} .chart-title`).textContent()).toMatch(/migrate 16 extents of load to lu1: [\d.]+ MiB\/s, about \d+ s left$/);
    await page.screenshot({ path: screenshotPath, fullPage: true });
    console.log(`web console under load: ${screenshotPath}`);
    await page.waitForSelector("#history tr[data-state='committed']", { state: "attached" });
    await page.waitForSelector("#migration-charts p.empty");
    // Its changes moved extents between two LUs of the one device, which held nothing: no bar of theirs.
    expect(await page.locator("#hold-strip > div[data-change-id^='switch'], #hold-strip > div[data-change-id^='mirror']").count()).toBe(0);
    // A resize holds the I/O past the old end: its bar.
    expect((await appliance?.cli(["volume", "resize", "load", "--size", "68MiB"]))?.exitCode).toBe(0);
    await page.waitForSelector("#hold-strip > div[data-change-id^='resize'][data-hold-ms]", { state: "attached" });
    fio?.kill("SIGTERM");
  });

  it("lists an operator's fence and the rejoin in the events panel", async () => {
    assert.ok(appliance !== undefined);
    expect((await appliance.cli(["apparatus", "fence", "a1"])).exitCode).toBe(0);
    await page.waitForSelector("#events tr[data-kind='fence']:has-text('a1')");
    expect((await appliance.cli(["apparatus", "rejoin", "a1"])).exitCode).toBe(0);
    // Seen at once by the console, then recorded in the journal by the controller: one row, the journal's.
    const rejoin = await page.waitForSelector("#events tr[data-kind='rejoin'][data-source='journal']:has-text('a1')");
    expect(await rejoin.textContent()).toMatch(/a1 loaded the whole table at generation \d+ and serves again \(an operator's rejoin lifted its fence\)/);
    await page.waitForSelector("#events tr[data-kind='fence'][data-source='journal']:has-text('a1')");
    expect(await page.locator("#events tr[data-kind='rejoin']:has-text('a1')").count()).toBe(1);
    await page.screenshot({ path: eventsScreenshotPath, fullPage: true });
    console.log(`web console with events: ${eventsScreenshotPath}`);
  });

  it("after a restart lists the events the journal holds (the operator's fence and the rejoin among them), and not the ones only observed", async () => {
    await appliance?.stop();
    appliance = await Appliance.start({ dir, extraArgs: ["--lu-size", "256MiB"] });
    await logIn(page, await consoleUrl(appliance), await consoleToken(await consoleTokensFolder(appliance), "operator"));
    await page.waitForSelector("#connection[data-state='live']");
    // The first change under the new controller's epoch shows, from the journal, that the lease passed.
    expect((await appliance.cli(["volume", "move", "load", "--extent", "0", "--to", "lu0"])).exitCode).toBe(0);
    await page.waitForSelector("#events tr[data-kind='failover'][data-source='journal']");
    await page.waitForSelector("#events tr[data-kind='fence'][data-source='journal']:has-text('fenced by an operator')");
    await page.waitForSelector("#events tr[data-kind='rejoin'][data-source='journal']:has-text('a1')");
    expect(await page.locator("#events tr[data-source='observed']").count()).toBe(0);
  });
});
