// Goal: the printed table shows each server's median with its spread and
// the ratios against nbdkit and qemu-nbd computed from the medians; a failed
// server shows FAILED and no ratio. Method: results built from known run
// figures, rendered, and read back cell by cell.
import { describe, expect, it } from "vitest";
import { ratioFor, renderTable, workloadResult, type ServerResult } from "./report.js";
import { workloads } from "./workloads.js";

const measured = workloads.filter((workload) => workload.name === "rand-read-4k" || workload.name === "nbdcopy-out");

function server(name: ServerResult["name"], figures: readonly (readonly number[])[]): ServerResult {
  return {
    name,
    status: "ok",
    error: null,
    settings: "",
    version: "",
    workloads: measured.map((workload, index) => workloadResult(workload, figures[index] ?? [], [])),
  };
}

describe("renderTable and ratioFor", () => {
  const results = [
    server("nbdkit", [[100_000, 90_000, 110_000], [800, 700, 900]]),
    server("qemu-nbd", [[50_000, 50_000, 50_000], [400, 400, 400]]),
    server("switchyard", [[120_000, 80_000, 150_000], [1000, 600, 200]]),
  ];

  it("divides the subject's median by the baseline's", () => {
    expect(ratioFor(results, "switchyard", "nbdkit", "rand-read-4k")).toBe(1.2);
    expect(ratioFor(results, "switchyard", "qemu-nbd", "nbdcopy-out")).toBe(1.5);
  });

  it("prints each median with its spread, the unit, and both ratios", () => {
    const lines = renderTable(results, measured).split("\n");
    expect(lines[0]).toMatch(/^workload\s+unit\s+nbdkit\s+qemu-nbd\s+switchyard\s+switchyard\/nbdkit\s+switchyard\/qemu-nbd$/);
    expect(lines[1]?.split(/\s{2,}/)).toEqual(["rand-read-4k", "IOPS", "100000 (90000–110000)", "50000 (50000–50000)", "120000 (80000–150000)", "1.20", "2.40"]);
    expect(lines[2]?.split(/\s{2,}/)).toEqual(["nbdcopy-out", "MiB/s", "800 (700–900)", "400 (400–400)", "600 (200–1000)", "0.75", "1.50"]);
  });

  it("shows a failed server as FAILED and gives no ratio against it", () => {
    const failed: ServerResult = { name: "nbdkit", status: "failed", error: "did not start", settings: "", version: "", workloads: [] };
    const lines = renderTable([failed, results[1] as ServerResult, results[2] as ServerResult], measured).split("\n");
    expect(lines[1]).toContain("FAILED");
    expect(lines[1]?.split(/\s{2,}/).at(-2)).toBe("n/a");
  });
});
