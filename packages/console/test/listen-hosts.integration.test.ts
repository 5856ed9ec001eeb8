// Goal (issue 17, item 5): `switchyard up` puts each kind of server on its
// own address: hosts' NBD on --data-host, every gRPC server and the
// device's raw LU exports on --control-host, the web console on
// --http-host; nothing listens for hosts on the control address.
// Method: the built CLI's `up` as a child process on three loopback
// addresses (Linux answers all of 127.0.0.0/8) and free ports; the
// endpoints it announces, a volume made through the controller, an NBD
// client at the data address and a refused one at the control address,
// and the console page fetched at the HTTP address.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { callerCredentials } from "@switchyard/security";
import { NbdClient } from "@switchyard/nbd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleClient } from "../src/controller-client.js";
import type { EndpointFile } from "../src/endpoints.js";
import { CliServers } from "../src/testing.js";

const dataHost = "127.0.0.2";
const controlHost = "127.0.0.1";
const httpHost = "127.0.0.3";
const callTimeoutMs = 5_000;
/** Each case starts processes or makes certificates: seconds on a loaded machine, past vitest's 5 s default. */
const testTimeoutMs = 60_000;

const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
let dir = "";
let endpoints: EndpointFile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-hosts-"));
  const argv = ["up", "--dir", dir, "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "64MiB", "--extent-size", "1MiB"];
  const announced = await servers.serve([...argv, "--data-host", dataHost, "--control-host", controlHost, "--http-host", httpHost]);
  endpoints = announced as unknown as EndpointFile;
}, 60_000);

afterAll(async () => {
  await servers.stopAll();
  await rm(dir, { recursive: true, force: true });
});

const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(":"));
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(":") + 1));

describe("switchyard up --data-host --control-host --http-host", { timeout: testTimeoutMs }, () => {
  it("announces each server on its own address", () => {
    expect(endpoints.apparatuses.map((apparatus) => hostOf(apparatus.nbd))).toEqual([dataHost, dataHost]);
    expect(endpoints.apparatuses.map((apparatus) => hostOf(apparatus.grpc))).toEqual([controlHost, controlHost]);
    expect([hostOf(endpoints.device.grpc), hostOf(endpoints.device.nbd), hostOf(endpoints.controller.grpc)]).toEqual([controlHost, controlHost, controlHost]);
    expect(endpoints.console?.url).toMatch(new RegExp(`^http://${httpHost.replaceAll(".", "\\.")}:\\d+/$`));
  });

  it("serves hosts on the data address only, and the console on the HTTP address", async () => {
    // TLS is up's default: the operator certificate the endpoint file names.
    const client = new ConsoleClient(endpoints.controller.grpc, callerCredentials(endpoints.tls?.client_dir));
    try {
      await client.createVolume("vm1", 4 << 20, "");
    } finally {
      client.close();
    }
    const nbdPort = portOf(endpoints.apparatuses[0]?.nbd ?? "");
    const nbd = await NbdClient.connect({ host: dataHost, port: nbdPort, exportName: "vm1", timeoutMs: callTimeoutMs });
    await nbd.close();
    await expect(NbdClient.connect({ host: controlHost, port: nbdPort, exportName: "vm1", timeoutMs: callTimeoutMs })).rejects.toThrow(/ECONNREFUSED/);
    const page = await fetch(endpoints.console?.url ?? "");
    expect(page.status).toBe(200);
  });
});
