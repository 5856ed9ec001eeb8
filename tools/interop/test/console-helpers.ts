// Test helper for the web console tests: where a running `switchyard up`
// serves its console (endpoints.json "console"), and /metrics read and parsed.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parsePrometheusText, type ParsedSample } from "@switchyard/console";
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
