// Goal: every workload issue 20 names is in the benchmark, and each one's
// client command line says what its description says (depth, block size,
// connections, direction of a copy). Method: look the workloads up by name
// and check their fio and nbdcopy arguments, and the copy-rate arithmetic.
import { describe, expect, it } from "vitest";
import { chosenWorkloads, copyRateMebibytesPerSecond, fioArguments, nbdcopyArguments, workloads, type CopyWorkload, type FioWorkload, type WorkloadName } from "./workloads.js";

function fioWorkload(name: WorkloadName): FioWorkload {
  const workload = workloads.find((candidate) => candidate.name === name);
  if (workload?.kind !== "fio") throw new Error(`${name} is not a fio workload`);
  return workload;
}

function copyWorkload(name: WorkloadName): CopyWorkload {
  const workload = workloads.find((candidate) => candidate.name === name);
  if (workload?.kind !== "nbdcopy") throw new Error(`${name} is not a copy workload`);
  return workload;
}

const runOptions = { uri: "nbd://127.0.0.1:1/v", sizeBytes: 64 << 20, runtimeSeconds: 3, outputPath: "/tmp/out.json" };

describe("fioArguments", () => {
  it("builds a timed nbd-engine run with the workload's pattern, block size and depth", () => {
    const args = fioArguments(fioWorkload("rand-write-4k"), runOptions);
    expect(args).toEqual(expect.arrayContaining(["--ioengine=nbd", "--uri=nbd://127.0.0.1:1/v", "--rw=randwrite", "--bs=4096", "--iodepth=16", "--numjobs=1", "--time_based", "--runtime=3", "--output-format=json", "--output=/tmp/out.json"]));
    expect(() => fioArguments(fioWorkload("rand-write-4k"), { ...runOptions, sizeBytes: 4097 })).toThrow();
  });

  it("runs the multi-connection workloads as 4 jobs, one connection each, reported as one group", () => {
    for (const name of ["rand-read-4k-4conn", "rand-write-4k-4conn"] as const) {
      expect(fioArguments(fioWorkload(name), runOptions)).toEqual(expect.arrayContaining(["--numjobs=4", "--group_reporting", "--iodepth=16", "--bs=4096"]));
    }
    expect(fioArguments(fioWorkload("seq-read-1m"), runOptions)).toEqual(expect.arrayContaining(["--rw=read", `--bs=${1 << 20}`, "--numjobs=1"]));
  });
});

describe("nbdcopyArguments", () => {
  it("copies the image in from the file and out to null:, over 4 connections", () => {
    expect(nbdcopyArguments(copyWorkload("nbdcopy-in"), "nbd://h/v", "/tmp/image.img")).toEqual(["--connections=4", "/tmp/image.img", "nbd://h/v"]);
    expect(nbdcopyArguments(copyWorkload("nbdcopy-out"), "nbd://h/v", "/tmp/image.img")).toEqual(["--connections=4", "nbd://h/v", "null:"]);
  });

  it("turns a copy's size and wall time into MiB/s, and refuses a time of zero", () => {
    expect(copyRateMebibytesPerSecond(1 << 30, 2000)).toBe(512);
    expect(() => copyRateMebibytesPerSecond(1 << 30, 0)).toThrow();
  });
});

describe("chosenWorkloads", () => {
  it("keeps the table's order, takes all by default and refuses an unknown name", () => {
    expect(chosenWorkloads(undefined)).toBe(workloads);
    expect(chosenWorkloads("seq-write-1m, seq-read-1m").map((workload) => workload.name)).toEqual(["seq-read-1m", "seq-write-1m"]);
    expect(() => chosenWorkloads("seq-read-1m,seq-read")).toThrow("unknown workload 'seq-read'; choose from seq-read-1m,");
  });
});
