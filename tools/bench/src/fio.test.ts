// Goal: the benchmark's figures come from the right fields of fio's JSON and
// its medians and ratios are right; a failed or empty fio job is refused, not
// counted. Method: parse a report shaped like fio 3.33's (trimmed to the
// fields read, with the nbd engine's stray stdout line in front), a failed
// job, a job that moved no data, and broken reports; check median and ratio
// on small known inputs. (Command lines: workloads.test.ts.)
import { describe, expect, it } from "vitest";
import { FioReportError, median, parseFioReport, ratio, singleJobFigures } from "./fio.js";

function directionSection(ioBytes: number, bandwidthBytesPerSecond: number, iops: number, p99Ns?: number): Record<string, unknown> {
  return {
    io_bytes: ioBytes,
    io_kbytes: ioBytes / 1024,
    bw_bytes: bandwidthBytesPerSecond,
    bw: bandwidthBytesPerSecond / 1024,
    iops,
    runtime: 3001,
    total_ios: Math.round(ioBytes / 4096),
    clat_ns: p99Ns === undefined ? { min: 0, max: 0, mean: 0, N: 0 } : { min: 1000, max: 9000, mean: 2000, N: 10, percentile: { "50.000000": 1500, "99.000000": p99Ns } },
  };
}

function report(job: Record<string, unknown>): string {
  return `fio: connected to NBD server\n${JSON.stringify({ "fio version": "fio-3.33", timestamp: 1795612744, jobs: [job] }, null, 2)}\n`;
}

const randomRead = report({
  jobname: "rand-read-4k",
  groupid: 0,
  error: 0,
  job_runtime: 3000,
  read: directionSection(1_015_021_568, 338_225_113, 82_574.5, 391_168),
  write: directionSection(0, 0, 0),
});

describe("parseFioReport", () => {
  it("reads version, job, and per-direction figures past the nbd engine's stdout line", () => {
    const parsed = parseFioReport(randomRead);
    expect(parsed.fioVersion).toBe("fio-3.33");
    expect(parsed.jobs).toHaveLength(1);
    expect(parsed.jobs[0]).toEqual({
      name: "rand-read-4k",
      error: 0,
      runtimeMs: 3000,
      read: { ioBytes: 1_015_021_568, bandwidthBytesPerSecond: 338_225_113, iops: 82_574.5, completionLatencyP99Ns: 391_168 },
      write: { ioBytes: 0, bandwidthBytesPerSecond: 0, iops: 0, completionLatencyP99Ns: null },
    });
    expect(singleJobFigures(parsed, "read").iops).toBe(82_574.5);
  });

  it("refuses a job that failed, and a direction that moved no data", () => {
    const failed = parseFioReport(report({ jobname: "w", error: 5, job_runtime: 10, read: directionSection(0, 0, 0), write: directionSection(4096, 1, 1) }));
    expect(() => singleJobFigures(failed, "write")).toThrow(/errno 5/);
    expect(() => singleJobFigures(parseFioReport(randomRead), "write")).toThrow(/no write data/);
  });

  it("refuses output that is not a fio report, with a stable code", () => {
    for (const text of ["fio: connection refused\n", "{ not json", JSON.stringify({ "fio version": "fio-3.33", jobs: [] }), report({ jobname: "x", error: 0, job_runtime: 1, read: { io_bytes: "many" }, write: directionSection(0, 0, 0) })]) {
      expect(() => parseFioReport(text)).toThrow(FioReportError);
    }
    expect(() => parseFioReport("")).toThrow(expect.objectContaining({ code: "FIO_REPORT_INVALID" }));
  });
});

describe("median and ratio", () => {
  it("takes the middle value of an odd count and the mean of the middle two of an even count, whatever the order", () => {
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([100, 100, 1])).toBe(100);
  });

  it("refuses to take the median of nothing or of a non-number", () => {
    expect(() => median([])).toThrow();
    expect(() => median([1, Number.NaN, 3])).toThrow();
  });

  it("divides subject by baseline and has no ratio without a baseline", () => {
    expect(ratio(50, 200)).toBe(0.25);
    expect(ratio(300, 150)).toBe(2);
    expect(ratio(1, 0)).toBeNull();
  });
});
