// Test helper for the deploy/ tests: where deploy/ is, and the dashboard as
// the tests read it (only the fields they look at are typed).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** promtool loads and evaluates a few rule files, or lints one scrape: seconds at most, even on a loaded machine. */
export const promtoolTimeoutMs = 30_000;

export const deployDir = fileURLToPath(new URL("../../../deploy/", import.meta.url));

export interface GridPos { readonly h: number; readonly w: number; readonly x: number; readonly y: number }
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: GridPos;
  readonly datasource?: { readonly uid: string };
  readonly targets?: readonly { readonly refId: string; readonly expr: string; readonly datasource: { readonly uid: string } }[];
}
export interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(`${deployDir}grafana/switchyard-dashboard.json`, "utf8")) as Dashboard;
}
