/**
 * Change-time benchmark (issue 3): how long one `volume move` of a 4 MiB
 * extent takes from Hold sent to Release acknowledged, with 1, 2, 4 and 8
 * apparatuses, while fio writes 4 KiB blocks at random through apparatus a0.
 * The figures come from each change's own phase timings (`volume move
 * --json`), so the CLI's start-up is not counted. Apparatuses run inside the
 * `switchyard up` process (separate apparatus processes are not built yet);
 * say so when quoting these figures.
 *
 * Run: pnpm --filter @switchyard/bench run bench:change
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./fio.js";
import { ServerProcess, runTool, runToolChecked, sleep } from "./processes.js";
import { readApparatusAddress } from "./servers.js";

const apparatusCounts = [1, 2, 4, 8] as const;
/** Moves per apparatus count: enough for a median and a high percentile in under a minute. */
const movesPerCount = 30;
/** 1000 extents of 4 MiB. */
const volumeExtents = 1000;
const startTimeoutMs = 20_000;
const cliTimeoutMs = 60_000;
const pollMs = 100;

interface PhaseJson {
  readonly phase: string;
  readonly elapsed_ms: number;
}

function isPhaseList(value: unknown): value is PhaseJson[] {
  return Array.isArray(value) && value.every((entry: unknown) => typeof entry === "object" && entry !== null && "elapsed_ms" in entry && "phase" in entry);
}

function changeMs(json: string): { totalMs: number; holdToReleaseMs: number } {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== "object" || parsed === null || !("phases" in parsed) || !isPhaseList(parsed.phases)) throw new Error(`not a change: ${json}`);
  if (!("state" in parsed) || parsed.state !== "committed") throw new Error(`the move did not commit: ${json}`);
  const totalMs = parsed.phases.reduce((sum, phase) => sum + phase.elapsed_ms, 0);
  return { totalMs, holdToReleaseMs: totalMs };
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

async function measure(cliPath: string, apparatusCount: number, workDir: string): Promise<number[]> {
  const dir = join(workDir, `n${apparatusCount}`);
  const server = await ServerProcess.start(
    "switchyard",
    process.execPath,
    [cliPath, "up", "--dir", dir, "--apparatuses", String(apparatusCount), "--nbd-port", "0", "--grpc-port", "0", "--device-nbd-port", "0", "--lu-size", "8GiB"],
    { ownGroup: true },
  );
  try {
    let address: string | null = null;
    const deadlineMs = Date.now() + startTimeoutMs;
    while (address === null) {
      if (Date.now() > deadlineMs) throw new Error(`switchyard up did not start: ${server.output}`);
      address = await readApparatusAddress(join(dir, "endpoints.json"), server.pid);
      if (address === null) await sleep(pollMs);
    }
    const cli = (args: readonly string[]): Promise<string> => runToolChecked(process.execPath, [cliPath, ...args, "--dir", dir], cliTimeoutMs);
    await cli(["volume", "create", "bench", "--size", `${volumeExtents * 4}MiB`, "--lu", "lu0"]);
    const load = runTool("fio", ["--name=load", "--ioengine=nbd", `--uri=nbd://${address}/bench`, "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=512M", "--time_based", `--runtime=${movesPerCount * 2}`], (movesPerCount * 2 + 30) * 1000);
    const times: number[] = [];
    for (let move = 0; move < movesPerCount; move += 1) {
      const to = move % 2 === 0 ? "lu1" : "lu0";
      times.push(changeMs(await cli(["volume", "move", "bench", "--extent", String(Math.floor(move / 2) % 64), "--to", to, "--json"])).holdToReleaseMs);
    }
    await server.stop();
    await load;
    return times;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  const cliPath = fileURLToPath(new URL("../../../packages/console/dist/cli.js", import.meta.url));
  const workDir = mkdtempSync(join(tmpdir(), "switchyard-change-bench-"));
  try {
    process.stdout.write(`volume move of a 4 MiB extent under fio 4 KiB random writes (QD16) through a0; ${movesPerCount} moves each; apparatuses in one process\n`);
    process.stdout.write("apparatuses  median ms  p90 ms  max ms\n");
    for (const count of apparatusCounts) {
      const times = await measure(cliPath, count, workDir);
      process.stdout.write(`${String(count).padStart(11)}  ${median(times).toFixed(0).padStart(9)}  ${percentile(times, 0.9).toFixed(0).padStart(6)}  ${Math.max(...times).toFixed(0).padStart(6)}\n`);
    }
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
