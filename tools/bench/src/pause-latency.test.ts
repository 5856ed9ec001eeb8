// Goal: the pause benchmark, which issue 3's closing figures come from, runs
// end to end in both of its shapes (a process per part, and the embedded
// appliance) with every calibration phase, and reports each figure it
// promises from writes it really made, its baseline with the fair control's
// calls in it. Method: the built benchmark, run as a
// person runs it but with one short round; its report is read line by line.
// The figures themselves are not judged here: this machine's timings are
// the benchmark's subject, not a test's.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const benchPath = fileURLToPath(new URL("../dist/pause-latency.js", import.meta.url));
/** Set-up (prefill, 2 s of warm-up) and one round of four 1 s phases take about 15 s; the margin is for a loaded CI machine. */
const runTimeoutMs = 120_000;

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [benchPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once("error", reject);
    child.once("close", (code) => { resolve({ code, stdout, stderr }); });
  });
}

/** The write count at the end of a latency line such as "during moves, elsewhere  1.14  6.66  21.80  28989". */
function writesIn(report: string, name: string): number {
  const row = report.split("\n").find((candidate) => candidate.startsWith(name));
  const count = Number(row?.trim().split(/\s+/).at(-1));
  return Number.isInteger(count) ? count : 0;
}

describe.each([
  // No warm-up: its phase of moves ends before the operator's thread has made one, as on a busy machine; it still makes one, which sets the fair control's pace.
  { shape: "a process per part", warmUpSeconds: "0", extra: [] as string[], cpuNames: /device -?[\d.]+, a0 -?[\d.]+, a1 -?[\d.]+/ },
  // As `up` runs by default: its certificates, mutual TLS on every gRPC call, the fair control's and the moves' included.
  { shape: "the embedded appliance over TLS", warmUpSeconds: "1", extra: ["--embedded", "--tls"], cpuNames: /appliance -?[\d.]+/, heading: /embedded: switchyard up, one process, gRPC over mutual TLS\)/ },
])("pnpm bench:pause, $shape", ({ warmUpSeconds, extra, cpuNames, heading }) => {
  it("measures writes in every phase and prints every figure", async () => {
    // The shortest run with every phase: its figures are not judged here, so the warm-up is cut to 1 s or none.
    const jsonDir = mkdtempSync(join(tmpdir(), "pause-bench-json-"));
    const jsonPath = join(jsonDir, "pause.json");
    const result = await runBench(["--", "--apparatuses", "2", "--extents", "4", "--rounds", "1", "--seconds", "1", "--warm-up-seconds", warmUpSeconds, "--rate", "500", "--idle-load", "--cpu-bursts", "0.01", "--json", jsonPath, ...extra]);
    const report = result.stdout;
    expect(result.code, `${report}\n${result.stderr}`).toBe(0);
    // --json: the same figures for a script, the baseline's write count as the report prints it.
    const figures = JSON.parse(readFileSync(jsonPath, "utf8")) as { writes: { baseline: { writes: number } }; targets: { movedP99Ms: { target: number; met: boolean } }; phasesMs: Record<string, unknown> };
    rmSync(jsonDir, { recursive: true, force: true });
    expect(figures.writes.baseline.writes).toBe(writesIn(report, "no moves (fair baseline)"));
    expect(figures.targets.movedP99Ms.target).toBe(10);
    expect(Object.keys(figures.phasesMs)).toEqual(expect.arrayContaining(["mirror", "copy", "switch"]));
    // The baseline lasts its second however slow the fair control's pace: most of its 500 writes, not the few before one call came back.
    expect(writesIn(report, "no moves (fair baseline)"), report).toBeGreaterThanOrEqual(250);
    for (const name of ["no moves (fair baseline)", "during moves, elsewhere", "beside an idle-priority loop", "beside CPU bursts, no moves"]) {
      expect(writesIn(report, name), `${name} in\n${report}`).toBeGreaterThan(0);
    }
    expect(report).toMatch(/; [1-9]\d* moves\n/);
    expect(report).toMatch(/unanswered: 0\n/);
    // The fair control made its read-only calls in the phase without moves.
    expect(report).toMatch(/fair control: [1-9]\d* read-only console calls/);
    // CPU per move is above the phases without moves: below zero when the machine's other load fell meanwhile.
    expect(report).toMatch(cpuNames);
    if (heading !== undefined) expect(report).toMatch(heading);
    expect(report).toMatch(/the stand-ins used \d+ ms of CPU per s .*; moves added -?\d+/);
    expect(report).toMatch(/elsewhere p99 \/ baseline p99, median of the rounds: [\d.]+x \(target <= 1\.1x\) (met|NOT met)/);
    expect(report).toMatch(/moved-extent p99: [\d.]+ ms \(target < 10 ms\) (met|NOT met)/);
  }, runTimeoutMs);
});
