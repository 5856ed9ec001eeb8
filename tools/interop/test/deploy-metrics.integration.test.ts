// Goal: every metric that an alert rule (deploy/prometheus/alerts.yml) or a
// dashboard panel (deploy/grafana/switchyard-dashboard.json) names is
// exported, with samples, by a running appliance, and its /metrics passes
// promtool's lint: a renamed metric breaks this test, not an operator's alert.
// Method: one real `switchyard up`; host I/O through apparatus a0, a move (a
// hold and a change), a migration (its series) and a fence (a1), then one
// scrape. Names are every `switchyard_…` word in the two files, a
// histogram's `_bucket`, `_sum` and `_count` counted as its family.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NbdClient } from "@switchyard/nbd";
import { Appliance, assertSucceeded, createVolume, mebibyte, runTool } from "./appliance.js";
import { consoleUrl, scrape } from "./console-helpers.js";
import { deployDir, promtoolTimeoutMs, readDashboard } from "./deploy-files.js";

/** A migration of a 8 MiB volume on loopback takes well under this. */
const migrateTimeoutMs = 60_000;
const histogramSuffixes = ["_bucket", "_sum", "_count"] as const;

function namesIn(text: string): Set<string> {
  return new Set(text.match(/\bswitchyard_[a-z0-9_]*[a-z0-9]/g) ?? []);
}

/** The metric names the alert rules and the dashboard's queries use. */
function referencedNames(): string[] {
  const rules = namesIn(readFileSync(`${deployDir}prometheus/alerts.yml`, "utf8"));
  const queries = readDashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
  return [...new Set([...rules, ...namesIn(queries.join("\n"))])].sort();
}

describe("metrics named in deploy/ are exported", () => {
  let appliance: Appliance;
  let metricsText: string;

  beforeAll(async () => {
    appliance = await Appliance.start({ extraArgs: ["--lu-size", "64MiB"] });
    await createVolume(appliance, "watched", "8MiB", ["--lu", "lu0"]);
    const [host = "", port = ""] = appliance.endpoints.apparatuses[0]?.nbd.split(":") ?? [];
    const client = await NbdClient.connect({ host, port: Number(port), exportName: "watched", timeoutMs: 10_000 });
    try {
      await client.write(0, Buffer.alloc(mebibyte, 0x33));
      await client.read(0, Buffer.alloc(mebibyte));
    } finally {
      await client.close();
    }
    assertSucceeded(await appliance.cli(["volume", "move", "watched", "--extent", "0", "--to", "lu1"]));
    assertSucceeded(await appliance.cli(["migrate", "watched", "--to", "lu1", "--watch"], migrateTimeoutMs));
    assertSucceeded(await appliance.cli(["apparatus", "fence", "a1"]));
    metricsText = (await scrape(await consoleUrl(appliance))).text;
  });

  afterAll(async () => {
    await appliance.dispose();
  });

  it("every name in the alert rules and the dashboard is a family with samples", () => {
    const families = new Map([...metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1] ?? "", match[2] ?? ""]));
    const sampled = new Set([...metricsText.matchAll(/^(switchyard_[a-z0-9_]+)[{ ]/gm)].map((match) => match[1] ?? ""));
    const referenced = referencedNames();
    // The names the alerts need (issue 21), so an empty list cannot pass.
    expect(referenced).toEqual(expect.arrayContaining([
      "switchyard_apparatus_fenced", "switchyard_controller_up", "switchyard_hold_duration_seconds_bucket",
      "switchyard_changes_total", "switchyard_lu_areas_free", "switchyard_store_write_errors_total",
    ]));
    const missing = referenced.filter((name) => {
      const family = histogramSuffixes.reduce((stem, suffix) => (families.get(stem) === undefined && stem.endsWith(suffix) ? stem.slice(0, -suffix.length) : stem), name);
      // A histogram named by its family has samples under its suffixes only.
      const sampleName = families.get(name) === "histogram" ? `${name}_count` : name;
      return families.get(family) === undefined || !sampled.has(sampleName);
    });
    expect(missing, metricsText).toEqual([]);
  });

  it("the fence shows where the alert looks for it", () => {
    expect(metricsText).toMatch(/^switchyard_apparatus_fenced\{apparatus="a1"\} 1$/m);
    expect(metricsText).toMatch(/^switchyard_apparatus_fenced\{apparatus="a0"\} 0$/m);
    expect(metricsText).toMatch(/^switchyard_controller_up 1$/m);
  });

  it("promtool's lint of the exposition passes", async () => {
    const file = join(appliance.dir, "metrics.txt");
    await writeFile(file, metricsText);
    const result = await runTool("sh", ["-c", 'promtool check metrics < "$1"', "sh", file], { timeoutMs: promtoolTimeoutMs });
    assertSucceeded(result);
    expect(result.stderr).toBe("");
  });
});
