// The benchmark's results and how they are printed: per server and
// workload, the primary figure of each run and their median; the table with
// each median's spread and the ratios against nbdkit and qemu-nbd. Pure
// functions on numbers, so the unit test needs no server and no timing.
import { median, ratio } from "./fio.js";
import { unitOf, type Workload, type WorkloadName } from "./workloads.js";

export type ServerName = "nbdkit" | "qemu-nbd" | "switchyard";
export const serverNames: readonly ServerName[] = ["nbdkit", "qemu-nbd", "switchyard"];

export interface WorkloadResult {
  readonly workload: WorkloadName;
  readonly description: string;
  readonly unit: "MiB/s" | "IOPS";
  /** The primary figure of each run, in `unit`. */
  readonly runs: readonly number[];
  readonly median: number;
  readonly medianCompletionLatencyP99Us: number | null;
}

export interface ServerResult {
  readonly name: ServerName;
  readonly status: "ok" | "failed";
  readonly error: string | null;
  readonly settings: string;
  readonly version: string;
  readonly workloads: readonly WorkloadResult[];
}

/** One workload's result from its runs' primary figures and p99 latencies (µs). */
export function workloadResult(workload: Workload, runs: readonly number[], p99sUs: readonly number[]): WorkloadResult {
  return {
    workload: workload.name,
    description: workload.description,
    unit: unitOf(workload),
    runs,
    median: median(runs),
    medianCompletionLatencyP99Us: p99sUs.length === 0 ? null : median(p99sUs),
  };
}

export function formatFigure(value: number | null | undefined): string {
  if (value === null || value === undefined) return "n/a";
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** subject's median over baseline's for `workload`, or null when either is missing. */
export function ratioFor(results: readonly ServerResult[], subject: ServerName, baseline: ServerName, workload: WorkloadName): number | null {
  const find = (name: ServerName): number | undefined =>
    results.find((result) => result.name === name)?.workloads.find((entry) => entry.workload === workload)?.median;
  const subjectMedian = find(subject);
  const baselineMedian = find(baseline);
  return subjectMedian === undefined || baselineMedian === undefined ? null : ratio(subjectMedian, baselineMedian);
}

function cellOf(result: ServerResult, workload: WorkloadName): string {
  if (result.status === "failed") return "FAILED";
  const entry = result.workloads.find((candidate) => candidate.workload === workload);
  if (entry === undefined) return "n/a";
  // The spread beside the median says how far to trust a ratio.
  const spread = entry.runs.length > 1 ? ` (${formatFigure(Math.min(...entry.runs))}–${formatFigure(Math.max(...entry.runs))})` : "";
  return `${formatFigure(entry.median)}${spread}`;
}

/** The results as an aligned text table, one row a workload, ratios last. */
export function renderTable(results: readonly ServerResult[], measured: readonly Workload[]): string {
  const header = ["workload", "unit", ...results.map((result) => result.name), "switchyard/nbdkit", "switchyard/qemu-nbd"];
  const rows = measured.map((workload) => [
    workload.name,
    unitOf(workload),
    ...results.map((result) => cellOf(result, workload.name)),
    formatFigure(ratioFor(results, "switchyard", "nbdkit", workload.name)),
    formatFigure(ratioFor(results, "switchyard", "qemu-nbd", workload.name)),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
