// Goal (issue 20 item 3): the web console runs on a thread of its own. It
// answers while the thread that serves hosts is stalled; what /metrics shows
// of this process's apparatuses and devices is what that thread gives when
// asked; closing the console ends its thread.
// Method: startConsoleThread from the build, with a figures function on this
// (the host I/O) thread. /metrics is read over HTTP and its series compared
// with the figures given. Then a client on a worker thread of its own asks
// for the login page while this thread is stalled for stallMs by
// Atomics.wait: on the console's thread the answer comes within a fraction
// of the stall. A console on this thread (startConsoleServer) cannot answer
// before the stall ends, which shows the measurement can tell them apart.
import * as grpc from "@grpc/grpc-js";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { parsePrometheusText } from "../dist/web/prometheus-text.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleServer, type ConsoleServer } from "../dist/web/console-server.js"; // built: it serves the page from dist/public
import { startConsoleThread } from "../dist/web/console-thread.js";
import type { LocalFigures } from "../dist/web/local-figures.js";

/** No controller listens here: the console's calls to it fail, which /metrics shows as the journal being down. */
const closedControllerAddress = "127.0.0.1:1";
/** How long this thread is stalled. */
const stallMs = 1_500;
const testTimeoutMs = 60_000;

const bounds = [0.001, 0.01];
const histogram = (counts: number[]): LocalFigures["apparatuses"][number]["holds"]["duration"] => ({ boundsSeconds: bounds, counts: Float64Array.from(counts), sumSeconds: 0.5, count: counts.reduce((sum, count) => sum + count, 0) });

/** What this thread gives the console: one apparatus with one volume's reads, one device with store errors. */
function figures(): LocalFigures {
  const readCounters = { requests: 12, bytes: 49_152, errors: 1, latency: histogram([10, 2, 0]) };
  const idle = { requests: 0, bytes: 0, errors: 0, latency: histogram([0, 0, 0]) };
  return {
    apparatuses: [{
      id: "a7",
      volumes: [{ volume: "vm1", operations: [readCounters, idle, idle, idle, idle, idle] }],
      inFlight: 3,
      holds: { installed: 5, active: 1, expired: 0, heldRequests: 9, duration: histogram([4, 0, 0]), oldestAgeMs: 250 },
      generation: 42,
    }],
    devices: [{ id: "dev7", storeWriteErrors: 2, lus: [] }],
  };
}

/** The client: waits for its go, then one GET of /login, and posts how long after the go its answer came, in ms. */
const clientSource = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
parentPort.once("message", (started) => {
  Atomics.store(started, 0, 1);
  Atomics.notify(started, 0);
  const startMs = performance.now();
  http.get(workerData.url + "login", (response) => {
    response.resume();
    parentPort.postMessage({ status: response.statusCode, elapsedMs: performance.now() - startMs });
  }).on("error", (error) => parentPort.postMessage({ status: 0, elapsedMs: -1, error: error.message }));
});
`;

interface ClientResult {
  readonly status: number;
  readonly elapsedMs: number;
}

/** Asks `url`'s login page from a worker while this thread is stalled; resolves with the worker's figures. */
async function askWhileStalled(url: string): Promise<ClientResult> {
  const worker = new Worker(clientSource, { eval: true, workerData: { url } });
  const answered = new Promise<ClientResult>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const started = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage(started);
  Atomics.wait(started, 0, 0, 10_000);
  // The stall: this thread does nothing until it ends, as a host I/O thread busy with a long request would.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  try {
    return await answered;
  } finally {
    await worker.terminate();
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => { body += chunk; });
      response.on("end", () => { resolve({ status: response.statusCode ?? 0, body }); });
    }).on("error", reject).end();
  });
}

let folder: string;
let threaded: ConsoleServer;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "switchyard-console-thread-"));
  threaded = await startConsoleThread({ host: "127.0.0.1", port: 0, controllerAddress: closedControllerAddress, credentialsFolder: undefined, tokensFolder: join(folder, "threaded") }, figures);
}, testTimeoutMs);

afterAll(async () => {
  await threaded.close();
  await rm(folder, { recursive: true, force: true });
});

describe("the web console's thread", () => {
  it("shows in /metrics the figures this thread gives", async () => {
    const { status, body } = await get(`${threaded.url}metrics`);
    expect(status).toBe(200);
    const samples = parsePrometheusText(body);
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))?.value;
    expect(value("switchyard_io_requests_total", { apparatus: "a7", volume: "vm1", operation: "read" })).toBe(12);
    expect(value("switchyard_io_bytes_total", { apparatus: "a7", volume: "vm1", operation: "read" })).toBe(49_152);
    expect(value("switchyard_io_requests_in_flight", { apparatus: "a7" })).toBe(3);
    expect(value("switchyard_held_requests_total", { apparatus: "a7" })).toBe(9);
    expect(value("switchyard_hold_oldest_age_seconds", { apparatus: "a7" })).toBe(0.25);
    expect(value("switchyard_table_generation", { apparatus: "a7" })).toBe(42);
    expect(value("switchyard_store_write_errors_total", { device: "dev7" })).toBe(2);
    expect(value("switchyard_change_journal_up", {})).toBe(0);
  }, testTimeoutMs);

  it("answers while the host I/O thread is stalled; a console on that thread does not", async () => {
    const onThread = await askWhileStalled(threaded.url);
    expect(onThread.status).toBe(200);
    expect(onThread.elapsedMs).toBeLessThan(stallMs / 2);
    const here = await startConsoleServer({ host: "127.0.0.1", port: 0, controllerAddress: closedControllerAddress, credentials: grpc.credentials.createInsecure(), figures: () => Promise.resolve(figures()), tokensFolder: join(folder, "here") });
    try {
      const shared = await askWhileStalled(here.url);
      expect(shared.status).toBe(200);
      expect(shared.elapsedMs).toBeGreaterThanOrEqual(stallMs * 0.8);
    } finally {
      await here.close();
    }
  }, testTimeoutMs);

  it("refuses a port already taken with the listen error's code", async () => {
    const taken = Number(new URL(threaded.url).port);
    await expect(startConsoleThread({ host: "127.0.0.1", port: taken, controllerAddress: closedControllerAddress, credentialsFolder: undefined, tokensFolder: join(folder, "taken") }, figures))
      .rejects.toMatchObject({ code: "EADDRINUSE" });
  }, testTimeoutMs);
});
