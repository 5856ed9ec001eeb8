// Goal (issue 17): `switchyard up` (TLS is its default) serves every gRPC server (the
// device, each apparatus, the controller) over mutual TLS with its
// authorization table, and the appliance keeps working through it: the CLI
// finds the operator certificate through endpoints.json, the controller
// holds the lease and drives apparatuses with its apparatus certificate, and
// a volume serves I/O three apparatus leases later (renewals over TLS). A
// caller without TLS gets nowhere at any server; a viewer may read but not
// change, also through an apparatus's forwarding; the operator may not
// drive an apparatus nor take the device's lease.
// Method: the built CLI's `up` (no --tls) as a child process on free loopback
// ports in a temporary folder; CLI commands in-process with --dir and
// --cert-dir; a viewer certificate made by `switchyard cert client`; gRPC
// calls from this test with no TLS and with the operator's folder.
import { access, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { NbdClient } from "@switchyard/nbd";
import { loadGrpc } from "@switchyard/proto";
import { ReflectionClient } from "@switchyard/proto/testing";
import { channelCredentialsFromFolder } from "@switchyard/security";
import { callOnce } from "@switchyard/security/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applianceClientFolder } from "../src/appliance-certificates.js";
import type { EndpointFile } from "../src/endpoints.js";
import { CliServers, runCli } from "../src/testing.js";

const callTimeoutMs = 5_000;
/** Each case starts processes or makes certificates: seconds on a loaded machine, past vitest's 5 s default. */
const testTimeoutMs = 60_000;
/** Three of the apparatuses' 3 s leases. */
const leasesWaitMs = 9_000;
const mebibyte = 1 << 20;

const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
let dir = "";
let endpoints: EndpointFile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-tls-"));
  const announced = await servers.serve(["up", "--dir", dir, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "64MiB", "--extent-size", "1MiB"]);
  endpoints = announced as unknown as EndpointFile;
}, 60_000);

afterAll(async () => {
  await servers.stopAll();
  await rm(dir, { recursive: true, force: true });
});

/** `switchyard ARGV` in this process: its exit code and what it wrote. */
type Service = "Device" | "Apparatus" | "Controller";

function call(address: string, credentials: grpc.ChannelCredentials, service: Service, method: string, request: object): Promise<grpc.status> {
  const definition = loadGrpc().switchyard.v1[service].service[method] as grpc.MethodDefinition<object, unknown>;
  return callOnce(address, credentials, definition, request, callTimeoutMs);
}

describe("switchyard up, TLS by default", { timeout: testTimeoutMs }, () => {
  it("keeps the appliance working: the CLI creates a volume with the operator's certificate, written and read after three apparatus leases", async () => {
    expect(endpoints.tls?.client_dir).toBe(applianceClientFolder(dir));
    await access(endpoints.tls?.ca ?? "");
    const created = await runCli(["volume", "create", "vm1", "--size", "4MiB", "--dir", dir]);
    expect(created.err).toBe("");
    expect(created.code).toBe(0);
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

  it("refuses callers without TLS at every server", async () => {
    const plain = grpc.credentials.createInsecure();
    expect(await call(endpoints.device.grpc, plain, "Device", "GetInventory", {})).toBe(grpc.status.UNAVAILABLE);
    expect(await call(endpoints.controller.grpc, plain, "Controller", "ListVolumes", {})).toBe(grpc.status.UNAVAILABLE);
    for (const apparatus of endpoints.apparatuses) {
      expect(await call(apparatus.grpc, plain, "Apparatus", "GetState", {})).toBe(grpc.status.UNAVAILABLE);
      expect(await call(apparatus.grpc, plain, "Controller", "ListVolumes", {})).toBe(grpc.status.UNAVAILABLE);
    }
  });

  it("lets a viewer read but not change, at the controller and through an apparatus", async () => {
    const made = await runCli(["cert", "client", "--role", "viewer", "--name", "watcher", "--dir", dir]);
    expect(made.code).toBe(0);
    const viewer = path.join(dir, "tls", "viewer-watcher");
    for (const endpoint of [endpoints.controller.grpc, endpoints.apparatuses[0]?.grpc ?? ""]) {
      const listed = await runCli(["volume", "list", "--endpoint", endpoint, "--cert-dir", viewer, "--json"]);
      expect(listed.code).toBe(0);
      expect(listed.out).toContain("vm1");
      const refused = await runCli(["volume", "create", "vm2", "--size", "4MiB", "--endpoint", endpoint, "--cert-dir", viewer]);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toMatch(/CreateVolume is for the operator or apparatus role; the caller is viewer watcher/);
    }
    const after = await runCli(["volume", "list", "--dir", dir, "--json"]);
    expect(after.out).not.toContain("vm2");
  });

  it("lets the operator neither drive an apparatus nor take the device's lease", async () => {
    const operator = channelCredentialsFromFolder(applianceClientFolder(dir));
    const apparatus = endpoints.apparatuses[1]?.grpc ?? "";
    expect(await call(apparatus, operator, "Apparatus", "Hold", { change_id: "c", epoch: 1_000_000, base_generation: 1 })).toBe(grpc.status.PERMISSION_DENIED);
    expect(await call(apparatus, operator, "Apparatus", "GetState", {})).toBe(grpc.status.PERMISSION_DENIED);
    expect(await call(endpoints.device.grpc, operator, "Device", "GetInventory", {})).toBe(grpc.status.OK);
    expect(await call(endpoints.device.grpc, operator, "Device", "AcquireLease", { candidate_id: "admin", candidate_address: "", lease_ms: 1_000 })).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it("answers reflection and health over mutual TLS, as grpcurl with -cacert, -cert and -key sees them", async () => {
    const reflection = new ReflectionClient(endpoints.controller.grpc, "v1", channelCredentialsFromFolder(applianceClientFolder(dir)));
    try {
      expect(await reflection.listServices()).toEqual(expect.arrayContaining(["switchyard.v1.Controller", "grpc.health.v1.Health"]));
      expect(await reflection.callUnary("grpc.health.v1.Health", "Check", {})).toMatchObject({ status: "SERVING" });
      expect(await reflection.callUnary("switchyard.v1.Controller", "ListVolumes", {})).toHaveProperty("volumes");
    } finally {
      reflection.close();
    }
    const plain = new ReflectionClient(endpoints.controller.grpc);
    try {
      await expect(plain.listServices()).rejects.toThrow(/UNAVAILABLE/);
    } finally {
      plain.close();
    }
  });
});
