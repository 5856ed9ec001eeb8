// Goal: `apparatus serve --no-candidate` never campaigns for the controller
// lease, so another process (a conformance suite) can be the only
// controller; without it the apparatus takes the lease as it starts.
// Method: a real `device serve` and `apparatus serve` from the built CLI on
// loopback; once the apparatus has announced itself, a probe asks the
// device's arbiter for the lease and sees whether anyone holds it.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { callUnary, deadlineAfter, loadGrpc, type Lease__Output } from "@switchyard/proto";
import { CliServers } from "../src/testing.js";

const callTimeoutMs = 2_000;
/** Two processes started and a probe: seconds on a loaded machine, where vitest's 5 s default is too short. */
const testTimeoutMs = 30_000;

// The built CLI: this test runs from the sources, where there is no cli.js.
const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
const folders: string[] = [];


async function probeLease(deviceAddress: string): Promise<Lease__Output> {
  const device = new (loadGrpc().switchyard.v1.Device)(deviceAddress, grpc.credentials.createInsecure());
  try {
    return await callUnary<Lease__Output>((done) =>
      device.AcquireLease({ candidate_id: "probe", candidate_address: "", lease_ms: 1_000 }, { deadline: deadlineAfter(callTimeoutMs) }, done),
    );
  } finally {
    device.close();
  }
}

async function deviceAndApparatus(extra: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-no-candidate-"));
  folders.push(dir);
  const device = await servers.serve(["device", "serve", "--dir", dir, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "16MiB", "--extent-size", "1MiB"]);
  const deviceAddress = (device.device as { grpc: string }).grpc;
  await servers.serve(["apparatus", "serve", "--id", "a1", "--device", deviceAddress, "--nbd-port", "0", "--processors", "1", ...extra]);
  return deviceAddress;
}

afterEach(async () => {
  await servers.stopAll();
  for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("apparatus serve --no-candidate", () => {
  it("leaves the controller lease to someone else", async () => {
    const lease = await probeLease(await deviceAndApparatus(["--no-candidate"]));
    expect(lease.granted).toBe(true);
    expect(lease.holder_id).toBe("probe");
  }, testTimeoutMs);

  it("is needed: without it the apparatus holds the lease once it serves", async () => {
    const lease = await probeLease(await deviceAndApparatus([]));
    expect(lease.granted).toBe(false);
    expect(lease.holder_id).toBe("a1");
  }, testTimeoutMs);
});
