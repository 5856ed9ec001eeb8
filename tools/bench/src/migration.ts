/**
 * Migration benchmark (issue 5, Speed): how fast `migrate` moves a volume to
 * another LU, against a plain durable copy of the same number of bytes on
 * the same machine, in one run; and what hosts see meanwhile. A device and N
 * apparatuses (default 2) run as separate processes. Measured:
 * - the plain copy: `cp` of a file of the volume's size, then `sync` of the
 *   copy (the migration's copies are durable too);
 * - a migration with no host load, lu0 to lu1;
 * - a migration back under a steady 4 KiB random write load through every
 *   apparatus, and the writes' p50/p99/max latency during it against the
 *   same load before it.
 * Throughput is bytes moved over the time from the migration's start to its
 * end, as its journal entry records them. Target: at least 0.7 of the plain
 * copy with no load.
 *
 * Run: pnpm bench:migration   (from the root; builds first)
 *  or: pnpm --filter @switchyard/bench run bench:migration   (already built)
 *      (`-- --help` lists the options)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, percentile } from "./cluster.js";
import { WriteLog, connectAll, writeLoad, type LoadState } from "./host-writes.js";
import { runToolChecked, sleep } from "./processes.js";
import { benchSettings, wholeOption, type BenchHelp } from "./bench-cli.js";
import { UsageError } from "./run-options.js";

const mebibyte = 1 << 20;
const extentBytes = 4 * mebibyte;
const luSize = "1GiB";
/** Prefill writes: big, so that filling the volume takes well under a second. */
const prefillWriteBytes = mebibyte;
/** How often the benchmark looks at a running migration. */
const pollMs = 50;
const toolTimeoutMs = 120_000;
const migrationTimeoutMs = 600_000;
/** Target of issue 5. */
const throughputRatioTarget = 0.7;

const migrationOptions = {
  apparatuses: { type: "string", default: "2" }, "size-mib": { type: "string", default: "256" }, rate: { type: "string", default: "2000" },
  seconds: { type: "string", default: "5" }, rounds: { type: "string", default: "5" },
} as const;

const migrationHelp: BenchHelp = {
  command: "bench:migration",
  summary: [
    "How fast `migrate` moves a volume to another LU, against a plain durable copy (cp, then sync)",
    "of as many bytes on the same machine, in one run: with no host load, and under a steady load",
    "of 4 KiB random writes through every apparatus, whose latency during the migration is shown",
    "against the same load before it. Target: at least 0.7 of the plain copy with no load.",
  ].join("\n"),
  options: [
    ["--apparatuses N", "apparatuses, each its own process (default 2)"],
    ["--size-mib N", "volume size, a multiple of the 4 MiB extent (default 256)"],
    ["--rate N", "host writes per second during the loaded migration (default 2000)"],
    ["--seconds S", "load measured before the loaded migration (default 5)"],
    ["--rounds N", "rounds of each measurement (default 5)"],
  ],
  examples: [
    "pnpm bench:migration",
    "pnpm bench:migration -- --size-mib 1024 --rounds 3",
  ],
};

function options(): { apparatuses: number; sizeMebibytes: number; rate: number; seconds: number; rounds: number } {
  return benchSettings(migrationHelp, migrationOptions, (values) => {
    const sizeMebibytes = wholeOption(values["size-mib"], 4, "--size-mib");
    if (sizeMebibytes % 4 !== 0) throw new UsageError(`--size-mib must be a multiple of the 4 MiB extent, not ${sizeMebibytes}`);
    return {
      apparatuses: wholeOption(values.apparatuses, 1, "--apparatuses"), sizeMebibytes, rate: wholeOption(values.rate, 1, "--rate"),
      seconds: wholeOption(values.seconds, 1, "--seconds"), rounds: wholeOption(values.rounds, 1, "--rounds"),
    };
  });
}

/** Seconds a durable plain copy of `sizeBytes` takes: cp of a file written first, then sync of the copy. */
async function plainCopySeconds(source: string, copy: string): Promise<number> {
  const startedMs = performance.now();
  await runToolChecked("cp", [source, copy], toolTimeoutMs);
  await runToolChecked("sync", [copy], toolTimeoutMs);
  return (performance.now() - startedMs) / 1000;
}

/** A file of `sizeBytes` random bytes, on disk, for the plain copies to read. */
async function plainSource(workDir: string, sizeBytes: number): Promise<string> {
  const source = join(workDir, "plain-source.bin");
  await runToolChecked("dd", ["if=/dev/urandom", `of=${source}`, `bs=${mebibyte}`, `count=${sizeBytes / mebibyte}`, "status=none"], toolTimeoutMs);
  await runToolChecked("sync", [source], toolTimeoutMs);
  return source;
}

/** Starts a migration of the whole volume to `toLu` and waits for its end; its seconds from start to end. */
async function migrationSeconds(cluster: Cluster, toLu: string): Promise<{ seconds: number; extents: number }> {
  const started = await cluster.console.submitMigrate({ volume: "bench", toLu, firstExtent: 0, endExtent: 0, rateBytesPerSecond: 0 });
  const deadlineMs = performance.now() + migrationTimeoutMs;
  for (;;) {
    const change = await cluster.console.getChange(started.id);
    if (change.state !== "CHANGE_STATE_RUNNING") {
      if (change.state !== "CHANGE_STATE_COMMITTED") throw new Error(`migration ${change.id} ended ${change.state}: ${change.message}`);
      return { seconds: (change.ended_at_ms - change.started_at_ms) / 1000, extents: change.copy_progress.length };
    }
    if (performance.now() > deadlineMs) throw new Error(`migration ${started.id} did not end within ${migrationTimeoutMs} ms`);
    await sleep(pollMs);
  }
}

function latencyLine(name: string, values: readonly number[]): string {
  if (values.length === 0) return `${name.padEnd(34)} no writes\n`;
  const figures = [percentile(values, 0.5), percentile(values, 0.99), Math.max(...values)].map((value) => value.toFixed(2).padStart(9));
  return `${name.padEnd(34)}${figures.join("")}${String(values.length).padStart(9)}\n`;
}

/** A migration to `toLu` under the write load, after a phase of the same load alone. */
async function underLoad(cluster: Cluster, settings: ReturnType<typeof options>, toLu: string): Promise<{ seconds: number; baseline: number[]; during: number[] }> {
  const clients = await connectAll(cluster);
  const extentCount = (settings.sizeMebibytes * mebibyte) / extentBytes;
  const log = new WriteLog();
  const state: LoadState = { phase: "baseline", round: 0, stop: false };
  const load = writeLoad(clients, extentCount, settings.rate, log, state);
  let seconds: number;
  try {
    await sleep(settings.seconds * 1000);
    state.phase = "moves";
    seconds = (await migrationSeconds(cluster, toLu)).seconds;
  } finally {
    state.stop = true;
    await load;
    await Promise.all(clients.map((client) => client.close()));
  }
  const baseline: number[] = [];
  const during: number[] = [];
  for (let index = 0; index < log.count; index += 1) {
    const latencyMs = log.latencyMs[index] ?? Number.NaN;
    if (Number.isNaN(latencyMs)) continue;
    (log.phase[index] === 1 ? baseline : during).push(latencyMs);
  }
  return { seconds, baseline, during };
}

async function prefill(cluster: Cluster, sizeBytes: number): Promise<void> {
  const [client] = await connectAll(cluster);
  if (client === undefined) throw new Error("no apparatus to prefill through");
  const data = Buffer.alloc(prefillWriteBytes, 0xa5);
  for (let offsetBytes = 0; offsetBytes < sizeBytes; offsetBytes += prefillWriteBytes) await client.write(offsetBytes, data);
  await client.flush();
  await client.close();
}

interface Round {
  readonly plainSeconds: number;
  readonly migrationSeconds: number;
  readonly extents: number;
}

/** Rounds of a plain copy and then a migration to the other LU; the volume ends where it began when `rounds` is even. */
async function idleRounds(cluster: Cluster, workDir: string, settings: ReturnType<typeof options>): Promise<Round[]> {
  const source = await plainSource(workDir, settings.sizeMebibytes * mebibyte);
  const rounds: Round[] = [];
  for (let round = 0; round < settings.rounds; round += 1) {
    // Each copy is a new file, as each migration writes areas it did not use last round; deleting
    // the copies only at the end keeps the file system's discards out of the rounds.
    const plainSeconds = await plainCopySeconds(source, join(workDir, `plain-copy-${round}.bin`));
    const migration = await migrationSeconds(cluster, round % 2 === 0 ? "lu1" : "lu0");
    rounds.push({ plainSeconds, migrationSeconds: migration.seconds, extents: migration.extents });
  }
  return rounds;
}

function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

async function main(): Promise<number> {
  const settings = options();
  const sizeBytes = settings.sizeMebibytes * mebibyte;
  const workDir = mkdtempSync(join(tmpdir(), "switchyard-migration-bench-"));
  try {
    const cluster = await Cluster.start({ dir: workDir, apparatusCount: settings.apparatuses, luSize, extentSize: "4MiB" });
    try {
      await cluster.console.createVolume("bench", sizeBytes, "lu0");
      await cluster.waitUntilCurrent();
      await prefill(cluster, sizeBytes);
      const rounds = await idleRounds(cluster, workDir, settings);
      const loaded = await underLoad(cluster, settings, rounds.length % 2 === 0 ? "lu1" : "lu0");
      const rate = (seconds: number): number => settings.sizeMebibytes / seconds;
      const out = process.stdout;
      out.write(`${settings.apparatuses} apparatuses (separate processes); a ${settings.sizeMebibytes} MiB volume of 4 MiB extents moved between two LUs of one device\n`);
      out.write(`${"round".padEnd(8)}${"cp+sync MiB/s".padStart(15)}${"migration MiB/s".padStart(17)}${"ratio".padStart(8)}\n`);
      rounds.forEach((round, index) => {
        const figures = [rate(round.plainSeconds).toFixed(0).padStart(15), rate(round.migrationSeconds).toFixed(0).padStart(17), (round.plainSeconds / round.migrationSeconds).toFixed(2).padStart(8)];
        out.write(`${String(index + 1).padEnd(8)}${figures.join("")}\n`);
      });
      const ratio = median(rounds.map((round) => round.plainSeconds / round.migrationSeconds));
      out.write(`median plain copy ${rate(median(rounds.map((round) => round.plainSeconds))).toFixed(0)} MiB/s; median migration ${rate(median(rounds.map((round) => round.migrationSeconds))).toFixed(0)} MiB/s (${rounds[0]?.extents ?? 0} extents)\n`);
      out.write(`migration under ${settings.rate} writes/s of 4 KiB: ${rate(loaded.seconds).toFixed(0)} MiB/s\n`);
      out.write(`migration / plain copy, no load, median of ${rounds.length} rounds: ${ratio.toFixed(2)} (target >= ${throughputRatioTarget}) ${ratio >= throughputRatioTarget ? "met" : "NOT met"}\n`);
      out.write(`${"host write latency, ms".padEnd(34)}${"p50".padStart(9)}${"p99".padStart(9)}${"max".padStart(9)}${"writes".padStart(9)}\n`);
      out.write(latencyLine("no migration", loaded.baseline));
      out.write(latencyLine("during the migration", loaded.during));
      if (loaded.baseline.length > 0 && loaded.during.length > 0) {
        out.write(`p99 during / p99 without: ${(percentile(loaded.during, 0.99) / percentile(loaded.baseline, 0.99)).toFixed(2)}x\n`);
      }
    } finally {
      await cluster.stop();
    }
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
