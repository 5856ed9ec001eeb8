// The four workloads every server is measured with, and the fio command line
// for each. One client (fio's nbd engine, one connection per job) for every
// server, so differences come from the servers.
import assert from "node:assert/strict";
import type { Direction } from "./fio.js";

export type WorkloadName = "seq-read-1m" | "seq-write-1m" | "rand-read-4k" | "rand-write-4k";

export interface Workload {
  readonly name: WorkloadName;
  readonly description: string;
  readonly fioReadWrite: "read" | "write" | "randread" | "randwrite";
  readonly direction: Direction;
  readonly blockSizeBytes: number;
  readonly ioDepth: number;
  /** What the table shows: bandwidth for large sequential I/O, IOPS for small random I/O. */
  readonly primaryMetric: "bandwidth" | "iops";
}

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

// Sequential 1 MiB requests: four in flight keeps a server busy without
// queueing so deep that the figure measures the client's queue instead.
const sequentialIoDepth = 4;
// Random 4 KiB at depth 16: the depth the brief for this benchmark names,
// enough for a multi-threaded server to overlap requests.
const randomIoDepth = 16;

export const workloads: readonly Workload[] = [
  { name: "seq-read-1m", description: "sequential read, 1 MiB, iodepth 4", fioReadWrite: "read", direction: "read", blockSizeBytes: mebibyte, ioDepth: sequentialIoDepth, primaryMetric: "bandwidth" },
  { name: "seq-write-1m", description: "sequential write, 1 MiB, iodepth 4", fioReadWrite: "write", direction: "write", blockSizeBytes: mebibyte, ioDepth: sequentialIoDepth, primaryMetric: "bandwidth" },
  { name: "rand-read-4k", description: "random read, 4 KiB, iodepth 16", fioReadWrite: "randread", direction: "read", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, primaryMetric: "iops" },
  { name: "rand-write-4k", description: "random write, 4 KiB, iodepth 16", fioReadWrite: "randwrite", direction: "write", blockSizeBytes: 4 * kibibyte, ioDepth: randomIoDepth, primaryMetric: "iops" },
];

export interface FioRunOptions {
  readonly uri: string;
  readonly sizeBytes: number;
  readonly runtimeSeconds: number;
  readonly outputPath: string;
}

/** fio's arguments for one timed run of `workload` against an NBD URI. */
export function fioArguments(workload: Workload, options: FioRunOptions): string[] {
  assert.ok(options.sizeBytes % workload.blockSizeBytes === 0, "the data size is a whole number of blocks");
  assert.ok(Number.isInteger(options.runtimeSeconds) && options.runtimeSeconds > 0);
  return [
    `--name=${workload.name}`,
    "--ioengine=nbd",
    `--uri=${options.uri}`,
    `--rw=${workload.fioReadWrite}`,
    `--bs=${workload.blockSizeBytes}`,
    `--iodepth=${workload.ioDepth}`,
    "--numjobs=1",
    `--size=${options.sizeBytes}`,
    // A fixed time per run: sequential passes wrap around the data instead of
    // ending early on a fast server.
    "--time_based",
    `--runtime=${options.runtimeSeconds}`,
    "--output-format=json",
    `--output=${options.outputPath}`,
  ];
}
