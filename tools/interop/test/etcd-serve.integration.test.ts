// Goal: `device serve --etcd` and `apparatus serve --etcd` (issue 18) run the
// parts as separate processes coordinated on etcd, and the controller's
// failover holds up across processes: (a) SIGKILL of the apparatus process
// that holds the controller (the followers find its address refusing
// connections and end its term at etcd, not waiting it out), and (b) a partition of the controller from etcd
// by SIGSTOP of its process. In both a successor in another process commits
// further moves while hosts write and read through the surviving
// apparatuses, and the history checker finds no stale read and no lost
// write. In (b), after SIGCONT the old controller stops acting (it says so,
// and its own Controller service refuses a change: it does not hold the
// lease), and no write under its token landed after the successor's: the
// committed journal, in generation order, never goes back to a lower epoch.
// Every part publishes "localhost" (--publish-host) while listening on
// 127.0.0.1: etcd's directory and the LUs' URIs name it, and the cluster
// works through those addresses.
// Method: a real three-member etcd (scripts/etcd-cluster.sh), one device and
// three apparatuses (a1, a2, a3) each its own process of the built CLI, the
// apparatuses given only the etcd URLs (they find the device there); the
// controller's apparatus read from `cluster status --json`; moves of one
// extent at a time sent through a surviving apparatus's forwarding, the
// fault landing inside one of them; the journal read back from etcd.
import * as grpc from "@grpc/grpc-js";
import { etcdCoordination, etcdDirectory } from "@switchyard/coordination";
import { eventRecordKind } from "@switchyard/controller";
import { startEtcdCluster, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { callUnary, deadlineAfter, loadGrpc, type ChangeInfo__Output, type ControllerClient } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { assertSucceeded, mebibyte, runCli } from "./appliance.js";
import { etcdCaseParts } from "./etcd-case.js";
import { movesSummary } from "./move-outcomes.js";
import { ProcessCluster, apparatusIds, hostBlockBytes, startHostLoad, writersAndReaders, type ApparatusId } from "./cluster.js";

const extents = 4;
/** Small extents: the hosts' final read-back of every written block, through each apparatus, stays short. */
const extentSizeBytes = mebibyte;
const blockCount = (extents * extentSizeBytes) / hostBlockBytes;
/** Moves that must commit before the fault, and again after it. */
const commitsEachSide = 3;
/**
 * One move's answer: a move takes a few hundred milliseconds; a call
 * forwarded to a stopped controller gets no answer, and is sent again (a
 * move that committed unanswered is then found done).
 */
const moveTimeoutMs = 2_500;
/** The successor campaigns as etcd ends the 3 s term (its watch), or at a step a third of a term later: within about 5 s. */
const afterFaultMs = 20_000;
const retryPauseMs = 200;
/** A move takes a few hundred milliseconds: the fault lands inside the one after the last counted commit. */
const faultDelayMs = 100;
/** What a follower says when it ends a dead holder's term (holder-watch.ts), and how soon after the successor is known. */
const deadHolderEnded = /refuses connections: its process is gone, so its term ends now/;
const deadHolderSeenMs = 5_000;
/** The resumed controller's next tick (a third of its term) finds its term over. */
const stepDownWithinMs = 10_000;
/** About 22 s a case on an idle 2-core machine; twice that under a parallel build (seen: 43 s at a load average of 30). */
const testTimeoutMs = 60_000;

const started = etcdCaseParts();

interface ControllerSeen {
  readonly id: ApparatusId;
  readonly epoch: number;
}

/** The controller as `cluster status --json` through `via` names it. */
async function controllerOf(running: ProcessCluster, via: ApparatusId): Promise<ControllerSeen> {
  const result = await runCli(["cluster", "status", "--json", "--endpoint", running.grpc(via)]);
  assertSucceeded(result);
  const { controller } = JSON.parse(result.stdout) as { controller: { id: string; epoch: number } | null };
  const id = apparatusIds.find((candidate) => candidate === controller?.id);
  if (controller === null || id === undefined) throw new Error(`no controller among ${apparatusIds.join(", ")}: ${result.stdout}`);
  return { id, epoch: controller.epoch };
}

/** Sends one move; resolves with its answer, or what the refusal said (the move is then sent again). */
function moveOnce(controller: ControllerClient, extent: number, to: string): Promise<ChangeInfo__Output | string> {
  return callUnary<ChangeInfo__Output>((done) =>
    controller.SubmitChange({ move: { volume: "p", extent_index: extent, to_lu: to } }, { deadline: deadlineAfter(moveTimeoutMs) }, done),
  ).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
}

interface MoveRun {
  readonly outcomes: string[];
  /** When each committed move was answered. */
  readonly committedAtMs: number[];
  /** When the fault was made. */
  faultAtMs?: number;
}

/**
 * Moves extents back and forth through `controller` (a survivor's
 * forwarding), one at a time; after commitsEachSide commits `fault` runs a
 * moment into the next move, and the run ends once as many more committed.
 */
async function movesAcross(controller: ControllerClient, fault: () => Promise<void>): Promise<MoveRun> {
  const onLu = Array.from({ length: extents }, () => "lu0");
  const run: MoveRun = { outcomes: [], committedAtMs: [] };
  let faulting: Promise<void> | undefined;
  const deadlineMs = performance.now() + afterFaultMs + testTimeoutMs / 3;
  const committedAfter = (): number => run.committedAtMs.filter((atMs) => run.faultAtMs !== undefined && atMs > run.faultAtMs).length;
  for (let move = 0; committedAfter() < commitsEachSide; move += 1) {
    if (performance.now() > deadlineMs) throw new Error(`moves did not get there in time: ${movesSummary(run.outcomes)}`);
    if (faulting === undefined && run.committedAtMs.length >= commitsEachSide) {
      faulting = new Promise((resolve) => setTimeout(resolve, faultDelayMs)).then(fault).then(() => {
        run.faultAtMs = performance.now();
      });
    }
    const extent = move % extents;
    const to = onLu[extent] === "lu0" ? "lu1" : "lu0";
    const change = await moveOnce(controller, extent, to);
    run.outcomes.push(typeof change === "string" ? change : `${change.state} ${change.message}`.trim());
    if (typeof change !== "string" && change.state === "CHANGE_STATE_COMMITTED") {
      onLu[extent] = to;
      run.committedAtMs.push(performance.now());
    } else if (typeof change === "string" && change.includes(`already on ${to}`)) {
      // A move unanswered across the fault had committed (its commit point is etcd's): not counted, the extent is there.
      onLu[extent] = to;
    } else {
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  }
  await faulting;
  return run;
}

/** The host every part publishes (--publish-host), another name than the 127.0.0.1 they listen on. */
const publishHost = "localhost";

/** Every address in etcd's directory and every LU's NBD URI in its store names the published host. */
async function expectPublishedHost(cluster: EtcdTestCluster): Promise<void> {
  const directory = etcdDirectory({ endpoints: cluster.endpoints, keyPrefix: "switchyard/" });
  const reader = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: "switchyard/", now: () => performance.now() });
  try {
    const devices = await directory.devices();
    const { state } = await reader.readStore();
    const addresses = [...devices.flatMap((record) => [record.grpc, record.nbd]), ...state.apparatuses.flatMap((record) => [record.grpc, record.nbd])];
    expect(addresses.length).toBe(2 + 2 * apparatusIds.length);
    for (const address of addresses) expect(address).toMatch(new RegExp(`^${publishHost}:[0-9]+$`));
    for (const lu of state.lus) expect(lu.nbd_uri).toMatch(new RegExp(`^nbd://${publishHost}:[0-9]+/`));
  } finally {
    await reader.close();
    await directory.close();
  }
}

/** Three processes on a fresh etcd, volume p on lu0, hosts on the two apparatuses that do not hold the controller. */
async function startWithHosts(): Promise<{ coordinator: EtcdTestCluster; running: ProcessCluster; leader: ControllerSeen; survivors: ApparatusId[]; controller: ControllerClient }> {
  const coordinator = await startEtcdCluster();
  started.etcd = coordinator;
  const running = await ProcessCluster.start({
    etcd: coordinator.endpoints,
    luSize: "16MiB",
    // Published under another name than the listen address: everything reaches the parts as etcd names them.
    deviceArgs: ["--extent-size", "1MiB", "--publish-host", publishHost],
    // The controller on the apparatus's own thread: a worker thread's start costs seconds of the case's budget on a
    // loaded 2-core machine, and SIGKILL and SIGSTOP take the whole process either way.
    extraArgs: Object.fromEntries(apparatusIds.map((id) => [id, ["--processors", "1", "--publish-host", publishHost]])),
  });
  started.cluster = running;
  assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentSizeBytes) / mebibyte}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a1")]));
  const leader = await controllerOf(running, "a1");
  const survivors = apparatusIds.filter((id) => id !== leader.id);
  const [via = "a1"] = survivors;
  const controller = new (loadGrpc().switchyard.v1.Controller)(running.grpc(via), grpc.credentials.createInsecure());
  return { coordinator, running, leader, survivors, controller };
}

/**
 * Committed journal entries in generation order never go back to a lower
 * epoch: no deposed controller committed after its successor. Event records
 * (a fence, a rejoin) are not changes: they carry generation 0 and the epoch
 * of whoever recorded them, so a successor's would sort before every change.
 */
async function expectEpochsNeverFall(cluster: EtcdTestCluster): Promise<number[]> {
  const reader = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: "switchyard/", now: () => performance.now() });
  try {
    const { state } = await reader.readStore();
    const committed = state.journal.filter((entry) => entry.state === "CHANGE_STATE_COMMITTED" && entry.kind !== eventRecordKind)
      .sort((left, right) => left.base_generation - right.base_generation);
    const epochs = committed.map((entry) => entry.epoch);
    expect(epochs).toEqual([...epochs].sort((left, right) => left - right));
    return epochs;
  } finally {
    await reader.close();
  }
}

describe("device serve and apparatus serve on etcd", () => {
  it("a successor in another process commits after SIGKILL of the controller's apparatus", async () => {
    const { coordinator, running, leader, survivors, controller } = await startWithHosts();
    await expectPublishedHost(coordinator);
    const load = await startHostLoad(running, writersAndReaders(survivors), "p", blockCount);
    try {
      const run = await movesAcross(controller, () => running.signal(leader.id, "SIGKILL"));
      const firstAfterMs = (run.committedAtMs.find((atMs) => atMs > (run.faultAtMs ?? 0)) ?? 0) - (run.faultAtMs ?? 0);
      console.log(`SIGKILL of ${leader.id} (controller): first commit after it in ${Math.round(firstAfterMs)} ms; moves: ${movesSummary(run.outcomes)}`);
      const successor = await controllerOf(running, survivors[0] ?? "a1");
      expect(survivors).toContain(successor.id);
      expect(successor.epoch).toBeGreaterThan(leader.epoch);
      // The followers saw the dead holder's address refuse connections and ended its term, rather than wait it out.
      await Promise.any(survivors.map((id) => running.waitForStderr(id, deadHolderEnded, deadHolderSeenMs)));
    } finally {
      controller.close();
    }
    await load.stop();
    expect(load.history.found(), `${load.failedRequests} requests were refused along the way`).toEqual([]);
    expect(load.history.writtenBlocks().length).toBeGreaterThan(0);
  }, testTimeoutMs);

  it("a successor commits while the controller's process is stopped; resumed, the old one stops acting", async () => {
    const { coordinator, running, leader, survivors, controller } = await startWithHosts();
    const load = await startHostLoad(running, writersAndReaders(survivors), "p", blockCount);
    try {
      const run = await movesAcross(controller, () => running.signal(leader.id, "SIGSTOP"));
      console.log(`SIGSTOP of ${leader.id} (controller); moves: ${movesSummary(run.outcomes)}`);
      const successor = await controllerOf(running, survivors[0] ?? "a1");
      expect(survivors).toContain(successor.id);
      await running.signal(leader.id, "SIGCONT");
      await running.waitForStderr(leader.id, new RegExp(`controller ${leader.id} stops acting`), stepDownWithinMs);
      // Its own Controller service, not a forwarder: it knows it does not lead.
      const deposed = new (loadGrpc().switchyard.v1.Controller)(running.candidate(leader.id), grpc.credentials.createInsecure());
      try {
        const refusal = await moveOnce(deposed, 0, "lu1");
        expect(refusal).toMatch(/does not hold the controller lease/);
      } finally {
        deposed.close();
      }
    } finally {
      controller.close();
    }
    await load.stop();
    expect(load.history.found(), `${load.failedRequests} requests were refused along the way`).toEqual([]);
    const epochs = await expectEpochsNeverFall(coordinator);
    expect(epochs.some((epoch) => epoch > leader.epoch)).toBe(true);
  }, testTimeoutMs);
});
