// The workloads every server is measured with, and the client command line
// for each: fio's nbd engine (one connection per job) for the block
// workloads, nbdcopy for whole-image copies. The same clients for every
// server, so differences come from the servers.
import assert from "node:assert/strict";
import type { Direction } from "./fio.js";
import { UsageError } from "./run-options.js";

export type WorkloadName =
  | "seq-read-1m"
  | "seq-write-1m"
  | "rand-read-4k"
  | "rand-write-4k"
  | "rand-read-4k-4conn"
  | "rand-write-4k-4conn"
  | "nbdcopy-in"
  | "nbdcopy-out";

/** A timed fio run: `jobCount` jobs, each its own NBD connection, reported as one group. */
export interface FioWorkload {
  readonly kind: "fio";
  readonly name: WorkloadName;
  readonly description: string;
  readonly fioReadWrite: "read" | "write" | "randread" | "randwrite";
  readonly direction: Direction;
  readonly blockSizeBytes: number;
  readonly ioDepth: number;
  readonly jobCount: number;
  /** What the table shows: bandwidth for large sequential I/O, IOPS for small random I/O. */
  readonly primaryMetric: "bandwidth" | "iops";
}

/** One nbdcopy of the whole image, into the server ("in") or out of it ("out"), timed by its wall clock. */
export interface CopyWorkload {
  readonly kind: "nbdcopy";
  readonly name: WorkloadName;
  readonly description: string;
  readonly copyDirection: "in" | "out";
  readonly connectionCount: number;
  readonly primaryMetric: "bandwidth";
}

export type Workload = FioWorkload | CopyWorkload;

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

// Sequential 1 MiB requests: four in flight keeps a server busy without
// queueing so deep that the figure measures the client's queue instead.
const sequentialIoDepth = 4;
// Random 4 KiB at depth 16: the depth issue 20 names, enough for a
// multi-threaded server to overlap requests.
const randomIoDepth = 16;
// Four connections: what issue 20 names for multi-conn, and what nbdcopy
// opens by default against a server that advertises multi-conn.
const multiConnectionCount = 4;

export const workloads: readonly Workload[] = [
  { kind: "fio", name: "seq-read-1m", description: "sequential read, 1 MiB, iodepth 4, 1 connection", fioReadWrite: "read", direction: "read", blockSizeBytes: mebibyte, ioDepth: sequentialIoDepth, jobCount: 1, primaryMetric: "bandwidth" },
  { kind: "fio", name: "seq-write-1m", description: "sequential write, 1 MiB, iodepth 4, 1 connection", fioReadWrite: "write", direction: "write", blockSizeBytes: mebibyte, ioDepth: sequentialIoDepth, jobCount: 1, primaryMetric: "bandwidth" },
  { kind: "fio", name: "rand-read-4k", description: "random read, 4 KiB, iodepth 16, 1 connection", fioReadWrite: "randread", direction: "read", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, jobCount: 1, primaryMetric: "iops" },
  { kind: "fio", name: "rand-write-4k", description: "random write, 4 KiB, iodepth 16, 1 connection", fioReadWrite: "randwrite", direction: "write", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, jobCount: 1, primaryMetric: "iops" },
  { kind: "fio", name: "rand-read-4k-4conn", description: "random read, 4 KiB, iodepth 16, 4 connections (numjobs 4)", fioReadWrite: "randread", direction: "read", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, jobCount: multiConnectionCount, primaryMetric: "iops" },
  { kind: "fio", name: "rand-write-4k-4conn", description: "random write, 4 KiB, iodepth 16, 4 connections (numjobs 4)", fioReadWrite: "randwrite", direction: "write", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, jobCount: multiConnectionCount, primaryMetric: "iops" },
  { kind: "nbdcopy", name: "nbdcopy-in", description: "nbdcopy of the whole image from a local file into the server, 4 connections", copyDirection: "in", connectionCount: multiConnectionCount, primaryMetric: "bandwidth" },
  { kind: "nbdcopy", name: "nbdcopy-out", description: "nbdcopy of the whole image out of the server to null:, 4 connections", copyDirection: "out", connectionCount: multiConnectionCount, primaryMetric: "bandwidth" },
];

/** The unit of a workload's primary figure. */
/** The workloads --workloads names (comma-separated, each known), in the table's order; all when absent. */
export function chosenWorkloads(text: string | undefined): readonly Workload[] {
  if (text === undefined) return workloads;
  const names = text.split(",").map((name) => name.trim());
  const known: readonly string[] = workloads.map((workload) => workload.name);
  for (const name of names) if (!known.includes(name)) throw new UsageError(`unknown workload '${name}'; choose from ${known.join(", ")}`);
  return workloads.filter((workload) => names.includes(workload.name));
}

export function unitOf(workload: Workload): "MiB/s" | "IOPS" {
  return workload.primaryMetric === "bandwidth" ? "MiB/s" : "IOPS";
}

export interface FioRunOptions {
  readonly uri: string;
  readonly sizeBytes: number;
  readonly runtimeSeconds: number;
  readonly outputPath: string;
}

/** fio's arguments for one timed run of `workload` against an NBD URI. */
export function fioArguments(workload: FioWorkload, options: FioRunOptions): string[] {
  assert.ok(options.sizeBytes % workload.blockSizeBytes === 0, "the data size is a whole number of blocks");
  assert.ok(Number.isInteger(options.runtimeSeconds) && options.runtimeSeconds > 0);
  assert.ok(Number.isInteger(workload.jobCount) && workload.jobCount >= 1);
  return [
    `--name=${workload.name}`,
    "--ioengine=nbd",
    `--uri=${options.uri}`,
    `--rw=${workload.fioReadWrite}`,
    `--bs=${workload.blockSizeBytes}`,
    `--iodepth=${workload.ioDepth}`,
    `--numjobs=${workload.jobCount}`,
    // Several jobs are summed into one report entry, read like a single job's.
    "--group_reporting",
    `--size=${options.sizeBytes}`,
    // A fixed time per run: sequential passes wrap around the data instead of
    // ending early on a fast server.
    "--time_based",
    `--runtime=${options.runtimeSeconds}`,
    "--output-format=json",
    `--output=${options.outputPath}`,
  ];
}

/** nbdcopy's arguments for `workload`: from `imagePath` into `uri`, or from `uri` to null:. */
export function nbdcopyArguments(workload: CopyWorkload, uri: string, imagePath: string): string[] {
  const endpoints = workload.copyDirection === "in" ? [imagePath, uri] : [uri, "null:"];
  // No --flush: fio's write workloads do not flush either; each server's
  // write-back to its file is left to the page cache alike.
  return [`--connections=${workload.connectionCount}`, ...endpoints];
}

/** MiB/s of a copy of `sizeBytes` that took `elapsedMs`. */
export function copyRateMebibytesPerSecond(sizeBytes: number, elapsedMs: number): number {
  assert.ok(Number.isFinite(elapsedMs) && elapsedMs > 0, `copy time ${elapsedMs} ms`);
  return sizeBytes / mebibyte / (elapsedMs / 1000);
}
