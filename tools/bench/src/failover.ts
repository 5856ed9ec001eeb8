/**
 * Failover benchmark (issue 4): how long the cluster has no acting
 * controller after the apparatus process that runs it is killed, and how
 * long host I/O is held meanwhile. A device and three apparatuses run as
 * separate processes; hosts write 4 KiB blocks through every apparatus. Each
 * round sends a move through a survivor, kills the controller's process
 * (SIGKILL) 40 ms later (by default), most often in the middle of that move,
 * and measures from the kill to the first move that commits through a
 * survivor (the new controller acting), and the longest any host write
 * waited across the failover. The killed apparatus is then started again.
 *
 * It runs twice, with the coordination embedded in the device (the default)
 * and on a three-member etcd on loopback (issue 18: scripts/etcd-cluster.sh,
 * `device serve --etcd` and `apparatus serve --etcd`), and prints the two
 * side by side. `--backends embedded` or `--backends etcd` runs one.
 *
 * Run: pnpm bench:failover [-- --kills 20 --kill-delay-ms 40 --backends embedded,etcd --log-dir DIR]   (`-- --help` lists them)
 * (--log-dir keeps each server's output there, every line stamped with the
 * time it arrived, and prints each kill's time: where a failover's time went.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleClient } from "@switchyard/console";
import { NbdClient } from "@switchyard/nbd";
import { announcement, cliPath, field, percentile } from "./cluster.js";
import { ElectionWatch } from "./election-watch.js";
import { backends, backendsOption, withBackend, type Backend } from "./coordination-backends.js";
import { ServerProcess, sleep } from "./processes.js";
import { benchSettings, wholeOption, type BenchHelp } from "./bench-cli.js";

const extentBytes = 4 << 20;
const extents = 16;
const blockBytes = 4096;
const blockCount = (extents * extentBytes) / blockBytes;
/** Between attempts to reach a controller, or for the cluster to settle. */
const retryMs = 50;
/** A round gives up after this: the lease is 6 s embedded (3 s on etcd), a campaign step a third of it. */
const roundTimeoutMs = 60_000;
const ids = ["a1", "a2", "a3"] as const;
type Id = (typeof ids)[number];

interface Apparatus {
  readonly id: Id;
  readonly nbd: string;
  readonly grpc: string;
  readonly process: ServerProcess;
}

interface Write {
  readonly startMs: number;
  readonly endMs: number;
}

/** Closed-loop 4 KiB writes through one apparatus, reconnecting when it goes away; completed writes are kept. */
class HostWriter {
  readonly writes: Write[] = [];
  private client: NbdClient | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly address: () => string) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    const data = Buffer.alloc(blockBytes, 0x5a);
    while (!this.stopped) {
      try {
        this.client ??= await this.connect();
        const startMs = performance.now();
        await this.client.write(Math.floor(Math.random() * blockCount) * blockBytes, data, false);
        this.writes.push({ startMs, endMs: performance.now() });
      } catch {
        if (this.client?.isOver !== false) this.client = undefined;
        await sleep(retryMs);
      }
    }
    await this.client?.close();
  }

  private connect(): Promise<NbdClient> {
    const [host = "", port = ""] = this.address().split(":");
    return NbdClient.connect({ host, port: Number(port), exportName: "v", timeoutMs: roundTimeoutMs });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** Where an apparatus finds the device: `--device HOST:PORT`, or `--etcd URLS` (the device published its address there). */
async function startApparatus(id: Id, where: readonly string[], logPath: string | undefined): Promise<Apparatus> {
  const server = await ServerProcess.start(id, process.execPath, [
    cliPath, "apparatus", "serve", "--id", id, ...where, "--nbd-port", "0", "--grpc-port", "0", "--json",
  ], { ownGroup: false, ...(logPath === undefined ? {} : { logPath }) });
  const announced = await announcement(server);
  return { id, nbd: field(announced, "nbd"), grpc: field(announced, "grpc"), process: server };
}

/** The controller's id once every apparatus serves under it, asked through `via`. */
async function settledController(via: Apparatus): Promise<string> {
  const deadlineMs = performance.now() + roundTimeoutMs;
  const client = ConsoleClient.plain(via.grpc);
  try {
    for (;;) {
      const status = await client.clusterStatus().catch(() => undefined);
      const allServing = status !== undefined && ids.every((id) => status.apparatuses.some((entry) => entry.id === id && entry.state === "APPARATUS_STATUS_SERVING"));
      if (status?.controller != null && allServing) return status.controller.id;
      if (performance.now() > deadlineMs) throw new Error(`the cluster did not settle: ${JSON.stringify(status)}`);
      await sleep(retryMs);
    }
  } finally {
    client.close();
  }
}

/** A move that did not commit, as the console answered it: where the time after a kill went. */
interface Refusal {
  readonly afterKillMs: number;
  readonly answer: string;
}

/**
 * Moves through `via` until one commits; resolves when it did, with the
 * moves that reached a controller and were refused first (a controller not
 * elected yet, UNAVAILABLE, is not counted: that is the failover itself).
 */
async function untilAMoveCommits(via: Apparatus, extent: number, killedMs: number): Promise<Refusal[]> {
  const client = ConsoleClient.plain(via.grpc);
  const deadlineMs = performance.now() + roundTimeoutMs;
  const refusals: Refusal[] = [];
  try {
    for (;;) {
      // Where the extent is now, as the table says: the move sent just before a kill may have committed.
      const on = await client.getVolume("v").then((volume) => volume.extents[extent]?.lu, () => undefined);
      const change = on === undefined ? undefined : await client.submitMove("v", extent, on === "lu0" ? "lu1" : "lu0").catch((error: unknown) => {
        if (!String(error).includes("UNAVAILABLE")) refusals.push({ afterKillMs: performance.now() - killedMs, answer: String(error) });
        return undefined;
      });
      if (change?.state === "CHANGE_STATE_COMMITTED") return refusals;
      if (change !== undefined) refusals.push({ afterKillMs: performance.now() - killedMs, answer: `${change.state}: ${change.message}` });
      if (performance.now() > deadlineMs) throw new Error("no move committed after the controller was killed");
      await sleep(retryMs);
    }
  } finally {
    client.close();
  }
}

interface Round {
  readonly failoverMs: number;
  readonly longestWriteMs: number;
  /** On etcd: from the kill to the deletion of the dead holder's election key (its lease ended). */
  readonly leaseEndMs?: number;
}

interface Settings {
  readonly kills: number;
  readonly killDelayMs: number;
  /** Where each server's output goes, stamped line by line (--log-dir); kept nowhere if absent. */
  readonly logDir: string | undefined;
}

/** The key prefix `--etcd` keeps a cluster's keys under (console's appliance-etcd.ts). */
const etcdKeyPrefix = "switchyard/";

/** The kills of one backend: a device and three apparatuses, on etcd if `etcdUrls` is given (its election keys watched). */
async function killRounds(settings: Settings, dir: string, etcdUrls: string | undefined): Promise<Round[]> {
  const watch = etcdUrls === undefined ? undefined : ElectionWatch.start(etcdUrls, etcdKeyPrefix);
  const etcdArgs = etcdUrls === undefined ? [] : ["--etcd", etcdUrls];
  const backend: Backend = etcdUrls === undefined ? "embedded" : "etcd";
  const logPath = (name: string): string | undefined => (settings.logDir === undefined ? undefined : join(settings.logDir, `${backend}-${name}.log`));
  const device = await ServerProcess.start("device", process.execPath, [
    cliPath, "device", "serve", "--dir", join(dir, "device"), "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "256MiB", ...etcdArgs, "--json",
  ], { ownGroup: false, ...(settings.logDir === undefined ? {} : { logPath: logPath("device") }) });
  const deviceGrpc = field((await announcement(device)).device, "grpc");
  const where = etcdUrls === undefined ? ["--device", deviceGrpc] : etcdArgs;
  const running = new Map<Id, Apparatus>();
  const writers: HostWriter[] = [];
  const rounds: Round[] = [];
  try {
    for (const id of ids) running.set(id, await startApparatus(id, where, logPath(id)));
    const get = (id: Id): Apparatus => running.get(id) as Apparatus;
    await settledController(get("a1"));
    const setup = ConsoleClient.plain(get("a1").grpc);
    await setup.createVolume("v", extents * extentBytes, "lu0");
    setup.close();
    for (const id of ids) writers.push(new HostWriter(() => get(id).nbd));
    for (let round = 1; round <= settings.kills; round += 1) {
      const result = await killRound(get, round, settings);
      rounds.push(result.round);
      const leaseEnd = result.round.leaseEndMs === undefined ? "" : `; its etcd lease ended ${Math.round(result.round.leaseEndMs)} ms after the kill`;
      console.log(`${backend} kill ${round}/${settings.kills}: ${result.leader} killed; a move committed through ${result.survivor} ` +
        `${Math.round(result.round.failoverMs)} ms later${leaseEnd}; longest host write across it ${Math.round(result.round.longestWriteMs)} ms`);
      await get(result.leader).process.stop();
      running.set(result.leader, await startApparatus(result.leader, where, logPath(result.leader)));
    }
    return rounds;
  } finally {
    await Promise.all(writers.map((writer) => writer.stop()));
    for (const apparatus of running.values()) await apparatus.process.stop();
    await device.stop();
    watch?.stop();
  }

  /** One round: a move through a survivor, the controller's process killed inside it, then moves until one commits. */
  async function killRound(get: (id: Id) => Apparatus, round: number, { killDelayMs }: Settings): Promise<{ round: Round; leader: Id; survivor: Id }> {
    const leader = (await settledController(get("a1"))) as Id;
    const survivor = get(ids.find((id) => id !== leader) ?? "a1");
    const moving = ConsoleClient.plain(survivor.grpc);
    const extent = round % extents;
    const on = (await moving.getVolume("v")).extents[extent]?.lu;
    void moving.submitMove("v", extent, on === "lu0" ? "lu1" : "lu0").catch(() => undefined).finally(() => {
      moving.close();
    });
    await sleep(killDelayMs);
    const holderKey = watch?.holderKey();
    get(leader).process.killNow();
    const killedMs = performance.now();
    if (settings.logDir !== undefined) console.log(`  ${leader} killed at ${new Date().toISOString()}`);
    const refusals = await untilAMoveCommits(survivor, (extent + 1) % extents, killedMs);
    const actingMs = performance.now();
    for (const refusal of refusals) console.log(`  refused ${Math.round(refusal.afterKillMs)} ms after the kill: ${refusal.answer}`);
    const leaseEndedAtMs = holderKey === undefined ? undefined : await watch?.deletedAt(holderKey, 0);
    const across = writers.flatMap((writer) => writer.writes.filter((write) => write.endMs >= killedMs && write.startMs <= actingMs));
    const longestWriteMs = Math.max(0, ...across.map((write) => write.endMs - write.startMs));
    const leaseEnd = leaseEndedAtMs === undefined ? {} : { leaseEndMs: leaseEndedAtMs - killedMs };
    return { round: { failoverMs: actingMs - killedMs, longestWriteMs, ...leaseEnd }, leader, survivor: survivor.id };
  }
}

/** The rounds of `backend`, each in a folder (and on an etcd cluster) of its own. */
async function runBackend(backend: Backend, settings: Settings): Promise<Round[]> {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-failover-${backend}-`));
  try {
    return await withBackend(backend, dir, (etcdUrls) => killRounds(settings, dir, etcdUrls));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


/** p50 and max of each backend's failovers and longest writes, one row each. */
function printSideBySide(results: ReadonlyMap<Backend, readonly Round[]>): void {
  const milliseconds = (value: number): string => `${Math.round(value)} ms`;
  console.log("\nfrom SIGKILL of the controller's process to the first committed move, and the longest host write across it");
  console.log([
    "backend".padEnd(10), "kills".padStart(5), "failover p50".padStart(13), "failover max".padStart(13), "write p50".padStart(10), "write max".padStart(10),
    "etcd lease end p50".padStart(19),
  ].join("  "));
  for (const [backend, rounds] of results) {
    const failovers = rounds.map((round) => round.failoverMs);
    const holds = rounds.map((round) => round.longestWriteMs);
    const leaseEnds = rounds.flatMap((round) => (round.leaseEndMs === undefined ? [] : [round.leaseEndMs]));
    console.log([
      backend.padEnd(10), String(rounds.length).padStart(5),
      milliseconds(percentile(failovers, 0.5)).padStart(13), milliseconds(Math.max(...failovers)).padStart(13),
      milliseconds(percentile(holds, 0.5)).padStart(10), milliseconds(Math.max(...holds)).padStart(10),
      (leaseEnds.length === 0 ? "-" : milliseconds(percentile(leaseEnds, 0.5))).padStart(19),
    ].join("  "));
  }
}

const failoverOptions = {
  kills: { type: "string", default: "20" }, "kill-delay-ms": { type: "string", default: "40" }, backends: { type: "string", default: backends.join(",") },
  "log-dir": { type: "string" },
} as const;

const failoverHelp: BenchHelp = {
  command: "bench:failover",
  summary: [
    "How long the cluster has no acting controller after the apparatus process running it is",
    "killed (SIGKILL, most often mid-move), and the longest any host write waits meanwhile. A",
    "device and three apparatuses run as separate processes, with the store embedded in the",
    "device and on a three-member etcd, side by side.",
  ].join("\n"),
  options: [
    ["--kills N", "rounds, one kill each (default 20)"],
    ["--kill-delay-ms MS", "from a move's submission to the kill (default 40)"],
    ["--backends B,B", `${backends.join(", ")} or one of them (default both)`],
    ["--log-dir DIR", "keep each server's output there, each line stamped, and print each kill's time"],
  ],
  examples: [
    "pnpm bench:failover",
    "pnpm bench:failover -- --kills 5 --backends embedded --log-dir /tmp/failover-logs",
  ],
};

async function main(): Promise<void> {
  const settings = benchSettings(failoverHelp, failoverOptions, (values) => ({
    kills: wholeOption(values.kills, 1, "--kills"), killDelayMs: wholeOption(values["kill-delay-ms"], 0, "--kill-delay-ms"), logDir: values["log-dir"],
    backends: backendsOption(values.backends),
  }));
  const results = new Map<Backend, Round[]>();
  for (const backend of settings.backends) results.set(backend, await runBackend(backend, settings));
  printSideBySide(results);
}

await main();
