// Test helper for the web console tests: where a running `switchyard up`
// serves its console (endpoints.json "console"), and /metrics read and parsed.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parsePrometheusText, type ParsedSample } from "@switchyard/console";
import type { Page } from "playwright-core";
import { isRecord, type Appliance } from "./appliance.js";

/** One scrape of /metrics over loopback; a slower one is a failure, not a wait. */
export const scrapeTimeoutMs = 5_000;

/** The web console's base URL (http://127.0.0.1:PORT/) from DIR/endpoints.json. */
export async function consoleUrl(appliance: Appliance): Promise<string> {
  const parsed: unknown = JSON.parse(await readFile(appliance.endpointsPath, "utf8"));
  assert.ok(isRecord(parsed) && isRecord(parsed.console), `endpoints.json has no console: ${JSON.stringify(parsed)}`);
  const url = parsed.console.url;
  assert.ok(typeof url === "string" && /^http:\/\/127\.0\.0\.1:[1-9]\d*\/$/.test(url), `console.url is not a loopback URL: ${JSON.stringify(url)}`);
  return url;
}

/** The folder of the console's login tokens, from DIR/endpoints.json ("console"."tokens"). */
export async function consoleTokensFolder(appliance: Appliance): Promise<string> {
  const parsed: unknown = JSON.parse(await readFile(appliance.endpointsPath, "utf8"));
  assert.ok(isRecord(parsed) && isRecord(parsed.console) && typeof parsed.console.tokens === "string", `endpoints.json names no console tokens: ${JSON.stringify(parsed)}`);
  return parsed.console.tokens;
}

/** The login token of `role` in a console's token folder. */
export async function consoleToken(folder: string, role: "operator" | "viewer" | "metrics"): Promise<string> {
  return (await readFile(join(folder, `${role}-token`), "utf8")).trim();
}

/** Opens the console in `page` as a person does: the login page, the token typed in, then the console itself. */
export async function logIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.waitForURL(new URL("login", url).href);
  await page.fill("#token", token);
  await page.click("#login button[type='submit']");
  await page.waitForURL(url);
}

/** A session cookie for fetch() from Node: a login POST from the console's own origin. */
export async function sessionCookieFor(url: string, token: string): Promise<string> {
  const response = await fetch(new URL("login", url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(url).origin },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
    signal: AbortSignal.timeout(scrapeTimeoutMs),
  });
  const cookie = response.headers.get("set-cookie");
  assert.ok(response.status === 303 && cookie !== null, `login answered ${response.status} with no session cookie`);
  return cookie.split(";")[0] ?? "";
}

export class Scrape {
  constructor(readonly samples: readonly ParsedSample[]) {}

  /** The value of the one sample named so whose labels include `labels`; 0 when there is none yet (a counter not yet touched). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    const matching = this.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted));
    assert.ok(matching.length <= 1, `${name} ${JSON.stringify(labels)} matches ${matching.length} samples`);
    return matching[0]?.value ?? 0;
  }
}

export async function scrape(url: string): Promise<{ contentType: string; scrape: Scrape; text: string }> {
  const response = await fetch(new URL("metrics", url), { signal: AbortSignal.timeout(scrapeTimeoutMs) });
  assert.equal(response.status, 200, `GET /metrics answered ${response.status}`);
  const text = await response.text();
  return { contentType: response.headers.get("content-type") ?? "", scrape: new Scrape(parsePrometheusText(text)), text };
}
