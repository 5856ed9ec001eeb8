/**
 * Change-time benchmark (issue 3, Speed): how long one `volume move` of a
 * 4 MiB extent takes from Hold sent to Release acknowledged, with 1, 2, 4
 * and 8 apparatuses, each its own process (`switchyard device serve` and
 * `switchyard apparatus serve` on loopback), and with a volume of a thousand
 * and of a million extents. The figures are each change's own phase timings
 * (hold, copy, apply, commit, release), so neither the submission nor the
 * planning before the hold is counted; the whole call is shown beside them.
 * No host load: this isolates what the table's size costs a change.
 * Target: the median with a million extents within 2x of a thousand.
 *
 * With `--backends embedded,etcd` it runs the same on each coordination
 * (issue 18: the store in the device, or in a three-member etcd on loopback
 * that each measurement starts afresh) and prints etcd/embedded per row.
 * etcd keeps the store in one key of at most 1 MiB, so with etcd the
 * extents stay at most etcdExtentsMax.
 *
 * Run: pnpm bench:change   (from the root; builds first)
 *  or: pnpm --filter @switchyard/bench run bench:change   (already built)
 *      (`-- --help` lists the options)
 *  etcd against embedded: pnpm bench:change -- --counts 1,8 --extents 1000 --backends embedded,etcd
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./fio.js";
import { Cluster, holdToReleaseMs, percentile } from "./cluster.js";
import { backendsOption, withBackend, type Backend } from "./coordination-backends.js";
import { benchSettings, type BenchHelp } from "./bench-cli.js";
import { UsageError } from "./run-options.js";

/** 4 MiB extents, as hosts' volumes use by default; 4 TiB sparse LUs hold a million of them. */
const extentSize = "4MiB";
const extentSizeMebibytes = 4;
const luSize = "4TiB";
/** Moves before the measured ones: the first ones pay for lazily loaded code and fresh LU files. */
const warmUpMoves = 2;
/** Extents the moves cycle through: spread over the volume, never the same area twice in a row. */
const movedExtentsMax = 64;
/** Change time at a million extents may be at most this multiple of a thousand (issue 3). */
const tableSizeRatioTarget = 2;

interface Measured {
  readonly holdToReleaseMs: number[];
  readonly callMs: number[];
}

/**
 * The most extents a measurement on etcd may have: etcd's store is one key
 * under its 1 MiB value limit (coordination's storeBytesMax), a few bytes
 * an extent, and a million is over it.
 */
const etcdExtentsMax = 10_000;

async function measure(dir: string, apparatusCount: number, extentCount: number, moves: number, etcdUrls: string | undefined): Promise<Measured> {
  const cluster = await Cluster.start({ dir, apparatusCount, luSize, extentSize, ...(etcdUrls === undefined ? {} : { etcdUrls }) });
  try {
    await cluster.console.createVolume("bench", extentCount * extentSizeMebibytes * 2 ** 20, "lu0");
    await cluster.waitUntilCurrent();
    const measured: Measured = { holdToReleaseMs: [], callMs: [] };
    for (let move = 0; move < warmUpMoves + moves; move += 1) {
      // Each extent goes to lu1 and then back, so areas are reused and LUs never fill.
      const extentIndex = Math.floor(move / 2) % movedExtentsMax * Math.floor(extentCount / movedExtentsMax);
      const startedMs = performance.now();
      const change = await cluster.console.submitMove("bench", extentIndex, move % 2 === 0 ? "lu1" : "lu0");
      const changeMs = holdToReleaseMs(change);
      if (move < warmUpMoves) continue;
      measured.callMs.push(performance.now() - startedMs);
      measured.holdToReleaseMs.push(changeMs);
    }
    return measured;
  } finally {
    await cluster.stop();
  }
}

function row(cells: readonly (string | number)[]): string {
  return cells.map((cell) => (typeof cell === "number" ? cell.toFixed(0) : cell).padStart(11)).join(" ") + "\n";
}

function numbers(text: string, flag: string): number[] {
  return text.split(",").map((word) => {
    const value = Number(word);
    if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} takes positive whole numbers, not '${word}'`);
    return value;
  });
}

interface Settings {
  readonly counts: readonly number[];
  readonly extentCounts: readonly number[];
  readonly moves: number;
  readonly backends: readonly Backend[];
}

const changeOptions = {
  counts: { type: "string", default: "1,2,4,8" }, extents: { type: "string", default: "1000,1000000" }, moves: { type: "string", default: "15" },
  backends: { type: "string", default: "embedded" },
} as const;

const changeHelp: BenchHelp = {
  command: "bench:change",
  summary: [
    "How long one `volume move` of a 4 MiB extent takes from Hold sent to Release acknowledged,",
    "with each count of apparatuses (separate processes) and each volume size, with no host load:",
    "what the table's size costs a change. Prints median, p90 and max per row, and the target",
    "(the median with the most extents within 2x of the fewest).",
  ].join("\n"),
  options: [
    ["--counts N,N", "apparatus counts to measure (default 1,2,4,8)"],
    ["--extents N,N", "volume sizes in 4 MiB extents (default 1000,1000000)"],
    ["--moves N", `measured moves per row, after ${warmUpMoves} warm-up moves (default 15)`],
    ["--backends B,B", `where the configuration store lives: embedded, etcd or both (default embedded; etcd up to ${etcdExtentsMax} extents)`],
  ],
  examples: [
    "pnpm bench:change",
    "pnpm bench:change -- --counts 1,8 --extents 1000 --backends embedded,etcd",
  ],
};

function settingsOf(): Settings {
  return benchSettings(changeHelp, changeOptions, (values) => {
    const [moves = 1] = numbers(values.moves, "--moves");
    const settings = { counts: numbers(values.counts, "--counts"), extentCounts: numbers(values.extents, "--extents"), moves, backends: backendsOption(values.backends) };
    if (settings.backends.includes("etcd") && settings.extentCounts.some((count) => count > etcdExtentsMax)) {
      throw new UsageError(`etcd keeps the store in one key of at most 1 MiB: give --extents up to ${etcdExtentsMax} with --backends etcd`);
    }
    return settings;
  });
}

async function main(): Promise<number> {
  const settings = settingsOf();
  const workDir = mkdtempSync(join(tmpdir(), "switchyard-change-bench-"));
  const medians = new Map<string, number>();
  try {
    process.stdout.write(`volume move of a ${extentSize} extent, ${settings.moves} moves each after ${warmUpMoves} warm-up; device and apparatuses as separate processes; no host load\n`);
    process.stdout.write(row(["backend", "apparatuses", "extents", "median ms", "p90 ms", "max ms", "call med ms"]));
    for (const backend of settings.backends) {
      for (const count of settings.counts) {
        for (const extentCount of settings.extentCounts) {
          const dir = join(workDir, `${backend}-n${count}-e${extentCount}`);
          const measured = await withBackend(backend, dir, (etcdUrls) => measure(dir, count, extentCount, settings.moves, etcdUrls));
          const times = measured.holdToReleaseMs;
          medians.set(`${backend}/${count}/${extentCount}`, median(times));
          process.stdout.write(row([backend, count, extentCount, median(times), percentile(times, 0.9), Math.max(...times), median(measured.callMs)]));
        }
      }
      printRatios(backend, settings.counts, settings.extentCounts, medians);
    }
    printBackendRatios(settings, medians);
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** etcd's median change time against the embedded store's, per apparatus count and table size. */
function printBackendRatios(settings: Settings, medians: ReadonlyMap<string, number>): void {
  if (!settings.backends.includes("etcd") || !settings.backends.includes("embedded")) return;
  process.stdout.write("median change time, etcd / embedded:\n");
  for (const count of settings.counts) {
    for (const extentCount of settings.extentCounts) {
      const embedded = medians.get(`embedded/${count}/${extentCount}`) ?? Number.NaN;
      const etcd = medians.get(`etcd/${count}/${extentCount}`) ?? Number.NaN;
      process.stdout.write(`  ${count} apparatuses, ${extentCount} extents: ${(etcd / embedded).toFixed(2)}x (${etcd.toFixed(0)} ms / ${embedded.toFixed(0)} ms)\n`);
    }
  }
}

/** The largest table against the smallest, per apparatus count, against the target. */
function printRatios(backend: Backend, counts: readonly number[], extentCounts: readonly number[], medians: ReadonlyMap<string, number>): void {
  const smallest = Math.min(...extentCounts);
  const largest = Math.max(...extentCounts);
  if (smallest === largest) return;
  process.stdout.write(`${backend}: median change time, ${largest} extents / ${smallest} extents (target <= ${tableSizeRatioTarget}x):\n`);
  for (const count of counts) {
    const small = medians.get(`${backend}/${count}/${smallest}`) ?? Number.NaN;
    const large = medians.get(`${backend}/${count}/${largest}`) ?? Number.NaN;
    const ratio = small > 0 ? large / small : Number.NaN;
    process.stdout.write(`  ${count} apparatuses: ${ratio.toFixed(2)}x ${ratio <= tableSizeRatioTarget ? "met" : "NOT met"}\n`);
  }
}

process.exitCode = await main().catch((error: unknown) => {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench:change: ${error.message}\n`);
  return 2;
});
