// Goal (issue 17): the parts as separate processes, each given its own
// certificate folder with --cert-dir, form a cluster over mutual TLS: the
// apparatuses enroll with the device, one takes the lease and drives the
// other, an operator (its folder from `switchyard cert client`) creates a
// volume through either apparatus, and hosts read and write it; a caller
// without a certificate gets nowhere, and an apparatus certificate cannot
// enroll under another apparatus's id, nor open the device's LUs over NBD
// under another apparatus's name (the LU exports require TLS).
// Method: `switchyard cert ca|node|client` in a temporary folder, then the
// built CLI's `device serve` and two `apparatus serve` as child processes on
// free loopback ports; CLI commands in-process with --endpoint and
// --cert-dir; NBD I/O with the project's client; gRPC calls from here.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { NbdClient, NbdClientError, type NbdClientTls } from "@switchyard/nbd";
import { loadGrpc } from "@switchyard/proto";
import { channelCredentialsFromFolder, readTlsMaterial } from "@switchyard/security";
import { callOnce } from "@switchyard/security/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliServers, runCli } from "../src/testing.js";
import { useOnEach } from "./tls-cluster.js";

const callTimeoutMs = 5_000;
/** Each case starts processes or makes certificates: seconds on a loaded machine, past vitest's 5 s default. */
const testTimeoutMs = 60_000;
/** The apparatuses serve once the controller has registered them: a few of their 3 s leases at most. */
const servingWaitMs = 20_000;

const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
let root = "";
let tls = "";
let deviceGrpc = "";
let deviceNbd = "";
const apparatuses: { nbd: string; grpc: string }[] = [];

async function made(argv: readonly string[]): Promise<void> {
  const result = await runCli([...argv, "--dir", tls]);
  expect(result.err).toBe("");
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "switchyard-serve-tls-"));
  tls = path.join(root, "tls");
  await made(["cert", "ca"]);
  await made(["cert", "node", "--role", "device", "--id", "dev0", "--host", "127.0.0.1"]);
  for (const id of ["a0", "a1"]) await made(["cert", "node", "--role", "apparatus", "--id", id, "--host", "127.0.0.1"]);
  await made(["cert", "client", "--role", "operator", "--name", "admin"]);
  const device = await servers.serve([
    "device", "serve", "--dir", path.join(root, "dev0"), "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "32MiB", "--extent-size", "1MiB",
    "--cert-dir", path.join(tls, "device-dev0"),
  ]);
  deviceGrpc = (device.device as { grpc: string }).grpc;
  deviceNbd = (device.device as { nbd: string }).nbd;
  for (const id of ["a0", "a1"]) {
    const announced = await servers.serve([
      "apparatus", "serve", "--id", id, "--device", deviceGrpc, "--nbd-port", "0", "--processors", "1", "--cert-dir", path.join(tls, `apparatus-${id}`),
    ]);
    apparatuses.push({ nbd: announced.nbd as string, grpc: announced.grpc as string });
  }
}, 90_000);

afterAll(async () => {
  await servers.stopAll();
  await rm(root, { recursive: true, force: true });
});

const operatorFolder = (): string => path.join(tls, "operator-admin");

describe("device serve and apparatus serve with --cert-dir", { timeout: testTimeoutMs }, () => {
  it("form a cluster over mutual TLS: the operator creates a volume through an apparatus, hosts use it on both", async () => {
    const created = await runCli(["volume", "create", "vm1", "--size", "4MiB", "--endpoint", apparatuses[1]?.grpc ?? "", "--cert-dir", operatorFolder()]);
    expect(created.err).toBe("");
    await useOnEach(apparatuses, "vm1", servingWaitMs);
  }, 60_000);

  it("lets no caller without a certificate in, at the device or an apparatus", async () => {
    const plain = grpc.credentials.createInsecure();
    const v1 = loadGrpc().switchyard.v1;
    const inventory = v1.Device.service.GetInventory as grpc.MethodDefinition<object, unknown>;
    const listing = v1.Controller.service.ListVolumes as grpc.MethodDefinition<object, unknown>;
    expect(await callOnce(deviceGrpc, plain, inventory, {}, callTimeoutMs)).toBe(grpc.status.UNAVAILABLE);
    expect(await callOnce(apparatuses[0]?.grpc ?? "", plain, listing, {}, callTimeoutMs)).toBe(grpc.status.UNAVAILABLE);
  });

  it("refuses an enrollment under another apparatus's id (the Enroll hijack)", async () => {
    const enroll = loadGrpc().switchyard.v1.Device.service.Enroll as grpc.MethodDefinition<object, unknown>;
    const a0 = channelCredentialsFromFolder(path.join(tls, "apparatus-a0"));
    const hijack = { apparatus: { id: "a1", nbd: "127.0.0.1:1", grpc: "127.0.0.1:2" } };
    expect(await callOnce(deviceGrpc, a0, enroll, hijack, callTimeoutMs)).toBe(grpc.status.PERMISSION_DENIED);
    const status = await runCli(["apparatus", "list", "--endpoint", apparatuses[0]?.grpc ?? "", "--cert-dir", operatorFolder(), "--json"]);
    expect(status.out).toContain(apparatuses[1]?.grpc ?? "no address");
  });

  it("serves the device's LUs over NBD only inside TLS, each apparatus under its own name only", async () => {
    const [host = "", port = "0"] = deviceNbd.split(":");
    const tlsOf = (folder: string): NbdClientTls => {
      const material = readTlsMaterial(path.join(tls, folder), "client");
      return { ca: material.ca, cert: material.certificate, key: material.key };
    };
    const open = (exportName: string, clientTls?: NbdClientTls): Promise<NbdClient> =>
      NbdClient.connect({ host, port: Number(port), exportName, timeoutMs: callTimeoutMs, ...(clientTls === undefined ? {} : { tls: clientTls }) });
    const codeOf = (attempt: Promise<NbdClient>): Promise<string> =>
      attempt.then(
        async (client) => {
          await client.close();
          return "OPENED";
        },
        (error: unknown) => (error instanceof NbdClientError ? `${error.code}: ${error.message}` : String(error)),
      );
    expect(await codeOf(open("lu0"))).toMatch(/^TLS_REQUIRED/);
    // a0's valid certificate naming a1 (whatever key it guesses) is refused at the export.
    expect(await codeOf(open("lu0;apparatus=a1;key=guessed", tlsOf("apparatus-a0")))).toMatch(/^REFUSED: .*apparatus a0 may not open LUs as apparatus a1/);
    expect(await codeOf(open("lu0", tlsOf("operator-admin")))).toBe("OPENED");
  });
});
