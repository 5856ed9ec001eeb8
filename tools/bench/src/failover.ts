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
 * Run: pnpm --filter @switchyard/bench run bench:failover [-- --kills 20 --kill-delay-ms 40]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConsoleClient } from "@switchyard/console";
import { NbdClient } from "@switchyard/nbd";
import { announcement, cliPath, field, percentile } from "./cluster.js";
import { ServerProcess, benchArguments, sleep } from "./processes.js";

const extentBytes = 4 << 20;
const extents = 16;
const blockBytes = 4096;
const blockCount = (extents * extentBytes) / blockBytes;
/** Between attempts to reach a controller, or for the cluster to settle. */
const retryMs = 50;
/** A round gives up after this: the lease is 6 s, a campaign step 2 s. */
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

async function startApparatus(id: Id, deviceGrpc: string): Promise<Apparatus> {
  const server = await ServerProcess.start(id, process.execPath, [
    cliPath, "apparatus", "serve", "--id", id, "--device", deviceGrpc, "--nbd-port", "0", "--grpc-port", "0", "--json",
  ], { ownGroup: false });
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

/** Moves through `via` until one commits; resolves when it did. */
async function untilAMoveCommits(via: Apparatus, extent: number): Promise<void> {
  const client = ConsoleClient.plain(via.grpc);
  const deadlineMs = performance.now() + roundTimeoutMs;
  try {
    for (;;) {
      // Where the extent is now, as the table says: the move sent just before a kill may have committed.
      const on = await client.getVolume("v").then((volume) => volume.extents[extent]?.lu, () => undefined);
      const change = on === undefined ? undefined : await client.submitMove("v", extent, on === "lu0" ? "lu1" : "lu0").catch(() => undefined);
      if (change?.state === "CHANGE_STATE_COMMITTED") return;
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
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: benchArguments(), options: { kills: { type: "string", default: "20" }, "kill-delay-ms": { type: "string", default: "40" } } });
  const kills = Number(values.kills);
  const killDelayMs = Number(values["kill-delay-ms"]);
  const dir = mkdtempSync(join(tmpdir(), "switchyard-failover-"));
  const device = await ServerProcess.start("device", process.execPath, [
    cliPath, "device", "serve", "--dir", join(dir, "device"), "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "256MiB", "--json",
  ], { ownGroup: false });
  const deviceGrpc = field((await announcement(device)).device, "grpc");
  const running = new Map<Id, Apparatus>();
  for (const id of ids) running.set(id, await startApparatus(id, deviceGrpc));
  const get = (id: Id): Apparatus => running.get(id) as Apparatus;
  const writers: HostWriter[] = [];
  const rounds: Round[] = [];
  try {
    await settledController(get("a1"));
    const setup = ConsoleClient.plain(get("a1").grpc);
    await setup.createVolume("v", extents * extentBytes, "lu0");
    setup.close();
    for (const id of ids) writers.push(new HostWriter(() => get(id).nbd));
    for (let round = 1; round <= kills; round += 1) {
      const leader = (await settledController(get("a1"))) as Id;
      const survivor = get(ids.find((id) => id !== leader) ?? "a1");
      const moving = ConsoleClient.plain(survivor.grpc);
      const extent = round % extents;
      const on = (await moving.getVolume("v")).extents[extent]?.lu;
      void moving.submitMove("v", extent, on === "lu0" ? "lu1" : "lu0").catch(() => undefined).finally(() => {
        moving.close();
      });
      await sleep(killDelayMs);
      get(leader).process.killNow();
      const killedMs = performance.now();
      await untilAMoveCommits(survivor, (extent + 1) % extents);
      const actingMs = performance.now();
      const longestWriteMs = Math.max(0, ...writers.flatMap((writer) => writer.writes.filter((write) => write.endMs >= killedMs && write.startMs <= actingMs).map((write) => write.endMs - write.startMs)));
      rounds.push({ failoverMs: actingMs - killedMs, longestWriteMs });
      console.log(`kill ${round}/${kills}: ${leader} killed; a move committed through ${survivor.id} ${Math.round(actingMs - killedMs)} ms later; longest host write across it ${Math.round(longestWriteMs)} ms`);
      await get(leader).process.stop();
      running.set(leader, await startApparatus(leader, deviceGrpc));
    }
  } finally {
    await Promise.all(writers.map((writer) => writer.stop()));
    for (const apparatus of running.values()) await apparatus.process.stop();
    await device.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const failovers = rounds.map((round) => round.failoverMs);
  const holds = rounds.map((round) => round.longestWriteMs);
  console.log(`\nfailover, kill of the controller's process to the first committed move, over ${rounds.length} kills: p50 ${Math.round(percentile(failovers, 0.5))} ms, max ${Math.round(Math.max(...failovers))} ms`);
  console.log(`longest host write across a failover: p50 ${Math.round(percentile(holds, 0.5))} ms, max ${Math.round(Math.max(...holds))} ms`);
}

await main();
