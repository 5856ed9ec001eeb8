// Goal: every hold ends (issue 19): when the controller stops between Hold
// and Release and no successor can take over, a host write held on an
// apparatus fails with ESHUTDOWN at the hold's deadline instead of waiting
// for ever, while I/O outside the held range goes on; once the controller
// comes back it has the apparatuses load the table, and the volume is
// served again with nothing acknowledged lost, and the expired hold is an
// event record in the journal (the console's events panel, after restarts too).
// Method: `device serve` and three `apparatus serve` children; a1 holds the
// lease and stops itself (SIGSTOP, the test build's --test-stop-at) after the
// Hold of a shrink by one extent (a move between two LUs of one device holds
// nothing); a2 and a3 are not candidates. A host writes through a2 into the
// held last extent and elsewhere; the test measures how long the held write
// waited.
import { afterEach, describe, expect, it } from "vitest";
import { NbdError } from "@switchyard/nbd";
import { callUnary, deadlineAfter, loadGrpc, type ControllerClient } from "@switchyard/proto";
import * as grpc from "@grpc/grpc-js";
import { holdDeadlineMsDefault } from "@switchyard/apparatus";
import { assertSucceeded, runCli } from "./appliance.js";
import { ProcessCluster, stamp } from "./cluster.js";

const extentBytes = 4 << 20;
const extents = 4;
const blockBytes = 4096;
/** The phase timeout a held write may wait beyond the deadline (issue 19's bound), and scheduling slack on a loaded machine. */
const phaseTimeoutMs = 2_000;
const slackMs = 3_000;
/** The controller's look-after restores the apparatuses within a few renewals of waking. */
const restoredWithinMs = 30_000;
const callTimeoutMs = 10_000;
/** a1 is woken this often once the test lets the controller back (a change's Hold stops it again). */
const wakeIntervalMs = 200;

let cluster: ProcessCluster | undefined;
/** The last failed write's error, for a failure message. */
let lastError = "";
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Polls an apparatus's own state until a hold is in force there. */
async function waitForHold(address: string): Promise<void> {
  const apparatus = new (loadGrpc().switchyard.v1.Apparatus)(address, grpc.credentials.createInsecure());
  const startedMs = performance.now();
  try {
    for (;;) {
      const state = await callUnary<{ holds: unknown[] }>((done) => apparatus.GetState({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
      if (state.holds.length > 0) return;
      if (performance.now() - startedMs > callTimeoutMs) throw new Error(`no hold on ${address} within ${callTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    apparatus.close();
  }
}

/** Polls the journal until the controller has recorded the event `summary` (kind "event", event-records.ts). */
async function journalEvent(control: ControllerClient, summary: string): Promise<{ message: string }> {
  const startedMs = performance.now();
  for (;;) {
    const journal = await callUnary<{ changes: { kind: string; summary: string; message: string }[] }>((done) => control.ListChanges({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
    const found = journal.changes.find((change) => change.kind === "event" && change.summary === summary);
    if (found !== undefined) return found;
    if (performance.now() - startedMs > restoredWithinMs) throw new Error(`no "${summary}" in the journal within ${restoredWithinMs} ms: ${JSON.stringify(journal.changes.map((change) => change.summary))}`);
    await new Promise((resolve) => setTimeout(resolve, wakeIntervalMs));
  }
}

/** How a write ended, and when. */
async function timedWrite(write: () => Promise<void>): Promise<{ outcome: string; elapsedMs: number }> {
  const startedMs = performance.now();
  const outcome = await write().then(() => "ok", (error: unknown) => {
    lastError = String(error);
    return error instanceof NbdError ? error.code : `unexpected: ${String(error)}`;
  });
  return { outcome, elapsedMs: performance.now() - startedMs };
}

describe("a hold whose controller never comes back in time", () => {
  it("ends at its deadline with ESHUTDOWN for the held write, and the volume is served again once a controller loads the table", async () => {
    const running = await ProcessCluster.start({
      testFlags: { a1: ["--test-stop-at", "after-hold"] },
      extraArgs: { a2: ["--no-candidate"], a3: ["--no-candidate"] },
    });
    cluster = running;
    // Through a1, the controller: a2 and a3, not candidates, do not pass console calls on.
    assertSucceeded(await runCli(["volume", "create", "p", "--size", `${(extents * extentBytes) >> 20}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a1")]));
    let host = await running.connect("a2", "p");
    const control = new (loadGrpc().switchyard.v1.Controller)(running.grpc("a1"), grpc.credentials.createInsecure());
    // The shrink holds I/O from the new end everywhere; then a1 stops itself.
    const heldExtent = extents - 1;
    const shrink = callUnary((done) => control.SubmitChange({ resize: { volume: "p", size_bytes: heldExtent * extentBytes } }, { deadline: deadlineAfter(120_000) }, done)).catch(() => undefined);
    await waitForHold(running.grpc("a2"));
    const held = timedWrite(() => host.write(heldExtent * extentBytes, stamp(1, blockBytes)));
    const elsewhere = await timedWrite(() => host.write(2 * extentBytes, stamp(2, blockBytes)));
    expect(elsewhere.outcome).toBe("ok");
    const ended = await held;
    console.log(`held write ended ${Math.round(ended.elapsedMs)} ms after it was sent (${ended.outcome}); hold deadline ${holdDeadlineMsDefault} ms`);
    expect(ended.outcome).toBe("ESHUTDOWN");
    expect(ended.elapsedMs).toBeLessThanOrEqual(holdDeadlineMsDefault + phaseTimeoutMs + slackMs);
    // The controller comes back: it has the apparatuses load the table again (a change's Hold stops a1 again: it is woken each time).
    const a1 = running.pid("a1");
    const waking = setInterval(() => { process.kill(a1, "SIGCONT"); }, wakeIntervalMs);
    try {
      const startedMs = performance.now();
      let again = { outcome: "not tried", elapsedMs: 0 };
      while (again.outcome !== "ok" && performance.now() - startedMs < restoredWithinMs) {
        await new Promise((resolve) => setTimeout(resolve, wakeIntervalMs));
        // NBD proto.md: a client that receives ESHUTDOWN disconnects; a host reconnects, as this one does.
        if (again.outcome !== "not tried") {
          await host.close().catch(() => undefined);
          host = await running.connect("a2", "p");
        }
        again = await timedWrite(() => host.write(extentBytes, stamp(3, blockBytes)));
      }
      expect(again.outcome, `${lastError}\n${running.stderr()}`).toBe("ok");
      await shrink;
    } finally {
      clearInterval(waking);
    }
    const back = Buffer.alloc(blockBytes);
    await host.read(extentBytes, back);
    expect(back.equals(stamp(3, blockBytes))).toBe(true);
    const other = Buffer.alloc(blockBytes);
    await host.read(2 * extentBytes, other);
    expect(other.equals(stamp(2, blockBytes))).toBe(true);
    await host.close();
    // The controller recorded the expired hold in the journal, where the console's events panel reads it after any restart.
    const recorded = await journalEvent(control, "hold-expired a2");
    expect(recorded.message).toMatch(/^a hold on a2 passed its deadline with no Release: it shut p until the controller loaded the table$/);
    control.close();
  }, 180_000);
});
