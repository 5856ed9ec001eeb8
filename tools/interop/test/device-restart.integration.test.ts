// Goal: the device process can crash and come back while apparatuses serve
// (issue 4): they reconnect to its LUs by themselves, the controller takes
// its lease again, host I/O resumes, a move afterwards commits, and no write
// acknowledged to a host is lost; requests that failed while it was down
// count as possibly done. Method: `device serve` and three `apparatus serve`
// children; the device is killed with SIGKILL and started again on the same
// ports from the same folder while hosts write and read through every
// apparatus under the history checker.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary, deadlineAfter, loadGrpc, type ClusterStatus__Output, type ControllerClient } from "@switchyard/proto";
import { assertSucceeded, runCli } from "./appliance.js";
import { ProcessCluster, apparatusIds, hostBlockBytes, startHostLoad, writersAndReaders, type HostLoad } from "./cluster.js";

const extentBytes = 4 << 20;
const extents = 8;
const blockCount = (extents * extentBytes) / hostBlockBytes;
/** How long hosts run before the crash and after the device is back. */
const loadMs = 1_500;
/** How long the device stays down. */
const downMs = 1_000;
const callTimeoutMs = 30_000;

/** Host I/O counts as flowing again after this long without a failed request. */
const quietMs = 500;
/** Bound on the apparatuses reconnecting and the controller taking its lease again. */
const recoveryMaxMs = 20_000;

let cluster: ProcessCluster | undefined;

function status(client: ControllerClient): Promise<ClusterStatus__Output> {
  return callUnary((done) => client.GetClusterStatus({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
}

/** Resolves once a controller with an epoch above `epoch` has taken over. */
async function untilNewTerm(client: ControllerClient, epoch: number, running: ProcessCluster): Promise<void> {
  const startedMs = performance.now();
  for (;;) {
    const answer = await status(client).catch(() => undefined);
    if ((answer?.controller?.epoch ?? 0) > epoch) return;
    if (performance.now() - startedMs > recoveryMaxMs) throw new Error(`no controller took a new term within ${recoveryMaxMs} ms\n${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

/** Resolves (with the time) once no host request has failed for quietMs. */
async function untilNoFailures(load: HostLoad, running: ProcessCluster): Promise<number> {
  const startedMs = performance.now();
  for (;;) {
    const before = load.failedRequests;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (load.failedRequests === before) return performance.now() - quietMs;
    if (performance.now() - startedMs > recoveryMaxMs) throw new Error(`host I/O still failing ${recoveryMaxMs} ms after the device came back\n${running.stderr()}`);
  }
}
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe("a device process that crashes and comes back", () => {
  it("is reconnected to by every apparatus, and no acknowledged write is lost", async () => {
    const running = await ProcessCluster.start();
    cluster = running;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentBytes) >> 20}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a1")]));
    const controller = new (loadGrpc().switchyard.v1.Controller)(running.grpc("a2"), grpc.credentials.createInsecure());
    const epochBefore = (await status(controller)).controller?.epoch ?? 0;
    const load = await startHostLoad(running, writersAndReaders(apparatusIds), "p", blockCount);
    await new Promise((resolve) => setTimeout(resolve, loadMs));
    const restartedMs = performance.now();
    await running.restartDevice(downMs);
    // The restarted arbiter knows no holder: a controller takes a new term and reloads every apparatus.
    await untilNewTerm(controller, epochBefore, running);
    await running.waitUntilServing(apparatusIds);
    const recoveredMs = await untilNoFailures(load, running);
    const failedWhileDown = load.failedRequests;
    await new Promise((resolve) => setTimeout(resolve, loadMs));
    // I/O flows again: nothing more fails once every apparatus has reconnected.
    expect(load.failedRequests, running.stderr()).toBe(failedWhileDown);
    const move = await callUnary((done) => controller.SubmitChange({ move: { volume: "p", extent_index: 3, to_lu: "lu1" } }, { deadline: deadlineAfter(callTimeoutMs) }, done));
    controller.close();
    expect(move).toMatchObject({ state: "CHANGE_STATE_COMMITTED" });
    await load.stop();
    console.log(`device down ${downMs} ms: host I/O back ${Math.round(recoveredMs - restartedMs)} ms after the kill; ${failedWhileDown} requests failed meanwhile`);
    expect(load.history.found()).toEqual([]);
  });
});
