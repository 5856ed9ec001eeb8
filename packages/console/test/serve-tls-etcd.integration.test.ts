// Goal (issues 17 and 18): with mutual TLS on etcd, apparatuses need no
// --device even with several devices on the prefix: each asks etcd, not a
// device, who holds a new controller's epoch before it obeys that
// controller, and the controller reaches every device's LUs over TLS. The
// operator creates a volume on each device through an apparatus, and hosts
// write it through one apparatus and read it back through the others; an
// extent moves from one device to the other over TLS. Then
// the device the apparatuses named (the first published) is SIGKILLed, and
// after it the controller's process: the successor is still obeyed, since
// no device is asked who holds its epoch, and the other device's volume is
// served through the survivors. `cluster status` names each device at its
// own published address.
// Method: `switchyard cert ca|node|client` in a temporary folder; a real
// three-member etcd (startEtcdCluster); the built CLI's `device serve --etcd`
// for dev0 and d2 and two `apparatus serve --etcd` (no --device), each with
// its own --cert-dir, as child processes on free loopback ports; CLI
// commands in-process with --endpoint and --cert-dir; NBD I/O with the
// project's client.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliServers, runCli } from "../src/testing.js";
import { useOnEach } from "./tls-cluster.js";

/** The apparatuses serve once the controller on etcd has registered them; the second device's LUs join at a look-after. */
const servingWaitMs = 30_000;
const testTimeoutMs = 90_000;
const deviceIds = ["dev0", "d2"] as const;

const servers = new CliServers(fileURLToPath(new URL("../dist/cli.js", import.meta.url)));
let etcd: EtcdTestCluster | undefined;
let root = "";
let tls = "";
const apparatusIds = ["a0", "a1", "a2"] as const;
const apparatuses: { id: string; nbd: string; grpc: string; pid: number }[] = [];
const devicePids = new Map<string, number>();
const deviceGrpcs = new Map<string, string>();

async function made(argv: readonly string[]): Promise<void> {
  const result = await runCli([...argv, "--dir", tls]);
  expect(result.err).toBe("");
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "switchyard-serve-tls-etcd-"));
  tls = path.join(root, "tls");
  etcd = await startEtcdCluster();
  const urls = etcd.endpoints.join(",");
  await made(["cert", "ca"]);
  for (const id of deviceIds) await made(["cert", "node", "--role", "device", "--id", id, "--host", "127.0.0.1"]);
  for (const id of apparatusIds) await made(["cert", "node", "--role", "apparatus", "--id", id, "--host", "127.0.0.1"]);
  await made(["cert", "client", "--role", "operator", "--name", "admin"]);
  for (const id of deviceIds) {
    const announced = await servers.serve([
      "device", "serve", "--id", id, "--dir", path.join(root, id), "--grpc-port", "0", "--nbd-port", "0", "--lu-size", "32MiB", "--extent-size", "1MiB",
      "--cert-dir", path.join(tls, `device-${id}`), "--etcd", urls,
    ]);
    devicePids.set(id, announced.pid as number);
    deviceGrpcs.set(id, (announced.device as { grpc: string }).grpc);
  }
  for (const id of apparatusIds) {
    const announced = await servers.serve([
      "apparatus", "serve", "--id", id, "--etcd", urls, "--nbd-port", "0", "--processors", "1", "--cert-dir", path.join(tls, `apparatus-${id}`),
    ]);
    apparatuses.push({ id, nbd: announced.nbd as string, grpc: announced.grpc as string, pid: announced.pid as number });
  }
}, etcdClusterStartTimeoutMs + testTimeoutMs);

afterAll(async () => {
  await servers.stopAll();
  await etcd?.stop();
  await rm(root, { recursive: true, force: true });
}, etcdClusterStopTimeoutMs);

describe("device serve and apparatus serve with --cert-dir on etcd, two devices", { timeout: testTimeoutMs }, () => {
  it("form a cluster without --device: a volume on each device, written through one apparatus and read through the other", async () => {
    const operator = ["--endpoint", apparatuses[1]?.grpc ?? "", "--cert-dir", path.join(tls, "operator-admin")];
    // d2's LUs come into the table at the controller's next look-after: the create is asked again until then.
    for (const [volume, lu] of [["on-dev0", "lu0"], ["on-d2", "d2-lu0"]] as const) await createRetrying(["volume", "create", volume, "--size", "4MiB", "--lu", lu, ...operator]);
    await useOnEach(apparatuses, "on-dev0", servingWaitMs, 0x3c);
    await useOnEach(apparatuses, "on-d2", servingWaitMs, 0x5a);
    const listed = await runCli(["volume", "show", "on-d2", "--json", ...operator]);
    expect(listed.out).toContain("d2-lu0");
    // An extent moved from dev0 to d2: dev0 copies onto d2's LU over NBD, presenting its device certificate.
    const moved = await runCli(["volume", "move", "on-dev0", "--extent", "0", "--to", "d2-lu1", "--json", ...operator]);
    expect(moved.err).toBe("");
    expect(JSON.parse(moved.out)).toMatchObject({ state: "committed", summary: "move extent 0 of on-dev0 from lu0:0 to d2-lu1:0" });
    await useOnEach(apparatuses, "on-dev0", servingWaitMs, 0x3d);
    // `cluster status` names each device at its own address, as it published it.
    const status = await runCli(["cluster", "status", "--json", ...operator]);
    const { devices } = JSON.parse(status.out) as { devices: { id: string; grpc: string }[] };
    expect(new Map(devices.map((device) => [device.id, device.grpc]))).toEqual(deviceGrpcs);
  });

  it("obeys a successor after the device the apparatuses named and then the controller's process are SIGKILLed", async () => {
    // Apparatuses take the first device etcd lists, in id order: d2.
    process.kill(devicePids.get("d2") ?? 0, "SIGKILL");
    const leader = await controllerId(apparatuses[0]?.grpc ?? "");
    const dead = apparatuses.find((apparatus) => apparatus.id === leader);
    expect(dead).toBeDefined();
    process.kill(dead?.pid ?? 0, "SIGKILL");
    const survivors = apparatuses.filter((apparatus) => apparatus !== dead);
    const successor = await controllerId(survivors[0]?.grpc ?? "");
    expect(survivors.map((apparatus) => apparatus.id)).toContain(successor);
    // A volume made by the successor is served through both survivors only if they obeyed its table.
    const operator = ["--endpoint", survivors[0]?.grpc ?? "", "--cert-dir", path.join(tls, "operator-admin")];
    await createRetrying(["volume", "create", "after", "--size", "4MiB", "--lu", "lu0", ...operator]);
    await useOnEach(survivors, "after", servingWaitMs, 0x77);
  });
});

/** Runs a create until it succeeds, within servingWaitMs: refused while no controller leads, or before d2's LUs are in the table. */
async function createRetrying(argv: readonly string[]): Promise<void> {
  const deadlineMs = Date.now() + servingWaitMs;
  let created = await runCli(argv);
  while (created.code !== 0 && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    created = await runCli(argv);
  }
  expect(created.err).toBe("");
}

/** The controller's id, as `cluster status` through the apparatus at `endpoint` says, once one is elected. */
async function controllerId(endpoint: string): Promise<string> {
  const deadlineMs = Date.now() + servingWaitMs;
  for (;;) {
    const status = await runCli(["cluster", "status", "--json", "--endpoint", endpoint, "--cert-dir", path.join(tls, "operator-admin")]);
    const controller = status.code === 0 ? (JSON.parse(status.out) as { controller: { id: string } | null }).controller : null;
    if (controller !== null) return controller.id;
    if (Date.now() > deadlineMs) throw new Error(`no controller within ${servingWaitMs} ms: ${status.err}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
