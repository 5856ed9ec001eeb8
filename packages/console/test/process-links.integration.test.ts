// Goal (issue 20): in the embedded appliance the controller, on its own
// thread, calls the apparatuses and the device in its process over a
// MessagePort each (proto's RelayLink), not over TLS through the control
// thread, and the apparatuses call the device so too; and a link is no way
// around authorization: it reaches the same handlers with their
// authorization, as the subject it presents.
// Method: the appliance with mutual TLS in this process, two apparatuses.
// A move runs; /proc/net/tcp then shows no connection to an apparatus's
// or the device's gRPC port (a caller over gRPC holds one to each; with
// --processors 1 it still does, which shows the check can fail). A link of
// our own into apparatus a1, presenting an operator's subject, is refused
// as a TLS caller with that certificate would be; presenting the
// controller's apparatus certificate, it is answered.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { ControllerThreadMode } from "@switchyard/controller";
import { RelayLink, callUnary, loadGrpc, type ApparatusState__Output, type ChangeInfo__Output, type VolumeInfo__Output } from "@switchyard/proto";
import { callerCredentials, identityFolder } from "@switchyard/security";
import { afterEach, describe, expect, it } from "vitest";
import { applianceOperatorName, certificateFolderOf, ensureApplianceCertificates } from "../src/appliance-certificates.js";
import { startAppliance, type Appliance } from "../src/appliance.js";

const testTimeoutMs = 60_000;
const mebibyte = 1024 * 1024;
/** /proc/net/tcp's state column for an established connection. */
const established = "01";

let appliance: Appliance | undefined;
let dir = "";

afterEach(async () => {
  await appliance?.close();
  appliance = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function startTlsAppliance(mode: ControllerThreadMode): Promise<Appliance> {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-links-"));
  await ensureApplianceCertificates(dir, "127.0.0.1", 2);
  appliance = await startAppliance({
    dir, host: "127.0.0.1", apparatusCount: 2, nbdPort: 0, grpcPort: 0, deviceNbdPort: 0,
    luCount: 2, luSizeBytes: 16 * mebibyte, extentSizeBytes: mebibyte, controllerThread: mode, tlsDir: certificateFolderOf(dir),
  });
  return appliance;
}

/** Creates a volume and moves its first extent to the other LU, as an operator through apparatus a0. */
async function createAndMove(running: Appliance): Promise<ChangeInfo__Output> {
  const operator = callerCredentials(identityFolder(certificateFolderOf(dir), { role: "operator", id: applianceOperatorName }));
  const controller = new (loadGrpc().switchyard.v1.Controller)(running.endpoints.apparatuses[0]?.grpc ?? "", operator);
  try {
    const volume = await callUnary<VolumeInfo__Output>((done) => controller.CreateVolume({ name: "v", size_bytes: 2 * mebibyte, lu: "lu0" }, done));
    expect(volume.name).toBe("v");
    return await callUnary<ChangeInfo__Output>((done) => controller.SubmitChange({ move: { volume: "v", extent_index: 0, to_lu: "lu1" } }, done));
  } finally {
    controller.close();
  }
}

/** Established TCP connections to `port` on this machine, from /proc/net/tcp and tcp6. */
async function connectionsTo(port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let count = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (await readFile(table, "utf8")).split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hexPort}`) === true && state === established) count += 1;
    }
  }
  return count;
}

function grpcPortOf(address: string | undefined): number {
  return Number(address?.split(":").pop());
}

describe("the controller's calls inside the appliance", { timeout: testTimeoutMs }, () => {
  it("on its own thread (--processors 2): go over links, not gRPC, and a move commits", async () => {
    const running = await startTlsAppliance("worker");
    const move = await createAndMove(running);
    expect(move.state).toBe("CHANGE_STATE_COMMITTED");
    expect(await connectionsTo(grpcPortOf(running.endpoints.apparatuses[1]?.grpc))).toBe(0);
    // The apparatuses' registration renewals and lease-holder lookups, and the controller's store calls, reach the device so too.
    expect(await connectionsTo(grpcPortOf(running.endpoints.device.grpc))).toBe(0);
  });

  it("on the host I/O thread (--processors 1): go over gRPC, which the connection count shows", async () => {
    const running = await startTlsAppliance("shared");
    const move = await createAndMove(running);
    expect(move.state).toBe("CHANGE_STATE_COMMITTED");
    expect(await connectionsTo(grpcPortOf(running.endpoints.apparatuses[1]?.grpc))).toBeGreaterThan(0);
    expect(await connectionsTo(grpcPortOf(running.endpoints.device.grpc))).toBeGreaterThan(0);
  });

  it("a link presents a subject to the same authorization: an operator's is refused, an apparatus's answered", async () => {
    const running = await startTlsAppliance("worker");
    const port = running.apparatuses[1]?.link?.();
    expect(port).toBeDefined();
    if (port === undefined) return;
    const stateOver = async (subject: Readonly<Record<string, string>>): Promise<ApparatusState__Output | grpc.ServiceError> => {
      const link = new RelayLink(port, subject);
      const client = new (loadGrpc().switchyard.v1.Apparatus)("127.0.0.1:9", grpc.credentials.createInsecure(), { interceptors: [link.interceptor()] });
      try {
        return await callUnary<ApparatusState__Output>((done) => client.GetState({}, { deadline: Date.now() + 5_000 }, done)).catch((error: unknown) => error as grpc.ServiceError);
      } finally {
        client.close();
      }
    };
    const refused = await stateOver({ O: "switchyard", OU: "operator", CN: applianceOperatorName });
    expect(refused).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/GetState is for the apparatus role; the caller is operator/) as unknown });
    const answered = await stateOver({ O: "switchyard", OU: "apparatus", CN: "a0" });
    expect(answered).toMatchObject({ apparatus_id: "a1" });
  });
});
