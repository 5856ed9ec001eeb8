// Goal (issue 17): every Apparatus method, called with no certificate, with
// a certificate of another CA, and as each role, gets the exact status the
// authorization table gives, and a refused call changes nothing the
// apparatus reports (its table, holds, epoch, registration); only an
// apparatus (the controller runs in one) reaches the handlers, and nobody
// else can read the registration key through GetState. Of the apparatuses,
// only the one the request's epoch was granted to (the controller) gets
// through: a peer apparatus that knows the epoch is refused
// PERMISSION_DENIED, an epoch never granted FAILED_PRECONDITION.
// Method: real certificates from openssl (@switchyard/security/testing), a
// real device whose arbiter granted epoch 2 to a0, served with mutual TLS
// and its authorization table; an apparatus over in-memory LUs served by
// serveApparatus with its identity folder and that device's address, so
// over real mutual TLS on loopback; calls of every kind (unary, the Control
// stream) from grpc-js clients; GetState's answer compared before and after
// each refused call.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizedDeviceHandlers, deviceServiceHandlers, type StorageDevice } from "@switchyard/device";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "@switchyard/device/testing";
import { grpcShutdownGraceMs, loadGrpc, stopGrpc, type ApparatusHandlers } from "@switchyard/proto";
import { GuardedServer, readTlsMaterial, type AuthorizationTable } from "@switchyard/security";
import { authorizationCases, callOnce, makeTestPki, refusedStatuses, type TestPki } from "@switchyard/security/testing";
import { apparatusAuthorizationTable, serveApparatus, VirtualizationApparatus, type ServedApparatus } from "../src/index.js";
import { MemoryLu, memoryBackends, oneVolumeTable } from "../src/testing.js";

type Method = keyof AuthorizationTable<ApparatusHandlers>;
const extentSizeBytes = 1 << 20;
const callDeadlineMs = 10_000;
const table = oneVolumeTable(1, 1, 8 * extentSizeBytes, extentSizeBytes, "vm1", [0, 0], [0, 1]);
const range = { volume: "vm1", offset_bytes: 0, length_bytes: extentSizeBytes };
const hold = { change_id: "c1", epoch: 2, base_generation: 1, ranges: [range], mode: "HOLD_MODE_ALL" };

/** One request per method, each of which would change the apparatus if it ran. */
const requests: Readonly<Record<Method, object>> = {
  Hold: hold,
  Apply: { change_id: "c1", epoch: 2, diff: { base_generation: 1, generation: 2, volumes: [] } },
  Release: { change_id: "c1", epoch: 2 },
  Abort: { change_id: "c1", epoch: 2 },
  GetState: {},
  LoadTable: { epoch: 2, table: { ...table, generation: 2 } },
  Register: { epoch: 2, registration_key: "forged", lease_ms: 1_000, device_address: "127.0.0.1:1" },
  Control: { sequence: 1, hold },
};
const methods = Object.keys(requests) as Method[];

let pki: TestPki;
let served: ServedApparatus;
let folder: TemporaryFolder;
let device: StorageDevice;
let deviceServer: GuardedServer;

/** A device over mutual TLS whose arbiter granted epoch 1, then (after it lapsed) epoch 2, both to a0. */
async function serveDevice(): Promise<string> {
  folder = await temporaryFolder();
  device = await openTestDevice(folder.path);
  await device.arbiter.acquire("a0", "", 1_000, 0);
  await device.arbiter.acquire("a0", "", 60_000, 2_000);
  deviceServer = new GuardedServer({});
  const service = loadGrpc().switchyard.v1.Device.service;
  deviceServer.addService(service, authorizedDeviceHandlers(true, service, deviceServiceHandlers(device, { nbdAddress: "", grpcAddress: "", now: () => 2_000 }), () => device.leaseHolder()));
  const port = await deviceServer.listen("127.0.0.1", 0, readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server"));
  return `127.0.0.1:${port}`;
}

beforeAll(async () => {
  pki = await makeTestPki();
  const apparatus = new VirtualizationApparatus({
    id: "a0",
    backends: memoryBackends([new MemoryLu(8 * extentSizeBytes)]),
    tlsFolder: pki.folder({ role: "apparatus", id: "a0" }),
    deviceAddress: await serveDevice(),
  });
  await apparatus.loadTable(1, table);
  served = await serveApparatus(apparatus, { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
}, 60_000);

afterAll(async () => {
  await served.close();
  await stopGrpc(deviceServer, grpcShutdownGraceMs);
  await device.close();
  await folder.remove();
  await pki.remove();
});

function call(credentials: grpc.ChannelCredentials, method: Method, request: object = requests[method]): Promise<grpc.status> {
  const definition = loadGrpc().switchyard.v1.Apparatus.service[method] as grpc.MethodDefinition<object, unknown>;
  return callOnce(served.grpcAddress, credentials, definition, request, callDeadlineMs);
}

/** The status a Control stream's one answer carries (the stream itself ends OK). */
async function controlFailureCode(credentials: grpc.ChannelCredentials, request: object): Promise<number | undefined> {
  const client = new (loadGrpc().switchyard.v1.Apparatus)(served.grpcAddress, credentials);
  try {
    const stream = client.Control({ deadline: Date.now() + callDeadlineMs });
    const answer = new Promise<number | undefined>((resolve, reject) => {
      stream.on("data", (reply: { failure?: { code: number } | null }) => {
        resolve(reply.failure?.code);
      });
      stream.on("error", reject);
    });
    stream.write(request);
    const code = await answer;
    stream.cancel();
    return code;
  } finally {
    client.close();
  }
}

/** What a call could change, as one text: everything GetState tells. */
function fingerprint(): string {
  return JSON.stringify(served.apparatus.state());
}

async function expectRefused(credentials: grpc.ChannelCredentials, method: Method, code: grpc.status): Promise<void> {
  const before = fingerprint();
  expect(await call(credentials, method)).toBe(code);
  expect(fingerprint()).toBe(before);
}

describe("Apparatus authorization", () => {
  it.each(methods)("%s without TLS: UNAVAILABLE (no handshake), nothing changed", async (method) => {
    await expectRefused(grpc.credentials.createInsecure(), method, grpc.status.UNAVAILABLE);
  });

  it.each(methods)("%s with a certificate of another CA: UNAVAILABLE (handshake refused), nothing changed", async (method) => {
    await expectRefused(pki.credentials({ role: "apparatus", id: "a1" }, true), method, grpc.status.UNAVAILABLE);
  });

  const cases = authorizationCases(apparatusAuthorizationTable);
  it.each(cases.refused)("%s calling %s: refused with status %i, nothing changed", async (_name, method, identity, code) => {
    await expectRefused(pki.credentials(identity), method, code);
  });

  // The forged table: a1 is an apparatus, so passes the role check, and
  // knows a0's epoch; the epoch is a0's alone.
  const underEpoch = methods.filter((method) => method !== "GetState" && method !== "Control");
  it.each(underEpoch)("%s under a0's epoch from apparatus a1: PERMISSION_DENIED, nothing changed", async (method) => {
    await expectRefused(pki.credentials({ role: "apparatus", id: "a1" }), method, grpc.status.PERMISSION_DENIED);
  });

  it("a Control message under a0's epoch from apparatus a1: PERMISSION_DENIED, nothing changed", async () => {
    const before = fingerprint();
    expect(await controlFailureCode(pki.credentials({ role: "apparatus", id: "a1" }), requests.Control)).toBe(grpc.status.PERMISSION_DENIED);
    expect(fingerprint()).toBe(before);
  });

  it("an epoch never granted, even from the holder: FAILED_PRECONDITION, nothing changed", async () => {
    const a0 = pki.credentials({ role: "apparatus", id: "a0" });
    const before = fingerprint();
    expect(await call(a0, "LoadTable", { epoch: 3, table: { ...table, generation: 3 } })).toBe(grpc.status.FAILED_PRECONDITION);
    expect(await controlFailureCode(a0, { sequence: 2, hold: { ...hold, epoch: 3 } })).toBe(grpc.status.FAILED_PRECONDITION);
    expect(fingerprint()).toBe(before);
  });

  // Last: these run the handlers, which change the apparatus.
  it.each(cases.allowed)("%s calling %s: reaches the handler", async (_name, method, identity) => {
    expect(refusedStatuses).not.toContain(await call(pki.credentials(identity), method));
  });

  it("gives the registration key to no person: operators and viewers get PERMISSION_DENIED for GetState", () => {
    expect(cases.allowed.filter(([, method]) => method === "GetState").map(([name]) => name)).toEqual(["apparatus a0"]);
  });
});
