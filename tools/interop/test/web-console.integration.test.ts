// Goal: the web console works end to end in a real browser (claims 8, 19):
// a volume created through its form appears with its extent strip; a bad size
// is refused with the CLI's own line; an extent moved through its form
// reaches committed in the history and its block of the strip changes LU and
// colour; a migration started through its form shows a progress bar that
// climbs to 100% and leaves the whole strip in the target's colour, all
// without a reload. Nobody gets in without a login: a wrong token is refused,
// a viewer's forms are shut and refused by the server, and a form without the
// session's CSRF token or posted from another origin changes nothing. Method: one `switchyard up` with ephemeral ports, headless Debian
// Chromium driven by playwright-core; a screenshot is left in
// test-artifacts/ (git-ignored). A missing Chromium fails the test.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Appliance } from "./appliance.js";
import { consoleToken, consoleTokensFolder, consoleUrl, logIn } from "./console-helpers.js";

/** Debian's chromium package (scripts/setup.sh installs it). */
const chromiumPath = "/usr/bin/chromium";
const artifactsDir = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
/** A live update follows a change within a poll (500 ms) and a read; this leaves room for a loaded machine. */
const uiWaitTimeoutMs = 15_000;

/** The LU and the drawn colour of the strip block that holds `extent`; the page's DOM is read through locators only. */
async function stripBlock(page: Page, volume: string, extent: number): Promise<{ lu: string; colour: string }> {
  const blocks = page.locator(`.strip[data-volume="${volume}"] > div`);
  const count = await blocks.count();
  for (let index = 0; index < count; index += 1) {
    const block = blocks.nth(index);
    const first = Number(await block.getAttribute("data-first-extent"));
    const extents = Number(await block.getAttribute("data-extent-count"));
    if (extent < first || extent >= first + extents) continue;
    // An expression, not a function: this test is compiled without the DOM's types.
    const selector = `.strip[data-volume="${volume}"] > div[data-first-extent="${first}"]`;
    const colour: unknown = await page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).backgroundColor`);
    return { lu: (await block.getAttribute("data-lu")) ?? "", colour: String(colour) };
  }
  return { lu: "", colour: "" };
}

describe("web console in Chromium", () => {
  let appliance: Appliance | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium package (scripts/setup.sh does)`);
    appliance = await Appliance.start({ extraArgs: ["--lu-size", "256MiB"] });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(uiWaitTimeoutMs);
    await logIn(page, await consoleUrl(appliance), await consoleToken(await consoleTokensFolder(appliance), "operator"));
    await page.waitForSelector("#connection[data-state='live']");
  });

  afterAll(async () => {
    await browser?.close();
    await appliance?.dispose();
  });

  it("shows the cluster: LUs, apparatuses and the controller with its epoch", async () => {
    await page.waitForSelector("#lus tbody tr");
    expect(await page.locator("#lus tbody tr").count()).toBe(2);
    expect(await page.locator("#apparatuses tbody tr").allTextContents()).toEqual([expect.stringMatching(/^a0serving/), expect.stringMatching(/^a1serving/)]);
    expect(await page.locator("#controller").textContent()).toMatch(/controller a0, epoch \d+/);
  });

  it("creates a volume through the form, refusing a bad size with the CLI's line", async () => {
    await page.fill("#create-name", "web1");
    await page.fill("#create-size", "12 parsecs");
    await page.click("#create-submit");
    await page.waitForSelector("#create-result[data-ok='false']");
    expect(await page.locator("#create-result").textContent()).toBe('switchyard volume create: --size "12 parsecs" is not a size (examples: 512MiB, 1GiB, 4096)');
    await page.fill("#create-size", "16MiB");
    await page.selectOption("#create-lu", "lu0");
    await page.click("#create-submit");
    await page.waitForSelector("#create-result[data-ok='true']");
    await page.waitForSelector(".strip[data-volume='web1'] > div");
    expect(await stripBlock(page, "web1", 0)).toMatchObject({ lu: "lu0" });
  });

  it("moves an extent through the form: the change commits and the strip changes colour", async () => {
    const before = await stripBlock(page, "web1", 0);
    await page.selectOption("#move-volume", "web1");
    await page.fill("#move-extent", "0");
    await page.selectOption("#move-to", "lu1");
    await page.click("#move-submit");
    await page.waitForSelector("#history tr[data-state='committed']");
    await page.waitForSelector(".strip[data-volume='web1'] > div[data-first-extent='0'][data-lu='lu1']");
    const after = await stripBlock(page, "web1", 0);
    expect(after.lu).toBe("lu1");
    expect(after.colour).not.toBe(before.colour);
    expect(await stripBlock(page, "web1", 1)).toMatchObject({ lu: "lu0", colour: before.colour });
    expect(await page.locator("#move-result").textContent()).toMatch(/^change move-\S+ committed$/);
    // A move is a migration of one extent: its own row, beside the mirror and switch changes it made.
    const history = await page.locator("#history tr[data-state='committed']", { hasText: "move extent 0 of web1" }).first().textContent();
    expect(history).toMatch(/move extent 0 of web1 from lu0:\d+ to lu1:\d+/);
    expect(history).toMatch(/mirror \d+, copy \d+, switch \d+/);
  });

  it("migrates a volume through the form: its progress climbs to 100% and the strip takes the target's colour", async () => {
    const target = await stripBlock(page, "web1", 0);
    expect(target.lu).toBe("lu1");
    await page.fill("#migrate-rate", "illegal");
    await page.selectOption("#migrate-volume", "web1");
    await page.selectOption("#migrate-to", "lu1");
    await page.click("#migrate-submit");
    await page.waitForSelector("#migrate-result[data-ok='false']");
    expect(await page.locator("#migrate-result").textContent()).toBe('switchyard migrate: --rate "illegal" must be a size per second, like 200MiB/s');
    // Three extents of 4 MiB at 8 MiB/s: about 1.5 s, a few page updates.
    await page.fill("#migrate-rate", "8MiB/s");
    await page.click("#migrate-submit");
    await page.waitForSelector("#migrate-result[data-ok='true']");
    const seen: number[] = [];
    const progress = page.locator("#running .change[data-change-id^='migrate'] [role='progressbar']");
    const history = page.locator("#history tr[data-state='committed']", { hasText: "migrate 3 extents of web1 to lu1" });
    while ((await history.count()) === 0) {
      if ((await progress.count()) > 0) seen.push(Number(await progress.first().getAttribute("aria-valuenow").catch(() => "-1")));
      await page.waitForTimeout(100);
    }
    const shown = seen.filter((percent) => percent >= 0);
    expect(shown.length, "the page never showed the migration running").toBeGreaterThan(0);
    expect(shown).toEqual([...shown].sort((left, right) => left - right));
    await page.waitForSelector(".strip[data-volume='web1'] > div[data-first-extent='0'][data-extent-count='4'][data-lu='lu1']");
    expect(await stripBlock(page, "web1", 3)).toEqual(target);
    await mkdir(artifactsDir, { recursive: true });
    await page.screenshot({ path: `${artifactsDir}web-console.png`, fullPage: true });
  });

  it("lets nobody in without a login: the login page refuses a wrong token, and a viewer sees the page with its forms shut", async () => {
    const url = await consoleUrl(appliance as Appliance);
    const folder = await consoleTokensFolder(appliance as Appliance);
    const context = await (browser as Browser).newContext();
    const stranger = await context.newPage();
    stranger.setDefaultTimeout(uiWaitTimeoutMs);
    await stranger.goto(url);
    expect(stranger.url()).toBe(new URL("login", url).href);
    await stranger.fill("#token", "a-guess-that-is-long-enough-to-look-like-a-token");
    await stranger.click("#login button[type='submit']");
    await stranger.waitForSelector("#login-failed");
    await logIn(stranger, url, await consoleToken(folder, "viewer"));
    await stranger.waitForSelector("#session-role:has-text('viewer')");
    expect(await stranger.locator("#create-submit").isDisabled()).toBe(true);
    // The server refuses a viewer's form even when the page's button is forced.
    const status: unknown = await stranger.evaluate(
      `fetch("api/session").then((r) => r.json()).then((s) => fetch("api/volumes", { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": s.csrf }, body: JSON.stringify({ name: "viewer1", size: "4MiB" }) })).then((r) => r.status)`,
    );
    expect(status).toBe(403);
    await context.close();
  });

  it("refuses a form without the session's CSRF token, and a form posted from another origin, changing nothing", async () => {
    const noToken: unknown = await page.evaluate(
      `fetch("api/volumes", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "forged1", size: "4MiB" }) }).then((r) => r.status)`,
    );
    expect(noToken).toBe(403);
    // Another site on this machine (same site, other port: the session cookie goes along) posts a form at the console.
    const target = new URL("api/volumes", await consoleUrl(appliance as Appliance)).href;
    const attacker = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(`<form id="f" method="post" action="${target}"><input name="name" value="forged2"><input name="size" value="4MiB"></form><script>document.getElementById("f").submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = attacker.address() as AddressInfo;
      const answer = page.waitForResponse(target);
      await page.goto(`http://127.0.0.1:${port}/`);
      expect((await answer).status()).toBe(403);
    } finally {
      attacker.close();
    }
    const listed = await (appliance as Appliance).cli(["volume", "list", "--json"]);
    expect(listed.stdout).not.toMatch(/forged/);
  });
});
