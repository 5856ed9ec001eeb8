// Goal (issue 17, first step): `switchyard up --device-tls` serves the
// device's gRPC over mutual TLS with its authorization table, and the
// appliance keeps working through it: the controller writes the store and
// holds the lease with its apparatus certificate, and a volume serves I/O
// three apparatus leases later. (The controller rejoins an apparatus out of
// contact, so this does not prove the renewals go through: that is
// apparatus/test/contact-lease-tls.integration.test.ts.) A caller without
// TLS is refused, and the operator certificate `up` made may read the
// inventory but not take the lease.
// Method: the built CLI's `up` as a child process on free loopback ports in
// a temporary folder; a volume made through the controller and written and
// read over NBD after three apparatus leases; Device calls from this test
// with no TLS and with DATA/tls/operator-admin.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { NbdClient } from "@switchyard/nbd";
import { callUnary, deadlineAfter, loadGrpc, type Inventory__Output, type Lease__Output } from "@switchyard/proto";
import { channelCredentialsFromFolder } from "@switchyard/security";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applianceClientFolder } from "../src/appliance-certificates.js";
import { ConsoleClient } from "../src/controller-client.js";
import type { EndpointFile } from "../src/endpoints.js";
import { CliServers } from "../src/testing.js";

const callTimeoutMs = 5_000;
/** Three of the apparatuses' 3 s leases. */
const leasesWaitMs = 9_000;
const mebibyte = 1 << 20;

const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
let dir = "";
let endpoints: EndpointFile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-device-tls-"));
  const announced = await servers.serve(["up", "--dir", dir, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "64MiB", "--extent-size", "1MiB", "--device-tls"]);
  endpoints = announced as unknown as EndpointFile;
}, 60_000);

afterAll(async () => {
  await servers.stopAll();
  await rm(dir, { recursive: true, force: true });
});

function deviceClient(credentials: grpc.ChannelCredentials): InstanceType<ReturnType<typeof loadGrpc>["switchyard"]["v1"]["Device"]> {
  return new (loadGrpc().switchyard.v1.Device)(endpoints.device.grpc, credentials);
}

async function statusOf(work: Promise<unknown>): Promise<grpc.status> {
  try {
    await work;
    return grpc.status.OK;
  } catch (error) {
    return (error as grpc.ServiceError).code;
  }
}

describe("switchyard up --device-tls", () => {
  it("keeps the appliance working: a volume written and read after three apparatus leases", async () => {
    const client = new ConsoleClient(endpoints.controller.grpc);
    try {
      await client.createVolume("vm1", 4 * mebibyte, "");
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, leasesWaitMs));
    const [host, port] = (endpoints.apparatuses[1]?.nbd ?? "").split(":");
    const nbd = await NbdClient.connect({ host: host ?? "", port: Number(port), exportName: "vm1", timeoutMs: callTimeoutMs });
    try {
      const data = Buffer.alloc(4096, 0x5a);
      await nbd.write(mebibyte, data);
      const back = Buffer.alloc(4096);
      await nbd.read(mebibyte, back);
      expect(back.equals(data)).toBe(true);
    } finally {
      await nbd.close();
    }
  }, 60_000);

  it("refuses a Device caller without TLS", async () => {
    const device = deviceClient(grpc.credentials.createInsecure());
    try {
      const call = callUnary<Inventory__Output>((done) => device.GetInventory({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
      expect(await statusOf(call)).toBe(grpc.status.UNAVAILABLE);
    } finally {
      device.close();
    }
  });

  it("lets the operator read the inventory but not take the lease", async () => {
    const device = deviceClient(channelCredentialsFromFolder(applianceClientFolder(dir)));
    try {
      const inventory = await callUnary<Inventory__Output>((done) => device.GetInventory({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
      expect(inventory.device_id).toBe("dev0");
      const lease = callUnary<Lease__Output>((done) => device.AcquireLease({ candidate_id: "admin", candidate_address: "", lease_ms: 1_000 }, { deadline: deadlineAfter(callTimeoutMs) }, done));
      expect(await statusOf(lease)).toBe(grpc.status.PERMISSION_DENIED);
    } finally {
      device.close();
    }
  });
});
