// Goal: what deploy/ ships is what Prometheus and Grafana accept, and the
// alert rules fire when they should: the rules and the example configuration
// pass promtool's checks, the rules pass their unit tests
// (deploy/prometheus/alerts.test.yml), and the dashboard has every field
// Grafana needs (deploy/grafana/dashboard.schema.json) with unique ids, one
// datasource variable, and panels that fit the 24-column grid without overlap.
// Method: Debian's promtool as a child process (missing: the test fails);
// ajv against the schema; the schema itself must refuse dashboards with a
// field removed. Which metrics they name is checked against a running
// appliance in deploy-metrics.integration.test.ts.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { assertSucceeded, runTool } from "./appliance.js";
import { deployDir, promtoolTimeoutMs, readDashboard, type Dashboard, type GridPos } from "./deploy-files.js";

/** Grafana's grid is 24 columns wide. */
const gridColumns = 24;

/** A check of a dashboard against the schema: null when it passes, else what is wrong. */
function schemaValidator(): (value: unknown) => string | null {
  const schema: unknown = JSON.parse(readFileSync(`${deployDir}grafana/dashboard.schema.json`, "utf8"));
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(schema as object);
  return (value) => (validate(value) ? null : ajv.errorsText(validate.errors));
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Problems with the layout and references that a JSON schema cannot state. */
function dashboardProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  const ids = dashboard.panels.map((panel) => panel.id);
  if (new Set(ids).size !== ids.length) problems.push(`panel ids repeat: ${ids.join(",")}`);
  const variables = new Set(dashboard.templating.list.filter((entry) => entry.type === "datasource").map((entry) => `\${${entry.name}}`));
  for (const [index, panel] of dashboard.panels.entries()) {
    if (panel.gridPos.x + panel.gridPos.w > gridColumns) problems.push(`${panel.title} is wider than the grid`);
    for (const other of dashboard.panels.slice(index + 1)) {
      if (overlaps(panel.gridPos, other.gridPos)) problems.push(`${panel.title} overlaps ${other.title}`);
    }
    const refIds = (panel.targets ?? []).map((target) => target.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`${panel.title} repeats a refId`);
    const uids = [panel.datasource?.uid, ...(panel.targets ?? []).map((target) => target.datasource.uid)].filter((uid) => uid !== undefined);
    for (const uid of uids) if (!variables.has(uid)) problems.push(`${panel.title} uses datasource ${uid}, not a datasource variable`);
  }
  return problems;
}

/** The alerts alerts.yml defines, by name. */
function alertNames(): string[] {
  const rules = readFileSync(`${deployDir}prometheus/alerts.yml`, "utf8");
  return [...rules.matchAll(/- alert: (\w+)/g)].map((match) => match[1] ?? "");
}

describe("deploy/prometheus", () => {
  it("promtool accepts the alert rules", async () => {
    const result = await runTool("promtool", ["check", "rules", "alerts.yml"], { timeoutMs: promtoolTimeoutMs, cwd: `${deployDir}prometheus` });
    assertSucceeded(result);
    // Every alert the file names is a rule promtool found: none was dropped as malformed.
    expect(result.stdout).toContain(`SUCCESS: ${alertNames().length} rules found`);
  });

  it("promtool accepts the example configuration, which loads the rules", async () => {
    assertSucceeded(await runTool("promtool", ["check", "config", "prometheus.yml"], { timeoutMs: promtoolTimeoutMs, cwd: `${deployDir}prometheus` }));
  });

  it("each alert fires on the series that should fire it, and not on the others (promtool test rules)", async () => {
    const result = await runTool("promtool", ["test", "rules", "alerts.test.yml"], { timeoutMs: promtoolTimeoutMs, cwd: `${deployDir}prometheus` });
    assertSucceeded(result);
    expect(result.stdout).toMatch(/SUCCESS/);
  });

  it("every alert has a test case", () => {
    const tests = readFileSync(`${deployDir}prometheus/alerts.test.yml`, "utf8");
    const alerts = alertNames();
    // The list: fenced, no controller, long holds, failed migration, LU nearly full, store write errors.
    expect(alerts).toEqual(expect.arrayContaining(["SwitchyardApparatusFenced", "SwitchyardNoController", "SwitchyardLongHolds", "SwitchyardMigrationFailed", "SwitchyardLuNearlyFull", "SwitchyardStoreWriteErrors"]));
    for (const alert of alerts) expect(tests, alert).toContain(`alertname: ${alert}`);
  });
});

describe("deploy/grafana", () => {
  it("the dashboard has the fields Grafana needs (its schema) and a sound layout", () => {
    const dashboard = readDashboard();
    expect(schemaValidator()(dashboard)).toBeNull();
    expect(dashboardProblems(dashboard)).toEqual([]);
  });

  it("the checks refuse a dashboard with a field gone, a panel off the grid, or two panels in one place", () => {
    const validate = schemaValidator();
    const dashboard = readDashboard();
    const [first, second] = dashboard.panels.filter((panel) => panel.type !== "row");
    if (first === undefined || second === undefined) throw new Error("the dashboard has fewer than two panels");
    const withoutGrid = Object.fromEntries(Object.entries(first).filter(([key]) => key !== "gridPos"));
    expect(validate({ ...dashboard, panels: [withoutGrid] })).toMatch(/gridPos/);
    expect(validate({ ...dashboard, panels: [{ ...first, targets: [] }] })).toMatch(/targets/);
    expect(validate({ ...dashboard, schemaVersion: "39" })).toMatch(/schemaVersion/);
    expect(dashboardProblems({ ...dashboard, panels: [{ ...first, gridPos: { ...first.gridPos, x: 20, w: 8 } }] })).not.toEqual([]);
    expect(dashboardProblems({ ...dashboard, panels: [first, { ...second, id: second.id, gridPos: first.gridPos }] })).not.toEqual([]);
    expect(dashboardProblems({ ...dashboard, panels: [{ ...first, datasource: { uid: "prometheus-prod" } }] })).not.toEqual([]);
  });
});
