// Goal: a migration survives the death of any part (issue 5): after SIGKILL
// of the apparatus process that leads, the successor resumes it from the
// persisted copy progress table; after SIGKILL of another apparatus, it goes
// on without it (fenced); after the device crashes and comes back, it goes
// on. Each time it completes, every extent ends on the target, and hosts
// writing and reading the whole time see no stale read and lose no write.
// Method: `device serve` and three `apparatus serve` children (a1 leads
// first), the history checker's host load on a2 and a3, a rate-limited
// migration sent through a2, a1 killed once a few extents have moved; and a
// seeded random run of kills of a1 and crashes of the device (SWITCHYARD_SEED
// replays one).
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary, deadlineAfter, loadGrpc, type ChangeInfo__Output, type ControllerClient } from "@switchyard/proto";
import { assertSucceeded, runCli } from "./appliance.js";
import { ProcessCluster, startHostLoad, writersAndReaders, type ApparatusId } from "./cluster.js";

const blockBytes = 4096;
const extentBytes = 4 << 20;
const extents = 16;
const blockCount = (extents * extentBytes) / blockBytes;
const survivors = ["a2", "a3"] as const;
/** Slow enough that the migration is still running when its controller dies, and after the takeover. */
const rateBytesPerSecond = 8 << 20;
const callTimeoutMs = 10_000;
/** The lease (6 s) runs out, a successor takes over, and the rest of the 64 MiB moves at the rate limit. */
const migrationEndMs = 60_000;
const pollMs = 100;
/** How long the device stays down in the middle of a copy. */
const deviceDownMs = 1_000;

let cluster: ProcessCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function getChange(client: ControllerClient, id: string): Promise<ChangeInfo__Output> {
  return callUnary((done) => client.GetChange({ id }, { deadline: deadlineAfter(callTimeoutMs) }, done));
}

/** Polls `id` through `client` until `done` says so; errors while no controller leads are waited out. */
async function waitForChange(client: ControllerClient, id: string, done: (change: ChangeInfo__Output) => boolean, timeoutMs: number): Promise<ChangeInfo__Output> {
  const startedMs = performance.now();
  for (;;) {
    const change = await getChange(client, id).catch(() => undefined);
    if (change !== undefined && done(change)) return change;
    if (performance.now() - startedMs > timeoutMs) throw new Error(`change ${id} did not get there within ${timeoutMs} ms: ${JSON.stringify(change)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Starts the cluster, hosts on `hostIds` under the history checker and a
 * rate-limited migration of volume m to lu1; once two extents have moved it
 * does `fault`, then waits for the migration's end and checks what every
 * case checks: it completed, every extent is on lu1, no violation.
 */
async function migrateThrough(hostIds: readonly ApparatusId[], fault: (running: ProcessCluster) => Promise<void>): Promise<{ client: ControllerClient; finished: ChangeInfo__Output }> {
  const running = await ProcessCluster.start();
  cluster = running;
  assertSucceeded(await runCli(["volume", "create", "m", "--size", `${(extents * extentBytes) >> 20}MiB`, "--lu", "lu0", "--endpoint", running.grpc("a2")]));
  const client = new (loadGrpc().switchyard.v1.Controller)(running.grpc("a2"), grpc.credentials.createInsecure());
  const load = await startHostLoad(running, writersAndReaders(hostIds), "m", blockCount);
  const started = await callUnary<ChangeInfo__Output>((done) =>
    client.SubmitChange({ migrate: { volume: "m", to_lu: "lu1", rate_bytes_per_second: rateBytesPerSecond } }, { deadline: deadlineAfter(callTimeoutMs) }, done),
  );
  expect(started).toMatchObject({ kind: "migrate", state: "CHANGE_STATE_RUNNING", total_bytes: extents * extentBytes });
  const before = await waitForChange(client, started.id, (change) => change.copied_bytes >= 2 * extentBytes, migrationEndMs);
  expect(before.state).toBe("CHANGE_STATE_RUNNING");
  await fault(running);
  const finished = await waitForChange(client, started.id, (change) => change.state !== "CHANGE_STATE_RUNNING", migrationEndMs);
  console.log(`fault at ${before.copied_bytes >> 20} MiB moved; the migration ended ${finished.state} ${finished.message}`);

  expect(finished).toMatchObject({ state: "CHANGE_STATE_COMMITTED", copied_bytes: extents * extentBytes });
  expect(finished.copy_progress.every((row) => row.state === "done" && row.destination_lu_id === "lu1")).toBe(true);
  const volume = await callUnary<{ extents: { lu: string }[] }>((done) => client.GetVolume({ name: "m" }, { deadline: deadlineAfter(callTimeoutMs) }, done));
  expect(new Set(volume.extents.map((extent) => extent.lu))).toEqual(new Set(["lu1"]));
  await load.stop();
  expect(load.history.found()).toEqual([]);
  return { client, finished };
}

/** A small deterministic generator: a failing seed replays. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** Faults of the random-kill case: each ends with the cluster able to go on. */
const randomFaultsCount = 3;
/** Longest pause before each fault, so that they fall anywhere in the copy. */
const randomFaultGapMaxMs = 2_000;

describe("a migration when a part dies", () => {
  it("completes whatever dies at random points: the leader's process, the device, several times", async () => {
    // SWITCHYARD_SEED replays a run; otherwise each run picks its own points.
    const seed = Number(process.env.SWITCHYARD_SEED ?? Date.now() % 1_000_000);
    const next = seededRandom(seed);
    const faults: string[] = [];
    const { client } = await migrateThrough(survivors, async (running) => {
      for (let fault = 0; fault < randomFaultsCount; fault += 1) {
        const gapMs = Math.floor(next() * randomFaultGapMaxMs);
        await new Promise((resolve) => setTimeout(resolve, gapMs));
        // a1 leads first and has no hosts; once killed it stays down, and the device takes the rest.
        if (!faults.some((done) => done.endsWith("kill a1")) && next() < 0.5) {
          process.kill(running.pid("a1"), "SIGKILL");
          faults.push(`after ${gapMs} ms kill a1`);
        } else {
          const downMs = 200 + Math.floor(next() * 1_000);
          await running.restartDevice(downMs);
          faults.push(`after ${gapMs} ms device down ${downMs} ms`);
        }
      }
      console.log(`seed ${seed}: ${faults.join(", ")}`);
    });
    client.close();
  }, 3 * migrationEndMs);


  it("is resumed by the successor from its progress table when the controller's process is killed", async () => {
    const { client } = await migrateThrough(survivors, (running) => {
      process.kill(running.pid("a1"), "SIGKILL");
      return Promise.resolve();
    });
    client.close();
  }, 2 * migrationEndMs);

  it("goes on without another apparatus killed mid-copy: a move fences it", async () => {
    const { client } = await migrateThrough(["a2"], (running) => {
      process.kill(running.pid("a3"), "SIGKILL");
      return Promise.resolve();
    });
    const changes = await callUnary<{ changes: ChangeInfo__Output[] }>((done) => client.ListChanges({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
    expect(changes.changes.some((change) => change.fenced.includes("a3")), "a move of the migration fenced the killed apparatus").toBe(true);
    client.close();
  }, 2 * migrationEndMs);

  it("goes on after the device crashes and comes back mid-copy", async () => {
    const { client } = await migrateThrough(survivors, (running) => running.restartDevice(deviceDownMs));
    client.close();
  }, 2 * migrationEndMs);
});
