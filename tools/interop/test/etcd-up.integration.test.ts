// Goal: `switchyard up --etcd URLS` (issue 18) runs the appliance with its
// coordination on an existing etcd cluster, and back-to-back moves go on
// across a SIGKILL of the etcd leader: hosts writing and reading through two
// apparatuses the whole time see no stale read and lose no write, and moves
// commit again after the kill.
// Method: a real three-member etcd (scripts/etcd-cluster.sh through
// startEtcdCluster), one `up --etcd` process with three apparatuses (a0
// leads; hosts on a1 and a2, the history checker's load of cluster.ts),
// moves of one extent at a time between lu0 and lu1 sent to the
// controller; after a few commits the etcd leader is SIGKILLed, and the
// moves go on (a move refused while etcd elects is sent again) until as
// many more have committed. Then the table is read from etcd (the volume
// and every committed move are there) and from the device's own store,
// which must have none of it: the device was storage only.
import * as grpc from "@grpc/grpc-js";
import { etcdCoordination } from "@switchyard/coordination";
import { etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { StorageDevice } from "@switchyard/device";
import { callUnary, deadlineAfter, loadGrpc, type ChangeInfo__Output, type ControllerClient } from "@switchyard/proto";
import { afterEach, describe, expect, it } from "vitest";
import { Appliance, assertSucceeded, extentSizeBytes, mebibyte, runCli } from "./appliance.js";
import { connectHost, hostBlockBytes, startHostLoad, writersAndReaders, type ApparatusId } from "./cluster.js";

const extents = 4;
const blockCount = (extents * extentSizeBytes) / hostBlockBytes;
/** Moves that must commit before the kill, and again after it. */
const commitsEachSide = 4;
const changeTimeoutMs = 20_000;
/** Time for the moves after the kill: etcd elects within about 2 s; the controller's 6 s term outlasts that. */
const afterKillMs = 30_000;
const retryPauseMs = 250;
const testTimeoutMs = 90_000;

let etcd: EtcdTestCluster | undefined;
let appliance: Appliance | undefined;
afterEach(async () => {
  await appliance?.stop();
  await appliance?.dispose();
  appliance = undefined;
  await etcd?.stop();
  etcd = undefined;
}, etcdClusterStopTimeoutMs);

/** Moves extent `extent` to the LU it is not on; resolves with the change, committed or not, or undefined when no answer came. */
function moveOnce(controller: ControllerClient, extent: number, to: string): Promise<ChangeInfo__Output | undefined> {
  return callUnary<ChangeInfo__Output>((done) =>
    controller.SubmitChange({ move: { volume: "p", extent_index: extent, to_lu: to } }, { deadline: deadlineAfter(changeTimeoutMs) }, done),
  ).catch(() => undefined);
}

/** Moves extents back and forth until `count` more have committed, or `withinMs` has passed; resolves with the outcomes seen. */
async function commitMoves(controller: ControllerClient, onLu: string[], count: number, withinMs: number): Promise<string[]> {
  const outcomes: string[] = [];
  const deadlineMs = performance.now() + withinMs;
  let committed = 0;
  for (let move = 0; committed < count; move += 1) {
    if (performance.now() > deadlineMs) throw new Error(`${committed} of ${count} moves committed within ${withinMs} ms: ${outcomes.join(", ")}`);
    const extent = move % extents;
    const to = onLu[extent] === "lu0" ? "lu1" : "lu0";
    const change = await moveOnce(controller, extent, to);
    outcomes.push(change === undefined ? "unanswered" : `${change.state} ${change.message}`.trim());
    if (change?.state === "CHANGE_STATE_COMMITTED") {
      onLu[extent] = to;
      committed += 1;
    } else {
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  }
  return outcomes;
}

/** The volume and the committed moves are in etcd's store under up's prefix; the device's own store has no volume. */
async function expectTableOnEtcdOnly(cluster: EtcdTestCluster, running: Appliance): Promise<void> {
  const reader = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: "switchyard/", now: () => performance.now() });
  try {
    const { state } = await reader.readStore();
    expect(state.volumes.map((volume) => volume.name)).toEqual(["p"]);
    const moves = state.journal.filter((entry) => entry.kind === "move" && entry.state === "CHANGE_STATE_COMMITTED");
    expect(moves.length).toBeGreaterThanOrEqual(2 * commitsEachSide);
  } finally {
    await reader.close();
  }
  await running.stop();
  const device = await StorageDevice.open({ dir: running.dir });
  try {
    expect(device.readStore().state.volumes).toEqual([]);
  } finally {
    await device.close();
  }
}

describe("switchyard up --etcd", () => {
  it("keeps moving extents under host I/O when the etcd leader is SIGKILLed", async () => {
    etcd = await startEtcdCluster();
    appliance = await Appliance.start({ apparatusCount: 3, extraArgs: ["--lu-size", "64MiB", "--etcd", etcd.endpoints.join(",")] });
    const { endpoints } = appliance;
    const controllerAddress = endpoints.controller.grpc;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", "lu0", "--endpoint", controllerAddress]));
    const nbdOf = (id: ApparatusId): string => endpoints.apparatuses.find((apparatus) => apparatus.id === id)?.nbd ?? "";
    const load = await startHostLoad({ connect: (id, exportName) => connectHost(nbdOf(id), exportName) }, writersAndReaders(["a1", "a2"]), "p", blockCount);
    const controller = new (loadGrpc().switchyard.v1.Controller)(controllerAddress, grpc.credentials.createInsecure());
    try {
      const onLu = Array.from({ length: extents }, () => "lu0");
      const before = await commitMoves(controller, onLu, commitsEachSide, afterKillMs);
      const leader = await etcd.leader();
      etcd.kill(leader);
      const killedAtMs = performance.now();
      const after = await commitMoves(controller, onLu, commitsEachSide, afterKillMs);
      console.log(`etcd leader ${leader.name} killed; before: ${before.join(" | ")}; after (${Math.round(performance.now() - killedAtMs)} ms): ${after.join(" | ")}`);
    } finally {
      controller.close();
    }
    await load.stop();
    expect(load.history.found()).toEqual([]);
    expect(load.history.writtenBlocks().length).toBeGreaterThan(0);
    await expectTableOnEtcdOnly(etcd, appliance);
  }, testTimeoutMs);
});
