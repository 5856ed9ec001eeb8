// `pnpm bench`: measures a Switchyard apparatus against nbdkit and qemu-nbd
// with one client (fio's nbd engine) and the same workloads, and prints the
// median of K runs for each plus the ratios Switchyard/nbdkit and
// Switchyard/qemu-nbd. All servers are started once; in each run every
// workload is measured on every server back to back, in an order that turns
// each run, so drifting load on a shared machine falls on all of them alike.
// Benchmarks are not tests: this prints figures; it fails only when a server
// could not be measured.
import { mkdtempSync, rmSync } from "node:fs";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseFioReport, singleJobFigures } from "./fio.js";
import { runTool, runToolChecked } from "./processes.js";
import { benchSettings, type BenchHelp } from "./bench-cli.js";
import { fioTimeoutMarginMs, runOptions, UsageError } from "./run-options.js";
import { runOrder } from "./schedule.js";
import { startNbdkit, startQemuNbd, startSwitchyard, writeRandomFile, type StartedServer } from "./servers.js";
import { ratioFor, renderTable, serverNames, workloadResult, type ServerName, type ServerResult } from "./report.js";
import { chosenWorkloads, copyRateMebibytesPerSecond, fioArguments, nbdcopyArguments, workloads, type CopyWorkload, type FioWorkload, type Workload, type WorkloadName } from "./workloads.js";

const mebibyte = 1024 * 1024;
const copyImageName = "copy-source.img";
// One nbdcopy of the whole image: at 20 MiB/s, far below any server here, 8 GiB (the size maximum) takes under 7 minutes.
const copyTimeoutMs = 420_000;


interface Options {
  readonly runs: number;
  readonly runSeconds: number;
  readonly sizeBytes: number;
  readonly jsonPath: string | null;
  readonly servers: readonly ServerName[];
  /** The workloads measured, in the table's order: all by default. */
  readonly workloads: readonly Workload[];
  readonly cliPath: string;
}

const speedOptions = {
  runs: { type: "string" }, seconds: { type: "string" }, "size-mib": { type: "string" }, servers: { type: "string" },
  json: { type: "string" }, "switchyard-cli": { type: "string" }, workloads: { type: "string" },
} as const;

const speedHelp: BenchHelp = {
  command: "bench:speed",
  summary: [
    "Switchyard (one apparatus) against nbdkit's file plugin and qemu-nbd on the same random data,",
    "in one run: fio's nbd engine (4 KiB random read and write at QD 16 on 1 and 4 connections,",
    "1 MiB sequential read and write) and nbdcopy of the image in and out on 4 connections.",
    "Prints the median of the runs for each server and the ratios Switchyard/nbdkit and",
    "Switchyard/qemu-nbd; the servers take turns so that drifting load falls on all alike.",
  ].join("\n"),
  options: [
    ["--runs K", "runs of every workload on every server (default 3)"],
    ["--seconds S", "seconds per fio run (default 3)"],
    ["--size-mib N", "size of the data (default 1024)"],
    ["--servers A,B", `${serverNames.join(",")} or some of them (default all)`],
    ["--workloads A,B", "some of the workloads below, by name (default all)"],
    ["--json FILE", "also write the figures as JSON to FILE"],
    ["--switchyard-cli PATH", "the switchyard CLI to measure (default this checkout's)"],
  ],
  examples: [
    "pnpm bench:speed",
    "pnpm bench:speed -- --runs 5 --json /tmp/speed.json",
    "pnpm bench:speed -- --servers nbdkit,switchyard --size-mib 256",
    "pnpm bench:speed -- --servers nbdkit,switchyard --workloads seq-read-1m,seq-write-1m --runs 5",
  ],
};

function isServerName(value: string): value is ServerName {
  return (serverNames as readonly string[]).includes(value);
}

function parseOptions(): Options {
  return benchSettings(speedHelp, speedOptions, (values) => {
    const servers = (values.servers ?? serverNames.join(",")).split(",").map((name) => name.trim());
    for (const name of servers) if (!isServerName(name)) throw new UsageError(`unknown server '${name}'; choose from ${serverNames.join(", ")}`);
    return {
      ...runOptions(values),
      jsonPath: values.json ?? null,
      servers: servers.filter(isServerName),
      workloads: chosenWorkloads(values.workloads),
      cliPath: values["switchyard-cli"] ?? fileURLToPath(new URL("../../../packages/console/dist/cli.js", import.meta.url)),
    };
  });
}

/** One measurement: the primary figure, and fio's p99 completion latency where there is one. */
interface Measurement {
  readonly primary: number;
  readonly p99Ns: number | null;
}

async function runFio(workload: FioWorkload, server: StartedServer, options: Options, workDir: string): Promise<Measurement> {
  const outputPath = join(workDir, `fio-${server.name}-${workload.name}.json`);
  const args = fioArguments(workload, { uri: server.uri, sizeBytes: options.sizeBytes, runtimeSeconds: options.runSeconds, outputPath });
  await runToolChecked("fio", args, options.runSeconds * 1000 + fioTimeoutMarginMs, workDir);
  const figures = singleJobFigures(parseFioReport(await readFile(outputPath, "utf8")), workload.direction);
  const primary = workload.primaryMetric === "bandwidth" ? figures.bandwidthBytesPerSecond / mebibyte : figures.iops;
  return { primary, p99Ns: figures.completionLatencyP99Ns };
}

/** One whole-image nbdcopy, timed from start to exit (connection set-up included, as a user sees it). */
async function runCopy(workload: CopyWorkload, server: StartedServer, options: Options, workDir: string): Promise<Measurement> {
  const startMs = performance.now();
  await runToolChecked("nbdcopy", nbdcopyArguments(workload, server.uri, join(workDir, copyImageName)), copyTimeoutMs, workDir);
  return { primary: copyRateMebibytesPerSecond(options.sizeBytes, performance.now() - startMs), p99Ns: null };
}

function measure(workload: Workload, server: StartedServer, options: Options, workDir: string): Promise<Measurement> {
  return workload.kind === "fio" ? runFio(workload, server, options, workDir) : runCopy(workload, server, options, workDir);
}

async function startServer(name: ServerName, options: Options, backingPath: string, workDir: string): Promise<StartedServer> {
  switch (name) {
    case "nbdkit":
      return startNbdkit(backingPath);
    case "qemu-nbd":
      return startQemuNbd(backingPath);
    case "switchyard":
      return startSwitchyard({ cliPath: options.cliPath, workDir, sizeBytes: options.sizeBytes, prefillPath: backingPath });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One server under measurement: its process while it serves, or why it stopped counting. */
interface ServerSlot {
  readonly name: ServerName;
  readonly server: StartedServer | null;
  /** Set when the server failed to start or a run on it failed; it is then measured no more. */
  error: string | null;
  /** Per workload, the primary figure of each run, in run order. */
  readonly primaries: Map<WorkloadName, number[]>;
  /** Per workload, the p99 completion latency of each run that reported one, in µs. */
  readonly latenciesUs: Map<WorkloadName, number[]>;
}

function emptyFigures(): Map<WorkloadName, number[]> {
  return new Map<WorkloadName, number[]>(workloads.map((workload) => [workload.name, []]));
}

/** Starts every server once, one after another; a server that fails to start is recorded, not fatal. */
async function startServers(options: Options, backingPath: string, workDir: string): Promise<ServerSlot[]> {
  const slots: ServerSlot[] = [];
  for (const name of options.servers) {
    process.stderr.write(`${name}: starting\n`);
    let server: StartedServer | null = null;
    let error: string | null = null;
    try {
      server = await startServer(name, options, backingPath, workDir);
      process.stderr.write(`${name}: serving ${server.uri}\n`);
    } catch (startError) {
      error = errorText(startError);
      process.stderr.write(`${name}: FAILED to start: ${error}\n`);
    }
    slots.push({ name, server, error, primaries: emptyFigures(), latenciesUs: emptyFigures() });
  }
  return slots;
}

/** One fio run of `workload` on the slot's server; a failure marks the slot failed instead of ending the benchmark. */
async function measureOnce(slot: ServerSlot, workload: Workload, options: Options, workDir: string, label: string): Promise<void> {
  const server = slot.server;
  if (server === null || slot.error !== null) return;
  try {
    if (server.process.hasExited) throw new Error(server.process.describeExit());
    const { primary, p99Ns } = await measure(workload, server, options, workDir);
    slot.primaries.get(workload.name)?.push(primary);
    if (p99Ns !== null) slot.latenciesUs.get(workload.name)?.push(p99Ns / 1000);
    process.stderr.write(`  ${label} ${workload.name} ${slot.name}: ${primary.toFixed(1)}\n`);
  } catch (error) {
    slot.error = errorText(error);
    process.stderr.write(`  ${label} ${workload.name} ${slot.name}: FAILED: ${slot.error}\n`);
  }
}

/**
 * K runs; in each, every workload is measured on every server back to back,
 * in the run's order (rotated each run), so a swing in the machine's load
 * lands on all servers within seconds of each other instead of on one.
 */
async function measureInterleaved(slots: readonly ServerSlot[], options: Options, workDir: string): Promise<ServerName[][]> {
  const orders: ServerName[][] = [];
  for (let runIndex = 0; runIndex < options.runs; runIndex += 1) {
    const order = runOrder(slots, runIndex);
    orders.push(order.map((slot) => slot.name));
    const label = `run ${runIndex + 1}/${options.runs}`;
    process.stderr.write(`${label}: order ${order.map((slot) => slot.name).join(", ")}\n`);
    for (const workload of options.workloads) {
      for (const slot of order) await measureOnce(slot, workload, options, workDir, label);
    }
  }
  return orders;
}

/** Stops every started server; a server that will not stop is reported and fails the benchmark. */
async function stopServers(slots: readonly ServerSlot[]): Promise<boolean> {
  const stops = await Promise.allSettled(slots.map(async (slot) => { await slot.server?.process.stop(); }));
  let allStopped = true;
  stops.forEach((stop, index) => {
    if (stop.status === "rejected") {
      allStopped = false;
      process.stderr.write(`${slots[index]?.name ?? "?"}: could not be stopped: ${errorText(stop.reason)}\n`);
    }
  });
  return allStopped;
}

function resultOf(slot: ServerSlot, options: Options): ServerResult {
  const settings = slot.server?.settings ?? "";
  const version = slot.server?.version ?? "";
  if (slot.error !== null) return { name: slot.name, status: "failed", error: slot.error, settings, version, workloads: [] };
  const results = options.workloads.map((workload) => workloadResult(workload, slot.primaries.get(workload.name) ?? [], slot.latenciesUs.get(workload.name) ?? []));
  return { name: slot.name, status: "ok", error: null, settings, version, workloads: results };
}

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
function formatLoad(load: readonly number[]): string {
  return load.map((value) => value.toFixed(2)).join(" ");
}

interface Report {
  readonly fioVersion: string;
  readonly nbdcopyVersion: string;
  readonly results: readonly ServerResult[];
  readonly orders: readonly (readonly ServerName[])[];
  /** os.loadavg() before anything started and after the last fio run. */
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
}

function printReport(report: Report, options: Options): void {
  const { results } = report;
  const lines = [
    "",
    `Switchyard NBD benchmark — ${new Date().toISOString()}, ${cpus().length} CPUs, Node ${process.version}`,
    `clients: ${report.fioVersion} (nbd engine, one connection per job; median of ${options.runs} runs of ${options.runSeconds} s each) and ${report.nbdcopyVersion} (median of ${options.runs} whole-image copies); ${options.sizeBytes / mebibyte} MiB of random data`,
    "nbdkit and qemu-nbd serve the same backing file; the Switchyard volume is backed by its own LU file, of the same size and prefilled with the same bytes.",
    "All servers run at once; each run measures every workload on every server back to back, the order rotated each run.",
    // The end figure includes the benchmark's own fio and servers; a start figure near the CPU count means other work shared the machine.
    `load average (1, 5, 15 min): at start ${formatLoad(report.loadAtStart)}; at end ${formatLoad(report.loadAtEnd)} (includes this benchmark's own load)`,
    "Each cell: median (lowest–highest run). Ratios divide medians.",
    "",
    renderTable(results, options.workloads),
    "",
    ...options.workloads.map((workload) => `${workload.name}: ${workload.description}`),
    ...results.map((result) => `${result.name}: ${result.status === "ok" ? `${result.version}; ${result.settings}` : `FAILED: ${result.error ?? ""}`}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function writeJsonReport(path: string, report: Report, options: Options): Promise<void> {
  const { results } = report;
  const json = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    loadAverage: { start: report.loadAtStart, end: report.loadAtEnd },
    clients: [report.fioVersion, report.nbdcopyVersion],
    runs: options.runs,
    runSeconds: options.runSeconds,
    sizeBytes: options.sizeBytes,
    schedule: "interleaved: all servers started once; in each run every workload is measured on every server back to back",
    orderByRun: report.orders,
    servers: results,
    ratios: options.workloads.map((workload) => ({
      workload: workload.name,
      switchyardOverNbdkit: ratioFor(results, "switchyard", "nbdkit", workload.name),
      switchyardOverQemuNbd: ratioFor(results, "switchyard", "qemu-nbd", workload.name),
    })),
  };
  await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`JSON written to ${path}\n`);
}

async function main(): Promise<number> {
  const options = parseOptions();
  const loadAtStart = loadavg();
  const workDir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  // Ctrl-C: the exit handlers in processes.ts SIGKILL the servers; this one
  // removes the scratch data.
  process.once("exit", () => { rmSync(workDir, { recursive: true, force: true }); });
  process.once("SIGINT", () => { process.exit(130); });
  process.once("SIGTERM", () => { process.exit(143); });

  const fioVersion = (await runToolChecked("fio", ["--version"], 10_000)).trim();
  const nbdcopyVersion = (await runToolChecked("nbdcopy", ["--version"], 10_000)).split("\n")[0]?.trim() ?? "nbdcopy";
  const backingPath = join(workDir, "backing.img");
  await writeRandomFile(backingPath, options.sizeBytes);
  // nbdcopy-in's source: the same bytes, in a file of its own, so no server reads the file it is written from.
  await copyFile(backingPath, join(workDir, copyImageName));

  const slots = await startServers(options, backingPath, workDir);
  let orders: ServerName[][];
  let loadAtEnd: number[];
  let allStopped: boolean;
  try {
    orders = await measureInterleaved(slots, options, workDir);
    loadAtEnd = loadavg();
  } finally {
    allStopped = await stopServers(slots);
  }
  const report: Report = { fioVersion, nbdcopyVersion, results: slots.map((slot) => resultOf(slot, options)), orders, loadAtStart, loadAtEnd };
  printReport(report, options);
  if (options.jsonPath !== null) await writeJsonReport(options.jsonPath, report, options);
  return allStopped && report.results.every((result) => result.status === "ok") ? 0 : 1;
}

// A check that fio exists before anything starts: without it nothing can be measured.
const fioCheck = await runTool("sh", ["-c", "command -v fio"], 5_000);
if (fioCheck.exitCode !== 0) {
  process.stderr.write("bench: fio is not on PATH; run scripts/setup.sh\n");
  process.exitCode = 1;
} else {
  process.exitCode = await main();
}
