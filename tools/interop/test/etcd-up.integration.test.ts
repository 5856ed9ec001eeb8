// Goal: `switchyard up --etcd URLS` (issue 18) runs the appliance with its
// coordination on an existing etcd cluster, and back-to-back moves go on
// across a SIGKILL of the etcd leader: hosts writing and reading through two
// apparatuses the whole time see no stale read and lose no write, and moves
// commit again after the kill. The same with an etcd follower killed.
// Method: a real three-member etcd (scripts/etcd-cluster.sh through
// startEtcdCluster), one `up --etcd` process with three apparatuses (a0
// leads; hosts on a1 and a2, the history checker's load of cluster.ts),
// moves of one extent at a time between lu0 and lu1 sent to the
// controller; after a few commits the etcd leader is SIGKILLed during the
// next move, and the moves go on (a move refused while etcd elects is sent
// again) until as many more have committed after the kill. Then the table is read from etcd (the volume
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
import { movesSummary } from "./move-outcomes.js";

const extents = 4;
const blockCount = (extents * extentSizeBytes) / hostBlockBytes;
/** Moves that must commit before the kill, and again after it. */
const commitsEachSide = 4;
const changeTimeoutMs = 20_000;
/** Time for the moves after the kill: etcd elects within about 2 s; the controller's 6 s term outlasts that. */
const afterKillMs = 30_000;
const retryPauseMs = 250;
/** A move takes a few hundred milliseconds: the kill lands inside the one after the last counted commit. */
const killDelayMs = 100;
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

/** Moves extent `extent` to the LU it is not on; resolves with the change, committed or not, or with the error the call got (a run that fails says what the controller answered). */
function moveOnce(controller: ControllerClient, extent: number, to: string): Promise<ChangeInfo__Output | string> {
  return callUnary<ChangeInfo__Output>((done) =>
    controller.SubmitChange({ move: { volume: "p", extent_index: extent, to_lu: to } }, { deadline: deadlineAfter(changeTimeoutMs) }, done),
  ).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
}

interface MoveLog {
  readonly outcomes: string[];
  /** When each committed move was answered. */
  readonly committedAtMs: number[];
}

/** Moves extents back and forth, one at a time, until `enough` says so or `withinMs` has passed. */
async function moveUntil(controller: ControllerClient, enough: (log: MoveLog) => boolean, withinMs: number): Promise<MoveLog> {
  const onLu = Array.from({ length: extents }, () => "lu0");
  const log: MoveLog = { outcomes: [], committedAtMs: [] };
  const deadlineMs = performance.now() + withinMs;
  for (let move = 0; !enough(log); move += 1) {
    if (performance.now() > deadlineMs) throw new Error(`moves did not get there within ${withinMs} ms: ${movesSummary(log.outcomes)}`);
    const extent = move % extents;
    const to = onLu[extent] === "lu0" ? "lu1" : "lu0";
    const change = await moveOnce(controller, extent, to);
    log.outcomes.push(typeof change === "string" ? change : `${change.state} ${change.message}`.trim());
    if (typeof change !== "string" && change.state === "CHANGE_STATE_COMMITTED") {
      onLu[extent] = to;
      log.committedAtMs.push(performance.now());
    } else {
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  }
  return log;
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

/** The kill of the etcd leader, once it happened. */
interface Kill {
  name?: string;
  /** The etcd member's own name, as `cluster status` lists it. */
  member?: string;
  atMs?: number;
}

type Victim = "leader" | "follower";

/** SIGKILLs the etcd leader, or a follower, a moment from now, in the middle of the next move, and notes it in `kill`. */
async function killMemberSoon(cluster: EtcdTestCluster, victim: Victim, kill: Kill): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, killDelayMs));
  const leader = await cluster.leader();
  const member = victim === "leader" ? leader : cluster.members.find((candidate) => candidate.alive && candidate !== leader);
  if (member === undefined) throw new Error("no live follower to kill");
  cluster.kill(member);
  kill.name = `${victim} ${member.name}`;
  kill.member = member.name;
  kill.atMs = performance.now();
}

interface CoordinationJson {
  readonly backend: string;
  readonly members: readonly { readonly name: string; readonly healthy: boolean; readonly leader: boolean }[];
}

/** `cluster status` shows etcd with its three members: the one killed unhealthy, one of the others the leader. */
async function expectCoordinationStatus(controllerAddress: string, killed: string): Promise<void> {
  const result = await runCli(["cluster", "status", "--json", "--endpoint", controllerAddress]);
  assertSucceeded(result);
  const { coordination } = JSON.parse(result.stdout) as { coordination: CoordinationJson };
  expect(coordination.backend).toBe("etcd");
  expect(coordination.members).toHaveLength(3);
  expect(coordination.members.filter((member) => !member.healthy).map((member) => member.name)).toEqual([killed]);
  expect(coordination.members.filter((member) => member.leader && member.healthy)).toHaveLength(1);
}

describe("switchyard up --etcd", () => {
  it.each<[Victim]>([["leader"], ["follower"]])("keeps moving extents under host I/O when the etcd %s is SIGKILLed", async (victim) => {
    const cluster = await startEtcdCluster();
    etcd = cluster;
    appliance = await Appliance.start({ apparatusCount: 3, extraArgs: ["--lu-size", "64MiB", "--etcd", cluster.endpoints.join(",")], plain: true });
    const { endpoints } = appliance;
    const controllerAddress = endpoints.controller.grpc;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", "lu0", "--endpoint", controllerAddress]));
    const nbdOf = (id: ApparatusId): string => endpoints.apparatuses.find((apparatus) => apparatus.id === id)?.nbd ?? "";
    const load = await startHostLoad({ connect: (id, exportName) => connectHost(nbdOf(id), exportName) }, writersAndReaders(["a1", "a2"]), "p", blockCount);
    const controller = new (loadGrpc().switchyard.v1.Controller)(controllerAddress, grpc.credentials.createInsecure());
    try {
      // The kill comes while the moves go on, not between two runs of them.
      const kill: Kill = {};
      let killing: Promise<void> | undefined;
      const log = await moveUntil(controller, ({ committedAtMs }) => {
        if (killing === undefined && committedAtMs.length >= commitsEachSide) killing = killMemberSoon(cluster, victim, kill);
        const { atMs } = kill;
        return atMs !== undefined && committedAtMs.filter((committedMs) => committedMs > atMs).length >= commitsEachSide;
      }, 2 * afterKillMs);
      await killing;
      console.log(`etcd ${kill.name ?? "?"} killed after ${commitsEachSide} commits; moves: ${movesSummary(log.outcomes)}`);
      await expectCoordinationStatus(controllerAddress, kill.member ?? "");
    } finally {
      controller.close();
    }
    await load.stop();
    expect(load.history.found()).toEqual([]);
    expect(load.history.writtenBlocks().length).toBeGreaterThan(0);
    await expectTableOnEtcdOnly(cluster, appliance);
  }, testTimeoutMs);
});
