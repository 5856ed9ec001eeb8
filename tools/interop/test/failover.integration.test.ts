// Goal: the controller is elected among the apparatuses, and its loss stops
// nothing for long (issue 4, claims 9-12): killing the apparatus process that
// holds the lease, idle or in the middle of a move, lets another take over
// within seconds; the interrupted change ends the same way on every
// apparatus, no hold is left behind, later changes commit, and hosts writing
// and reading through the survivors see no stale read and lose no write.
// Method: `device serve` and three `apparatus serve` children (every one a
// candidate; a1 wins first), our NBD client as the hosts on a2 and a3 under
// the history checker, changes sent to the Controller service through a2.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary, deadlineAfter, loadGrpc, type ChangeInfo__Output, type ClusterStatus__Output, type ControllerClient } from "@switchyard/proto";
import { assertSucceeded, runCli } from "./appliance.js";
import { ProcessCluster, startHostLoad, writersAndReaders, type ApparatusId } from "./cluster.js";

const blockBytes = 4096;
const extentBytes = 4 << 20;
const extents = 8;
const blockCount = (extents * extentBytes) / blockBytes;
const survivors = ["a2", "a3"] as const;
/** A successor must act within this: the lease (6 s) runs out, then the next campaign step (2 s) takes it. */
const takeoverMaxMs = 15_000;
const callTimeoutMs = 10_000;
/** Long enough for a1 to have stopped itself in the middle of a move. */
const stoppedMidChangeMs = 1_500;
/** A deposed controller answers its change once resumed: after the takeover and a phase timeout. */
const deposedAnswerMs = 40_000;
/** Between attempts to reach a controller while none holds the lease. */
const retryPauseMs = 100;
/**
 * Where a1's controller kills its own process during a move
 * (the test build's `--test-crash-at`), in the move's first change (the one that puts the
 * extent in mirror state), and which apparatus that change was left on: a
 * successor must roll that change back before its commit and forward after
 * it. The move itself is journaled before its first change, so the successor
 * then finishes it, as it does a migration: mirror and switch, two
 * generations up.
 */
const crashes = [
  { point: "before-hold", leftOn: "" },
  { point: "after-hold", leftOn: "a2 was held" },
  { point: "after-apply", leftOn: "a2 was applied" },
  { point: "after-commit", leftOn: "" },
  { point: "during-release", leftOn: "" },
] as const;
/** Generations a move takes: its mirror change and its switch change. */
const generationsPerMove = 2;
/** How long a successor may take to finish a move its predecessor began. */
const resumedMoveMaxMs = 30_000;

let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function controllerVia(running: ProcessCluster, id: ApparatusId): ControllerClient {
  return new (loadGrpc().switchyard.v1.Controller)(running.grpc(id), grpc.credentials.createInsecure());
}

function status(client: ControllerClient): Promise<ClusterStatus__Output> {
  return callUnary((done) => client.GetClusterStatus({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
}

/** Polls until a controller other than `deposed` answers through `client`; resolves with how long that took. */
async function waitForSuccessor(client: ControllerClient, deposed: string): Promise<{ elapsedMs: number; status: ClusterStatus__Output }> {
  const startedMs = performance.now();
  for (;;) {
    const answer = await status(client).catch(() => undefined);
    if (answer?.controller != null && answer.controller.id !== deposed) return { elapsedMs: performance.now() - startedMs, status: answer };
    if (performance.now() - startedMs > takeoverMaxMs) throw new Error(`no controller took over from ${deposed} within ${takeoverMaxMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
  }
}

/** `a1TestFlags`: flags of the test build for a1 (a crash point), which it then runs. */
async function startWithVolume(a1TestFlags: readonly string[] = []): Promise<ProcessCluster> {
  cluster = await ProcessCluster.start({ testFlags: { a1: a1TestFlags } });
  assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentBytes) >> 20}MiB`, "--lu", "lu0", "--endpoint", cluster.grpc("a2")]));
  return cluster;
}

/** Waits until no move is running in the journal (a successor finishes those its predecessor began). */
async function waitForMovesToEnd(client: ControllerClient): Promise<void> {
  const startedMs = performance.now();
  for (;;) {
    const journal = await callUnary<{ changes: { kind: string; state: string }[] }>((done) => client.ListChanges({}, { deadline: deadlineAfter(callTimeoutMs) }, done)).catch(() => undefined);
    if (journal !== undefined && !journal.changes.some((change) => change.kind === "move" && change.state === "CHANGE_STATE_RUNNING")) return;
    if (performance.now() - startedMs > resumedMoveMaxMs) throw new Error(`a move was still running ${resumedMoveMaxMs} ms after the takeover`);
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
  }
}

/** After a takeover: every survivor serves the committed generation with no hold, and a move through a survivor commits. */
async function expectSettled(client: ControllerClient, settled: ClusterStatus__Output, extent: number): Promise<void> {
  for (const id of survivors) {
    const apparatus = settled.apparatuses.find((candidate) => candidate.id === id);
    expect(apparatus, `${id} in ${JSON.stringify(settled.apparatuses)}`).toMatchObject({ state: "APPARATUS_STATUS_SERVING", generation: settled.generation });
  }
  const move = await callUnary((done) => client.SubmitChange({ move: { volume: "p", extent_index: extent, to_lu: "lu1" } }, { deadline: deadlineAfter(callTimeoutMs) }, done));
  expect(move).toMatchObject({ state: "CHANGE_STATE_COMMITTED" });
}

describe("controller failover across apparatus processes", () => {
  it("elects exactly one controller when three candidates start at once, and every apparatus names the same", async () => {
    const running = await ProcessCluster.start({ startTogether: true });
    cluster = running;
    const seen = await Promise.all(
      ["a1", "a2", "a3"].map(async (id) => {
        const client = controllerVia(running, id as ApparatusId);
        const answer = await status(client);
        client.close();
        return answer.controller;
      }),
    );
    const [first] = seen;
    expect(first).toBeDefined();
    for (const controller of seen) expect(controller).toMatchObject({ id: first?.id, epoch: first?.epoch });
  });

  it("elects a successor within seconds of the controller's apparatus being killed, and changes go on", async () => {
    const running = await startWithVolume();
    const client = controllerVia(running, "a2");
    const before = await status(client);
    expect(before.controller?.id).toBe("a1");
    const load = await startHostLoad(running, writersAndReaders(survivors), "p", blockCount);
    process.kill(running.pid("a1"), "SIGKILL");
    const { elapsedMs, status: after } = await waitForSuccessor(client, "a1");
    console.log(`takeover after SIGKILL of the idle controller: ${Math.round(elapsedMs)} ms (epoch ${before.controller?.epoch} -> ${after.controller?.epoch})`);
    expect(after.controller?.epoch).toBeGreaterThan(before.controller?.epoch ?? 0);
    await running.waitUntilServing(survivors, "a2");
    await expectSettled(client, await status(client), 0);
    await load.stop();
    client.close();
    expect(load.history.found()).toEqual([]);
  });

  it.each(crashes)("ends a move whose controller dies $point the same way everywhere, with no hold left", async ({ point, leftOn }) => {
    const running = await startWithVolume(["--test-crash-at", point]);
    const client = controllerVia(running, "a2");
    const before = await status(client);
    const load = await startHostLoad(running, writersAndReaders(survivors), "p", blockCount);
    const interrupted = await callUnary((done) => client.SubmitChange({ move: { volume: "p", extent_index: 1, to_lu: "lu1" } }, { deadline: deadlineAfter(callTimeoutMs) }, done)).then(
      () => "answered",
      (error: unknown) => String(error),
    );
    expect(interrupted, "the controller's process should have died before answering").not.toBe("answered");
    const { elapsedMs } = await waitForSuccessor(client, "a1");
    console.log(`takeover after the controller died ${point}: ${Math.round(elapsedMs)} ms`);
    await running.waitUntilServing(survivors, "a2");
    await waitForMovesToEnd(client);
    const settled = await status(client);
    // The interrupted change rolled forward or back, and the move finished by the successor either way.
    expect(settled.generation).toBe(before.generation + generationsPerMove);
    const volume = await callUnary<{ extents: { index: number; lu: string }[] }>((done) => client.GetVolume({ name: "p" }, { deadline: deadlineAfter(callTimeoutMs) }, done));
    expect(volume.extents[1]?.lu).toBe("lu1");
    // A change an apparatus was left in, never committed, is journaled as rolled back by the successor.
    const journal = await callUnary<{ changes: { state: string; message: string }[] }>((done) => client.ListChanges({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
    const rolledBack = journal.changes.filter((change) => change.message.includes("rolled back"));
    if (leftOn === "") expect(rolledBack).toEqual([]);
    else expect(rolledBack).toMatchObject([{ state: "CHANGE_STATE_ABORTED", message: expect.stringContaining(leftOn) as unknown }]);
    await expectSettled(client, settled, 2);
    await load.stop();
    client.close();
    expect(load.history.found()).toEqual([]);
  });

  it("refuses a deposed controller that wakes up: its commit and messages carry a stale epoch", async () => {
    const running = await startWithVolume(["--test-stop-at", "after-apply"]);
    const client = controllerVia(running, "a2");
    const before = await status(client);
    const load = await startHostLoad(running, writersAndReaders(survivors), "p", blockCount);
    // a1 stops itself once a2 has applied; the answer comes only after it resumes.
    const pending = callUnary<ChangeInfo__Output>((done) =>
      client.SubmitChange({ move: { volume: "p", extent_index: 1, to_lu: "lu1" } }, { deadline: deadlineAfter(deposedAnswerMs) }, done),
    );
    const { status: successor } = await waitForSuccessor(client, "a1");
    expect(successor.controller?.epoch).toBeGreaterThan(before.controller?.epoch ?? 0);
    process.kill(running.pid("a1"), "SIGCONT");
    // Its change was refused (a stale epoch), and the move is left to the successor, which finishes it.
    const late = await pending;
    expect(late.state).toBe("CHANGE_STATE_RUNNING");
    expect(late.message).toMatch(/lost the controller lease; the next controller finishes the move/);
    await running.waitUntilServing(survivors, "a2");
    await waitForMovesToEnd(client);
    const settled = await status(client);
    expect(settled.controller?.id).toBe(successor.controller?.id);
    expect(settled.generation).toBe(before.generation + generationsPerMove);
    await expectSettled(client, settled, 2);
    await load.stop();
    client.close();
    expect(load.history.found()).toEqual([]);
  });

  it("comes back consistent when the whole cluster loses power in the middle of a change", async () => {
    const running = await startWithVolume(["--test-stop-at", "after-apply"]);
    const client = controllerVia(running, "a2");
    const before = await status(client);
    const load = await startHostLoad(running, writersAndReaders(["a1", "a2", "a3"]), "p", blockCount);
    // a1 stops itself with a2 applied and a3 only holding; then every process dies at once.
    const pending = callUnary((done) => client.SubmitChange({ move: { volume: "p", extent_index: 1, to_lu: "lu1" } }, { deadline: deadlineAfter(callTimeoutMs) }, done)).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, stoppedMidChangeMs));
    client.close();
    await running.restartAll();
    await pending;
    const after = controllerVia(running, "a2");
    // The move was journaled before its first change: the controller after the restart finishes it.
    await waitForMovesToEnd(after);
    const settled = await status(after);
    expect(settled.generation).toBe(before.generation + generationsPerMove);
    const volume = await callUnary<{ extents: { index: number; lu: string }[] }>((done) => after.GetVolume({ name: "p" }, { deadline: deadlineAfter(callTimeoutMs) }, done));
    expect(volume.extents[1]?.lu).toBe("lu1");
    await expectSettled(after, settled, 2);
    await load.stop();
    after.close();
    expect(load.history.found()).toEqual([]);
  });
});
