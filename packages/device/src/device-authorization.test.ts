// Goal (issue 17): every Device method, called with no certificate, with a
// certificate of another CA, and with each role, gets the exact status the
// authorization table gives, and a refused call changes nothing: not the
// store, the lease, the registrations nor the mirrors.
// Method: real certificates from openssl (@switchyard/security/testing), a
// device in a temporary folder served over real mutual TLS on loopback (and
// the same handlers on an insecure port, for callers without TLS), real
// clients from the proto package; a fingerprint of the device's state is
// taken before and after each refused call. The requests name apparatus a1
// where a request names an apparatus, so the caller a0 must be refused them.
import * as grpc from "@grpc/grpc-js";
import { loadGrpc, type DeviceHandlers } from "@switchyard/proto";
import type { AuthorizationTable } from "@switchyard/security";
import { GuardedServer, readTlsMaterial } from "@switchyard/security";
import { authorizationCases, callOnce, listenOnLoopback, makeTestPki, refusedStatuses, type TestPki } from "@switchyard/security/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizedDeviceHandlers, deviceAuthorizationTable } from "./device-authorization.js";
import { deviceServiceHandlers } from "./device-service.js";
import type { StorageDevice } from "./storage-device.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "./testing.js";

type Method = keyof AuthorizationTable<DeviceHandlers>;
const nowMs = 1_000_000;
const callDeadlineMs = 10_000;

/** One request per method that would change the device if it ran for a1 (where a request names an apparatus). */
const requests: Readonly<Record<Method, object>> = {
  GetInventory: {},
  AcquireLease: { candidate_id: "a1", candidate_address: "127.0.0.1:1", lease_ms: 5_000 },
  RenewLease: { holder_id: "a1", epoch: 1, lease_ms: 5_000 },
  GetLeaseHolder: {},
  ReadStore: {},
  WriteStore: { epoch: 1, expected_sequence: 0, state: { generation: 1 } },
  CommitDelta: { epoch: 1, delta: {} },
  RegisterKey: { epoch: 1, apparatus_id: "a1", registration_key: "k1" },
  Fence: { epoch: 1, apparatus_id: "a1" },
  ProbeNbdExport: { nbd_uri: "nbd://127.0.0.1:1/x" },
  RenewRegistration: { apparatus_id: "a1", registration_key: "k1" },
  Enroll: { apparatus: { id: "a1", nbd: "127.0.0.1:1", grpc: "127.0.0.1:2" } },
  ScrubAreas: { epoch: 1, lu_id: "lu0", area_indexes: [0] },
  StartMirror: {
    epoch: 1,
    mirror: { volume: "v", extent_index: 0, source_lu_id: "lu0", source_area_index: 0, destination_lu_id: "lu1", destination_area_index: 0 },
  },
  StopMirror: { epoch: 1, volume: "v", extent_index: 0 },
  ListMirrors: { after_progress: 0, wait_ms: 0 },
};
const methods = Object.keys(requests) as Method[];

let pki: TestPki;
let folder: TemporaryFolder;
let device: StorageDevice;
let tlsServer: GuardedServer;
let plainServer: GuardedServer;
let tlsAddress = "";
let plainAddress = "";

beforeAll(async () => {
  pki = await makeTestPki();
  folder = await temporaryFolder();
  device = await openTestDevice(folder.path, { storeSlotSizeBytes: 64 * 1024 });
  const service = loadGrpc().switchyard.v1.Device.service;
  const handlers = authorizedDeviceHandlers(true, service, deviceServiceHandlers(device, { grpcAddress: "", nbdAddress: "127.0.0.1:10809", now: () => nowMs }), () => device.leaseHolder());
  tlsServer = new GuardedServer({});
  tlsServer.addService(service, handlers);
  tlsAddress = await listenOnLoopback(tlsServer, readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server"));
  plainServer = new GuardedServer({});
  plainServer.addService(service, handlers);
  plainAddress = await listenOnLoopback(plainServer, undefined);
}, 60_000);

afterAll(async () => {
  tlsServer.forceShutdown();
  plainServer.forceShutdown();
  await device.close();
  await folder.remove();
  await pki.remove();
});

/** What a call could change, as one text. */
function fingerprint(): string {
  return JSON.stringify({
    store: device.viewStore(),
    lease: device.arbiter.lease(nowMs) ?? null,
    highestEpoch: device.arbiter.highestEpoch,
    registrations: ["a0", "a1"].map((id) => device.registrationStatus(id, "k1")),
    mirrors: device.mirrors.list(),
  });
}

function call(address: string, credentials: grpc.ChannelCredentials, method: Method, request: object = requests[method]): Promise<grpc.status> {
  const definition = loadGrpc().switchyard.v1.Device.service[method] as grpc.MethodDefinition<object, unknown>;
  return callOnce(address, credentials, definition, request, callDeadlineMs);
}

async function expectRefused(address: string, credentials: grpc.ChannelCredentials, method: Method, code: grpc.status): Promise<void> {
  const before = fingerprint();
  expect(await call(address, credentials, method)).toBe(code);
  expect(fingerprint()).toBe(before);
}

describe("Device authorization", () => {
  it.each(methods)("%s without TLS: UNAUTHENTICATED, nothing changed", async (method) => {
    await expectRefused(plainAddress, grpc.credentials.createInsecure(), method, grpc.status.UNAUTHENTICATED);
  });

  it.each(methods)("%s with a certificate of another CA: UNAVAILABLE (handshake refused), nothing changed", async (method) => {
    await expectRefused(tlsAddress, pki.credentials({ role: "apparatus", id: "a0" }, true), method, grpc.status.UNAVAILABLE);
  });

  it.each(methods)("%s over TLS without a client certificate: UNAVAILABLE, nothing changed", async (method) => {
    const ca = readTlsMaterial(pki.folder({ role: "viewer", id: "watcher" }), "client").ca;
    await expectRefused(tlsAddress, grpc.credentials.createSsl(ca), method, grpc.status.UNAVAILABLE);
  });

  const cases = authorizationCases(deviceAuthorizationTable);
  it.each(cases.refused)("%s calling %s: refused with status %i, nothing changed", async (_name, method, identity, code) => {
    await expectRefused(tlsAddress, pki.credentials(identity), method, code);
  });

  it.each(cases.allowed)("%s calling %s: reaches the handler", async (_name, method, identity) => {
    expect(refusedStatuses).not.toContain(await call(tlsAddress, pki.credentials(identity), method));
  });

  it("lets an apparatus act for itself: a0 takes the lease, enrolls and renews its own registration", async () => {
    const a0 = pki.credentials({ role: "apparatus", id: "a0" });
    expect(await call(tlsAddress, a0, "AcquireLease", { candidate_id: "a0", candidate_address: "127.0.0.1:1", lease_ms: 5_000 })).toBe(grpc.status.OK);
    expect(device.arbiter.lease(nowMs)?.holderId).toBe("a0");
    expect(await call(tlsAddress, a0, "Enroll", { apparatus: { id: "a0", nbd: "127.0.0.1:1", grpc: "127.0.0.1:2" } })).toBe(grpc.status.OK);
    expect(await call(tlsAddress, a0, "RenewRegistration", { apparatus_id: "a0", registration_key: "k0" })).toBe(grpc.status.OK);
  });

  // The forged write: any apparatus certificate passes the role check, and
  // epochs are small integers, so the epoch must be bound to its holder.
  const underEpoch: readonly Method[] = ["WriteStore", "CommitDelta", "RegisterKey", "Fence", "ScrubAreas", "StartMirror", "StopMirror"];
  it.each(underEpoch)("%s under a0's epoch from apparatus a1: PERMISSION_DENIED, nothing changed", async (method) => {
    expect(device.arbiter.lease(nowMs)).toMatchObject({ holderId: "a0", epoch: 1 });
    await expectRefused(tlsAddress, pki.credentials({ role: "apparatus", id: "a1" }), method, grpc.status.PERMISSION_DENIED);
  });

  it("an epoch never granted: FAILED_PRECONDITION, nothing changed; the holder's own call goes through", async () => {
    const a0 = pki.credentials({ role: "apparatus", id: "a0" });
    const before = fingerprint();
    expect(await call(tlsAddress, a0, "RegisterKey", { epoch: 2, apparatus_id: "a1", registration_key: "k1" })).toBe(grpc.status.FAILED_PRECONDITION);
    expect(fingerprint()).toBe(before);
    expect(await call(tlsAddress, a0, "RegisterKey", { epoch: 1, apparatus_id: "a1", registration_key: "k1" })).toBe(grpc.status.OK);
    expect(device.registrationStatus("a1", "k1")).toBe("granted");
  });
});
