// Goal: the change protocol across real processes (issue 3): a device, three
// apparatuses (a1 wins the controller lease) each its own process, host I/O
// through all of them, extents moved meanwhile, and one apparatus stopped
// with SIGSTOP during a move. It is fenced, the move commits on the others,
// and once resumed it serves nothing stale: every read through any apparatus
// is checked by the history checker, and it serves the new table after it
// rejoins. The same run with the stopped apparatus built to ignore fencing
// (a planted bug) must be caught serving stale data. Method: `switchyard
// device serve` and `apparatus serve` children on ephemeral ports, our NBD
// client as the hosts, the CLI for the changes.
import { afterEach, describe, expect, it } from "vitest";
import type { History } from "@switchyard/checker";
import { assertSucceeded, describeResult, runCli } from "./appliance.js";
import { ProcessCluster, hostBlockBytes, startHostLoad } from "./cluster.js";

const extentBytes = 4 << 20;
const volumeBytes = 8 * extentBytes;
const blockCount = volumeBytes / hostBlockBytes;
/** Write-then-read probes right after the stopped apparatus resumes. */
const probesAfterResume = 20;
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

interface RunResult {
  readonly history: History;
  readonly fencedByMove: string[][];
  readonly refused: number;
}

/** Host load through every apparatus while six moves run, a2 stopped during the third; every operation checked. */
async function movesWithStoppedApparatus(cluster: ProcessCluster): Promise<RunResult> {
  const load = await startHostLoad(cluster, { writers: ["a1", "a3"], readers: ["a2", "a3", "a1"] }, "p", blockCount);
  /**
   * Right after a2 resumes: write through a1 to the extent just moved, then
   * read the block through a2. A fenced a2 must refuse; one serving its old
   * table would return the old area's stale bytes.
   */
  const writeThenReadElsewhere = async (extent: number): Promise<void> => {
    for (let probe = 0; probe < probesAfterResume; probe += 1) {
      const block = extent * (extentBytes / hostBlockBytes) + probe;
      if (!(await load.writeBlock("a1", block))) throw new Error(`a1 refused a write to block ${block}`);
      await load.readBlock("a2", block);
    }
  };
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
  await load.stop();
  return { history: load.history, fencedByMove, refused: load.failedRequests };
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
