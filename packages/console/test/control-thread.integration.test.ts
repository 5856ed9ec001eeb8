// Goal (issue 20 item 3): in `switchyard up` (and every serving process)
// the gRPC servers run on a control thread, so the transport of control
// calls does not wait for, or run on, the thread that answers hosts; with
// --processors 1 they share that thread.
// Method: the embedded appliance in this process, in each mode. A client
// on a worker thread of its own connects to an apparatus's and the
// device's gRPC servers, then calls their health service while this (the
// host I/O) thread is stalled for stallMs by Atomics.wait. On the control
// thread the answers come within a fraction of the stall; on a shared
// thread not before it ends, which shows the measurement can tell them apart.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { ControllerThreadMode } from "@switchyard/controller";
import { afterEach, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "../src/appliance.js";

/** How long the host I/O thread is stalled. */
const stallMs = 1_500;
const testTimeoutMs = 60_000;

/** How long the client may take to start its calls once told. */
const startWithinMs = 5_000;

/** The client: one connection per address, a warm-up call, then when told one timed health call to each. */
const clientSource = `
const { parentPort, workerData } = require("node:worker_threads");
const grpc = require("@grpc/grpc-js");
const path = "/grpc.health.v1.Health/Check";
const pass = (bytes) => bytes;
const clients = workerData.addresses.map((address) => new grpc.Client(address, grpc.credentials.createInsecure()));
const check = (client) => new Promise((resolve, reject) => {
  client.makeUnaryRequest(path, pass, pass, Buffer.alloc(0), { deadline: Date.now() + 10000 }, (error) => (error ? reject(error) : resolve()));
});
Promise.all(clients.map(check)).then(() => parentPort.postMessage("ready"));
parentPort.on("message", async (started) => {
  // Tell the stalled thread the calls start now.
  Atomics.store(started, 0, 1);
  Atomics.notify(started, 0);
  const startedMs = performance.now();
  const elapsedMs = await Promise.all(clients.map((client) => check(client).then(() => performance.now() - startedMs)));
  parentPort.postMessage(elapsedMs);
  for (const client of clients) client.close();
});
`;

let appliance: Appliance | undefined;
let dir = "";

afterEach(async () => {
  await appliance?.close();
  appliance = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Each health call's time in ms, made while this thread was stalled. */
async function healthDuringStall(mode: ControllerThreadMode): Promise<number[]> {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-control-thread-"));
  appliance = await startAppliance({
    dir, host: "127.0.0.1", apparatusCount: 1, nbdPort: 0, grpcPort: 0, deviceNbdPort: 0,
    luCount: 1, luSizeBytes: 16 * 1024 * 1024, extentSizeBytes: 1024 * 1024, controllerThread: mode,
  });
  const addresses = [appliance.endpoints.apparatuses[0]?.grpc, appliance.endpoints.device.grpc];
  const client = new Worker(clientSource, { eval: true, workerData: { addresses } });
  const next = (): Promise<unknown> => new Promise((resolve, reject) => {
    client.once("message", resolve);
    client.once("error", reject);
  });
  await next(); // connected, one call answered
  const answered = next();
  const started = new Int32Array(new SharedArrayBuffer(4));
  client.postMessage(started);
  // This thread stops from before the client's calls start until stallMs after.
  expect(Atomics.wait(started, 0, 0, startWithinMs)).not.toBe("timed-out");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  const elapsedMs = (await answered) as number[];
  await client.terminate();
  return elapsedMs;
}

describe("where the gRPC servers run", { timeout: testTimeoutMs }, () => {
  it("on the control thread (--processors 2): health answers while the host I/O thread is stalled", async () => {
    const elapsedMs = await healthDuringStall("worker");
    for (const ms of elapsedMs) expect(ms).toBeLessThan(stallMs / 3);
  });

  it("on a shared thread (--processors 1): health waits for the stall to end", async () => {
    const elapsedMs = await healthDuringStall("shared");
    for (const ms of elapsedMs) expect(ms).toBeGreaterThan(stallMs / 2);
  });
});
