// Goal: the web console keeps working when the controller moves to another
// apparatus: the page, served by an apparatus that is not the controller,
// shows the new controller and its higher epoch without a reload, and its
// move form commits a change under the new controller. Method: `device
// serve` and three `apparatus serve` children (a1 wins the lease; a2 serves
// the console with --http-port 0), headless Debian Chromium on a2's page,
// SIGKILL to a1's process; a screenshot is left in test-artifacts/. A
// missing Chromium fails the test.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { assertSucceeded, runCli } from "./appliance.js";
import { ProcessCluster } from "./cluster.js";
import { consoleToken, logIn } from "./console-helpers.js";

const chromiumPath = "/usr/bin/chromium";
/** The lease (6 s) runs out, the next campaign step (2 s) takes it, and the page's next poll shows it. */
const takeoverShownMaxMs = 20_000;
const uiWaitTimeoutMs = 15_000;
const artifactsDir = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

describe("web console across a controller failover", () => {
  let cluster: ProcessCluster | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it("follows the new controller and commits a move through it", { timeout: 60_000 }, async () => {
    assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium package (scripts/setup.sh does)`);
    const running = await ProcessCluster.start({ extraArgs: { a2: ["--http-port", "0"] } });
    cluster = running;
    assertSucceeded(await runCli(["volume", "create", "failover", "--size", "16MiB", "--lu", "lu0", "--endpoint", running.grpc("a2")]));
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    const page = await browser.newPage();
    page.setDefaultTimeout(uiWaitTimeoutMs);
    await logIn(page, running.consoleUrl("a2"), await consoleToken(running.consoleTokens("a2"), "operator"));
    await page.waitForSelector("#connection[data-state='live']");
    await page.waitForFunction("document.querySelector('#controller').textContent.startsWith('controller a1,')");
    const before = (await page.locator("#controller").textContent()) ?? "";
    const epochBefore = Number(/epoch (\d+)/.exec(before)?.[1]);

    process.kill(running.pid("a1"), "SIGKILL");
    await page.waitForFunction("/^controller a[23],/.test(document.querySelector('#controller').textContent)", undefined, { timeout: takeoverShownMaxMs });
    const after = (await page.locator("#controller").textContent()) ?? "";
    expect(Number(/epoch (\d+)/.exec(after)?.[1]), after).toBeGreaterThan(epochBefore);
    await page.waitForSelector("#connection[data-state='live']");

    await page.selectOption("#move-volume", "failover");
    await page.fill("#move-extent", "0");
    await page.selectOption("#move-to", "lu1");
    await page.click("#move-submit");
    await page.waitForSelector("#move-result[data-ok='true']");
    await page.waitForSelector(".strip[data-volume='failover'] > div[data-first-extent='0'][data-lu='lu1']");
    expect(await page.locator("#history tr[data-state='committed']").count()).toBeGreaterThanOrEqual(1);
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: `${artifactsDir}web-console-failover.png`, fullPage: true });
  });
});
