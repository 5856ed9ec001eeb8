// Reading fio's `--output-format=json` report, and the arithmetic the
// benchmark prints: medians of repeated runs and ratios between servers.
// Pure functions on strings and numbers, so the unit test needs no fio.
import assert from "node:assert/strict";

/** The fio direction a workload measures. */
export type Direction = "read" | "write";

/** The figures of one direction of one fio job. */
export interface DirectionFigures {
  readonly ioBytes: number;
  readonly bandwidthBytesPerSecond: number;
  readonly iops: number;
  /** 99th percentile completion latency; null when fio reported no percentiles. */
  readonly completionLatencyP99Ns: number | null;
}

/** One fio job, as much of it as the benchmark uses. */
export interface FioJob {
  readonly name: string;
  /** fio's errno for the job; 0 when every I/O succeeded. */
  readonly error: number;
  readonly runtimeMs: number;
  readonly read: DirectionFigures;
  readonly write: DirectionFigures;
}

export interface FioReport {
  readonly fioVersion: string;
  readonly jobs: readonly FioJob[];
}

/** A report that is not what fio writes; `code` is stable for callers. */
export class FioReportError extends Error {
  readonly code = "FIO_REPORT_INVALID";
}

type JsonObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectAt(parent: JsonObject, key: string, where: string): JsonObject {
  const value = parent[key];
  if (!isObject(value)) throw new FioReportError(`${where}.${key}: expected an object`);
  return value;
}

function finiteNumberAt(parent: JsonObject, key: string, where: string): number {
  const value = parent[key];
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new FioReportError(`${where}.${key}: expected a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function stringAt(parent: JsonObject, key: string, where: string): string {
  const value = parent[key];
  if (typeof value !== "string") throw new FioReportError(`${where}.${key}: expected a string`);
  return value;
}

function readDirection(job: JsonObject, direction: Direction, where: string): DirectionFigures {
  const section = objectAt(job, direction, where);
  const at = `${where}.${direction}`;
  const clat = section.clat_ns;
  const percentiles = isObject(clat) ? clat.percentile : undefined;
  const p99 = isObject(percentiles) ? percentiles["99.000000"] : undefined;
  return {
    ioBytes: finiteNumberAt(section, "io_bytes", at),
    bandwidthBytesPerSecond: finiteNumberAt(section, "bw_bytes", at),
    iops: finiteNumberAt(section, "iops", at),
    completionLatencyP99Ns: typeof p99 === "number" && Number.isFinite(p99) ? p99 : null,
  };
}

/**
 * Parses fio's JSON report. fio's nbd engine prints "fio: connected to NBD
 * server" on stdout before the JSON when no --output file is given, so any
 * lines before the first line that opens an object are skipped.
 */
export function parseFioReport(text: string): FioReport {
  const start = text.search(/^\{/m);
  if (start < 0) throw new FioReportError("no JSON object in fio output");
  let root: unknown;
  try {
    root = JSON.parse(text.slice(start));
  } catch (error) {
    throw new FioReportError("fio output is not valid JSON", { cause: error });
  }
  if (!isObject(root)) throw new FioReportError("fio report is not an object");
  const jobs = root.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) throw new FioReportError("fio report has no jobs");
  return {
    fioVersion: stringAt(root, "fio version", "report"),
    jobs: jobs.map((value: unknown, index) => {
      const where = `jobs[${index}]`;
      if (!isObject(value)) throw new FioReportError(`${where}: expected an object`);
      return {
        name: stringAt(value, "jobname", where),
        error: finiteNumberAt(value, "error", where),
        runtimeMs: finiteNumberAt(value, "job_runtime", where),
        read: readDirection(value, "read", where),
        write: readDirection(value, "write", where),
      };
    }),
  };
}

/**
 * The one job of a single-job report, refusing a job that failed or moved no
 * data in the direction measured: a zero would otherwise enter a median.
 */
export function singleJobFigures(report: FioReport, direction: Direction): DirectionFigures {
  if (report.jobs.length !== 1) throw new FioReportError(`expected one fio job, got ${report.jobs.length}`);
  const job = report.jobs[0];
  assert.ok(job !== undefined);
  if (job.error !== 0) throw new FioReportError(`fio job ${job.name} failed with errno ${job.error}`);
  const figures = job[direction];
  if (figures.ioBytes === 0) throw new FioReportError(`fio job ${job.name} moved no ${direction} data`);
  return figures;
}

/** The median; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  assert.ok(values.length > 0, "median of no values");
  for (const value of values) assert.ok(Number.isFinite(value), `median of a non-finite value: ${value}`);
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  const lower = sorted[sorted.length % 2 === 0 ? middle - 1 : middle];
  assert.ok(upper !== undefined && lower !== undefined);
  return (lower + upper) / 2;
}

/** subject / baseline, or null when there is no baseline to divide by. */
export function ratio(subject: number, baseline: number): number | null {
  assert.ok(Number.isFinite(subject) && subject >= 0, `ratio subject ${subject}`);
  assert.ok(Number.isFinite(baseline) && baseline >= 0, `ratio baseline ${baseline}`);
  return baseline === 0 ? null : subject / baseline;
}
