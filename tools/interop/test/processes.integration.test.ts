// Goal: the change protocol across real processes (issue 3): a device, three
// apparatuses (one running the controller) each its own process, host I/O
// through all of them, extents moved meanwhile, and one apparatus stopped
// with SIGSTOP during a move. It is fenced, the move commits on the others,
// and once resumed it serves nothing stale: every read through any apparatus
// is checked by the history checker, and it serves the new table after it
// rejoins. The same run with the stopped apparatus built to ignore fencing
// (a planted bug) must be caught serving stale data. Method: `switchyard
// device serve` and `apparatus serve` children on ephemeral ports, our NBD
// client as the hosts, the CLI for the changes.
import { afterEach, describe, expect, it } from "vitest";
import { History } from "@switchyard/checker";
import { NbdClient, NbdError } from "@switchyard/device/nbd";
import { assertSucceeded, describeResult, runCli } from "./appliance.js";
import { ProcessCluster, stamp as stampBlock, type ApparatusId } from "./cluster.js";

const blockBytes = 4096;
const extentBytes = 4 << 20;
const volumeBytes = 8 * extentBytes;
const blockCount = volumeBytes / blockBytes;
/** Write-then-read probes right after the stopped apparatus resumes. */
const probesAfterResume = 20;
/** Pause after a refused request before the next one. */
const refusedPauseMs = 20;
let cluster: ProcessCluster | undefined;

/** A device and apparatuses a1 (the controller), a2 and a3, with volume p on lu0; a2 may carry a planted fault. */
async function startCluster(a2Fault: string | undefined): Promise<ProcessCluster> {
  cluster = await ProcessCluster.start(a2Fault === undefined ? {} : { faults: { a2: a2Fault } });
  assertSucceeded(await runCli(["volume", "create", "p", "--size", `${volumeBytes >> 20}MiB`, "--lu", "lu0", "--endpoint", cluster.controller]));
  return cluster;
}

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function stamp(value: number): Buffer {
  return stampBlock(value, blockBytes);
}

interface RunResult {
  readonly history: History;
  readonly fencedByMove: string[][];
  readonly refused: number;
}

/** Host load through every apparatus while six moves run, a2 stopped during the third; every operation checked. */
async function movesWithStoppedApparatus(cluster: ProcessCluster): Promise<RunResult> {
  const history = new History();
  const clients = new Map<ApparatusId, NbdClient>();
  const connect = (id: ApparatusId): Promise<NbdClient> => cluster.connect(id, "p");
  for (const id of ["a1", "a2", "a3"] as const) clients.set(id, await connect(id));
  let stop = false;
  let refused = 0;
  /** After a refusal: a pause (a fenced apparatus answers at once), and a new connection if this one broke. */
  const recover = async (id: ApparatusId): Promise<void> => {
    refused += 1;
    await new Promise((resolve) => setTimeout(resolve, refusedPauseMs));
    const client = clients.get(id) as NbdClient;
    if (client.requestsInFlight === 0) {
      await client.close().catch(() => undefined);
      clients.set(id, await connect(id));
    }
  };
  let nextValue = 1;
  const writer = async (id: ApparatusId): Promise<void> => {
    while (!stop) {
      const client = clients.get(id) as NbdClient;
      const block = Math.floor(Math.random() * blockCount);
      const value = nextValue++;
      const record = history.beginWrite(block, value, performance.now());
      let acknowledged = false;
      try {
        await client.write(block * blockBytes, stamp(value), false);
        acknowledged = true;
      } catch (error) {
        if (!(error instanceof NbdError)) throw error;
      } finally {
        history.endWrite(record, performance.now(), acknowledged);
      }
      if (!acknowledged) await recover(id);
    }
  };
  const reader = async (id: ApparatusId): Promise<void> => {
    const into = Buffer.alloc(blockBytes);
    while (!stop) {
      const client = clients.get(id) as NbdClient;
      const block = Math.floor(Math.random() * blockCount);
      const startMs = performance.now();
      try {
        await client.read(block * blockBytes, into);
      } catch (error) {
        // A fenced apparatus refuses (ESHUTDOWN): no data, so nothing to check.
        if (!(error instanceof NbdError)) throw error;
        await recover(id);
        continue;
      }
      history.read(block, into.readUInt32BE(0), startMs, performance.now());
    }
  };
  /**
   * Right after a2 resumes: write through a1 to the extent just moved, then
   * read the block through a2. A fenced a2 must refuse; one serving its old
   * table would return the old area's stale bytes.
   */
  const writeThenReadElsewhere = async (extent: number): Promise<void> => {
    const into = Buffer.alloc(blockBytes);
    for (let probe = 0; probe < probesAfterResume; probe += 1) {
      const block = extent * (extentBytes / blockBytes) + probe;
      const value = nextValue++;
      const record = history.beginWrite(block, value, performance.now());
      await (clients.get("a1") as NbdClient).write(block * blockBytes, stamp(value), false);
      history.endWrite(record, performance.now(), true);
      const startMs = performance.now();
      try {
        await (clients.get("a2") as NbdClient).read(block * blockBytes, into);
        history.read(block, into.readUInt32BE(0), startMs, performance.now());
      } catch (error) {
        if (!(error instanceof NbdError)) throw error;
        await recover("a2");
      }
    }
  };
  const load = [writer("a1"), writer("a3"), reader("a2"), reader("a3"), reader("a1")];
  const fencedByMove: string[][] = [];
  for (let move = 0; move < 6; move += 1) {
    const stopped = move === 2;
    if (stopped) process.kill(cluster.pid("a2"), "SIGSTOP");
    const result = await runCli(["volume", "move", "p", "--extent", String(move), "--to", "lu1", "--json", "--endpoint", cluster.controller], 30_000);
    if (stopped) {
      process.kill(cluster.pid("a2"), "SIGCONT");
      await writeThenReadElsewhere(move);
    }
    assertSucceeded(result);
    const change = JSON.parse(result.stdout) as { state: string; fenced: string[] };
    if (change.state !== "committed") throw new Error(`move did not commit: ${describeResult(result)}`);
    fencedByMove.push(change.fenced);
  }
  await cluster.waitUntilServing(["a1", "a2", "a3"]);
  stop = true;
  await Promise.all(load);
  const into = Buffer.alloc(blockBytes);
  for (const client of clients.values()) {
    for (const block of history.writtenBlocks()) {
      await client.read(block * blockBytes, into);
      history.final(block, into.readUInt32BE(0));
    }
  }
  await Promise.all([...clients.values()].map((client) => client.close()));
  return { history, fencedByMove, refused };
}

describe("separate processes", () => {
  it("fence a stopped apparatus, go on without it, and never serve stale data", async () => {
    const result = await movesWithStoppedApparatus(await startCluster(undefined));
    expect(result.fencedByMove).toEqual([[], [], ["a2"], [], [], []]);
    expect(result.history.found(), `${result.refused} requests were refused along the way`).toEqual([]);
  });

  it("are caught serving stale data when the stopped apparatus ignores fencing (a planted bug)", async () => {
    const result = await movesWithStoppedApparatus(await startCluster("ignore-fencing"));
    expect(result.fencedByMove[2]).toEqual(["a2"]);
    expect(result.history.found().length).toBeGreaterThan(0);
  });
});
