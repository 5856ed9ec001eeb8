// Goal: several storage devices on one etcd prefix (issue 18), so that
// SIGKILL of one device stops only I/O to the volumes with extents on it:
// the other device's volume, under host I/O and being moved between that
// device's LUs, goes on with no error for its hosts, its moves go on
// committing, and the history checker finds no stale read and no lost
// write; the dead device's volume answers EIO, promptly (never a hang, and
// never ESHUTDOWN: no apparatus is out of contact).
// Method: a real three-member etcd (scripts/etcd-cluster.sh); `device serve
// --etcd` (dev0, LUs lu0 and lu1, which seeds etcd) and `device serve --id
// d2 --etcd` (LUs d2-lu0 and d2-lu1, which the controller adds to the
// table from d2's record in etcd's directory); three `apparatus serve
// --etcd` given only the URLs. Volume p on lu0 with writer and reader hosts
// through a1; volume q on d2-lu0 with writers and readers through a2 and
// a3; q's extents moved one at a time between d2-lu0 and d2-lu1 through
// a1's forwarding to the controller (on a1). After a few commits dev0 is
// SIGKILLed inside a move; as many more must commit. Then p is read on a
// fresh connection under a time bound. Twice: with the second device named
// d2, which sorts first, so the apparatuses name d2 as their device and the
// dead one is not theirs; and named dev1, which sorts after dev0, so the
// device the apparatuses and their controller candidates were started with
// is the one that dies (only the routing by LU keeps q going).
import * as grpc from "@grpc/grpc-js";
import { startEtcdCluster } from "@switchyard/coordination/testing";
import { NbdError } from "@switchyard/nbd";
import { callUnary, deadlineAfter, loadGrpc, type ChangeInfo__Output, type ControllerClient } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { assertSucceeded, mebibyte, runCli } from "./appliance.js";
import { etcdCaseParts } from "./etcd-case.js";
import { ProcessCluster, apparatusIds, hostBlockBytes, startHostLoad } from "./cluster.js";

const extents = 4;
const extentSizeBytes = mebibyte;
const blockCount = (extents * extentSizeBytes) / hostBlockBytes;
/** Moves of q that must commit before the kill, and again after it. */
const commitsEachSide = 3;
/** One move's answer: a move of a 1 MiB extent takes a few hundred milliseconds. */
const moveTimeoutMs = 5_000;
const retryPauseMs = 200;
/** The kill lands a moment into the move after the last counted commit. */
const killDelayMs = 100;
/** The moves after the kill must get there within this (they take about a second each on a loaded machine). */
const movesAfterKillMs = 20_000;
/** d2's LUs are in the table one look-after (a third of the 3 s term) after the controller reads d2's record. */
const devicesAdoptedWithinMs = 15_000;
/** A read of the dead device's volume must end (EIO) within this: a hang would hold it to the host's 30 s timeout. */
const deadVolumeAnswerMs = 5_000;
/** Starting etcd, two devices and three apparatuses takes 15 to 25 s on a loaded 2-core machine; the moves 10 s more. */
const testTimeoutMs = 90_000;

const started = etcdCaseParts();

/** The code a request's error carries: an NBD errno name, or the error's message. */
function codeOf(error: unknown): string {
  if (error instanceof NbdError) return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Creates q on the second device's first LU once the controller has added its LUs to the table; until then the LU is unknown (NOT_FOUND). */
async function createOnSecondDevice(running: ProcessCluster, lus: SecondLus): Promise<void> {
  const deadlineMs = performance.now() + devicesAdoptedWithinMs;
  for (;;) {
    const result = await runCli(["volume", "create", "q", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", lus[0], "--endpoint", running.grpc("a1")]);
    if (result.exitCode === 0) return;
    if (performance.now() > deadlineMs) assertSucceeded(result);
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
  }
}

function moveOnce(controller: ControllerClient, extent: number, to: string, volume = "q"): Promise<ChangeInfo__Output | string> {
  return callUnary<ChangeInfo__Output>((done) =>
    controller.SubmitChange({ move: { volume, extent_index: extent, to_lu: to } }, { deadline: deadlineAfter(moveTimeoutMs) }, done),
  ).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
}

/** The second device's two LUs. */
type SecondLus = readonly [string, string];

/** Moves q's extents back and forth between the second device's LUs; after commitsEachSide commits `kill` runs inside the next move, then as many more must commit. */
async function movesAcrossKill(controller: ControllerClient, lus: SecondLus, kill: () => Promise<void>): Promise<{ outcomes: string[]; killedAtMs: number }> {
  const onLu = Array.from({ length: extents }, () => lus[0]);
  const outcomes: string[] = [];
  let committed = 0;
  let killing: Promise<number> | undefined;
  let killedAtMs: number | undefined;
  for (let move = 0; committed < 2 * commitsEachSide || killing === undefined; move += 1) {
    if (killedAtMs !== undefined && performance.now() - killedAtMs > movesAfterKillMs) throw new Error(`moves after the kill did not commit in time: ${outcomes.join(" | ")}`);
    if (killing === undefined && committed >= commitsEachSide) {
      killing = new Promise((resolve) => setTimeout(resolve, killDelayMs)).then(kill).then(() => performance.now());
      void killing.then((atMs) => { killedAtMs = atMs; });
    }
    const extent = move % extents;
    const to = onLu[extent] === lus[0] ? lus[1] : lus[0];
    const change = await moveOnce(controller, extent, to);
    outcomes.push(typeof change === "string" ? change.slice(0, 160) : change.state);
    if (typeof change !== "string" && change.state === "CHANGE_STATE_COMMITTED") {
      onLu[extent] = to;
      // Counted after the kill only once it has happened: a commit racing the kill counts before it.
      if (committed < commitsEachSide || killedAtMs !== undefined) committed += 1;
    } else {
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  }
  return { outcomes, killedAtMs: await killing };
}

/** Reads p's first block on a fresh connection through `id`, bounded: "read", an errno name, or "no answer". */
async function readDeadVolume(running: ProcessCluster, id: (typeof apparatusIds)[number]): Promise<string> {
  const host = await running.connect(id, "p");
  const bound = new Promise<string>((resolve) => setTimeout(() => { resolve("no answer"); }, deadVolumeAnswerMs));
  try {
    return await Promise.race([host.read(0, Buffer.alloc(hostBlockBytes)).then(() => "read", codeOf), bound]);
  } finally {
    await host.close().catch(() => undefined);
  }
}

describe("two devices on one etcd prefix", () => {
  it.each(["d2", "dev1"])("SIGKILL of dev0 beside %s: the other's volume keeps serving and moving, the dead one's answers EIO", async (secondId) => {
    const lus: SecondLus = [`${secondId}-lu0`, `${secondId}-lu1`];
    const startedAtMs = performance.now();
    const coordinator = await startEtcdCluster();
    started.etcd = coordinator;
    const running = await ProcessCluster.start({
      etcd: coordinator.endpoints,
      moreDevices: [secondId],
      luSize: "16MiB",
      deviceArgs: ["--extent-size", "1MiB"],
      extraArgs: Object.fromEntries(apparatusIds.map((id) => [id, ["--processors", "1"]])),
    });
    started.cluster = running;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a1")]));
    await createOnSecondDevice(running, lus);
    const onDead = await startHostLoad(running, { writers: ["a1"], readers: ["a1"] }, "p", blockCount);
    const onSurvivor = await startHostLoad(running, { writers: ["a2", "a3"], readers: ["a2", "a3"] }, "q", blockCount);
    const controller = new (loadGrpc().switchyard.v1.Controller)(running.grpc("a1"), grpc.credentials.createInsecure());
    const startMs = performance.now();
    let run: { outcomes: string[]; killedAtMs: number };
    try {
      run = await movesAcrossKill(controller, lus, async () => { await running.killDevice(); });
    } finally {
      controller.close();
    }
    await onDead.end();
    const codes = Object.fromEntries(await Promise.all(apparatusIds.map(async (id) => [id, await readDeadVolume(running, id)] as const)));
    await onSurvivor.stop();
    const ms = (fromMs: number, toMs: number): number => Math.round(toMs - fromMs);
    console.log(`start ${ms(startedAtMs, startMs)} ms, kill ${ms(startMs, run.killedAtMs)} ms into the moves, moves ${ms(startMs, performance.now())} ms; ` +
      `p after the kill: ${JSON.stringify(codes)}, ${onDead.failedRequests} of its host requests failed; moves: ${run.outcomes.join(" | ")}`);
    expect(onSurvivor.history.found(), running.stderr()).toEqual([]);
    expect(onSurvivor.failedRequests, "q's hosts saw an error").toBe(0);
    expect(onSurvivor.history.writtenBlocks().length).toBeGreaterThan(0);
    expect(onDead.history.found()).toEqual([]);
    expect(codes).toEqual(Object.fromEntries(apparatusIds.map((id) => [id, "EIO"])));
    const states = await running.apparatusStates("a1");
    for (const id of apparatusIds) expect(states.get(id), `apparatus ${id}`).toBe("APPARATUS_STATUS_SERVING");
  }, testTimeoutMs);

  it("moves a volume's extents from one device to the other and back under host I/O, losing nothing", async () => {
    const coordinator = await startEtcdCluster();
    started.etcd = coordinator;
    const running = await ProcessCluster.start({
      etcd: coordinator.endpoints,
      moreDevices: ["d2"],
      luSize: "16MiB",
      deviceArgs: ["--extent-size", "1MiB"],
      extraArgs: Object.fromEntries(apparatusIds.map((id) => [id, ["--processors", "1"]])),
    });
    started.cluster = running;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a1")]));
    const load = await startHostLoad(running, { writers: ["a2", "a3"], readers: ["a2", "a3"] }, "p", blockCount);
    const controller = new (loadGrpc().switchyard.v1.Controller)(running.grpc("a1"), grpc.credentials.createInsecure());
    const outcomes: string[] = [];
    try {
      // d2's LUs join the table at a look-after: a move there is refused until then.
      const deadlineMs = performance.now() + devicesAdoptedWithinMs;
      for (const to of ["d2-lu0", "lu1"]) {
        for (let extent = 0; extent < extents; extent += 1) {
          let change = await moveOnce(controller, extent, to, "p");
          while (typeof change === "string" && performance.now() < deadlineMs) {
            await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
            change = await moveOnce(controller, extent, to, "p");
          }
          outcomes.push(typeof change === "string" ? change.slice(0, 160) : `${change.state} ${change.summary} ${change.message}`);
          expect(typeof change === "string" ? change : change.state, outcomes.join(" | ")).toBe("CHANGE_STATE_COMMITTED");
        }
      }
    } finally {
      controller.close();
    }
    await load.stop();
    console.log(`moves between devices: ${outcomes.join(" | ")}`);
    expect(load.history.found(), running.stderr()).toEqual([]);
    expect(load.failedRequests, "p's hosts saw an error").toBe(0);
    expect(load.history.writtenBlocks().length).toBeGreaterThan(0);
  }, testTimeoutMs);
});
