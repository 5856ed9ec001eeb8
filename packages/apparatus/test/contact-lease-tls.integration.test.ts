// Goal (issue 17): over mutual TLS an apparatus renews its registration with
// its own certificate and keeps serving; renewing with another apparatus's
// certificate (PERMISSION_DENIED: renewals bound to the caller's id), or
// without TLS, grants nothing, and it stops serving a lease later.
// Method: a real device whose Device service is served with mutual TLS and
// its authorization table on loopback, real certificates from openssl
// (@switchyard/security/testing), an apparatus over in-memory LUs, host I/O
// through its I/O path.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authorizedDeviceHandlers, deviceServiceHandlers } from "@switchyard/device";
import { openTestDevice, temporaryFolder } from "@switchyard/device/testing";
import { grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { GuardedServer, readTlsMaterial } from "@switchyard/security";
import { makeTestPki, type TestPki } from "@switchyard/security/testing";
import { VirtualizationApparatus } from "../src/index.js";
import { MemoryLu, memoryBackends, oneVolumeTable } from "../src/testing.js";

const extentSizeBytes = 1 << 20;
/** Short, so a lease runs out within the test; TLS handshakes on loopback take milliseconds. */
const leaseMs = 600;
const cleanups: (() => Promise<void>)[] = [];
let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki();
}, 60_000);

afterAll(async () => {
  await pki.remove();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TLS device, and apparatus a0 registered with it, renewing with the certificate in `tlsFolder` (plain if undefined). */
async function registeredApparatus(tlsFolder: string | undefined): Promise<VirtualizationApparatus> {
  const folder = await temporaryFolder();
  const device = await openTestDevice(folder.path);
  const server = new GuardedServer({});
  const service = loadGrpc().switchyard.v1.Device.service;
  server.addService(service, authorizedDeviceHandlers(true, service, deviceServiceHandlers(device, { nbdAddress: "", grpcAddress: "", now: () => performance.now() }), () => device.leaseHolder()));
  const port = await server.listen("127.0.0.1", 0, readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server"));
  const epoch = (await device.arbiter.acquire("a0", "", 60_000, performance.now())).epoch;
  const apparatus = new VirtualizationApparatus({
    id: "a0",
    backends: memoryBackends([new MemoryLu(8 * extentSizeBytes)]),
    ...(tlsFolder === undefined ? {} : { tlsFolder }),
  });
  cleanups.push(async () => {
    await apparatus.close();
    await stopGrpc(server, grpcShutdownGraceMs);
    await device.close();
    await folder.remove();
  });
  await apparatus.loadTable(epoch, oneVolumeTable(1, 1, 8 * extentSizeBytes, extentSizeBytes, "v", [0], [0]));
  device.registerKey("a0", "k1", epoch);
  apparatus.register({ epoch, registration_key: "k1", lease_ms: leaseMs, device_address: `127.0.0.1:${port}` });
  return apparatus;
}

function sleep(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

describe("contact lease over mutual TLS", () => {
  it("renews with the apparatus's own certificate: still serving after three leases", async () => {
    const apparatus = await registeredApparatus(pki.folder({ role: "apparatus", id: "a0" }));
    await sleep(leaseMs * 3);
    await apparatus.io.read("v", 0, Buffer.alloc(512));
  });

  it.each([
    ["another apparatus's certificate", (): string | undefined => pki.folder({ role: "apparatus", id: "a1" })],
    ["no TLS", (): string | undefined => undefined],
  ])("with %s renews nothing: out of contact a lease later", async (_name, folderOf) => {
    const apparatus = await registeredApparatus(folderOf());
    await sleep(leaseMs * 1.5);
    await expect(apparatus.io.read("v", 0, Buffer.alloc(512))).rejects.toMatchObject({ code: "ESHUTDOWN" });
  });
});
